# syntax=docker/dockerfile:1
FROM busybox:1.36
RUN <<EOS
cd /tmp
sudo ls
EOS
RUN python3 <<EOF
import os
os.chdir("/tmp")
EOF
WORKDIR rel
CMD ["sh"]
