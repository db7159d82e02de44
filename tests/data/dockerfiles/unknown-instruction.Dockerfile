FROM busybox:1.36
RUN echo before
FOO bar
RUN cd /tmp
CMD ["sh"]
