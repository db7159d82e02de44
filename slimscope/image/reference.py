"""The one reading of what the user named: skopeo-style transport prefixes
(`docker-archive:PATH`, `oci:DIR`, `oci-archive:PATH`, `docker-daemon:REF`), or a
bare argument that is a path if it exists, else an engine reference. `-` (or any
pipe) is an archive read from stdin. A name may also pick one image of what it
opens, as skopeo's do: `oci:DIR:TAG`, `docker-archive:PATH:NAME:TAG`."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, replace
from typing import Optional

from slimscope.errors import BadInput
from slimscope.image.archive import ArchiveSource
from slimscope.image.manifest import check_platform
from slimscope.image.model import Image, Options, Source
from slimscope.image.oci import OCIDirSource
from slimscope.image.stream import STDIN, StreamSource

ARCHIVE, OCI_DIR, DAEMON, PIPE = "archive", "oci", "daemon", "pipe"

# The engine's reference grammar (distribution/reference): an optional registry host,
# then lower-case path components, then an optional tag and/or digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_ENGINE_REF = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?"
                         rf"(?:@{_DIGEST})?")
REGISTRY = "registry"
PODMAN, CONTAINERD = "podman", "containerd"
EXPORTED = (PODMAN, CONTAINERD)
PREFIX = "docker://"  # skopeo's registry transport


@dataclass(frozen=True)
class Reference:
    """What a name says to read, before anything is opened."""

    transport: str   # ARCHIVE, OCI_DIR, DAEMON or PIPE
    value: str       # the path, or the engine's reference
    bare: bool       # named without a prefix
    image: Optional[str] = None  # which image of the archive or layout the name picks


def looks_like_path(name: str) -> bool:
    """A name more likely meant as a file than an image: `repo/app:1` is an image, but
    `./app`, `/x/app.tar` or `app.tar.gz` are files."""
    return (name.startswith(("/", "./", "../", "~")) or
            name.endswith((".tar", ".tgz", ".gz", ".zst", ".oci")))


def _is_pipe(path: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def parse_reference(name: str) -> Reference:
    """Read a name as skopeo would; refuse, in one line, a path that is not there."""
    if not name:
        raise BadInput("an empty image name: give an archive, an OCI layout directory, - for "
                       "stdin, or an image in the engine")
    if name.startswith(PREFIX):
        return Reference(REGISTRY, name[len(PREFIX):], False)
    if name.partition(":")[0] in EXPORTED and name.partition(":")[2]:
        return Reference(name.partition(":")[0], name.partition(":")[2], False)
    prefix, sep, rest = name.partition(":")
    if sep and prefix in ("docker-archive", "oci-archive"):
        path, image = _split_selection(rest)
        if path == STDIN or _is_pipe(path):
            return Reference(PIPE, path, False, image)
        if not os.path.isfile(path):
            raise BadInput(f"no such archive: {path}")
        return Reference(ARCHIVE, path, False, image)
    if sep and prefix == "oci":
        path, image = _split_selection(rest)
        if not os.path.isdir(path):
            raise BadInput(f"no such OCI layout directory: {path}")
        return Reference(OCI_DIR, path, False, image)
    if sep and prefix in ("docker-daemon", "docker"):
        return Reference(DAEMON, rest.lstrip("/"), False)
    if name == STDIN or _is_pipe(name):
        return Reference(PIPE, name, True)
    if os.path.isdir(name):
        return Reference(OCI_DIR, name, True)
    if os.path.exists(name):
        if not os.path.isfile(name):
            raise BadInput(f"{name} is neither an archive nor an OCI layout directory")
        return Reference(ARCHIVE, name, True)
    if "/" in name and (name.startswith((".", "/")) or name.endswith((".tar", ".tgz", ".gz"))):
        raise BadInput(f"no such file: {name}")
    return Reference(DAEMON, _engine_ref(name, looks_like_path(name)), True)


def _without_registry(name: str) -> str:
    # The first component is a registry host when the engine would read it as one.
    head, sep, rest = name.partition("/")
    if sep and (any(c in head for c in ".:") or head == "localhost" or head.lower() != head):
        if re.fullmatch(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]+)?", head):
            return rest
    return name


def _engine_ref(name: str, path_like: bool = False) -> str:
    """The name, when the engine could take it as a reference (else its raw 400 text
    would be the answer)."""
    if not name:
        raise BadInput("an empty image name after the transport prefix")
    if not _ENGINE_REF.fullmatch(_without_registry(name)):
        what = (f"no such file: {name}, and it is not" if path_like else
                f"{name!r} is not")
        raise BadInput(f"{what} a valid image reference: lower case letters, digits, '.', "
                       "'_', '-' and '/', then an optional :TAG or @DIGEST")
    return name


def _split_selection(rest: str) -> tuple[str, Optional[str]]:
    """`PATH[:REF]` as skopeo writes it (`oci:DIR:TAG`, `docker-archive:PATH:NAME:TAG`):
    the longest leading part that exists is the path, what follows picks the image."""
    if rest == STDIN or os.path.exists(rest):
        return rest, None
    cut = len(rest)
    while True:
        cut = rest.rfind(":", 0, cut)
        if cut <= 0:
            return rest, None   # no part exists: the caller says so about the whole
        head, tail = rest[:cut], rest[cut + 1:]
        if head == STDIN or os.path.exists(head):
            if not tail:
                raise BadInput(f"{rest}: an empty image name after the last ':'")
            return head, tail


def source_for(ref: Reference) -> Source:
    """The source a parsed name says to read; nothing is read yet."""
    if ref.transport in (REGISTRY, *EXPORTED):
        # imported here: the HTTP client is loaded only when a registry is named
        if ref.transport == REGISTRY:
            from slimscope.image.registry import RegistrySource, parse_registry_ref
            return RegistrySource(parse_registry_ref(ref.value))
        from slimscope.image.exported import ExportedSource
        from slimscope.image.registry_auth import current_access
        return ExportedSource(ref.transport, ref.value, current_access().namespace)
    if ref.transport == ARCHIVE:
        return ArchiveSource(ref.value)
    if ref.transport == OCI_DIR:
        return OCIDirSource(ref.value)
    if ref.transport == PIPE:
        return StreamSource(ref.value)
    if not ref.bare:
        _engine_ref(ref.value)   # a bare name was checked as it was parsed
    elif _podman_instead(ref.value):
        from slimscope.image.exported import ExportedSource
        return ExportedSource(PODMAN, ref.value, None)
    from slimscope.image.daemon import DaemonSource  # the engine's SDK: only when named
    return DaemonSource(ref.value, bare=ref.bare,
                        path_like=ref.bare and looks_like_path(ref.value))


def _podman_instead(name: str) -> bool:
    """A bare reference goes to Podman when no Docker engine answers and Podman has the
    image (as on a machine with Podman only); otherwise to the engine, which says why."""
    import shutil
    import subprocess

    from slimscope.engine import engine_client
    from slimscope.errors import EngineUnavailable

    if shutil.which("podman") is None:
        return False
    try:
        engine_client()
        return False
    except EngineUnavailable:
        pass
    try:
        return subprocess.run(["podman", "image", "exists", name], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def open_source(name: str) -> Source:
    """The source a name says to read; nothing is read yet."""
    return source_for(parse_reference(name))


def check_choice(image: Optional[str], platform: Optional[str]) -> None:
    """--image and --platform, as given, before anything is read."""
    if image is not None and not image.strip():
        raise BadInput("--image is empty: give the name or tag of the image to read")
    if platform is not None:
        check_platform(platform)


def selected(ref: Reference, opts: Options) -> Options:
    """The options with what the name picks (`oci:DIR:TAG`) as --image, checked."""
    check_choice(opts.image, opts.platform)
    if ref.image is None:
        return opts
    if opts.image and opts.image != ref.image:
        raise BadInput(f"the name picks the image {ref.image!r} and --image {opts.image!r}: "
                       "give one")
    return replace(opts, image=ref.image)


def sketch_image(name: str, opts: Optional[Options] = None) -> Optional[Image]:
    """The image from its tar headers alone, where the source can seek (Source.sketch)."""
    ref = parse_reference(name)
    return source_for(ref).sketch(selected(ref, opts or Options()))


def load_image(name: str, opts: Optional[Options] = None) -> Image:
    ref = parse_reference(name)
    return source_for(ref).load(selected(ref, opts or Options()))
