"""Content digests: computing them, reading them, and the one check that a blob is
what its digest says. Every source checks blobs through `check_digest`, so a
mismatch reads the same from every transport."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Optional

from slimscope.errors import BadInput


def _builtin_sha256() -> Optional[Callable[[bytes], Any]]:
    # CPython's own sha256 (3.12+: _sha2, before: _sha256); None where it is missing
    for name in ("_sha2", "_sha256"):
        try:
            made: Callable[[bytes], Any] = importlib.import_module(name).sha256
            return made
        except (ImportError, AttributeError):
            continue
    return None


_SMALL = _builtin_sha256()


def small_sha256_hex(data: bytes) -> str:
    """The sha256 of a config, a manifest, a cache entry or a key: kilobytes to a few
    MiB. Loading OpenSSL for hashlib costs ~3.7 MiB of resident memory, a fifth of a
    warm run that hashes nothing else; bulk data (layers, bodies) goes through hashlib,
    whose SHA-NI code is four times as fast."""
    if _SMALL is None:
        import hashlib
        return hashlib.sha256(data).hexdigest()
    digest: str = _SMALL(data).hexdigest()
    return digest

# Bodies are hashed by CPython's own sha256 until this many bytes have gone through it
# in the process, then by OpenSSL's (4x as fast a byte, ~3.7 MiB resident once loaded):
# an image of few small files is read without OpenSSL, and a big one pays ~0.1 s for it.
BUILTIN_ROOM = 32 << 20
_room = [BUILTIN_ROOM if _SMALL is not None else 0]


def _unwanted(*_: Any) -> Any:
    raise AssertionError("a walk that hashes nothing hashed a body")


def body_hasher(wanted: bool = True) -> tuple[Callable[..., Any], int]:
    """The sha256 constructor for a walk's bodies and the bytes it may still hash with it;
    a walk gives back what it left with `return_room`, and takes OpenSSL's once it is 0."""
    if not wanted:
        return _unwanted, 0
    if _room[0] > 0 and _SMALL is not None:
        return _SMALL, _room[0]
    return openssl_sha256(), 0


def return_room(left: int) -> None:
    _room[0] = max(0, left)


def openssl_sha256() -> Callable[..., Any]:
    from hashlib import sha256
    return sha256


_HEX = frozenset("0123456789abcdef")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + small_sha256_hex(data)


def check_digest(where: str, blob: str, claimed: str, actual: str) -> None:
    """Refuse a blob whose content (hashed to `actual`) is not the digest it is named by."""
    if actual != claimed:
        raise BadInput(f"{where}: blob {blob} does not match its sha256 digest")


def digest_hex(digest: str, where: str) -> str:
    """The hex part of a sha256 digest, refusing any other algorithm or a malformed one
    (the hex becomes a file name: nothing else may get through)."""
    algo, _, hexpart = (digest or "").partition(":")
    if algo != "sha256" or len(hexpart) != 64 or any(c not in _HEX for c in hexpart):
        raise BadInput(f"{where} names an unsupported or malformed digest: {digest!r}")
    return hexpart


def blob_name(digest: str, where: str) -> str:
    """Where an OCI layout keeps a blob, relative to its root."""
    return "blobs/sha256/" + digest_hex(digest, where)


def digest_of_name(name: str) -> str:
    """The digest an OCI-layout blob name claims (`blobs/sha256/HEX`), or "" for other names."""
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] == "sha256" and len(parts[2]) == 64:
        return "sha256:" + parts[2]
    return ""
