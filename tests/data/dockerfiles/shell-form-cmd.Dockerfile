FROM busybox:1.36 AS one
ENTRYPOINT echo hi
CMD ["sh"]
FROM busybox:1.36
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo "shell form"
