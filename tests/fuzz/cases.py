"""Generators of hostile and broken inputs, one family per category of issue 18.

Each generator takes a random.Random and a scratch directory, writes its input
files there and returns a Case: the command to run and what it may write. The
same seed makes the same inputs, so a failure can be replayed exactly.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.hostile import oci_with_blob, zstd_bomb
from tests.support.synth import config_for, docker_archive, layer_tar, oci_layout


@dataclass
class Case:
    family: str
    args: list[str]
    output: str = ""                       # the one path the command may write
    env: dict[str, str] = field(default_factory=dict)
    report_json: bool = False              # exit 0 must print a JSON report


def _layers(rnd: random.Random) -> list:
    names = ["etc", "usr", "var", "srv", "opt"]
    out = []
    for li in range(rnd.randint(1, 3)):
        entries: list = []
        for _ in range(rnd.randint(1, 6)):
            d = rnd.choice(names)
            entries.append((d, "dir"))
            entries.append((f"{d}/f{rnd.randint(0, 9)}", "file", os.urandom(rnd.randint(0, 3000))))
        if li and rnd.random() < 0.3:
            entries.append((f".wh.{rnd.choice(names)}", "whiteout"))
        out.append(entries)
    return out


def _archive(rnd: random.Random, d: str, gz: bool = False) -> str:
    return docker_archive(os.path.join(d, "img.tar"), _layers(rnd), gz=gz)


def _analyze(path: str, family: str, **kw) -> Case:
    return Case(family, ["analyze", path, "--format", "json"], report_json=True, **kw)


def bit_flips(rnd: random.Random, d: str) -> Case:
    path = _archive(rnd, d, gz=rnd.random() < 0.3)
    data = bytearray(open(path, "rb").read())
    for _ in range(rnd.randint(1, 4)):
        pos = rnd.randrange(len(data))
        data[pos] ^= 1 << rnd.randrange(8)
    open(path, "wb").write(bytes(data))
    return _analyze(path, "bit-flip")


def truncation(rnd: random.Random, d: str) -> Case:
    path = _archive(rnd, d, gz=rnd.random() < 0.3)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:rnd.randrange(len(data))])
    return _analyze(path, "truncation")


WRONG = [None, 0, -1, 1.5, "x", [], {}, [1], {"a": 1}, True, [[[]]]]


def _mutate(doc, rnd: random.Random):
    if isinstance(doc, dict) and doc:
        k = rnd.choice(sorted(doc))
        doc[k] = rnd.choice(WRONG) if rnd.random() < 0.6 else _mutate(doc[k], rnd)
    elif isinstance(doc, list) and doc:
        i = rnd.randrange(len(doc))
        doc[i] = rnd.choice(WRONG) if rnd.random() < 0.6 else _mutate(doc[i], rnd)
    else:
        return rnd.choice(WRONG)
    return doc


def wrong_json(rnd: random.Random, d: str) -> Case:
    """manifest.json or the config of a docker archive with a value of the wrong type."""
    tars = [layer_tar(l) for l in _layers(rnd)]
    cfg = config_for(tars)
    names = [f"l{i}/layer.tar" for i in range(len(tars))]
    manifest: object = [{"Config": "cfg.json", "RepoTags": ["f:1"], "Layers": list(names)}]
    if rnd.random() < 0.5:
        manifest = _mutate(manifest, rnd)
    else:
        cfg = _mutate(cfg, rnd)
    if rnd.random() < 0.05:
        manifest = json.loads("[" * 50 + "]" * 50)
    path = os.path.join(d, "img.tar")
    with tarfile.open(path, "w") as tf:
        members = [(n, t) for n, t in zip(names, tars)] + [
            ("cfg.json", json.dumps(cfg).encode()), ("manifest.json", json.dumps(manifest).encode())]
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return _analyze(path, "wrong-json")


def oci_documents(rnd: random.Random, d: str) -> Case:
    """index.json, an OCI manifest or a config of a layout, mutated."""
    root = oci_layout(os.path.join(d, "oci"), _layers(rnd), rnd.choice(["gzip", "zstd", "none"]))
    index_path = os.path.join(root, "index.json")
    with open(index_path) as f:
        index = json.load(f)
    open(index_path, "w").write(json.dumps(_mutate(index, rnd)))
    return _analyze(root, "oci-json")


def hostile_tar(rnd: random.Random, d: str) -> Case:
    """Layers that climb out, pass through symlinks, make the root a file, or delete it."""
    pick = rnd.choice([
        [[("link", "symlink", rnd.choice(["/etc", "../..", "/", "x"]))],
         [("link/evil", "file", b"x")]],
        [[("a", "file", b"x")], [("a/b", "file", b"y")]],
        [[("etc/x", "file", b"x")], [(".wh.", "whiteout")]],
        [[("../../escape", "file", b"x")]],
        [[("/abs", "file", b"x")]],
        [[("h", "hardlink", "nothere")]],
        [[("d", "dir"), ("d/.wh..wh..opq", "opaque"), ("d/x", "file", b"x")]],
    ])
    path = docker_archive(os.path.join(d, "img.tar"), pick)
    if rnd.random() < 0.5:
        out = os.path.join(d, "out.tar")
        return Case("hostile-tar", ["slim", path, "--via", "offline", "-o", out], output=out)
    return _analyze(path, "hostile-tar")


def bombs(rnd: random.Random, d: str) -> Case:
    """A zstd or gzip layer that inflates a thousand times and more."""
    root = os.path.join(d, "oci")
    if rnd.random() < 0.5:
        oci_with_blob(root, zstd_bomb(rnd.choice([4, 16, 1024]) << 30),
                      "application/vnd.oci.image.layer.v1.tar+zstd")
    else:
        zeros = gzip.compress(bytes(8 << 20), 9, mtime=0)
        head = gzip.compress(tarfile.TarInfo("z").tobuf(), mtime=0)
        ti_blob = head + zeros * 200   # the header says 0 bytes: corrupt, or a bomb
        oci_with_blob(root, ti_blob, "application/vnd.oci.image.layer.v1.tar+gzip")
    return _analyze(root, "bomb")


def layout_files(rnd: random.Random, d: str) -> Case:
    """A FIFO, device, directory or loop where a blob or index.json should be."""
    root = oci_layout(os.path.join(d, "oci"), _layers(rnd), "gzip")
    blobs = os.path.join(root, "blobs", "sha256")
    victim = rnd.choice([os.path.join(root, "index.json")] +
                        [os.path.join(blobs, n) for n in sorted(os.listdir(blobs))])
    os.unlink(victim)
    how = rnd.choice(["fifo", "zero", "dir", "loop"])
    if how == "fifo":
        os.mkfifo(victim)
    elif how == "zero":
        os.symlink("/dev/zero", victim)
    elif how == "dir":
        os.mkdir(victim)
    else:
        os.symlink(os.path.basename(victim), victim)
    return _analyze(root, "layout-files")


def cache_poison(rnd: random.Random, d: str) -> Case:
    """Entries of a layer cache that were not made from what they are filed under."""
    root = oci_layout(os.path.join(d, "oci"), _layers(rnd), "gzip")
    cache = os.path.join(d, "cache")
    os.makedirs(os.path.join(cache, "layers-v2"))
    for name in sorted(os.listdir(os.path.join(root, "blobs", "sha256"))):
        entry = os.path.join(cache, "layers-v2", f"sha256-{name}.idx")
        how = rnd.choice(["garbage", "fifo", "zero", "empty", "dir"])
        if how == "garbage":
            open(entry, "wb").write(b"SLIMCACHE2 " + os.urandom(rnd.randint(0, 400)))
        elif how == "fifo":
            os.mkfifo(entry)
        elif how == "zero":
            os.symlink("/dev/zero", entry)
        elif how == "empty":
            open(entry, "wb").close()
        else:
            os.mkdir(entry)
    return Case("cache", ["analyze", root, "--format", "json"], report_json=True,
                env={"SLIMSCOPE_CACHE_DIR": cache, "SLIMSCOPE_NO_CACHE": ""})


def dockerfiles(rnd: random.Random, d: str) -> Case:
    path = os.path.join(d, "Dockerfile")
    kind = rnd.choice(["random", "long", "doubling", "fifo", "heredoc"])
    words = ["FROM", "RUN", "ENV", "ARG", "COPY", "ONBUILD", "apt-get", "install", "-y", "&&",
             "\\", "$A", "${A:-x}", "'", '"', "<<EOF", "EOF", "#", "debian:12", "|", ";"]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "long":
        open(path, "w").write("FROM debian:12\nRUN echo " + "a" * rnd.choice([10**5, 10**6]) + "\n")
    elif kind == "doubling":
        open(path, "w").write("FROM debian:12\nENV A=0123456789\n" + "ENV A=$A$A$A\n" * 30)
    else:
        lines = ["FROM debian:12"] + [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 9)))
                                      for _ in range(rnd.randint(1, 30))]
        open(path, "w").write("\n".join(lines) + "\n")
    return Case("dockerfile", [rnd.choice(["lint", "dockerfile"]), path])


def baseline(rnd: random.Random, d: str) -> Case:
    """A saved report with numbers that are no byte counts, diffed against an image."""
    img = _archive(rnd, d)
    report = {"schema": "slimscope.analysis/v1", "image": {"reference": "x", "id": "y"},
              "totals": {k: rnd.choice([1, "NaN", "Infinity", -1, 1e308, None, "x", 2 ** 70])
                         for k in ("final_bytes", "total_bytes", "wasted_bytes")},
              "layers": [{"index": 0, "diff_id": "sha256:" + "0" * 64,
                          "bytes": rnd.choice([1, "NaN", -5, 1.5])}]}
    text = json.dumps(report).replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")
    path = os.path.join(d, "base.json")
    open(path, "w").write(text)
    return Case("baseline", ["diff", path, img])


FAMILIES: dict[str, Callable[[random.Random, str], Case]] = {
    "bit-flip": bit_flips, "truncation": truncation, "wrong-json": wrong_json,
    "oci-json": oci_documents, "hostile-tar": hostile_tar, "bomb": bombs,
    "layout-files": layout_files, "cache": cache_poison, "dockerfile": dockerfiles,
    "baseline": baseline,
}
