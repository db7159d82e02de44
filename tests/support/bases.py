"""Base images made without a registry.

* ``busybox_base()``  -> ``{PREFIX}/busybox:base`` from Debian's busybox-static,
  assembled with tarfile and ``docker import``-ed (a second or so).
* ``debian_base()``   -> ``{PREFIX}/debian:bookworm`` from ``debootstrap
  --variant=minbase``; the rootfs tarball is cached in ``cache_dir()`` (making
  it takes a minute or more and the network; later runs reuse it).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.support.engine import (
    INPUTS_LABEL,
    RECIPE_VERSION,
    _file_sha256,
    _hash,
    _image_label,
    _import,
    _locked,
    _need_client,
    cache_dir,
    named,
)
from tests.support.progress import step

BUSYBOX_TAG = named("busybox:base")
DEBIAN_TAG = named("debian:bookworm")

# A fixed mtime for everything we write into tars ourselves, so that the bytes
# (and so the diff_ids) of the layers we make are reproducible.
FIXED_MTIME = 1_700_000_000

BUSYBOX_BIN = Path(os.environ.get("SLIMSCOPE_BUSYBOX", "/bin/busybox"))
DEBIAN_SUITE = "bookworm"
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"

def _tar_add(tf: tarfile.TarFile, name: str, kind: bytes, *, mode: int, data: bytes = b"",
             link: str = "", uid: int = 0, gid: int = 0) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = "root" if uid == 0 else ""
    ti.mtime = FIXED_MTIME
    ti.linkname = link
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)


def busybox_rootfs_tar(out: Path, busybox: Path = BUSYBOX_BIN) -> None:
    """Write a minimal busybox root filesystem as an uncompressed tar."""
    applets = subprocess.run([str(busybox), "--list-full"], check=True,
                             capture_output=True, text=True).stdout.split()
    body = busybox.read_bytes()
    dirs = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "tmp", "var",
            "home", "proc", "sys", "dev"}
    for a in applets:
        parts = a.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    special = {"tmp": 0o1777, "root": 0o700}
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        for d in sorted(dirs):
            _tar_add(tf, d + "/", tarfile.DIRTYPE, mode=special.get(d, 0o755))
        _tar_add(tf, "bin/busybox", tarfile.REGTYPE, mode=0o755, data=body)
        for a in sorted(set(applets)):
            if a in ("bin/busybox",):
                continue
            _tar_add(tf, a, tarfile.SYMTYPE, mode=0o777, link="/bin/busybox")
        _tar_add(tf, "etc/passwd", tarfile.REGTYPE, mode=0o644, data=(
            b"root:x:0:0:root:/root:/bin/sh\n"
            b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"))
        _tar_add(tf, "etc/group", tarfile.REGTYPE, mode=0o644, data=(
            b"root:x:0:\nnobody:x:65534:\n"))


def busybox_inputs() -> str:
    """The inputs hash a busybox base image is labelled with."""
    return _hash("busybox", RECIPE_VERSION, _file_sha256(BUSYBOX_BIN))


def busybox_base(tag: str = BUSYBOX_TAG) -> str:
    """Make (once per inputs) and return ``{PREFIX}/busybox:base`` (or `tag`)."""
    client = _need_client()
    inputs = busybox_inputs()
    if _image_label(client, tag) == inputs:
        return tag
    with _locked(tag):
        if _image_label(client, tag) == inputs:
            return tag
        with tempfile.TemporaryDirectory(prefix="slimscope-busybox-") as tmp, \
                step(f"making the base image {tag} from {BUSYBOX_BIN}"):
            rootfs = Path(tmp) / "rootfs.tar"
            busybox_rootfs_tar(rootfs)
            _import(client, rootfs, tag, [
                f"LABEL {INPUTS_LABEL}={inputs}",
                "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                'CMD ["sh"]',
            ])
    return tag


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (override: SLIMSCOPE_DEBIAN_MIRROR)."""
    env = os.environ.get("SLIMSCOPE_DEBIAN_MIRROR")
    if env:
        return env
    files = [Path("/etc/apt/sources.list")]
    d = Path("/etc/apt/sources.list.d")
    if d.is_dir():
        files += sorted(d.glob("*.sources")) + sorted(d.glob("*.list"))
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        if f.suffix == ".sources":  # deb822 stanzas
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
                suites = fields.get("Suites", "").split()
                if DEBIAN_SUITE in suites and "deb" in fields.get("Types", "").split():
                    for uri in fields.get("URIs", "").split():
                        if uri.rstrip("/").endswith("/debian"):
                            return uri.rstrip("/")
        else:
            for line in text.splitlines():
                m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m and m.group(2) == DEBIAN_SUITE and m.group(1).rstrip("/").endswith("/debian"):
                    return m.group(1).rstrip("/")
    return DEFAULT_DEBIAN_MIRROR


