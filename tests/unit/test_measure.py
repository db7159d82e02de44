"""Reading the Dockerfile step back out of an image's history."""

from __future__ import annotations

from slimscope.dockerfile import measure


def test_created_by_parsing():
    p = measure.parse_created_by
    assert p("/bin/sh -c apt-get update") == ("RUN", "apt-get update")
    assert p("|2 A=1 B=2 /bin/sh -c make") == ("RUN", "make")
    assert p("/bin/sh -c #(nop) COPY file:abc in /app ") == ("COPY", "file:abc in /app")
    assert p("/bin/sh -c #(nop)  CMD [\"x\"]") == ("CMD", "[\"x\"]")
    assert p("RUN /bin/sh -c make # buildkit") == ("RUN", "make")
    assert p("COPY hello.c . # buildkit") == ("COPY", "hello.c .")
