# syntax=docker/dockerfile:1
FROM debian:12-slim
RUN <<EOS
set -eux
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl
rm -rf /var/lib/apt/lists/*
EOS
RUN pip install requests && npm install left-pad
WORKDIR /srv
CMD ["bash"]
