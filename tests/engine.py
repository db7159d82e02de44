"""Real-engine test infrastructure: base images made offline, fixture images,
and every on-disk form an image can take (docker save, OCI layout/archive, the
Docker >= 25 save layout).

Nothing here is a mock: images are built by the local Docker engine, converted
by skopeo, and the ground truth comes from `docker export` of a created
container (see DESIGN.md, "Ground truth").

Base images are made without a registry:

* ``busybox_base()``  -> ``slimscope-test/busybox:base`` from Debian's
  busybox-static, assembled with tarfile and ``docker import``-ed.
* ``debian_base()``   -> ``slimscope-test/debian:bookworm`` from
  ``debootstrap --variant=minbase``; the rootfs tarball is cached under
  ``$SLIMSCOPE_TEST_CACHE`` (default ``~/.cache/slimscope-tests``).

Every image made here carries the label ``INPUTS_LABEL`` holding a hash of its
inputs (recipe, context files, base image id), so a re-run reuses it and a
change of any input rebuilds it. Builds take a file lock per tag, so parallel
test processes (pytest-xdist, two checkouts) do not race.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from slimscope.core import snapshot as _snapshot
from slimscope.index.streams import IterStream

REPO_ROOT = Path(__file__).resolve().parent.parent

BUSYBOX_TAG = "slimscope-test/busybox:base"
DEBIAN_TAG = "slimscope-test/debian:bookworm"
INPUTS_LABEL = "org.slimscope.test.inputs"

# Bump to force every image made by this module to be rebuilt.
RECIPE_VERSION = "1"

# A fixed mtime for everything we write into tars ourselves, so that the bytes
# (and so the diff_ids) of the layers we make are reproducible.
FIXED_MTIME = 1_700_000_000

BUSYBOX_BIN = Path(os.environ.get("SLIMSCOPE_BUSYBOX", "/bin/busybox"))
DEBIAN_SUITE = "bookworm"
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"


def cache_dir() -> Path:
    """Where slow-to-make inputs (the debootstrap tarball) and locks live."""
    d = Path(os.environ.get("SLIMSCOPE_TEST_CACHE") or Path.home() / ".cache" / "slimscope-tests")
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process using the same cache dir."""
    locks = cache_dir() / "locks"
    locks.mkdir(exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    with open(locks / f"{safe}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- #
# The engine
# --------------------------------------------------------------------------- #

_client = None
_client_error: str | None = None
_client_failed_at = 0.0


def engine_client():
    """A connected ``docker.DockerClient``, or None when no engine answers.

    The API version is negotiated ("auto"): Debian's engine 20.10 speaks 1.41,
    older than the SDK's default.
    """
    global _client, _client_error, _client_failed_at
    if _client is not None:
        try:
            _client.ping()
            return _client
        except Exception:  # engine went away; try afresh
            _client = None
    if _client_failed_at and time.monotonic() - _client_failed_at < 30:
        return None  # do not make every test wait for the same dead engine
    try:
        import docker  # noqa: PLC0415

        # a short timeout for the probe; builds and exports get a long one
        client = docker.from_env(version="auto", timeout=15)
        client.ping()
        client.api.timeout = 900
    except Exception as exc:  # DockerException, ConnectionError, ImportError ...
        _client_error = f"{type(exc).__name__}: {exc}".strip()
        _client_failed_at = time.monotonic()
        return None
    _client, _client_error, _client_failed_at = client, None, 0.0
    return client


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_engine():
    """The engine client, or skip the test (fail it under CI=true)."""
    import pytest  # noqa: PLC0415

    client = engine_client()
    if client is None:
        msg = f"no Docker engine: {_client_error or 'unknown error'}"
        if in_ci():
            pytest.fail(msg + " (CI=true: the engine is required)", pytrace=False)
        pytest.skip(msg)
    return client


def _need_client():
    client = engine_client()
    if client is None:
        raise RuntimeError(f"no Docker engine: {_client_error}")
    return client


def _image_label(client, tag: str, key: str = INPUTS_LABEL) -> str | None:
    """The label of image `tag`, or None when there is no such image."""
    import docker  # noqa: PLC0415

    try:
        attrs = client.api.inspect_image(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    return labels.get(key, "")


def image_id(ref: str) -> str:
    return _need_client().api.inspect_image(ref)["Id"]


def _hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _import(client, src: Path, tag: str, changes: list[str]) -> None:
    old = _image_id_or_none(client, tag)
    repo, _, t = tag.rpartition(":")
    client.api.import_image_from_file(str(src), repository=repo, tag=t, changes=changes)
    _drop_replaced(client, old, tag)


def _image_id_or_none(client, ref: str) -> str | None:
    try:
        return client.api.inspect_image(ref)["Id"]
    except Exception:
        return None


def _drop_replaced(client, old_id: str | None, tag: str) -> None:
    """Remove the image `tag` pointed at before a rebuild, so that re-runs
    with changed inputs do not pile up dangling images. Best effort: an image
    still used by a container or a child image stays."""
    if old_id and old_id != _image_id_or_none(client, tag):
        with contextlib.suppress(Exception):
            client.api.remove_image(old_id)


# --------------------------------------------------------------------------- #
# Base images
# --------------------------------------------------------------------------- #

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


def busybox_base() -> str:
    """Make (once) and return ``slimscope-test/busybox:base``."""
    client = _need_client()
    inputs = _hash("busybox", RECIPE_VERSION, _file_sha256(BUSYBOX_BIN))
    if _image_label(client, BUSYBOX_TAG) == inputs:
        return BUSYBOX_TAG
    with _locked(BUSYBOX_TAG):
        if _image_label(client, BUSYBOX_TAG) == inputs:
            return BUSYBOX_TAG
        with tempfile.TemporaryDirectory(prefix="slimscope-busybox-") as tmp:
            rootfs = Path(tmp) / "rootfs.tar"
            busybox_rootfs_tar(rootfs)
            _import(client, rootfs, BUSYBOX_TAG, [
                f"LABEL {INPUTS_LABEL}={inputs}",
                "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                'CMD ["sh"]',
            ])
    return BUSYBOX_TAG


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
    """Make (once) and return ``slimscope-test/debian:bookworm``."""
    client = _need_client()
    tarball = debian_tarball()
    inputs = _hash("debian", RECIPE_VERSION, _file_sha256(tarball))
    if _image_label(client, DEBIAN_TAG) == inputs:
        return DEBIAN_TAG
    with _locked(DEBIAN_TAG):
        if _image_label(client, DEBIAN_TAG) != inputs:
            _import(client, tarball, DEBIAN_TAG, [
                f"LABEL {INPUTS_LABEL}={inputs}",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                'CMD ["bash"]',
            ])
    return DEBIAN_TAG


BASES: dict[str, Callable[[], str]] = {BUSYBOX_TAG: busybox_base, DEBIAN_TAG: debian_base}


# --------------------------------------------------------------------------- #
# Building
# --------------------------------------------------------------------------- #

def _context_tar(dockerfile_text: str, files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        entries = {"Dockerfile": dockerfile_text.encode(), **{
            k: (v.encode() if isinstance(v, str) else v) for k, v in files.items()}}
        for name in sorted(entries):
            _tar_add(tf, name, tarfile.REGTYPE, mode=0o644, data=entries[name])
    return buf.getvalue()


def _from_refs(dockerfile_text: str) -> list[str]:
    return re.findall(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", dockerfile_text, re.M | re.I)


def build_image(tag: str, dockerfile_text: str,
                context_files: dict[str, bytes | str] | None = None) -> str:
    """Build `tag` with the engine's (legacy) builder; return the tag.

    A base named in FROM that this module knows how to make is made first. The
    build is skipped when `tag` already exists with the same inputs hash
    (Dockerfile, context files, ids of the FROM images).
    """
    client = _need_client()
    files = dict(context_files or {})
    base_ids = []
    for ref in _from_refs(dockerfile_text):
        if ref in BASES:
            BASES[ref]()
        if ref.lower() != "scratch":
            try:
                base_ids.append(client.api.inspect_image(ref)["Id"])
            except Exception:
                base_ids.append(ref)  # a stage name; the build will say if it is wrong
    ctx = _context_tar(dockerfile_text, files)
    inputs = _hash("build", RECIPE_VERSION, ctx, *base_ids)
    if _image_label(client, tag) == inputs:
        return tag
    with _locked(tag):
        if _image_label(client, tag) == inputs:
            return tag
        old = _image_id_or_none(client, tag)
        log: list[str] = []
        for chunk in client.api.build(fileobj=io.BytesIO(ctx), custom_context=True, tag=tag,
                                      labels={INPUTS_LABEL: inputs}, rm=True, forcerm=True,
                                      pull=False, decode=True):
            if "stream" in chunk:
                log.append(chunk["stream"])
            if "error" in chunk:
                raise RuntimeError(f"docker build of {tag} failed: {chunk['error']}\n"
                                   + "".join(log)[-4000:])
        if _image_label(client, tag) != inputs:
            raise RuntimeError(f"docker build of {tag} did not produce the image\n"
                               + "".join(log)[-4000:])
        _drop_replaced(client, old, tag)
    return tag


# --------------------------------------------------------------------------- #
# Ground truth and on-disk forms
# --------------------------------------------------------------------------- #

# The engine's HTTP bodies are read through the same adapter the analyzer uses.
_ChunkReader = IterStream


def export_snapshot(image_ref: str) -> dict:
    """What a container created from `image_ref` shows: `docker create` (never
    started) + `docker export`, read by ``slimscope.core.snapshot.from_tar`` (engine
    added paths dropped)."""
    client = _need_client()
    # A command is given so that images without CMD/ENTRYPOINT can be created;
    # the container is never started, so it never runs.
    cid = client.api.create_container(image_ref, command=["/slimscope-not-run"])["Id"]
    try:
        stream = io.BufferedReader(_ChunkReader(client.api.export(cid, chunk_size=1 << 20)),
                                   buffer_size=1 << 20)
        return _snapshot.from_tar(stream)
    finally:
        client.api.remove_container(cid, force=True)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _save_stream(image_ref: str):
    return _need_client().api.get_image(image_ref, chunk_size=1 << 20)


def save_archive(image_ref: str, path) -> Path:
    """`docker save image_ref > path` (Debian's 20.10: the legacy layout)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            for chunk in _save_stream(image_ref):
                fh.write(chunk)
    return _write_atomically(Path(path), write)


def save_gzip(image_ref: str, path) -> Path:
    """`docker save image_ref | gzip > path` (gzip header without a timestamp)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for chunk in _save_stream(image_ref):
                gz.write(chunk)
    return _write_atomically(Path(path), write)


def _skopeo(image_ref: str, dest: str, compression: str) -> None:
    if compression not in ("gzip", "zstd"):
        raise ValueError(f"compression must be gzip or zstd, not {compression!r}")
    if shutil.which("skopeo") is None:
        raise RuntimeError("skopeo is not installed (apt-get install skopeo)")
    cmd = ["skopeo", "copy", "--quiet", "--insecure-policy",
           "--dest-compress-format", compression]
    if os.environ.get("DOCKER_HOST"):  # skopeo does not read DOCKER_HOST itself
        cmd += ["--src-daemon-host", os.environ["DOCKER_HOST"]]
    cmd += [f"docker-daemon:{image_ref}", dest]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


def oci_layout(image_ref: str, dir, compression: str = "gzip") -> Path:
    """An OCI layout directory (tag ``latest``) with gzip or zstd layers, via skopeo.
    An existing `dir` is replaced."""
    dest = Path(dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _skopeo(image_ref, f"oci:{tmp}:latest", compression)
        os.chmod(tmp, 0o755)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def oci_archive(image_ref: str, path, compression: str = "gzip") -> Path:
    """An OCI archive (a tar of an OCI layout, tag ``latest``), via skopeo."""
    def write(tmp: Path) -> None:
        tmp.unlink()  # skopeo wants to create the file itself
        _skopeo(image_ref, f"oci-archive:{tmp}:latest", compression)
    return _write_atomically(Path(path), write)


# --------------------------------------------------------------------------- #
# The Docker >= 25 `docker save` layout, made from a legacy one
# --------------------------------------------------------------------------- #

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def full_reference(familiar: str) -> str:
    """``name:tag`` as containerd spells it (``docker.io/library/name:tag``)."""
    name, _, tag = familiar.rpartition(":")
    if not name or "/" in tag:
        name, tag = familiar, "latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    return f"{name}:{tag}"


def repack_docker25(legacy_save_tar, out_path) -> Path:
    """Re-pack a legacy `docker save` archive (``<id>/layer.tar``, ``<id>.json``,
    ``manifest.json``, ``repositories``) the way Docker >= 25 writes it: an OCI
    layout (``oci-layout``, ``index.json``, ``blobs/sha256/*``: config, OCI
    manifest with uncompressed ``layer.v1.tar`` layers whose digest is the
    diff_id, the layers, and the per-layer v1 json blobs Docker keeps writing)
    plus a ``manifest.json`` and ``repositories`` that point into ``blobs/``.

    Entries are written in lexical order, as Docker's walk does, so layer
    blobs come before ``manifest.json`` in the stream.
    """
    legacy_save_tar, out_path = Path(legacy_save_tar), Path(out_path)
    with tarfile.open(legacy_save_tar, "r:*") as src:
        members = {m.name.lstrip("./"): m for m in src.getmembers()}

        def read(name: str) -> bytes:
            f = src.extractfile(members[name])
            assert f is not None
            return f.read()

        def sha_of(name: str) -> tuple[str, int]:
            # Counted, not taken from the header: engine 20.10 writes the
            # layer.tar of a repeated diff_id as a symlink to the first one.
            h, size = hashlib.sha256(), 0
            f = src.extractfile(members[name])
            assert f is not None
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
            return h.hexdigest(), size

        legacy_manifest = json.loads(read("manifest.json"))
        blobs: dict[str, tuple[str, int]] = {}  # hex -> (legacy member name, size)
        new_manifest, index_manifests, repositories = [], [], {}
        small_blobs: dict[str, bytes] = {}

        for item in legacy_manifest:
            config = read(item["Config"])
            config_hex = hashlib.sha256(config).hexdigest()
            small_blobs[config_hex] = config
            cfg = json.loads(config)
            layer_descs, layer_paths = [], []
            for lname in item["Layers"]:
                hexd, size = sha_of(lname)
                blobs.setdefault(hexd, (lname, size))
                layer_descs.append({"mediaType": MT_LAYER, "digest": f"sha256:{hexd}", "size": size})
                layer_paths.append(f"blobs/sha256/{hexd}")
                v1json = lname.rsplit("/", 1)[0] + "/json"
                if v1json in members:
                    data = read(v1json)
                    small_blobs[hashlib.sha256(data).hexdigest()] = data
            platform = {"architecture": cfg.get("architecture", "amd64"), "os": cfg.get("os", "linux")}
            if cfg.get("variant"):
                platform["variant"] = cfg["variant"]
            manifest = _compact({
                "schemaVersion": 2,
                "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": f"sha256:{config_hex}",
                           "size": len(config), "platform": platform},
                "layers": layer_descs,
            })
            manifest_hex = hashlib.sha256(manifest).hexdigest()
            small_blobs[manifest_hex] = manifest
            tags = item.get("RepoTags") or []
            for familiar in tags:
                ref = full_reference(familiar)
                index_manifests.append({
                    "mediaType": MT_MANIFEST, "digest": f"sha256:{manifest_hex}",
                    "size": len(manifest), "platform": platform,
                    "annotations": {"io.containerd.image.name": ref,
                                    "org.opencontainers.image.ref.name": ref.rpartition(":")[2]},
                })
                name, _, tag = familiar.rpartition(":")
                top = layer_descs[-1]["digest"].split(":", 1)[1] if layer_descs else ""
                repositories.setdefault(name, {})[tag] = top
            if not tags:
                index_manifests.append({"mediaType": MT_MANIFEST, "digest": f"sha256:{manifest_hex}",
                                        "size": len(manifest), "platform": platform})
            new_manifest.append({"Config": f"blobs/sha256/{config_hex}", "RepoTags": tags or None,
                                 "Layers": layer_paths})

        top_files: dict[str, bytes] = {
            "index.json": _compact({"schemaVersion": 2, "mediaType": MT_INDEX,
                                    "manifests": index_manifests}),
            "manifest.json": _compact(new_manifest) + b"\n",
            "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        }
        if repositories:
            top_files["repositories"] = _compact(repositories) + b"\n"

        def write(tmp: Path) -> None:
            with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as out:
                def entry(name: str, kind: bytes, size: int = 0, mode: int = 0o644) -> tarfile.TarInfo:
                    ti = tarfile.TarInfo(name)
                    ti.type, ti.size, ti.mode, ti.mtime = kind, size, mode, 0
                    return ti
                out.addfile(entry("blobs/", tarfile.DIRTYPE, mode=0o755))
                out.addfile(entry("blobs/sha256/", tarfile.DIRTYPE, mode=0o755))
                for hexd in sorted(set(blobs) | set(small_blobs)):
                    if hexd in small_blobs:
                        data = small_blobs[hexd]
                        out.addfile(entry(f"blobs/sha256/{hexd}", tarfile.REGTYPE, len(data)),
                                    io.BytesIO(data))
                    else:
                        lname, size = blobs[hexd]
                        out.addfile(entry(f"blobs/sha256/{hexd}", tarfile.REGTYPE, size),
                                    src.extractfile(members[lname]))
                for name in sorted(top_files):
                    data = top_files[name]
                    out.addfile(entry(name, tarfile.REGTYPE, len(data)), io.BytesIO(data))

        return _write_atomically(out_path, write)


# --------------------------------------------------------------------------- #
# Deterministic content
# --------------------------------------------------------------------------- #

def noise(n: int, seed: str) -> bytes:
    """`n` incompressible but reproducible bytes (SHA-256 in counter mode)."""
    out = bytearray()
    i = 0
    s = seed.encode()
    while len(out) < n:
        out += hashlib.sha256(s + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


FAKE_ID_RSA = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    + "\n".join(hashlib.sha256(f"slimscope-fake-key-{i}".encode()).hexdigest()[:70] for i in range(12))
    + "\n-----END OPENSSH PRIVATE KEY-----\n"
)
FAKE_DOTENV = (
    "# not a real secret: a slimscope test fixture\n"
    "DATABASE_URL=postgres://app:hunter2@db:5432/app\n"
    "AWS_SECRET_ACCESS_KEY=slimscopeFAKEsecretKEY0000000000000000000\n"
)

# --------------------------------------------------------------------------- #
# Fixture images
# --------------------------------------------------------------------------- #
#
# FIXTURES[name] = (dockerfile_text, context_files, expectations)
#
# expectations keys (all optional; absent means "not asserted"):
#   "reasons":        {path: reason} for every wasted content unit, keyed by
#                     the path the unit was stored under; reason is one of
#                     deleted, opaque, overwritten, metadata-only, replaced.
#                     Exhaustive for the layers the fixture adds (the base
#                     layer wastes nothing).
#   "wasted_bytes":   exact wasted bytes of the whole image.
#   "sensitive":      secret-looking paths stored in some layer.
#   "hidden_sensitive": those of them the final filesystem does not show.
#   "final":          {path: type} the final filesystem must show
#                     (file/dir/symlink), checked against `docker export` too.
#   "absent":         paths the final filesystem must not show.
#   "setuid" / "setgid": final paths with those bits.
#   "reasons_include": like "reasons", but not exhaustive.
#   "wasted_bytes_min": a lower bound where the exact number is not stable.
#   "opaque_dirs":    directories that carry a `.wh..wh..opq` in some layer.
#   "duplicate_diff_ids": how many layers repeat an earlier layer's diff_id.
#   "hints":          {hint: path} waste hints that are not waste by the byte
#                     definitions (package-manager leftovers still visible).
#   "hint_min_bytes": {path: n} at least n visible bytes under path.
#   "empty_layers":   history entries marked empty_layer (ENV, LABEL, a RUN
#                     that changed nothing), counting the LABEL that
#                     build_image adds to every image it builds.
#   "slow":           True for fixtures that download packages (Debian base).

B = BUSYBOX_TAG

FIXTURES: dict[str, tuple[str, dict[str, bytes | str], dict]] = {
    "hidden-deletion": (
        f"FROM {B}\n"
        "RUN head -c 307200 /dev/zero | tr '\\0' 'a' > /big.bin\n"
        "RUN rm /big.bin\n",
        {},
        {"reasons": {"/big.bin": "deleted"}, "wasted_bytes": 307200, "absent": ["/big.bin"]},
    ),
    "overwrite": (
        f"FROM {B}\n"
        "RUN mkdir /data && head -c 150000 /dev/zero | tr '\\0' 'v' > /data/config.bin\n"
        "RUN head -c 120000 /dev/zero | tr '\\0' 'w' > /data/config.bin\n",
        {},
        {"reasons": {"/data/config.bin": "overwritten"}, "wasted_bytes": 150000,
         "final": {"/data/config.bin": "file"}},
    ),
    "opaque-dir": (
        f"FROM {B}\n"
        "RUN mkdir -p /d/sub && echo x>/d/a && echo y>/d/sub/b"
        " && head -c 10000 /dev/zero | tr '\\0' o > /d/sub/big\n"
        "RUN rm -rf /d && mkdir /d && echo z > /d/c\n",
        {},
        {"reasons": {"/d/a": "opaque", "/d/sub/b": "opaque", "/d/sub/big": "opaque"},
         "wasted_bytes": 10004, "opaque_dirs": ["/d"],
         "final": {"/d": "dir", "/d/c": "file"}, "absent": ["/d/a", "/d/sub", "/d/sub/b"]},
    ),
    "chmod-dup": (
        f"FROM {B}\n"
        "COPY blob.bin /opt/blob.bin\n"
        "RUN chmod 600 /opt/blob.bin\n",
        {"blob.bin": noise(204800, "chmod-dup")},
        {"reasons": {"/opt/blob.bin": "metadata-only"}, "wasted_bytes": 204800,
         "final": {"/opt/blob.bin": "file"}},
    ),
    "secrets": (
        f"FROM {B}\n"
        "COPY id_rsa /root/.ssh/id_rsa\n"
        "COPY .env /app/.env\n"
        "RUN rm /root/.ssh/id_rsa\n",
        {"id_rsa": FAKE_ID_RSA, ".env": FAKE_DOTENV},
        {"reasons": {"/root/.ssh/id_rsa": "deleted"}, "wasted_bytes": len(FAKE_ID_RSA),
         "sensitive": ["/root/.ssh/id_rsa", "/app/.env"],
         "hidden_sensitive": ["/root/.ssh/id_rsa"],
         "final": {"/app/.env": "file", "/root/.ssh": "dir"}, "absent": ["/root/.ssh/id_rsa"]},
    ),
    "links": (
        # layer 1: symlinks to a file, a dir, nowhere; a hardlink pair; a second
        # pair whose first name dies in layer 2. Layer 3 links to a file of
        # layer 1, which overlayfs copies up first: layer 3 stores the body
        # again, but layer 1's body stays visible through /data/hard1 (copy-up
        # breaks the link), so nothing here is waste.
        f"FROM {B}\n"
        "RUN mkdir -p /data/dir && head -c 100000 /dev/zero | tr '\\0' h > /data/file"
        " && ln -s file /data/link-to-file && ln -s dir /data/link-to-dir"
        " && ln -s /nonexistent /data/broken && ln /data/file /data/hard1"
        " && head -c 50000 /dev/zero | tr '\\0' t > /data/orig && ln /data/orig /data/twin\n"
        "RUN rm /data/orig\n"
        "RUN ln /data/file /data/hard-later\n",
        {},
        {"reasons": {}, "wasted_bytes": 0,
         "final": {"/data/file": "file", "/data/hard1": "file", "/data/hard-later": "file",
                   "/data/twin": "file", "/data/link-to-file": "symlink",
                   "/data/link-to-dir": "symlink", "/data/broken": "symlink", "/data/dir": "dir"},
         "absent": ["/data/orig"]},
    ),
    "swaps": (
        f"FROM {B}\n"
        "RUN mkdir -p /swap/was-dir/sub && head -c 8000 /dev/zero | tr '\\0' f > /swap/was-dir/sub/f"
        " && head -c 20000 /dev/zero | tr '\\0' g > /swap/was-file\n"
        "RUN rm -rf /swap/was-dir && head -c 30000 /dev/zero | tr '\\0' n > /swap/was-dir"
        " && rm /swap/was-file && mkdir /swap/was-file && echo in > /swap/was-file/inner\n",
        {},
        {"reasons": {"/swap/was-dir/sub/f": "replaced", "/swap/was-file": "replaced"},
         "wasted_bytes": 28000,
         "final": {"/swap/was-dir": "file", "/swap/was-file": "dir", "/swap/was-file/inner": "file"},
         "absent": ["/swap/was-dir/sub"]},
    ),
    "setuid": (
        f"FROM {B}\n"
        "RUN mkdir -p /usr/local/bin && printf '#!/bin/sh\\necho hi\\n' > /usr/local/bin/suid-tool"
        " && cp /usr/local/bin/suid-tool /usr/local/bin/sgid-tool"
        " && chmod 4755 /usr/local/bin/suid-tool && chmod 2755 /usr/local/bin/sgid-tool\n",
        {},
        {"reasons": {}, "wasted_bytes": 0, "setuid": ["/usr/local/bin/suid-tool"],
         "setgid": ["/usr/local/bin/sgid-tool"]},
    ),
    "empty-layers": (
        f"FROM {B}\n"
        "ENV APP_HOME=/srv/app\n"
        "LABEL org.example.purpose=empty-layers\n"
        "WORKDIR /srv/app\n"
        "RUN true\n"
        "RUN echo hello > hello.txt\n"
        "RUN true\n"
        "ENV MODE=prod\n",
        {},
        # engine 20.10: ENV/LABEL and a RUN that changed nothing get no layer;
        # WORKDIR gets one because it creates /srv/app.
        {"reasons": {}, "wasted_bytes": 0, "layers": 3, "empty_layers": 6,
         "final": {"/srv/app/hello.txt": "file"}},
    ),
    "dup-layer": (
        # Two COPYs of the same file straight into / make two byte-identical
        # layers (same diff_id); Debian's engine 20.10 then writes the second
        # <id>/layer.tar of `docker save` as a symlink to the first.
        f"FROM {B}\n"
        "COPY same.bin /same.bin\n"
        "RUN echo between > /between.txt\n"
        "COPY same.bin /same.bin\n",
        {"same.bin": noise(4096, "dup-layer")},
        {"reasons": {"/same.bin": "metadata-only"}, "wasted_bytes": 4096, "duplicate_diff_ids": 1,
         "final": {"/same.bin": "file", "/between.txt": "file"}},
    ),
    "apt-gcc": (
        f"FROM {DEBIAN_TAG}\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev\n",
        {},
        # Package versions come from the live mirror, so byte counts are lower
        # bounds, not exact. dpkg rewrites its database and logs (overwritten
        # waste); overlayfs marks ~75 directories that dpkg renamed into place
        # as opaque although nothing lies below them (they hide 0 bytes).
        {"reasons_include": {"/var/lib/dpkg/status": "overwritten",
                             "/var/log/dpkg.log": "overwritten",
                             "/etc/ld.so.cache": "overwritten"},
         "wasted_bytes_min": 100_000,
         "opaque_dirs": ["/usr/lib/gcc", "/usr/include/linux", "/usr/share/man/man3"],
         "hints": {"apt-lists": "/var/lib/apt/lists", "apt-cache": "/var/cache/apt"},
         "hint_min_bytes": {"/var/lib/apt/lists": 10_000_000, "/var/cache/apt": 10_000_000},
         "final": {"/usr/bin/gcc": "symlink", "/usr/include/stdio.h": "file",
                   "/var/lib/apt/lists": "dir"},
         "slow": True},
    ),
}


# The sample image shipped in sample-images/ is a fixture too: same Dockerfile,
# same generated context, so tests can build it fresh and compare.
DEMO_DOCKERFILE = REPO_ROOT / "sample-images" / "src" / "demo" / "Dockerfile"


def demo_context() -> dict[str, bytes | str]:
    return {"id_rsa": FAKE_ID_RSA, ".env": FAKE_DOTENV, "blob.bin": noise(65536, "demo-blob")}


if DEMO_DOCKERFILE.is_file():
    FIXTURES["demo"] = (
        DEMO_DOCKERFILE.read_text(),
        demo_context(),
        {"reasons": {"/tmp/big-download.tar": "deleted", "/root/.ssh/id_rsa": "deleted",
                     "/app/cache/a": "opaque", "/app/cache/sub/old.idx": "opaque",
                     "/app/config.json": "overwritten", "/app/data/blob.bin": "metadata-only",
                     "/app/was-dir/sub/f": "replaced", "/app/was-file": "replaced"},
         # /app/orig dies but /app/twin keeps its body; the copy-up of
         # libdemo.so.1 for `ln` leaves libdemo-copy.so.1 showing the old body.
         "wasted_bytes": 262144 + len(FAKE_ID_RSA) + 2 + 20000 + 40000 + 65536 + 2 + 15000,
         "sensitive": ["/root/.ssh/id_rsa", "/app/.env"],
         "hidden_sensitive": ["/root/.ssh/id_rsa"],
         "setuid": ["/usr/local/bin/demo-suid"],
         "opaque_dirs": ["/app/cache", "/app/was-file"],
         "final": {"/app/twin": "file", "/app/lib/libdemo.so": "symlink",
                   "/app/lib/broken": "symlink", "/app/libdir": "symlink",
                   "/app/lib/libdemo-copy.so.1": "file", "/app/lib/libdemo-later.so.1": "file",
                   "/app/was-dir": "file", "/app/was-file": "dir", "/app/cache/c": "file",
                   "/app/.env": "file", "/app/data/blob.bin": "file"},
         "absent": ["/tmp/big-download.tar", "/root/.ssh/id_rsa", "/app/orig",
                    "/app/cache/a", "/app/cache/sub"],
         "layers": 7, "empty_layers": 5},
    )


def fixture_tag(name: str) -> str:
    return f"slimscope-test/fixture-{name}:latest"


def fixture_image(name: str) -> str:
    """Build fixture `name` (cached by the inputs label); return its tag."""
    dockerfile, files, _ = FIXTURES[name]
    return build_image(fixture_tag(name), dockerfile, files)
