FROM busybox:1.36
# hadolint ignore=DL3003
RUN cd /tmp && echo x
# a comment first
# hadolint ignore=DL3004,DL3003
RUN cd /tmp && sudo ls
RUN cd /srv
CMD echo hi
