FROM busybox:1.36
ADD app.py /srv/
ADD https://example.invalid/tool /usr/local/bin/tool
ADD vendor.tar.gz /opt/
ADD a.txt b.txt /srv/
ADD --chown=1:1 conf /etc/conf
COPY c.txt /srv/
CMD ["sh"]
