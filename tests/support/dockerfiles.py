"""A Dockerfile with every in-place anti-pattern, shared by the fix, lint and CLI tests."""

ANTI = """FROM debian:bookworm
RUN apt-get update
RUN apt-get install -y curl python3-pip
RUN pip install requests
COPY app.sh /app/app.sh
RUN chown 1000:1000 /app/app.sh
RUN chmod 0755 /app/app.sh
RUN curl -o /tmp/x.tgz http://example.invalid/x.tgz && tar xf /tmp/x.tgz -C /opt
RUN rm -rf /tmp/x.tgz
CMD ["/app/app.sh"]
"""
