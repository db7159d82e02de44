# escape=`
FROM busybox:1.36
RUN echo one `
    && cd /tmp
WORKDIR relative
CMD ["sh"]
