"""An image archive's own tar (not a layer's), listed from its headers alone.

A plain archive file is listed before any layer is read (slimscope.image.archive):
the manifest and config first, then each layer at its offset. This reads the headers
with the layer walker's checksum, number and PAX code and seeks past every body, so
that a run over an unchanged archive needs no `tarfile` (nor shutil, bz2 and lzma).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, NamedTuple

from slimscope.errors import BadInput
from slimscope.index.tarheader import (
    GNU_LONGLINK,
    GNU_LONGNAME,
    GNU_SPARSE,
    MAX_META,
    META,
    NO_BODY,
    PAX_GLOBAL,
    ZERO_BLOCK,
    adler_off,
    checksum_exact,
    numbers,
    parse_pax,
    pax_int,
    text,
)


class Member(NamedTuple):
    """One member of an image archive's own tar (not a layer's), as `members` lists it."""

    name: str     # as stored (PAX or GNU long names applied)
    flag: int     # the typeflag byte
    offset: int   # where its body starts
    size: int
    link: str     # a link's target
    sparse: bool

    @property
    def regular(self) -> bool:
        return self.flag in (0x30, 0, 0x37)


def members(f: IO[bytes]) -> Iterator[Member]:
    """The members of a tar file that seeks, from their headers alone (bodies are
    seeked past), as tarfile lists them. ValueError at anything it cannot read: the
    caller then reads the archive as a stream, which says what is wrong."""
    pending: dict[str, str] = {}
    glob: dict[str, str] = {}
    while True:
        block = f.read(512)
        if len(block) < 512 or block == ZERO_BLOCK:
            if pending or (block and block != ZERO_BLOCK):
                raise ValueError("the archive ends inside a header")
            return
        stored, _mode, _uid, _gid, size, _mtime = numbers(block)
        if adler_off(block, stored) and not checksum_exact(block, stored):
            raise ValueError("a header fails its checksum")
        flag = block[156]
        offset = f.tell()
        padded = (size + 511) & ~511
        if flag in META:
            if not 0 <= size <= MAX_META:
                raise ValueError("an extended header of an absurd size")
            data = f.read(padded)[:size]
            if len(data) != size:
                raise ValueError("the archive ends inside an extended header")
            try:
                if flag == PAX_GLOBAL:
                    parse_pax(data, glob, "archive")
                elif flag in (GNU_LONGNAME, GNU_LONGLINK):
                    pending.setdefault("path" if flag == GNU_LONGNAME else "linkpath",
                                       text(data))
                else:
                    fields = dict(glob)
                    parse_pax(data, fields, "archive")
                    for k, v in fields.items():
                        pending.setdefault(k, v)
            except BadInput as e:
                raise ValueError(str(e)) from None
            continue
        name = text(block[:100])
        if block[345] and flag != GNU_SPARSE:
            name = text(block[345:500]) + "/" + name
        link = text(block[157:257])
        sparse = flag == GNU_SPARSE or any(k.startswith("GNU.sparse.") for k in pending)
        name = pending.get("path", name)
        link = pending.get("linkpath", link)
        if "size" in pending:
            size = pax_int(pending["size"])
            padded = (size + 511) & ~511
        pending = {}
        if size < 0:
            raise ValueError("a member of a negative size")
        if flag == 0 and name.endswith("/"):
            flag = 0x35
        if flag == 0x35:
            name = name.rstrip("/")
        yield Member(name, flag, offset, size, link, sparse)
        if flag not in NO_BODY:
            f.seek(offset + padded)
