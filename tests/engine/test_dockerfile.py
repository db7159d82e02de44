"""The generator and lint against real builds: fixture apps on the offline Debian base,
the original and the generated Dockerfile both built and run by the engine.

Images are shared across tests (module fixtures) and cached by build_image's inputs
label; the fixtures share their first RUN so the engine's layer cache reuses it."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.core.analysis import analyze
from slimscope.dockerfile import generate, lint, parser
from slimscope.dockerfile import verify as verifier
from slimscope.dockerfile.measure import Measure
from tests.support.bases import DEBIAN_TAG
from tests.support.engine import _image_id_or_none, _need_client, named
from tests.support.images import build_image

pytestmark = pytest.mark.engine

D = DEBIAN_TAG
GCC_RUN = "RUN apt-get update && apt-get install -y gcc libc6-dev\n"
HELLO_C = '#include <stdio.h>\nint main(void){ printf("hello from C\\n"); return 0; }\n'


def _run(engine, image, command=None) -> tuple:
    api = engine.api
    cid = api.create_container(image, command=command)["Id"]
    try:
        api.start(cid)
        code = api.wait(cid, timeout=300)["StatusCode"]
        return code, api.logs(cid, stdout=True, stderr=False).decode()
    finally:
        api.remove_container(cid, force=True)


def _size(engine, image) -> int:
    return engine.api.inspect_image(image)["Size"]


def _make(name, dockerfile, files, tmp_path):
    """Build the original, analyze it, generate, build the generated file."""
    original, result, df, measure = _generate(name, dockerfile, files, tmp_path / name)
    generated = build_image(named(f"df-{name}:slim"), result.text, files)
    return original, generated, result, df, measure


def _generate(name, dockerfile, files, ctx: Path, use_cache: bool = True):
    original = build_image(named(f"df-{name}:orig"), dockerfile, files)
    ctx.mkdir()
    for rel, data in files.items():
        p = ctx / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    (ctx / "Dockerfile").write_text(dockerfile)
    df = parser.read(str(ctx / "Dockerfile"))
    analysis = analyze(f"docker-daemon:{original}", use_cache=use_cache)
    measure = Measure(analysis, df.final.instructions)
    result = generate.generate(df, measure, analysis=analysis, context_dir=str(ctx),
                               legacy_builder=True, image_ref=original)
    return original, result, df, measure


def _prewarm(name, dockerfile, files) -> None:
    """What _make builds, made in the background (tests/support/prewarm.py): the
    test generates again and finds the generated image only if its text is the
    same. Without the layer-index cache: SLIMSCOPE_CACHE_DIR is the running test's.
    A generated image already there (a warm run) is left to the test to check."""
    build_image(named(f"df-{name}:orig"), dockerfile, files)
    if _image_id_or_none(_need_client(), named(f"df-{name}:slim")):
        return
    with tempfile.TemporaryDirectory(prefix="slimscope-prewarm-") as d:
        _, result, _, _ = _generate(name, dockerfile, files, Path(d) / name, use_cache=False)
        build_image(named(f"df-{name}:slim"), result.text, files)


# --------------------------------------------------------------------------- #
# A C program compiled with gcc
# --------------------------------------------------------------------------- #

C_DOCKERFILE = (f"FROM {D}\n" + GCC_RUN +
                "WORKDIR /src\nCOPY hello.c .\nRUN gcc -O2 -o /usr/local/bin/hello hello.c\n"
                "ENV GREETING=hi\nCMD [\"/usr/local/bin/hello\"]\n")


@pytest.fixture(scope="module")
def c_app(engine, tmp_path_factory):
    return _make("c", C_DOCKERFILE, {"hello.c": HELLO_C}, tmp_path_factory.mktemp("c"))


def test_c_program_split(engine, c_app):
    original, generated, result, _, _ = c_app
    assert result.mode == "split"
    assert "COPY --from=builder /usr/local/bin/hello /usr/local/bin/hello" in result.text
    runtime = result.text.split("AS builder")[1].split(f"\nFROM {D}\n")[1]
    assert "gcc" not in "".join(l for l in runtime.splitlines() if not l.startswith("#"))
    assert "ENV GREETING=hi" in runtime
    assert _run(engine, original) == _run(engine, generated) == (0, "hello from C\n")
    orig, slim = _size(engine, original), _size(engine, generated)
    # gcc and its headers are gone: the runtime is the base plus a 16 kB binary
    assert slim < 0.4 * orig and orig - slim > 100_000_000
    # every change is commented, the toolchain one with its measured bytes
    pkg = next(c for c in result.changes if c.rule == "build-packages")
    assert pkg.line == 2 and pkg.bytes > 100_000_000
    assert "build-only packages left to the builder: gcc libc6-dev (saves " in result.text


def test_c_program_lint_measured(engine, c_app):
    _, _, _, df, measure = c_app
    findings = lint.lint(df, measure)
    by = {(f.rule, f.line): f for f in findings}
    assert by[("build-tools", 2)].bytes == measure.layer_bytes(df.instructions[1]) > 100_000_000
    assert by[("apt-lists", 2)].bytes > 10_000_000     # lists + .deb cache of that layer
    assert ("apt-recommends", 2) in by


def test_verify_mismatch_writes_unverified(engine, c_app, tmp_path, monkeypatch):
    original = c_app[0]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(C_DOCKERFILE)
    (ctx / "hello.c").write_text(HELLO_C)
    monkeypatch.chdir(ctx)
    # gcc is in the original only: the smoke output differs
    r = CliRunner().invoke(main, ["dockerfile", "--image", original, "--verify", "-o", "out.Dockerfile",
                                  "--smoke", "sh -c 'command -v gcc || echo none'"])
    assert r.exit_code == 1, r.output
    assert "MISMATCH" in r.output and "/usr/bin/gcc" in r.output and "none" in r.output
    text = (ctx / "out.Dockerfile").read_text()
    assert text.startswith("# slimscope: UNVERIFIED")
    r = CliRunner().invoke(main, ["dockerfile", "--image", original, "--verify", "-o", "ok.Dockerfile"])
    assert r.exit_code == 0, r.output
    assert "verified: same exit code and stdout" in r.output
    generated = (ctx / "ok.Dockerfile").read_text()
    assert "UNVERIFIED" not in generated
    # what --verify built is gone again, unless asked to keep it
    built = verifier.tag_for("generated", generated)
    assert not engine.images.list(name=built.split(":")[0], filters={"reference": built})
    r = CliRunner().invoke(main, ["dockerfile", "--image", original, "--verify", "--keep-images",
                                  "-o", "kept.Dockerfile"])
    assert r.exit_code == 0, r.output
    try:
        assert f"kept in the engine: {built}" in r.output
        assert engine.images.list(filters={"reference": built})
    finally:
        verifier.remove_images([built])


# --------------------------------------------------------------------------- #
# A static program -> FROM scratch
# --------------------------------------------------------------------------- #

STATIC_DOCKERFILE = (f"FROM {D}\n" + GCC_RUN + "COPY hello.c /src/\n"
                     "RUN gcc -O2 -static -o /hello /src/hello.c\nUSER 65534\nCMD [\"/hello\"]\n")


def test_static_program_from_scratch(engine, tmp_path):
    original, generated, result, _, _ = _make("static", STATIC_DOCKERFILE, {"hello.c": HELLO_C},
                                              tmp_path)
    assert result.mode == "scratch" and "\nFROM scratch\n" in result.text
    assert _run(engine, original) == _run(engine, generated) == (0, "hello from C\n")
    # nothing but the static binary (about 800 kB)
    assert _size(engine, generated) < 2_000_000 < 100 * _size(engine, generated) < _size(engine, original)


# --------------------------------------------------------------------------- #
# A Python app: a local wheel in a virtualenv, plus a compiled helper
# --------------------------------------------------------------------------- #

def _wheel() -> bytes:
    # Fixed member times: the same bytes every run, so the image's inputs hash
    # (and the engine's COPY cache) holds from one run to the next.
    members = {
        "greet/__init__.py": "def hello():\n    return 'hello from a wheel'\n",
        "greet-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: greet\nVersion: 1.0\n",
        "greet-1.0.dist-info/WHEEL":
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "greet-1.0.dist-info/RECORD": "",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16    # what writestr(name, ...) gives a file
            z.writestr(info, text)
    return buf.getvalue()


PY_MAIN = ("import subprocess, greet\nprint(greet.hello())\n"
           "print(subprocess.run(['/app/helper'], capture_output=True, text=True).stdout.strip())\n")


# The toolchain comes in GCC_RUN, as in the C tests: the engine's layer
# cache then builds it once for all of them.
PY_DOCKERFILE = (f"FROM {D}\n" + GCC_RUN +
                 "RUN apt-get update && apt-get install -y python3 python3-venv\n"
                 "COPY wheels/ /wheels/\n"
                 "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index "
                 "--find-links /wheels greet\n"
                 "COPY app/ /app/\n"
                 "RUN gcc -O2 -o /app/helper /app/helper.c\n"
                 "WORKDIR /app\nCMD [\"/opt/venv/bin/python\", \"/app/main.py\"]\n")


def _py_files() -> dict:
    return {"wheels/greet-1.0-py3-none-any.whl": _wheel(), "app/main.py": PY_MAIN,
            "app/helper.c": HELLO_C}


def test_python_app_with_wheel_and_helper(engine, tmp_path):
    dockerfile, files = PY_DOCKERFILE, _py_files()
    original, generated, result, _, _ = _make("python", dockerfile, files, tmp_path)
    assert result.mode == "split"
    assert "COPY --from=builder /opt/venv /opt/venv" in result.text
    assert "COPY --from=builder /app/helper /app/helper" in result.text
    installs = [l for l in result.text.split(f"\nFROM {D}\n")[-1].splitlines() if "apt-get install" in l]
    assert installs == ["    && apt-get install --no-install-recommends -y python3 \\"], installs
    want = (0, "hello from a wheel\nhello from C\n")
    assert _run(engine, original) == want
    assert _run(engine, generated) == want
    orig, slim = _size(engine, original), _size(engine, generated)
    assert slim < 0.6 * orig


# --------------------------------------------------------------------------- #
# Every in-place anti-pattern, and the image-driven fallback
# --------------------------------------------------------------------------- #

ANTI = (f"FROM {D}\n"
        "RUN apt-get update\n"
        "RUN apt-get install -y hello\n"
        "COPY data.bin /opt/data.bin\n"
        "RUN chown 1000:1000 /opt/data.bin\n"
        "RUN dd if=/dev/zero of=/tmp/big.bin bs=1M count=5 && md5sum /tmp/big.bin > /opt/sum.txt\n"
        "RUN rm -f /tmp/big.bin\n"
        "CMD [\"sh\", \"-c\", \"hello && cat /opt/sum.txt && stat -c %u /opt/data.bin\"]\n")
DATA = bytes(range(256)) * 4096   # 1 MiB


@pytest.fixture(scope="module")
def anti(engine, tmp_path_factory):
    return _make("anti", ANTI, {"data.bin": DATA}, tmp_path_factory.mktemp("anti"))


def test_in_place_fixes_build_and_shrink(engine, anti):
    original, generated, result, _, _ = anti
    assert result.mode == "fixes"
    rules = {c.rule: c for c in result.changes}
    assert {"apt-update-alone", "apt-lists", "apt-recommends", "chown-layer", "later-rm"} <= set(rules)
    assert rules["later-rm"].bytes == 5 * 1024 * 1024
    assert rules["chown-layer"].bytes == len(DATA)
    assert "COPY --chown=1000:1000 data.bin /opt/data.bin" in result.text
    out = _run(engine, original)
    assert out[0] == 0 and "Hello, world!" in out[1] and out[1].endswith("1000\n")
    assert _run(engine, generated) == out
    saved = _size(engine, original) - _size(engine, generated)
    # lists + .deb cache (> 10 MB), the 5 MiB file, the 1 MiB re-stored copy
    assert saved > 10_000_000 + 5 * 1024 * 1024 + len(DATA)


def test_lint_lines_and_measured_bytes(engine, anti):
    _, _, _, df, measure = anti
    by = {(f.rule, f.line): f for f in lint.lint(df, measure)}
    assert by[("apt-update-alone", 2)].bytes > 10_000_000
    assert by[("apt-lists", 3)].bytes > 0
    assert ("apt-recommends", 3) in by
    assert by[("chown-layer", 5)].bytes == len(DATA)
    assert by[("later-rm", 7)].bytes == 5 * 1024 * 1024
    sarif = lint.to_sarif(list(by.values()), "Dockerfile")
    res = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "later-rm"][0]
    assert res["properties"]["bytes"] == 5 * 1024 * 1024
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 7


def test_image_driven_fallback(engine, anti):
    original = anti[0]
    analysis = analyze(f"docker-daemon:{original}")
    result = generate.fallback(analysis, original)
    text = result.text
    assert f"FROM {original} AS full" in text and "\nFROM scratch\nCOPY --from=full / /\n" in text
    assert "RUN rm -rf /var/lib/apt/lists/*" in text
    assert 'CMD ["sh", "-c", "hello && cat /opt/sum.txt && stat -c %u /opt/data.bin"]' in text
    flat = build_image(named("df-anti:flat"), text, {})
    assert _run(engine, flat) == _run(engine, original)
    flat_analysis = analyze(f"docker-daemon:{flat}")
    assert flat_analysis.wasted_bytes == 0
    assert flat_analysis.final_bytes < analysis.final_bytes - 10_000_000


# The originals and what the generator makes of them, built in the background
# from the session's start (tests/support/prewarm.py).
PREWARM = [
    (named("df-c:slim"), lambda: _prewarm("c", C_DOCKERFILE, {"hello.c": HELLO_C})),
    (named("df-static:slim"), lambda: _prewarm("static", STATIC_DOCKERFILE, {"hello.c": HELLO_C})),
    (named("df-python:slim"), lambda: _prewarm("python", PY_DOCKERFILE, _py_files())),
    (named("df-anti:slim"), lambda: _prewarm("anti", ANTI, {"data.bin": DATA})),
]
