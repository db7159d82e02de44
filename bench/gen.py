"""Deterministic benchmark images, written without an engine.

Every image is described by a list of layers, each a list of operations; the
layer tars are written straight to disk (never held in memory) with a tiny tar
writer, hashed on the way for the config's diff_ids, then wrapped into a
`docker save` archive (legacy layout, as Docker <= 24 writes it) or an OCI
layout with gzip or zstd layers. The same parameters give the same bytes, so a
finished image is reused from the cache directory; a stamp file marks it done.

File bodies are slices of a pseudo-random block made once from a fixed seed:
small files take text-like slices (they compress like real files, about 25%),
big files take raw random bytes (so they do not compress to nothing).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import tarfile
from dataclasses import dataclass

GEN_VERSION = "4"
MTIME = 1_700_000_000
BLOCK_SIZE = 1 << 20
BLOCK_READ = 1 << 20

_rng = random.Random(20261128)
RAW_BLOCK = _rng.randbytes(BLOCK_SIZE)
# Text-like bytes: 48 symbols, so gzip keeps roughly 3/4 of them.
_ALPHABET = b"abcdefghijklmnopqrstuvwxyz0123456789 \n_-./:=ABCD"
TEXT_BLOCK = bytes(_ALPHABET[b % len(_ALPHABET)] for b in RAW_BLOCK)


# -- operations -------------------------------------------------------------------
# ("dir", path, mode) | ("file", path, size, seed, mode) | ("big", path, size, seed)
# ("symlink", path, target) | ("hardlink", path, target) | ("wh", path) | ("opq", dirpath)
# Paths are relative (no leading slash), like the ones a layer tar holds.


def _header(name: str, kind: bytes, size: int = 0, mode: int = 0o644, link: str = "") -> bytes:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = size
    ti.mode = mode
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.linkname = link
    return ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")


class HashingWriter:
    def __init__(self, f):
        self.f = f
        self.sha = hashlib.sha256()
        self.n = 0

    def write(self, data):
        self.f.write(data)
        self.sha.update(data)
        self.n += len(data)

    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _body(out, size: int, seed: int, block: bytes) -> None:
    """size bytes cut from block, starting at an offset picked by seed, wrapping."""
    pos = (seed * 7919) % len(block)
    left = size
    while left:
        n = min(left, len(block) - pos, BLOCK_READ)
        out.write(block[pos:pos + n])
        left -= n
        pos = (pos + n) % len(block)
    pad = (-size) % 512
    if pad:
        out.write(bytes(pad))


def write_layer(path: str, ops) -> tuple:
    """Write one layer tar; return (diff_id, size)."""
    tmp = path + ".tmp"
    with open(tmp, "wb", buffering=1 << 20) as f:
        out = HashingWriter(f)
        for op in ops:
            kind = op[0]
            if kind == "dir":
                out.write(_header(op[1] + "/", tarfile.DIRTYPE, mode=op[2]))
            elif kind in ("file", "big"):
                _, name, size, seed = op[:4]
                mode = op[4] if kind == "file" else 0o644
                out.write(_header(name, tarfile.REGTYPE, size, mode))
                _body(out, size, seed, TEXT_BLOCK if kind == "file" else RAW_BLOCK)
            elif kind == "symlink":
                out.write(_header(op[1], tarfile.SYMTYPE, mode=0o777, link=op[2]))
            elif kind == "hardlink":
                out.write(_header(op[1], tarfile.LNKTYPE, link=op[2]))
            elif kind == "wh":
                d, _, base = op[1].rpartition("/")
                out.write(_header((d + "/" if d else "") + ".wh." + base, tarfile.REGTYPE))
            elif kind == "opq":
                out.write(_header(op[1] + "/.wh..wh..opq", tarfile.REGTYPE))
            else:
                raise ValueError(kind)
        out.write(bytes(1024))
    os.replace(tmp, path)
    return out.digest(), out.n


# -- image (a): many small files ----------------------------------------------------

def small_files_layers(n_files: int = 200_000, n_layers: int = 10):
    """n_files regular-file entries over n_layers layers, with every kind of change.

    Layer 0 is a base holding 40% of the files; each later layer adds new files,
    overwrites some lower files with new content, re-stores some with only the
    mode changed (metadata-only), deletes files and whole directories with
    whiteouts; layer 5 makes /opt/data opaque and refills it; symlinks and
    hardlinks are sprinkled in. Yields one op list per layer.
    """
    rnd = random.Random(7)
    per_dir = 50
    base_n = int(n_files * 0.4)
    later = n_layers - 1
    live: list = []          # paths of files still visible, for overwrites and deletes
    seed = [0]

    def size():
        r = rnd.random()
        if r < 0.05:
            return 0
        if r < 0.85:
            return rnd.randint(16, 2048)
        if r < 0.98:
            return rnd.randint(2048, 16384)
        return rnd.randint(16384, 131072)

    def new_files(ops, n, top, layer):
        made_dirs = set()
        for k in range(n):
            d = f"{top}/pkg{k // per_dir // 20:03d}/d{k // per_dir:05d}"
            if d not in made_dirs:
                parts = d.split("/")
                for j in range(1, len(parts) + 1):
                    p = "/".join(parts[:j])
                    if p not in made_dirs:
                        made_dirs.add(p)
                        ops.append(("dir", p, 0o755))
            p = f"{d}/f{k:06d}.txt"
            seed[0] += 1
            ops.append(("file", p, size(), seed[0], 0o644))
            live.append(p)
        return made_dirs

    layers = []
    ops: list = [("dir", "etc", 0o755), ("dir", "opt", 0o755), ("dir", "opt/data", 0o755)]
    n_opt = min(2000, base_n // 4)          # files of the directory layer 5 makes opaque
    new_files(ops, base_n - n_opt, "usr/share", 0)
    for k in range(n_opt):
        seed[0] += 1
        ops.append(("file", f"opt/data/item{k:05d}.bin", size(), seed[0], 0o644))
    ops.append(("symlink", "etc/alternatives", "/usr/share/pkg000"))
    ops.append(("hardlink", "etc/linked.txt", "usr/share/pkg000/d00000/f000000.txt"))
    layers.append(ops)
    rest = n_files - base_n
    for li in range(1, n_layers):
        ops = []
        n_over = rest // later // 10          # overwritten with new content
        n_meta = rest // later // 20          # same bytes, new mode
        n_new = rest // later - n_over - n_meta
        if li == n_layers - 1:
            n_new = n_files - base_n - sum(len([o for o in l if o[0] == "file"]) for l in layers[1:]) \
                - n_over - n_meta
        if li == 5:
            ops.append(("dir", "opt/data", 0o755))
            ops.append(("opq", "opt/data"))
            for k in range(n_opt // 4):
                seed[0] += 1
                ops.append(("file", f"opt/data/new{k:05d}.bin", size(), seed[0], 0o644))
            n_new -= n_opt // 4
        lower_live = list(live)            # what lower layers show, before this layer adds
        # the directory this layer deletes whole: nothing else of this layer goes under it
        # (a layer never both stores and whites out one path; the engine refuses that)
        doomed_dir = f"srv/l{li - 1}/pkg000/d00001/" if li >= 2 else "//none"
        touched = set()
        for pi in rnd.sample(range(len(lower_live)), n_over):
            p = lower_live[pi]
            if p.startswith(("opt/data/", doomed_dir)) or p in touched:
                continue
            touched.add(p)
            seed[0] += 1
            ops.append(("file", p, size(), seed[0], 0o644))
        # metadata-only: the previous layer's last files stored again, same bytes, mode 0o600
        prev_files = [o for o in layers[-1] if o[0] == "file" and o[1] not in touched
                      and o[1].startswith(("srv/", "usr/")) and not o[1].startswith(doomed_dir)]
        for o in prev_files[-n_meta:]:
            ops.append(("file", o[1], o[2], o[3], 0o600))
            touched.add(o[1])
        new_files(ops, n_new, f"srv/l{li}", li)
        # deletions: single lower files, and a whole directory of the previous layer
        gone = set()
        for pi in rnd.sample(range(len(lower_live)), rest // later // 25):
            p = lower_live[pi]
            if p in touched or p.startswith(("opt/data/", doomed_dir)) or p in gone \
                    or p == "usr/share/pkg000/d00000/f000000.txt":
                continue
            ops.append(("wh", p))
            gone.add(p)
        if li >= 2:
            ops.append(("wh", doomed_dir.rstrip("/")))
            gone.update(p for p in lower_live if p.startswith(doomed_dir))
        if gone:
            live[:] = [p for p in live if p not in gone]
        layers.append(ops)
    return layers


def big_files_layers(total: int = 5 << 30):
    """A few very large files over 3 layers: the third overwrites one and deletes one."""
    unit = total // 10
    return [
        [("dir", "data", 0o755), ("big", "data/model-a.bin", 3 * unit, 1),
         ("big", "data/model-b.bin", 2 * unit, 2)],
        [("big", "data/dataset.bin", 3 * unit, 3), ("big", "data/small.bin", unit // 2, 4)],
        [("big", "data/model-a.bin", unit + unit // 2, 5), ("wh", "data/small.bin")],
    ]


def tiny_layers():
    """The memory base: a handful of entries, but one 4 MiB body so that the reader's
    fixed I/O buffers (1 MiB each) are touched as they are on a big image."""
    return [[("dir", "etc", 0o755), ("file", "etc/hostname", 12, 1, 0o644),
             ("file", "etc/motd", 100, 2, 0o644), ("dir", "opt", 0o755),
             ("file", "opt/blob.bin", 4 << 20, 3, 0o644)]]


# -- image formats ------------------------------------------------------------------------

@dataclass
class Built:
    layer_files: list   # uncompressed layer tars
    diff_ids: list
    config: bytes
    config_digest: str


def _config(diff_ids: list, tag: str) -> bytes:
    cfg = {
        "architecture": "amd64", "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z",
                     "created_by": f"/bin/sh -c #(nop) bench {tag} layer {i}"}
                    for i in range(len(diff_ids))],
    }
    return json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()


def build_layers(workdir: str, layers, tag: str) -> Built:
    os.makedirs(workdir, exist_ok=True)
    files, diff_ids = [], []
    for i, ops in enumerate(layers):
        path = os.path.join(workdir, f"layer{i}.tar")
        diff_id, _ = write_layer(path, ops)
        files.append(path)
        diff_ids.append(diff_id)
    cfg = _config(diff_ids, tag)
    return Built(files, diff_ids, cfg, "sha256:" + hashlib.sha256(cfg).hexdigest())


def _tar_bytes(out, name: str, data: bytes) -> None:
    out.write(_header(name, tarfile.REGTYPE, len(data)))
    out.write(data)
    out.write(bytes((-len(data)) % 512))


def _tar_file(out, name: str, path: str) -> None:
    size = os.path.getsize(path)
    out.write(_header(name, tarfile.REGTYPE, size))
    with open(path, "rb") as f:
        shutil.copyfileobj(f, out, BLOCK_READ)
    out.write(bytes((-size) % 512))


def write_docker_archive(built: Built, out_path: str, tag: str) -> None:
    """The legacy `docker save` layout: <id>/layer.tar, <config>.json, manifest.json."""
    tmp = out_path + ".tmp"
    cfg_name = built.config_digest.split(":")[1] + ".json"
    layer_names = []
    with open(tmp, "wb", buffering=1 << 20) as out:
        for i, (path, diff_id) in enumerate(zip(built.layer_files, built.diff_ids)):
            lid = hashlib.sha256(f"{i}:{diff_id}".encode()).hexdigest()
            out.write(_header(lid + "/", tarfile.DIRTYPE, mode=0o755))
            _tar_bytes(out, lid + "/VERSION", b"1.0")
            _tar_file(out, lid + "/layer.tar", path)
            layer_names.append(lid + "/layer.tar")
        _tar_bytes(out, cfg_name, built.config)
        manifest = [{"Config": cfg_name, "RepoTags": [tag], "Layers": layer_names}]
        _tar_bytes(out, "manifest.json", json.dumps(manifest).encode())
        out.write(bytes(1024))
    os.replace(tmp, out_path)


def _compress(src: str, dst: str, compression: str) -> str:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        h = HashingWriter(fout)
        if compression == "gzip":
            with gzip.GzipFile(fileobj=h, mode="wb", compresslevel=6, mtime=0, filename="") as z:
                shutil.copyfileobj(fin, z, BLOCK_READ)
        elif compression == "zstd":
            import zstandard
            cctx = zstandard.ZstdCompressor(level=3)
            with cctx.stream_writer(h, closefd=False) as z:
                shutil.copyfileobj(fin, z, BLOCK_READ)
        else:
            raise ValueError(compression)
    return h.digest()


def write_oci_layout(built: Built, out_dir: str, compression: str, tag: str,
                     reuse_from: str = "") -> None:
    """An OCI image layout; compressed blobs already in `reuse_from` are hard-linked."""
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    blobs = os.path.join(tmp, "blobs", "sha256")
    os.makedirs(blobs)
    known = {}
    if reuse_from:
        with open(os.path.join(reuse_from, "diffids.json")) as f:
            known = json.load(f)
    layers, mapping = [], {}
    media = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
             "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}[compression]
    for path, diff_id in zip(built.layer_files, built.diff_ids):
        if diff_id in known:
            digest = known[diff_id]
            os.link(os.path.join(reuse_from, "blobs", "sha256", digest.split(":")[1]),
                    os.path.join(blobs, digest.split(":")[1]))
        else:
            part = os.path.join(tmp, "part")
            digest = _compress(path, part, compression)
            os.replace(part, os.path.join(blobs, digest.split(":")[1]))
        mapping[diff_id] = digest
        layers.append({"mediaType": media, "digest": digest,
                       "size": os.path.getsize(os.path.join(blobs, digest.split(":")[1]))})

    def put(data: bytes) -> str:
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d

    cfg_digest = put(built.config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cfg_digest, "size": len(built.config)},
        "layers": layers}).encode()
    man_digest = put(manifest)
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest,
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(tmp, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(tmp, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(tmp, "diffids.json"), "w") as f:
        json.dump(mapping, f)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


# -- the catalogue --------------------------------------------------------------------

def default_cache_root() -> str:
    return os.environ.get("SLIMSCOPE_BENCH_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "slimscope-bench")


@dataclass
class Scale:
    name: str
    small_files: int
    big_total: int


FULL = Scale("full", 200_000, 5 << 30)
QUICK = Scale("quick", 20_000, 256 << 20)
SMOKE = Scale("smoke", 2_000, 8 << 20)     # for the smoke test: runs in seconds
# The peers table's images at the sizes issue 19 measured dive on (1.5 GB of big
# files; peers_bench sizes its own debian and flat images to match). The small-files
# image stays at quick scale: dive is quadratic in its whiteouts.
ISSUE = Scale("issue", 20_000, 1536 << 20)
SCALES = {s.name: s for s in (FULL, QUICK, SMOKE)}


class Images:
    """Paths of the benchmark images, generated on first use."""

    def __init__(self, scale: Scale, root: str = ""):
        self.scale = scale
        self.root = os.path.join(root or default_cache_root(), f"v{GEN_VERSION}-{scale.name}")
        os.makedirs(self.root, exist_ok=True)

    def _p(self, name: str) -> str:
        return os.path.join(self.root, name)

    def _done(self, name: str) -> bool:
        return os.path.exists(self._p(name + ".done"))

    def _mark(self, name: str) -> None:
        open(self._p(name + ".done"), "w").close()

    def _small_built(self) -> Built:
        work = self._p("small-layers")
        if self._done("small-layers"):
            with open(os.path.join(work, "built.json")) as f:
                d = json.load(f)
            return Built(d["files"], d["diff_ids"], d["config"].encode(), d["config_digest"])
        built = build_layers(work, small_files_layers(self.scale.small_files), "small")
        with open(os.path.join(work, "built.json"), "w") as f:
            json.dump({"files": built.layer_files, "diff_ids": built.diff_ids,
                       "config": built.config.decode(), "config_digest": built.config_digest}, f)
        self._mark("small-layers")
        return built

    def small_archive(self) -> str:
        out = self._p("small.docker.tar")
        if not self._done("small.docker.tar"):
            write_docker_archive(self._small_built(), out, "slimscope-bench/small:latest")
            self._mark("small.docker.tar")
        return out

    def small_oci(self, compression: str) -> str:
        out = self._p(f"small.oci-{compression}")
        if not self._done(f"small.oci-{compression}"):
            write_oci_layout(self._small_built(), out, compression, "slimscope-bench/small:latest")
            self._mark(f"small.oci-{compression}")
        return out

    def small_sibling_oci(self) -> str:
        """(a)'s first 9 layers plus a different top layer, sharing the gzip blobs."""
        out = self._p("small2.oci-gzip")
        if not self._done("small2.oci-gzip"):
            base = self.small_oci("gzip")
            built = self._small_built()
            work = self._p("small2-top")
            os.makedirs(work, exist_ok=True)
            top = os.path.join(work, "layer-top.tar")
            ops = [("dir", "app", 0o755)] + [("file", f"app/mod{k:04d}.py", 300 + k, 900_000 + k, 0o644)
                                              for k in range(1000)]
            diff_id, _ = write_layer(top, ops)
            sib = Built(built.layer_files[:-1] + [top], built.diff_ids[:-1] + [diff_id], b"", "")
            sib.config = _config(sib.diff_ids, "small2")
            write_oci_layout(sib, out, "gzip", "slimscope-bench/small2:latest", reuse_from=base)
            self._mark("small2.oci-gzip")
        return out

    def big_archive(self) -> str:
        out = self._p("big.docker.tar")
        if not self._done("big.docker.tar"):
            work = self._p("big-layers")
            built = build_layers(work, big_files_layers(self.scale.big_total), "big")
            write_docker_archive(built, out, "slimscope-bench/big:latest")
            shutil.rmtree(work)   # the archive holds them; keep the disk use to one copy
            self._mark("big.docker.tar")
        return out

    def tiny_archive(self) -> str:
        out = self._p("tiny2.docker.tar")
        if not self._done("tiny2.docker.tar"):
            built = build_layers(self._p("tiny2-layers"), tiny_layers(), "tiny")
            write_docker_archive(built, out, "slimscope-bench/tiny:latest")
            self._mark("tiny2.docker.tar")
        return out


if __name__ == "__main__":  # python bench/gen.py [--quick]: generate everything
    import sys
    imgs = Images(QUICK if "--quick" in sys.argv else FULL)
    for fn in (imgs.tiny_archive, imgs.small_archive, lambda: imgs.small_oci("gzip"),
               lambda: imgs.small_oci("zstd"), imgs.small_sibling_oci, imgs.big_archive):
        print(fn())
