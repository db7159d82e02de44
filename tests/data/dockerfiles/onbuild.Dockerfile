FROM busybox:1.36
ONBUILD RUN sudo make
ONBUILD WORKDIR app
CMD ["sh"]
ONBUILD RUN cd /src && make
