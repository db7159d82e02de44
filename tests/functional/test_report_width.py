"""`slimscope analyze` as a pipe or a CI log sees it: the width COLUMNS gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TAR = "sample-images/demo.tar"


def analyze(columns: int, *args: str) -> str:
    env = dict(os.environ, COLUMNS=str(columns), TERM="dumb", NO_COLOR="1", SLIMSCOPE_JOBS="1")
    p = subprocess.run([sys.executable, "-m", "slimscope", "analyze", TAR, "--no-cache", *args],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def section(out: str, title: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(title))
    body = []
    for l in lines[start + 1:]:
        if not l.strip():
            break
        body.append(l)
    return body


@pytest.mark.parametrize("columns", [80, 160])
def test_every_line_fits_and_one_line_per_layer(columns):
    out = analyze(columns, "--files")
    too_long = [l for l in out.splitlines() if len(l) > columns]
    assert not too_long, too_long
    layers = section(out, "Layers")
    assert layers[0].split()[:2] == ["#", "size"]
    rows = layers[1:]
    assert [r.split()[0] for r in rows] == [str(i) for i in range(7)], rows
    # the hashed COPY source is what the user wrote: the destination
    assert any(r.endswith("COPY … /root/.ssh/id_rsa") for r in rows)
    # a cut command says so
    assert any(r.endswith("…") for r in rows)


@pytest.mark.parametrize("columns", [80, 160])
def test_secret_and_summary_stay_readable(columns):
    out = analyze(columns)
    lines = out.splitlines()
    # the summary wraps between items, never inside "paths 306"
    summary = " ".join(lines[1:3])
    assert "paths 306" in summary and "efficiency 84.2%" in summary
    secrets = section(out, "Hidden secrets (1)")
    assert secrets[0].startswith("  ✗ /root/.ssh/id_rsa was deleted in layer 6")
    # a wrapped sentence hangs under its text, not at column 0
    assert all(l.startswith("    ") for l in secrets[1:])
    assert "anyone who pulls the image can read it" in " ".join(" ".join(secrets).split())
    hints = section(out, "Hints")
    assert all(l.startswith(("  • ", "    ")) for l in hints)
    assert "Duplicates (1 group," in out


def test_markdown_has_largest_files_and_duplicates():
    out = analyze(120, "--format", "markdown")
    assert "### Largest files (top 10)" in out and "| 2.0 MB | 0 | `/bin/busybox` |" in out
    assert "### Duplicates (1 group, 30.0 kB savable)" in out
    assert "`/app/lib/libdemo-copy.so.1`" in out


def test_diff_top_says_how_many_more_and_names_layer_0_as_analyze_does(tmp_path):
    from tests.support.tui_images import demo_image

    other = str(demo_image(tmp_path / "other"))
    env = dict(os.environ, COLUMNS="120", TERM="dumb", NO_COLOR="1", SLIMSCOPE_JOBS="1")
    p = subprocess.run([sys.executable, "-m", "slimscope", "diff", TAR, other, "--top", "2",
                        "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    removed = [l for l in lines if l.startswith("  - layer ")]
    assert len(removed) == 2
    assert removed[0].endswith("Imported from -")
    assert "    … 5 more" in lines


def test_dockerfile_verification_never_rounds_up_to_100_percent():
    from slimscope.cli.dockerfile import _smaller

    assert _smaller(646_800_000, 762_000) == " (99.8% smaller)"
    assert _smaller(1000, 500) == " (50.0% smaller)"
    assert _smaller(1000, 1100) == " (10.0% larger)"
    assert _smaller(0, 10) == ""
