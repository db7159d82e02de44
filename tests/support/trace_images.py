"""The target images of slim --trace (tests/test_slim_trace.py, bench/trace_bench.py),
built here from the offline bases: a busybox shell script, a C program linked
dynamically against Debian's libraries, a Python service on Debian's
python3-minimal answering JSON, nginx from Debian serving a static page.

Each target names its image, how to build it, and the probes that exercise it.
"""

from __future__ import annotations

from tests.support import bases, images
from tests.support.engine import named

RUN_SH = """#!/bin/sh
case "$1" in
  b) cat /data/b.txt ;;
  ls) ls /data | wc -l ;;
  fail) exit 3 ;;
  *) echo "hello from $(cat /data/name.txt)"; wc -c < /data/small.bin ;;
esac
"""

BUSYBOX_SCRIPT = f"""FROM {bases.BUSYBOX_TAG}
COPY run.sh /app/run.sh
RUN chmod +x /app/run.sh && mkdir -p /data && echo world > /data/name.txt \\
 && echo bee > /data/b.txt && head -c 3000 /dev/zero > /data/small.bin \\
 && head -c 600000 /dev/zero > /data/big.bin
ENTRYPOINT ["/app/run.sh"]
"""

C_SOURCE = r"""#include <stdio.h>
#include <string.h>
#include <math.h>
unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len);
const char *zlibVersion(void);
int main(int argc, char **argv) {
    const char *msg = argc > 1 ? argv[1] : "slimscope";
    printf("crc32(%s) = %08lx\n", msg, crc32(0, (const unsigned char *)msg, strlen(msg)));
    printf("zlib %c, sqrt = %.6f\n", zlibVersion()[0], sqrt(2.0 + argc - 1));
    return 0;
}
"""

# libz is linked by its path: the builder has zlib's runtime, not its -dev package
# the builder's RUN is the dockerfile engine tests' GCC_RUN: the engine builds it once
C_DOCKERFILE = f"""FROM {bases.DEBIAN_TAG} AS build
RUN apt-get update && apt-get install -y gcc libc6-dev
COPY hello.c /src/hello.c
RUN gcc -O2 -o /src/hello /src/hello.c /usr/lib/x86_64-linux-gnu/libz.so.1 -lm
FROM {bases.DEBIAN_TAG}
COPY --from=build /src/hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
"""

# python3-minimal has no http.server or json: the service answers from a bare socket
PY_APP = r'''import socket
import sys

HEAD = "HTTP/1.0 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"


def answer(path):
    if path == "/health":
        return "200 OK", '{"ok": true}'
    if path.startswith("/items/"):
        name = path[len("/items/"):]
        return "200 OK", '{"item": "%s", "length": %d, "python": "%d.%d"}' % (
            name, len(name), sys.version_info[0], sys.version_info[1])
    return "404 Not Found", '{"error": "no such path"}'


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(16)
while True:
    conn, _ = s.accept()
    request = conn.recv(65536).decode("latin-1")
    parts = request.split(" ")
    status, body = answer(parts[1] if len(parts) > 1 else "/")
    data = body.encode()
    conn.sendall((HEAD % (status, len(data))).encode() + data)
    conn.close()
'''

PY_DOCKERFILE = f"""FROM {bases.DEBIAN_TAG}
RUN apt-get update && apt-get install -y --no-install-recommends python3-minimal \\
 && rm -rf /var/lib/apt/lists/*
COPY app.py /srv/app.py
EXPOSE 8080
CMD ["python3", "/srv/app.py"]
"""


NGINX_PAGE = "<!doctype html><title>slimscope</title><h1>static page served by nginx</h1>\n"

NGINX_DOCKERFILE = f"""FROM {bases.DEBIAN_TAG}
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light \\
 && rm -rf /var/lib/apt/lists/* && ln -sf /dev/stdout /var/log/nginx/access.log \\
 && ln -sf /dev/stderr /var/log/nginx/error.log
COPY index.html /var/www/html/index.html
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
"""

HTTPD_DOCKERFILE = f"""FROM {bases.BUSYBOX_TAG}
RUN mkdir -p /www && echo '<h1>index</h1>' > /www/index.html \\
 && echo 'asked for by the probe script' > /www/other.txt \\
 && head -c 400000 /dev/zero > /www/never.bin
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""

# a host script run against the started service: GETs what no --http-probe names
PROBE_SCRIPT = """#!/usr/bin/env python3
import os
import urllib.request

addr = os.environ["SLIMSCOPE_PORT_8080"]
with urllib.request.urlopen(f"http://{addr}/other.txt", timeout=10) as r:
    print(r.status, r.read().decode().strip())
"""

# name -> (tag, Dockerfile, context files, probe options, size ratio the issue targets)
TARGETS = {
    "busybox": (named("trace-busybox:latest"), BUSYBOX_SCRIPT, {"run.sh": RUN_SH},
                [], None),
    "c": (named("trace-c:latest"), C_DOCKERFILE, {"hello.c": C_SOURCE},
          ["--exec", "abc"], 20),
    "python": (named("trace-python:latest"), PY_DOCKERFILE, {"app.py": PY_APP},
               ["--http-probe", "8080/health", "--http-probe", "/items/abc"], 10),
    "httpd": (named("trace-httpd:latest"), HTTPD_DOCKERFILE, {}, ["--http-probe", "/"],
              None),
    "nginx": (named("trace-nginx:latest"), NGINX_DOCKERFILE,
              {"index.html": NGINX_PAGE}, ["--http-probe", "80/"], 8),
}


def build(name: str) -> str:
    tag, dockerfile, files, _probes, _ratio = TARGETS[name]
    if name in ("c", "python", "nginx"):
        bases.debian_base()
    return images.build_image(tag, dockerfile, files)
