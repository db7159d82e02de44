"""Writing a tar as a stream, and abandoning it cleanly when the work stops.

A stream-mode TarFile flushes its last block when it is closed, and also when it is
garbage-collected. If the work stops half-way (Ctrl-C, a refused input), the file it
wrote to is already closed and deleted, so that late flush would fail inside a
finalizer and print "Exception ignored ..." after our one-line message.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager

from slimscope.index.streams import CHUNK


@contextmanager
def stream_writer(fileobj: io.BufferedIOBase) -> Iterator[tarfile.TarFile]:
    """A PAX tar written front to back into `fileobj`, closed (end blocks written)
    only when the block inside finishes."""
    # written on in CHUNK-sized pieces, not tarfile's 10 KiB: each piece is a call
    # through the hashing sink below (the bytes are the same)
    tf = tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape", bufsize=CHUNK)
    try:
        yield tf
    except BaseException:
        # mark both the TarFile and its stream closed without writing anything more
        stream = tf.fileobj
        tf.closed = True  # type: ignore[attr-defined]  # set in TarFile.__init__; typeshed omits it
        if stream is not None:
            stream.closed = True  # type: ignore[attr-defined]
        raise
    tf.close()
