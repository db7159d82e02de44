"""Random layered images, and the bytes each path counts worked out by hand: the
property tests hold the path tables, the explorer's views, the diff and the gate
to what the composer says on many small images no one wrote by hand.
"""

from __future__ import annotations

import random

from slimscope.core.analysis import analyze
from tests.support.synth import docker_archive

# "b-c" sorts between "b" and "b/"; a leaf name never names a directory, so trees stay
# consistent
DIRS, LEAVES = ("a", "b", "b-c", "b.d"), ("f", "g", "h")


def random_layers(rng: random.Random, n: int) -> list:
    layers = []
    for li in range(n):
        entries, marked = [], set()
        for _ in range(rng.randint(1, 20)):
            d = "/".join(rng.choice(DIRS) for _ in range(rng.randint(0, 3)))
            pre = d + "/" if d else ""
            r = rng.random()
            if r < 0.4:
                entries.append((pre + rng.choice(LEAVES), "file", b"x" * rng.randint(0, 40)))
            elif r < 0.5:
                # a file and a hardlink to it, in one layer: a later whiteout of either
                # leaves the body visible through the other
                body = pre + rng.choice(LEAVES) + "1"
                entries.append((body, "file", b"y" * rng.randint(1, 40)))
                entries.append((pre + rng.choice(LEAVES) + "2", "hardlink", body))
            elif r < 0.6 and d:
                # stored again in a later layer, a directory may change its mode only
                entries.append((d, "dir", rng.choice([0o755, 0o700])))
            elif r < 0.7:
                entries.append((pre + rng.choice(LEAVES), "symlink", "x"))
            elif li and r < 0.9:
                name = rng.choice(DIRS + LEAVES + ("f1", "g2"))
                if pre + name not in marked:
                    marked.add(pre + name)
                    entries.append((pre + ".wh." + name, "whiteout"))
            elif li and d and d not in marked:
                marked.add(d)
                entries.append((pre + ".wh..wh..opq", "opaque"))
        layers.append(entries)
    return layers


def random_analysis(tmp_path, seed: int):
    rng = random.Random(seed)
    path = tmp_path / f"img-{seed}.tar"
    docker_archive(str(path), random_layers(rng, rng.randint(1, 5)))
    return analyze(str(path), use_cache=False)


def counted_by_hand(records: list) -> dict:
    """path -> bytes it counts: a file its size, a hardlink its body's size when the file
    it links to is gone from the tree."""
    paths = {r.path for r in records}
    return {r.path: (r.size if r.type == "file" or (r.type == "hardlink" and r.link not in paths)
                     else 0) for r in records}
