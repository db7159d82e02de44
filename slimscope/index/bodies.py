"""The digests a lazy layer index left out, read when someone asks for them.

A lazy index (slimscope.index.tarwalk, `lazy=True`) hashed its small bodies and noted
where each bigger one starts. Most of those digests are never asked for: only a
body that could equal another one (the same size at another path, or at its own path
in another layer) or that a report prints needs one. This module reads just those
bodies, each from its offset, and writes their digests into the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from slimscope.errors import BadInput
from slimscope.index.digests import body_hasher, openssl_sha256, return_room
from slimscope.index.records import LayerIndex

READ = 1 << 20


def fill_digests(tar: IO[bytes], idx: LayerIndex, entries: Iterable[int],
                 what: str = "layer") -> int:
    """Hash the bodies of `entries` (those still wanting a digest) from the layer tar
    `tar`, which must seek; returns how many were read. When none is left wanting, the
    index becomes a hashed one."""
    offsets, sizes, digests = idx.offsets, idx.sizes, idx.digests
    todo = sorted((offsets[i], i) for i in set(entries) if idx.wants_digest(i))
    sha256, room = body_hasher()
    if room:
        need = sum(sizes[i] for _, i in todo)
        sha256, room = (sha256, room - need) if need < room else (openssl_sha256(), 0)
        return_room(room)
    for start, i in todo:
        if tar.seek(start) != start:
            raise BadInput(f"{what} changed while it was read (no body at byte {start})")
        sha, left = sha256(), sizes[i]
        while left:
            chunk = tar.read(min(left, READ))
            if not chunk:
                raise BadInput(f"{what} changed while it was read ({idx.paths[i]!r} is cut "
                               "short)")
            sha.update(chunk)
            left -= len(chunk)
        digests[i * 32:(i + 1) * 32] = sha.digest()
        offsets[i] = -1
    if todo and max(offsets, default=-1) < 0:
        idx.hashed, idx.lazy = True, False
        del idx.offsets[:]
    return len(todo)
