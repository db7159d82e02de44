FROM busybox:1.36
WORKDIR /srv
WORKDIR app
WORKDIR "/quoted"
WORKDIR $HOME
WORKDIR ./rel
CMD ["sh"]
