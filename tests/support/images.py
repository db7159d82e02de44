"""Fixture images: what each is built from and what it must show, and
`build_image`, which builds one with the engine's legacy builder unless an
image with the same inputs is already there.

Every image built here carries the label INPUTS_LABEL holding a hash of its
inputs (Dockerfile, context files, ids of the FROM images), so a re-run reuses
it and a change of any input rebuilds it. Builds take a file lock per tag, so
parallel test processes (pytest-xdist, two checkouts) do not race.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import time

from tests.support.bases import BASES, BUSYBOX_TAG, DEBIAN_TAG, _tar_add
from tests.support.engine import (
    INPUTS_LABEL,
    RECIPE_VERSION,
    REPO_ROOT,
    _drop_replaced,
    _hash,
    _image_id_or_none,
    _image_label,
    _locked,
    _need_client,
    named,
)
from tests.support.progress import announce


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
        announce(f"building {tag} ...")
        start = time.monotonic()
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
        announce(f"built {tag} in {time.monotonic() - start:.0f} s")
    return tag



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
    "apt-libc-dev": (
        # apt's own leftovers (lists, caches, dpkg's database) are what this
        # fixture is for; libc6-dev is a small install (~30 MB, headers for
        # the build-tools hint) where gcc made the image 541 MB.
        f"FROM {DEBIAN_TAG}\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libc6-dev\n",
        {},
        # Package versions come from the live mirror, so byte counts are lower
        # bounds, not exact. dpkg rewrites its database and logs (overwritten
        # waste); overlayfs marks ~50 directories that dpkg renamed into place
        # as opaque although nothing lies below them (they hide 0 bytes).
        {"reasons_include": {"/var/lib/dpkg/status": "overwritten",
                             "/var/log/dpkg.log": "overwritten",
                             "/etc/ld.so.cache": "overwritten"},
         "wasted_bytes_min": 100_000,
         "opaque_dirs": ["/usr/include/linux", "/usr/include/rpc", "/usr/share/man/man3"],
         "hints": {"apt-lists": "/var/lib/apt/lists", "apt-cache": "/var/cache/apt"},
         "hint_min_bytes": {"/var/lib/apt/lists": 10_000_000, "/var/cache/apt": 10_000_000},
         "final": {"/usr/include/stdio.h": "file", "/usr/include/linux": "dir",
                   "/var/lib/apt/lists": "dir"},
         "slow": True},
    ),
}


# The sample image shipped in sample-images/ is a fixture too: same Dockerfile,
# same generated context, so tests can build it fresh and compare.
DEMO_DOCKERFILE = REPO_ROOT / "sample-images" / "src" / "demo" / "Dockerfile"


def demo_context() -> dict[str, bytes | str]:
    return {"id_rsa": FAKE_ID_RSA, ".env": FAKE_DOTENV, "blob.bin": noise(65536, "demo-blob")}


# The committed Dockerfile names the base under the default prefix (make.sh
# builds it so); a run under another SLIMSCOPE_TEST_PREFIX builds on its own base.
DEMO_BASE = "slimscope-test/busybox:base"

if DEMO_DOCKERFILE.is_file():
    FIXTURES["demo"] = (
        DEMO_DOCKERFILE.read_text().replace(f"FROM {DEMO_BASE}\n", f"FROM {BUSYBOX_TAG}\n"),
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
    return named(f"fixture-{name}:latest")


def fixture_image(name: str) -> str:
    """Build fixture `name` (cached by the inputs label); return its tag."""
    dockerfile, files, _ = FIXTURES[name]
    return build_image(fixture_tag(name), dockerfile, files)
