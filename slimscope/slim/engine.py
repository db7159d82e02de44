"""The engine rewrite: `docker create` (never started), `export`, filter, `docker load`.

The export is streamed through a filter into one new layer tar: it drops what the
plan removes and what the engine itself adds to every container (`/.dockerenv`,
`/etc/hosts`, ...) unless the image had it, and moves a body to a surviving name
when its first hardlink name goes. The image's own file at a name the engine mounts
over (`/etc/hostname`, `/etc/resolv.conf`, ...) comes out of the export as the
engine's empty mount point, so its bytes and metadata are taken from the image's
layer instead. The layer is then written with the image's whole config (history
included, as the offline way's `rewrite_config` keeps it) and loaded: `docker import`
would keep only part of the config and replace the history with one line.
"""

from __future__ import annotations

import io
import os
import tarfile

from slimscope.core.snapshot import ENGINE_PATHS, norm
from slimscope.engine import owner_labels
from slimscope.errors import BadInput
from slimscope.image.member import regular_files
from slimscope.index.records import FILE
from slimscope.index.streams import CHUNK, IterStream
from slimscope.slim.offline import restamp
from slimscope.slim.tarout import stream_writer
from slimscope.slim.writers import DockerArchive, rewrite_config


class FilteredExport:
    """The export stream, filtered into a tar written to a sink."""

    def __init__(self, keep: dict, survivors: dict, own: dict):
        self.keep, self.survivors = keep, survivors
        self.own = own          # path -> (index, entry, body): the image's own engine files
        self.dropped = 0

    def run(self, chunks, sink) -> None:
        src = tarfile.open(fileobj=io.BufferedReader(IterStream(chunks), CHUNK),
                           mode="r|", encoding="utf-8", errors="surrogateescape")
        with stream_writer(sink) as dst:
            self._filter(src, dst)

    def _filter(self, src: tarfile.TarFile, dst: tarfile.TarFile) -> None:
        keep, survivors = self.keep, self.survivors
        renamed: dict = {}
        bodies: set = set()
        for ti in src:
            path = norm(ti.name)
            if path == "/":
                continue
            if ti.islnk():
                target = norm(ti.linkname)
                target = renamed.get(target, target)
                if path in bodies or path not in keep:
                    continue
                ti.linkname = target.lstrip("/")   # restamp drops the stale linkpath record
                dst.addfile(restamp(ti, path))
                continue
            if path in keep:
                if path in self.own and ti.isreg():
                    idx, i, body = self.own[path]
                    out = restamp(ti, path, idx, i)
                    out.size = len(body)
                    dst.addfile(out, io.BytesIO(body))
                else:
                    dst.addfile(restamp(ti, path), src.extractfile(ti) if ti.isreg() else None)
                if ti.isreg():
                    bodies.add(path)
                continue
            alive = survivors.get(path)
            if ti.isreg() and alive:
                new = alive[0]
                dst.addfile(restamp(ti, new), src.extractfile(ti))
                renamed[path] = new
                bodies.add(new)
                continue
            self.dropped += 1


def own_engine_files(analysis, keep: dict) -> dict:
    """The image's own regular files at the names the engine mounts over, read in one
    pass over the layers that hold them: path -> (index, entry, body)."""
    composed = analysis.composed
    wanted: dict = {}
    for p in ENGINE_PATHS:
        ref = composed.final.get(p)
        if ref is None or p not in keep:
            continue
        li, i = ref >> 32, ref & 0xFFFFFFFF
        if composed.layers[li].kinds[i] == FILE:
            wanted[p] = (li, i)
    found: dict = {}
    todo = {li for li, _ in wanted.values()}
    if not todo:
        return found
    streams = analysis.image.source.layer_streams(analysis.image)
    try:
        for positions, stream in streams:
            mine = todo.intersection(positions)
            if not mine:
                continue
            for name, _ti, body in regular_files(stream):
                want = wanted.get(name)
                if want and want[0] in mine:   # the last entry of a name is the one shown
                    found[name] = (composed.layers[want[0]], want[1], body.read())
            todo -= mine
            if not todo:
                break
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BadInput(f"the image's layers could not be read again ({e})") from None
    finally:
        getattr(streams, "close", lambda: None)()
    return found


def split_tag(tag: str):
    name, sep, t = tag.rpartition(":")
    if not sep or "/" in t:
        return tag, "latest"
    return name, t


def export_squashed(client, analysis, plan, workdir: str, temp_tag: str, comment: str) -> str:
    """Flatten analysis.image (in the engine) into one layer under the image's config;
    returns the path of a `docker load`-able archive, tagged temp_tag, in workdir."""
    import docker
    cfg = analysis.image.config.get("config") or {}
    composed = analysis.composed
    keep = {}
    for p, ref in composed.final.items():
        if p in plan.removed:
            continue
        li, i = ref >> 32, ref & 0xFFFFFFFF
        keep[p] = composed.layers[li].sizes[i]
    own = own_engine_files(analysis, keep)
    command = None if (cfg.get("Cmd") or cfg.get("Entrypoint")) else ["/slimscope-not-run"]
    try:
        cid = client.api.create_container(analysis.image.id, command=command,
                                          labels=owner_labels())["Id"]
    except docker.errors.APIError as e:
        raise BadInput(f"cannot create a container from {analysis.image.reference}: "
                       f"{e.explanation or e}") from None
    archive = os.path.join(workdir, "load.tar")
    try:
        with open(archive, "wb") as f:
            out = DockerArchive(f)
            layer = out.stream_layer(lambda sink: FilteredExport(keep, plan.survivors, own).run(
                client.api.export(cid, chunk_size=CHUNK), sink))
            config = rewrite_config(analysis.image.config, 0, [layer.diff_id], comment)
            out.finish(config, [layer], [temp_tag])
    except docker.errors.APIError as e:
        raise BadInput(f"docker export failed: {e.explanation or e}") from None
    finally:
        client.api.remove_container(cid, force=True)
    return archive
