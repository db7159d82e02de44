FROM docker.io/library/busybox:1.36 AS a
FROM busybox:1.36 AS b
FROM quay.io/org/tool:1.0 AS c
FROM registry.corp.example:5000/team/app:2 AS d
FROM localhost/mine:1 AS e
FROM scratch AS f
FROM a
CMD ["sh"]
