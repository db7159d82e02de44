FROM busybox:1.36 AS base
FROM busybox:1.36 AS other
FROM busybox:1.36 AS base
FROM busybox:1.36
CMD ["sh"]
