"""The fields of a tar header, read as `tarfile` reads them and checked more strictly:
numbers (octal, base-256), names, the checksum, PAX records and GNU long names.
The layer walker (tarwalk.py) and the archive lister (tarlist.py) share them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from slimscope.errors import BadInput
from slimscope.index.records import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK

MAX_META = 1 << 20    # a PAX or GNU long-name header bigger than this is corrupt

# typeflag byte -> entry kind; regular files are the ones with a body to hash
KIND_OF = {0x30: FILE, 0: FILE, 0x37: FILE, 0x35: DIR, 0x32: SYMLINK, 0x31: HARDLINK,
           0x33: CHAR, 0x34: BLOCK, 0x36: FIFO}
# what tarfile knows and reads no body of (any other type's body is skipped by its size)
NO_BODY = frozenset((0x31, 0x32, 0x33, 0x34, 0x35, 0x36))
PAX_LOCAL, PAX_GLOBAL, PAX_SOLARIS = 0x78, 0x67, 0x58  # x g X
GNU_LONGNAME, GNU_LONGLINK, GNU_SPARSE = 0x4C, 0x4B, 0x53  # L K S
# the headers that describe the next entry rather than being one
META = frozenset((PAX_LOCAL, PAX_GLOBAL, PAX_SOLARIS, GNU_LONGNAME, GNU_LONGLINK))
ZERO_BLOCK = bytes(512)


def text(field: bytes) -> str:
    cut = field.find(b"\0")
    return (field if cut < 0 else field[:cut]).decode("utf-8", "surrogateescape")


def number(field: bytes) -> int:
    first = field[0]
    if first == 0o200 or first == 0o377:  # base-256, for values octal cannot hold
        n = int.from_bytes(field[1:], "big")
        return n - (1 << (8 * (len(field) - 1))) if first == 0o377 else n
    cut = field.find(b"\0")
    digits = (field if cut < 0 else field[:cut]).strip()
    return int(digits, 8) if digits else 0  # ValueError: the caller says corrupt


# mode, uid, gid, size, mtime, each in its field with the one NUL after it, and the
# checksum's six digits, NUL and space, as ustar, GNU tar, Go and Python write them:
# one unpack instead of six slices
_USTAR_NUMBERS = struct.Struct("7sx7sx7sx11sx11sx6s")


def numbers(block: bytes) -> tuple[int, int, int, int, int, int]:
    """(stored checksum, mode, uid, gid, size, mtime) of a header; ValueError if one is
    not a number."""
    try:
        if not (block[107] | block[115] | block[123] | block[135] | block[147] | block[154]):
            mode, uid, gid, size, mtime, chk = _USTAR_NUMBERS.unpack_from(block, 100)
            return (int(chk, 8), int(mode, 8), int(uid, 8), int(gid, 8), int(size, 8),
                    int(mtime, 8))
        # plain octal ended otherwise (a space, an early NUL): a C call per field
        return (int(block[148:156].rstrip(b"\0 "), 8), int(block[100:108].rstrip(b"\0 "), 8),
                int(block[108:116].rstrip(b"\0 "), 8), int(block[116:124].rstrip(b"\0 "), 8),
                int(block[124:136].rstrip(b"\0 "), 8), int(block[136:148].rstrip(b"\0 "), 8))
    except ValueError:  # empty, base-256, or junk: field by field
        return (number(block[148:156]), number(block[100:108]), number(block[108:116]),
                number(block[116:124]), number(block[124:136]), number(block[136:148]))


def checksum_ok(block: bytes, stored: int) -> bool:
    # The stored sum counts its own field as 8 spaces. adler32's low half is the byte
    # sum + 1 modulo 65521, which no flip of one byte's bits can keep; only when that
    # fails is the exact sum (unsigned, or signed as old tars wrote it) worth computing.
    return adler_off(block, stored) == 0 or checksum_exact(block, stored)


def adler_off(block: bytes, stored: int, adler32: Callable[[bytes], int] = zlib.adler32) -> int:
    """0 when the header's byte sum agrees with its stored checksum, by adler32's low half."""
    # (the field's own sum the same way: 8 bytes sum to less than the modulus)
    return ((adler32(block) & 0xFFFF) - (adler32(block[148:156]) & 0xFFFF) + 256 - stored) \
        % 65521


def checksum_exact(block: bytes, stored: int) -> bool:
    rest = block[:148] + block[156:]
    unsigned = 256 + sum(rest)
    signed = unsigned - 256 * sum(1 for b in rest if b > 127)
    return stored in (unsigned, signed)


def bad_header(block: bytes, entry: int, what: str) -> BadInput:
    try:
        summed = checksum_ok(block, number(block[148:156]))
    except ValueError:
        summed = False
    if summed:
        return BadInput(f"{what} is corrupt (the tar header at entry {entry} has a number "
                        "that is not one)")
    return BadInput(f"{what} is corrupt (the tar header at entry {entry} fails its checksum)")


def parse_pax(data: bytes, into: dict[str, str], what: str) -> None:
    """Parse "LEN KEY=VALUE\\n" records into `into`."""
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0:
            break  # padding after the last record
        space = data.find(b" ", pos, pos + 24)
        try:
            length = int(data[pos:space]) if space > pos else 0
        except ValueError:
            length = 0
        record = data[space + 1:pos + length]
        eq = record.find(b"=")
        if length <= 0 or pos + length > end or eq <= 0 or not record.endswith(b"\n"):
            raise BadInput(f"{what} is corrupt (a bad PAX record at byte {pos} of its header)")
        into[record[:eq].decode("utf-8", "surrogateescape")] = \
            record[eq + 1:-1].decode("utf-8", "surrogateescape")
        pos += length


def pax_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0  # as tarfile does


def apply_pax(fields: dict[str, str], name: str, link: str, size: int, uid: int, gid: int,
               mtime: int, what: str) -> tuple[str, str, int, int, int, int]:
    if any(k.startswith("GNU.sparse.") for k in fields):
        raise BadInput(f"{what} entry {fields.get('path', name)!r} is a sparse file, which "
                       "slimscope does not read")
    if "path" in fields:
        name = fields["path"].rstrip("/")
    if "linkpath" in fields:
        link = fields["linkpath"]
    if "size" in fields:
        size = pax_int(fields["size"])
        if size < 0:
            raise BadInput(f"{what} entry {name!r} declares an impossible size {size}")
    if "uid" in fields:
        uid = pax_int(fields["uid"])
    if "gid" in fields:
        gid = pax_int(fields["gid"])
    if "mtime" in fields:
        try:
            mtime = int(float(fields["mtime"]))
        except (ValueError, OverflowError):
            mtime = 0
    return name, link, size, uid, gid, mtime
