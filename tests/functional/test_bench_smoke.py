"""bench/run.py works, and its generated images hold what the benchmark claims.

No timing is asserted here: the figures live in bench/RESULTS.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from slimscope.core.analysis import analyze

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench"))

import gen  # noqa: E402


def test_generated_image_has_every_kind_of_change(tmp_path):
    imgs = gen.Images(gen.SMOKE, str(tmp_path))
    a = analyze(imgs.small_archive(), use_cache=False)
    reasons = {w.reason for w in a.waste}
    assert {"deleted", "opaque", "overwritten", "metadata-only"} <= reasons
    assert len(a.layers) == 10
    assert sum(len(l.index) for l in a.image.layers) > 2000
    assert a.wasted_bytes == a.total_bytes - a.final_bytes > 0
    assert a.entry("/etc/linked.txt").type == "hardlink"
    # the same image as an OCI layout (zstd) analyzes to the same final tree
    b = analyze(imgs.small_oci("zstd"), use_cache=False)
    assert [l.diff_id for l in b.layers] == [l.diff_id for l in a.layers]
    assert b.final_bytes == a.final_bytes and len(b.composed.final) == len(a.composed.final)


def test_generation_is_deterministic(tmp_path):
    one = gen.Images(gen.SMOKE, str(tmp_path / "1")).small_archive()
    two = gen.Images(gen.SMOKE, str(tmp_path / "2")).small_archive()
    with open(one, "rb") as f1, open(two, "rb") as f2:
        assert f1.read() == f2.read()


def test_run_script_prints_the_table(tmp_path):
    env = dict(os.environ, SLIMSCOPE_BENCH_DIR=str(tmp_path))
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run.py"), "--scale", "smoke",
                        "--only", "small,big,oci-zstd,reuse", "--no-write"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    for needle in ("analyze --no-hash / tar headers only", "analyze (hashing) / headers + sha256",
                   "peak memory per entry above base", "second analyze"):
        assert needle in p.stdout
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run.py"), "--only", "nope"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "unknown benchmark" in p.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tmux_harness_waits_for_the_tree_row():
    import tmux_tui

    # a longer name that starts like the one sought, then the row itself
    show = ("printf '├── bootstrap\\n'; sleep 0.6; printf '│ x\\n└ ▶ boot/\\n'; sleep 30")
    t = tmux_tui.time_to_row(["sh", "-c", show], "boot", size=(60, 10))
    assert 0.5 <= t < 20
    with pytest.raises(RuntimeError, match="ended before"):
        tmux_tui.time_to_row(["sh", "-c", "printf 'no tree here\\n'"], "boot", size=(60, 10))


def test_peers_results_print_one_table_of_their_own():
    import peers_bench
    import run

    rows = [peers_bench._vs("flat (91 MiB)", "analyze cold: CPU", 0.8, 0.4, "s", 1.0),
            peers_bench._vs("flat (91 MiB)", "analyze cold: peak RSS", 40, 50, "MiB", 1.0)]
    res = {"kind": "peers", "scale": "quick", "rows": rows,
           "measurements": {"flat: dive": [{"cpu": 0.4, "wall": 0.5, "rss_mib": 50.0}]}}
    text = run.render({"beside dive": res}, gen.QUICK, 3, 0.0)
    assert text.count("| image | case | slimscope | peer | ratio | target | met |") == 1
    assert "| benchmark |" not in text
    assert "| 0.80 s | dive 0.40 s | **2.00×** | ≤ 1.0× | **no** |" in text
    assert "| 40 MiB | dive 50 MiB | **0.80×** | ≤ 1.0× | yes |" in text
    assert "flat: dive: CPU 0.40 s; wall 0.50 s; peak 50.00 MiB" in text
