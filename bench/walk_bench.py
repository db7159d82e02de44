"""The layer walk against the `tarfile` walk it replaced, in one run: `python bench/walk_bench.py [N]`.

Writes layer tars with bench/gen.py (N small files over 10 layers, default 60,000,
and one layer of a few big files), indexes each with both walkers, hashing and
not, and prints CPU seconds and the ratio new/old (best of 3). Exits 1 if the two
indexes differ anywhere: the ratio is only worth having with the same result.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import gen  # noqa: E402

from slimscope.index.tarwalk import index_tar  # noqa: E402
from tests.unit.tarfile_walk import tarfile_index  # noqa: E402


def cpu(fn, path: str, hashing: bool, repeat: int = 3):
    best, got = float("inf"), None
    for _ in range(repeat):
        with open(path, "rb") as f:
            stream = io.BufferedReader(f, 1 << 20)
            t = time.process_time()
            got = fn(stream, hashing)
            best = min(best, time.process_time() - t)
    return best, got


def same(a, b) -> bool:
    return (a.paths == b.paths and a.kinds == b.kinds and a.sizes == b.sizes
            and a.modes == b.modes and a.uids == b.uids and a.gids == b.gids
            and a.mtimes == b.mtimes and a.digests == b.digests and a.links == b.links)


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 60_000
    with tempfile.TemporaryDirectory(prefix="walk-bench-") as tmp:
        paths = []
        for i, ops in enumerate(gen.small_files_layers(n, 10)):
            paths.append(os.path.join(tmp, f"small{i}.tar"))
            gen.write_layer(paths[-1], ops)
        big = os.path.join(tmp, "big.tar")
        gen.write_layer(big, [("big", f"data/blob{i}", 40 << 20, i) for i in range(5)])
        bad = 0
        print(f"{'tars':<28} {'hash':>5} {'tarfile s':>10} {'tarwalk s':>10} {'ratio':>7}")
        for label, group in ((f"{n} small files, 10 layers", paths), ("5 x 40 MiB files", [big])):
            for hashing in (True, False):
                old = new = 0.0
                for p in group:
                    t_old, i_old = cpu(tarfile_index, p, hashing)
                    t_new, i_new = cpu(index_tar, p, hashing)
                    old, new = old + t_old, new + t_new
                    if not same(i_old, i_new):
                        print(f"DIFFERENT index for {p}", file=sys.stderr)
                        bad += 1
                print(f"{label:<28} {'yes' if hashing else 'no':>5} {old:10.3f} {new:10.3f} "
                      f"{new / old:7.2f}")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
