FROM busybox:1.36 AS one
CMD ["a"]
CMD ["b"]
ENTRYPOINT ["x"]
ENTRYPOINT ["y"]
FROM busybox:1.36
CMD ["c"]
ENTRYPOINT ["z"]
CMD ["d"]
