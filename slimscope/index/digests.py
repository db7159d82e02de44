"""Content digests: computing them, reading them, and the one check that a blob is
what its digest says. Every source checks blobs through `check_digest`, so a
mismatch reads the same from every transport."""

from __future__ import annotations

import hashlib

from slimscope.errors import BadInput

_HEX = frozenset("0123456789abcdef")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


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
