"""A static program whose Dockerfile ends with a cleanup and a mode change: the
generated runtime stage is still FROM scratch, the mode comes through the builder,
and the program runs the same (issue 12, item 22)."""

from __future__ import annotations

import pytest

from slimscope.core.analysis import analyze
from slimscope.dockerfile import generate, parser
from slimscope.dockerfile.measure import Measure
from tests.support.bases import DEBIAN_TAG
from tests.support.engine import named
from tests.support.images import build_image

pytestmark = pytest.mark.engine

HELLO_C = '#include <stdio.h>\nint main(void){ printf("hello from C\\n"); return 0; }\n'
DOCKERFILE = (f"FROM {DEBIAN_TAG}\nRUN apt-get update && apt-get install -y gcc libc6-dev\n"
              "COPY hello.c /src/\nRUN gcc -O2 -static -o /hello /src/hello.c\n"
              "RUN rm -rf /var/lib/apt/lists/*\nRUN chmod 555 /hello\n"
              "USER 65534\nCMD [\"/hello\"]\n")


def _run(engine, image) -> tuple:
    api = engine.api
    cid = api.create_container(image)["Id"]
    try:
        api.start(cid)
        code = api.wait(cid, timeout=300)["StatusCode"]
        return code, api.logs(cid, stdout=True, stderr=False).decode()
    finally:
        api.remove_container(cid, force=True)


ORIGINAL = named("df-static-tail:orig")
FILES = {"hello.c": HELLO_C}
# built in the background from the session's start (tests/support/prewarm.py)
PREWARM = [(ORIGINAL, lambda: build_image(ORIGINAL, DOCKERFILE, FILES))]


@pytest.mark.parametrize("with_image", [True, False])
def test_trailing_cleanup_and_chmod_keep_the_runtime_from_scratch(engine, tmp_path, with_image):
    files = FILES
    original = build_image(ORIGINAL, DOCKERFILE, files)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    df = parser.read(str(tmp_path / "Dockerfile"))
    analysis = analyze(f"docker-daemon:{original}") if with_image else None
    measure = Measure(analysis, df.final.instructions) if with_image else generate.NoMeasure()
    result = generate.generate(df, measure, analysis=analysis, context_dir=str(tmp_path),
                               legacy_builder=True, image_ref=original if with_image else "")
    assert result.mode == "scratch", result.text
    runtime = result.text.split("\nFROM scratch\n", 1)[1]
    code = [line for line in runtime.splitlines() if not line.startswith("#")]
    assert not any(line.startswith("RUN ") for line in code), runtime
    assert {c.rule for c in result.changes} >= {"runtime-cleanup", "chown-layer"}
    generated = build_image(named(f"df-static-tail:slim-{int(with_image)}"), result.text,
                            files)
    assert _run(engine, original) == _run(engine, generated) == (0, "hello from C\n")
    slim = analyze(f"docker-daemon:{generated}")
    # the builder's chmod came through COPY --from; nothing but the binary is left
    assert slim.entry("/hello").mode & 0o7777 == 0o555
    assert slim.total_bytes < 2_000_000 < 100 * slim.total_bytes < analysis_size(original)


def analysis_size(ref: str) -> int:
    return analyze(f"docker-daemon:{ref}").total_bytes
