FROM busybox:1.36
RUN sudo ls /
RUN echo sudo
RUN sudo -u nobody ls && echo done
RUN ls | sudo tee /x
CMD ["sh"]
