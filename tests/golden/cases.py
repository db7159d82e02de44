"""The commands whose output on the bundled samples must not change by accident.

Each case is (name, argv). `python -m tests.golden.cases --write` records what the
current code prints into tests/golden/out/; test_golden.py compares against it.
A deliberate change of output re-records the files in the same commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "out"
TAR = "sample-images/demo.tar"
OCI = "sample-images/demo-oci"
OCITAR = "sample-images/demo.oci.tar"
DOCKERFILE = "sample-images/src/demo/Dockerfile"

CASES: list[tuple[str, list[str]]] = [
    ("analyze-text", ["analyze", TAR]),
    ("analyze-text-files", ["analyze", TAR, "--files", "--top", "3"]),
    ("analyze-json", ["analyze", TAR, "--format", "json", "--files"]),
    ("analyze-json-oci", ["analyze", OCI, "--format", "json"]),
    ("analyze-json-ocitar-nohash", ["analyze", OCITAR, "--format", "json", "--no-hash"]),
    ("analyze-markdown", ["analyze", TAR, "--format", "markdown"]),
    ("ci-pass", ["ci", TAR, "--no-config", "--max-size", "10MB", "--max-layers", "20"]),
    ("ci-fail", ["ci", TAR, "--no-config", "--max-size", "1MB", "--min-efficiency", "95%",
                 "--forbid", "/app/**/*.json", "--path-budget", "/app/**=10kB",
                 "--max-layer-size", "100kB", "--max-wasted-bytes", "1kB"]),
    ("ci-secrets-allowed", ["ci", TAR, "--no-config", "--secrets-allow", "/root/.ssh/**"]),
    ("diff-text", ["diff", TAR, OCI]),
    ("diff-json", ["diff", TAR, OCITAR, "--format", "json"]),
    ("diff-markdown", ["diff", OCI, TAR, "--format", "markdown"]),
    ("slim-dry-run", ["slim", TAR, "--dry-run", "--no-compressed"]),
    ("slim-dry-run-presets", ["slim", TAR, "--dry-run", "--no-compressed", "--preset", "tmp",
                              "--preset", "docs", "--remove", "/app/data/**"]),
    ("slim-dry-run-json", ["slim", TAR, "--dry-run", "--no-compressed", "--json",
                           "--remove", "**/*.so*"]),
    ("lint-text", ["lint", DOCKERFILE, "--exit-zero"]),
    ("lint-json", ["lint", DOCKERFILE, "--format", "json", "--exit-zero"]),
    ("lint-sarif", ["lint", DOCKERFILE, "--format", "sarif", "--exit-zero"]),
    ("lint-measured", ["lint", DOCKERFILE, "--image", TAR, "--format", "json", "--exit-zero"]),
    ("dockerfile", ["dockerfile", DOCKERFILE]),
    ("dockerfile-measured", ["dockerfile", DOCKERFILE, "--image", TAR]),
]


def run(argv: list[str], cache: str) -> tuple[int, str, str]:
    env = dict(os.environ, COLUMNS="120", LINES="40", TERM="dumb", NO_COLOR="1",
               XDG_CACHE_HOME=cache, SLIMSCOPE_JOBS="1")
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    p = subprocess.run([sys.executable, "-m", "slimscope", *argv], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def render(rc: int, out: str, err: str) -> str:
    return f"exit {rc}\n--- stdout\n{out}--- stderr\n{err}"


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as cache:
        for name, argv in CASES:
            (OUT / f"{name}.txt").write_text(render(*run(argv, cache)))
            print("wrote", name)
