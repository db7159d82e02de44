FROM busybox:1.36
MAINTAINER someone <someone@example.invalid>
LABEL org.opencontainers.image.authors="someone"
CMD ["sh"]
