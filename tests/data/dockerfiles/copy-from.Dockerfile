FROM busybox:1.36 AS build
RUN echo x > /x
FROM busybox:1.36 AS build2
COPY --from=build /x /x
COPY --from=build2 /x /y
COPY --from=nope /x /z
COPY --from=0 /x /w
COPY --from=5 /x /v
COPY --from=busybox:1.36 /bin/sh /sh2
FROM busybox:1.36
COPY --from=build2 /x /x
CMD ["sh"]
