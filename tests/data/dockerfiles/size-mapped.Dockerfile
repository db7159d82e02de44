FROM debian:12.5
RUN apt-get update && apt-get install -y curl=7.88
RUN apt-get update && apt-get install -y --no-install-recommends wget=1 && rm -rf /var/lib/apt/lists/*
RUN pip install flask==3.0
RUN pip install --no-cache-dir flask==3.0
RUN apk add musl=1.2
RUN apk add --no-cache musl=1.2
RUN dnf install -y gcc-12 && dnf clean all
RUN dnf install -y make-4
RUN yum install -y make-4
CMD ["sh"]
