FROM busybox:1.36
RUN echo one \
    # a comment inside the continuation
    && cd /tmp \

    && echo two
EXPOSE 80 \
    99999
CMD ["sh"]
