"""One file's body from one layer, read through the image's source.

The index keeps no file bodies (a layer is indexed in one pass and never
extracted), so a viewer or an extraction reads the layer blob again: the
source hands out the layer's tar stream and the member is copied out of it,
nothing else of the layer is kept.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Optional

from slimscope.errors import BadInput
from slimscope.image.model import Image
from slimscope.index.records import clean_path
from slimscope.index.streams import Readable


@dataclass
class Member:
    path: str
    size: int          # the body's full size in the layer
    data: bytes        # its first `limit` bytes (all of it when limit is None)
    mode: int

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.size


def regular_files(stream: Readable) -> Iterator[tuple[str, tarfile.TarInfo, IO[bytes]]]:
    """(clean path, header, body) of every regular file of one layer tar, read as a
    stream; entries whose names cannot be cleaned are skipped, as the index skips them."""
    tf = tarfile.open(fileobj=stream, mode="r|", encoding="utf-8",  # type: ignore[call-overload]
                      errors="surrogateescape")
    with tf:
        for ti in tf:
            if not ti.isreg():
                continue
            try:
                name = clean_path(ti.name)
            except BadInput:
                continue
            body = tf.extractfile(ti)
            if body is not None:
                yield name, ti, body


def open_member(image: Image, layer: int, path: str, limit: Optional[int] = None) -> Member:
    """The regular file `path` as layer `layer` of `image` stores it (the last entry of
    that name in the tar, as the composed tree shows it). BadInput when it is not there."""
    found: Optional[Member] = None
    streams = image.source.layer_streams(image)
    try:
        for positions, stream in streams:
            if layer not in positions:
                continue
            try:
                for name, ti, body in regular_files(stream):
                    if name == path:
                        data = body.read() if limit is None else body.read(limit)
                        found = Member(path, ti.size, data, ti.mode)
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise BadInput(f"layer {layer} could not be read again ({e})") from None
            break
    finally:
        # a generator over an open archive: closing it closes the file now
        getattr(streams, "close", lambda: None)()
    if found is None:
        raise BadInput(f"layer {layer} stores no regular file {path}")
    return found
