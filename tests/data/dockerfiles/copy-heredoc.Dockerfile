# syntax=docker/dockerfile:1
FROM busybox:1.36
COPY <<EOT /etc/motd
hello
EOT
RUN cd /tmp
CMD echo hi
