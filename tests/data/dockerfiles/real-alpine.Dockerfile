FROM alpine:3.19
MAINTAINER ops@example.invalid
RUN apk update && apk add curl bash ca-certificates
RUN apk add --no-cache --virtual .build-deps gcc musl-dev \
    && echo build \
    && apk del .build-deps
ADD entrypoint.sh /usr/local/bin/
ADD https://example.invalid/tool.tar.gz /opt/
RUN chmod +x /usr/local/bin/entrypoint.sh
WORKDIR opt
EXPOSE 80/tcp 443/tcp
ENTRYPOINT /usr/local/bin/entrypoint.sh
