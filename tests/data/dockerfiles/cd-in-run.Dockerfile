FROM busybox:1.36
RUN cd /tmp && echo hi > x
RUN echo cd
RUN ["sh", "-c", "cd /tmp"]
RUN echo a; cd /usr
WORKDIR /srv
RUN cd /srv/x || exit 1
CMD ["sh"]
