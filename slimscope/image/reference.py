"""The one reading of what the user named: skopeo-style transport prefixes
(`docker-archive:PATH`, `oci:DIR`, `oci-archive:PATH`, `docker-daemon:REF`), or a
bare argument that is a path if it exists, else an engine reference."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from slimscope.errors import BadInput
from slimscope.image.archive import ArchiveSource
from slimscope.image.daemon import DaemonSource
from slimscope.image.model import Image, Options, Source
from slimscope.image.oci import OCIDirSource

ARCHIVE, OCI_DIR, DAEMON = "archive", "oci", "daemon"
REGISTRY = "registry"
PODMAN, CONTAINERD = "podman", "containerd"
EXPORTED = (PODMAN, CONTAINERD)
PREFIX = "docker://"  # skopeo's registry transport


@dataclass(frozen=True)
class Reference:
    """What a name says to read, before anything is opened."""

    transport: str   # ARCHIVE, OCI_DIR or DAEMON
    value: str       # the path, or the engine's reference
    bare: bool       # named without a prefix


def parse_reference(name: str) -> Reference:
    """Read a name as skopeo would; refuse, in one line, a path that is not there."""
    if name.startswith(PREFIX):
        return Reference(REGISTRY, name[len(PREFIX):], False)
    if name.partition(":")[0] in EXPORTED and name.partition(":")[2]:
        return Reference(name.partition(":")[0], name.partition(":")[2], False)
    prefix, sep, rest = name.partition(":")
    if sep and prefix in ("docker-archive", "oci-archive"):
        path = _strip_ref_suffix(rest)
        if not os.path.isfile(path):
            raise BadInput(f"no such archive: {path}")
        return Reference(ARCHIVE, path, False)
    if sep and prefix == "oci":
        path = _strip_ref_suffix(rest)
        if not os.path.isdir(path):
            raise BadInput(f"no such OCI layout directory: {path}")
        return Reference(OCI_DIR, path, False)
    if sep and prefix in ("docker-daemon", "docker"):
        return Reference(DAEMON, rest.lstrip("/"), False)
    if os.path.isdir(name):
        return Reference(OCI_DIR, name, True)
    if os.path.exists(name):
        if not os.path.isfile(name):
            raise BadInput(f"{name} is neither an archive nor an OCI layout directory")
        return Reference(ARCHIVE, name, True)
    if "/" in name and (name.startswith((".", "/")) or name.endswith((".tar", ".tgz", ".gz"))):
        raise BadInput(f"no such file: {name}")
    return Reference(DAEMON, name, True)


def _strip_ref_suffix(path: str) -> str:
    # `oci:DIR:TAG` and `docker-archive:PATH:REF` as skopeo writes them.
    if os.path.exists(path):
        return path
    head, sep, _ = path.rpartition(":")
    return head if sep and os.path.exists(head) else path


def open_source(name: str) -> Source:
    """The source a name says to read; nothing is read yet."""
    ref = parse_reference(name)
    if ref.transport in (REGISTRY, *EXPORTED):
        # imported here: the HTTP client is loaded only when a registry is named
        from slimscope.image.exported import ExportedSource
        from slimscope.image.registry import RegistrySource, current_access, parse_registry_ref
        if ref.transport == REGISTRY:
            return RegistrySource(parse_registry_ref(ref.value))
        return ExportedSource(ref.transport, ref.value, current_access().namespace)
    if ref.transport == ARCHIVE:
        return ArchiveSource(ref.value)
    if ref.transport == OCI_DIR:
        return OCIDirSource(ref.value)
    return DaemonSource(ref.value, bare=ref.bare)


def load_image(name: str, opts: Optional[Options] = None) -> Image:
    return open_source(name).load(opts or Options())
