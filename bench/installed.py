"""The interpreter the bench runs slimscope with: a venv of its own holding only
slimscope's runtime dependencies, as `pipx install slimscope` or a project venv gives
a user, with the measured checkout on PYTHONPATH.

Why not the bench's own interpreter: this machine's system Python carries
site-packages `.pth` hooks of its own (one imports certifi and importlib.resources at
every start to add a proxy CA, another is the editable install's import finder).
They cost ~0.1 s CPU and ~5 MiB before the first line of slimscope runs, in every
command, and no user's install has them. `SLIMSCOPE_BENCH_PYTHON=/path/to/python`
measures with another interpreter (the value `system` means the bench's own).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def _requirements() -> list[str]:
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def python(root: str | None = None) -> str:
    """The venv's python, made (once per dependency list) under the bench cache dir."""
    chosen = os.environ.get("SLIMSCOPE_BENCH_PYTHON")
    if chosen:
        return sys.executable if chosen == "system" else chosen
    if root is None:
        import gen
        root = gen.default_cache_root()
    reqs = _requirements()
    tag = hashlib.sha256("\n".join(reqs).encode()).hexdigest()[:12]
    venv = os.path.join(root, f"runtime-venv-{tag}")
    exe = os.path.join(venv, "bin", "python")
    if not os.path.exists(os.path.join(venv, ".done")):
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        p = subprocess.run([exe, "-m", "pip", "install", "-q", *reqs], capture_output=True,
                           text=True)
        if p.returncode:
            raise RuntimeError(f"pip install of slimscope's dependencies failed: "
                               f"{p.stderr[-2000:]}")
        open(os.path.join(venv, ".done"), "w").close()
    return exe