def debian_tarball() -> Path:
    """The cached minbase rootfs tarball; made with debootstrap when missing."""
    out = cache_dir() / f"debian-{DEBIAN_SUITE}-minbase.tar.gz"
    if out.exists():
        return out
    with _locked(out.name):
        if out.exists():
            return out
        if shutil.which("debootstrap") is None:
            raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
        tmp = tempfile.mkdtemp(prefix="debootstrap-", dir=cache_dir())
        try:
            root = Path(tmp) / "rootfs"
            mirror = debian_mirror()
            with step(f"debootstrap --variant=minbase {DEBIAN_SUITE} from {mirror} "
                      f"(once; cached as {out})"):
                proc = subprocess.run(
                    ["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(root), mirror],
                    capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"debootstrap failed ({proc.returncode}):\n"
                                   f"{(proc.stdout + proc.stderr)[-4000:]}")
            left = _mounts_under(root)
            if left:
                raise RuntimeError(f"debootstrap left mounts behind: {', '.join(left)}")
            # Make it look like a registry base image: no host identity, no
            # device nodes, no package lists or caches (the apt fixture must
            # be the one that leaves those behind).
            for rel in ("etc/hostname", "etc/resolv.conf", "var/log/bootstrap.log"):
                with contextlib.suppress(FileNotFoundError):
                    (root / rel).unlink()
            for rel in ("dev", "proc", "sys", "run", "tmp", "var/lib/apt/lists",
                        "var/cache/apt", "var/cache/apt/archives"):
                p = root / rel
                if p.is_dir():
                    for child in p.iterdir():
                        if child.name in ("partial", "archives", "lock", "lists"):
                            continue
                        if child.is_dir() and not child.is_symlink():
                            shutil.rmtree(child)
                        else:
                            child.unlink()
            (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
            tmp_out = out.with_suffix(".tmp")
            with open(tmp_out, "wb") as raw:
                gz = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6)
                tar = subprocess.Popen(
                    ["tar", "--numeric-owner", "--sort=name", "-C", str(root), "-cf", "-", "."],
                    stdout=subprocess.PIPE)
                assert tar.stdout is not None
                shutil.copyfileobj(tar.stdout, gz, 1 << 20)
                gz.close()
                if tar.wait() != 0:
                    raise RuntimeError("tar of the debootstrap rootfs failed")
            os.replace(tmp_out, out)
        finally:
            # debootstrap may bind-mount the host's /dev (inside containers)
            # and unmounts on exit; never rmtree through a mount it left.
            left = _mounts_under(Path(tmp))
            if left:
                raise RuntimeError(f"mounts left under {tmp} ({', '.join(left)}): "
                                   "unmount them, then remove the directory")
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    points = [ln.split()[1].replace("\\040", " ") for ln in lines if len(ln.split()) > 1]
    return [m for m in points if m.startswith(prefix)]


def debian_base() -> str:
    """Make (once) and return ``{PREFIX}/debian:bookworm``."""
    client = _need_client()
    tarball = debian_tarball()
    inputs = _hash("debian", RECIPE_VERSION, _file_sha256(tarball))
    if _image_label(client, DEBIAN_TAG) == inputs:
        return DEBIAN_TAG
    with _locked(DEBIAN_TAG):
        if _image_label(client, DEBIAN_TAG) != inputs:
            with step(f"importing the base image {DEBIAN_TAG}"):
                _import(client, tarball, DEBIAN_TAG, [
                    f"LABEL {INPUTS_LABEL}={inputs}",
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    'CMD ["bash"]',
                ])
    return DEBIAN_TAG


BASES: dict[str, Callable[[], str]] = {BUSYBOX_TAG: busybox_base, DEBIAN_TAG: debian_base}
