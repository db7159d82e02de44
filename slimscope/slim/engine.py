"""The engine rewrite: `docker create` (never started), `export`, filter, `import`.

The export is streamed through a filter on its way to the import: it drops what
the plan removes and what the engine itself adds to every container (`/.dockerenv`,
`/etc/hosts`, ...) unless the image had it, and moves a body to a surviving name
when its first hardlink name goes. `import --change` carries CMD, ENTRYPOINT,
ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME and WORKDIR; what the engine's import
refuses (HEALTHCHECK, SHELL, STOPSIGNAL on older engines) is restored by a
metadata-only `docker build` FROM the imported image.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading

from slimscope.errors import BadInput
from slimscope.slim.tarout import stream_writer
from slimscope.index.streams import CHUNK, IterStream
from slimscope.core.snapshot import ENGINE_PATHS, norm
from slimscope.slim.offline import restamp

IMPORT_FIELDS = ("Cmd", "Entrypoint", "Env", "ExposedPorts", "Labels", "OnBuild", "User",
                 "Volumes", "WorkingDir")
BUILD_FIELDS = ("Healthcheck", "Shell", "StopSignal")


def quote(value: str) -> str:
    """A double-quoted Dockerfile word that the parser reads back as `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _json_list(items) -> str:
    return json.dumps(list(items))


def _duration(ns) -> str:
    return f"{int(ns)}ns"


def healthcheck_line(hc: dict) -> str:
    test = hc.get("Test") or []
    if not test or test[0] == "NONE":
        return "HEALTHCHECK NONE"
    opts = []
    for key, flag in (("Interval", "interval"), ("Timeout", "timeout"),
                      ("StartPeriod", "start-period"), ("StartInterval", "start-interval")):
        if hc.get(key):
            opts.append(f"--{flag}={_duration(hc[key])}")
    if hc.get("Retries"):
        opts.append(f"--retries={int(hc['Retries'])}")
    if test[0] == "CMD-SHELL":
        cmd = "CMD " + " ".join(test[1:])
    elif test[0] == "CMD":
        cmd = "CMD " + _json_list(test[1:])
    else:
        raise BadInput(f"the image's healthcheck has a test the builder cannot express: {test!r}")
    return " ".join(["HEALTHCHECK", *opts, cmd])


def instructions(cfg: dict, fields) -> list:
    """Dockerfile instructions (without a leading command word for --change) for `fields`."""
    out = []
    for f in fields:
        v = cfg.get(f)
        if v in (None, "", [], {}):
            continue
        if f == "Cmd":
            out.append("CMD " + _json_list(v))
        elif f == "Entrypoint":
            out.append("ENTRYPOINT " + _json_list(v))
        elif f == "Env":
            for item in v:
                key, _, value = item.partition("=")
                out.append(f"ENV {key}={quote(value)}")
        elif f == "ExposedPorts":
            out.append("EXPOSE " + " ".join(sorted(v)))
        elif f == "Labels":
            for key, value in sorted(v.items()):
                out.append(f"LABEL {quote(key)}={quote(value)}")
        elif f == "OnBuild":
            out.extend("ONBUILD " + trigger for trigger in v)
        elif f == "User":
            out.append("USER " + v)
        elif f == "Volumes":
            out.append("VOLUME " + _json_list(sorted(v)))
        elif f == "WorkingDir":
            out.append("WORKDIR " + v.replace("$", "\\$"))
        elif f == "Healthcheck":
            out.append(healthcheck_line(v))
        elif f == "Shell":
            out.append("SHELL " + _json_list(v))
        elif f == "StopSignal":
            out.append("STOPSIGNAL " + v)
    return out


class FilteredExport:
    """The export stream, filtered in a thread, read back as chunks for the import."""

    def __init__(self, chunks, keep: dict, survivors: dict, notes: list):
        self.keep, self.survivors, self.notes = keep, survivors, notes
        self.error = None
        self.dropped = 0
        r, w = os.pipe()
        self._r = os.fdopen(r, "rb")
        self._thread = threading.Thread(target=self._work, args=(chunks, w), daemon=True)
        self._thread.start()

    def _work(self, chunks, w):
        try:
            with os.fdopen(w, "wb", buffering=CHUNK) as sink:
                src = tarfile.open(fileobj=io.BufferedReader(IterStream(chunks), CHUNK),
                                   mode="r|", encoding="utf-8", errors="surrogateescape")
                with stream_writer(sink) as dst:
                    self._filter(src, dst)
        except BrokenPipeError:
            pass   # the import stopped reading; it reports why
        except BaseException as e:  # handed to the reading side
            self.error = e

    def _filter(self, src, dst):
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
                ti.pax_headers.pop("linkpath", None)
                ti.linkname = target.lstrip("/")
                dst.addfile(restamp(ti, path))
                continue
            if path in keep:
                if path in ENGINE_PATHS and ti.isreg() and ti.size != keep[path]:
                    self.notes.append(f"{path}: the engine way keeps the container's own "
                                      f"{path} (the image's is hidden by the engine); "
                                      "--via offline keeps the image's")
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

    def chunks(self):
        try:
            while True:
                chunk = self._r.read(CHUNK)
                if not chunk:
                    break
                yield chunk
        finally:
            self.close()

    def close(self):
        if not self._r.closed:
            self._r.close()
        self._thread.join(timeout=60)


def _import_result(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    image_id = ""
    for line in str(text).splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("error") or doc.get("errorDetail"):
            raise BadInput("docker import failed: " + str(doc.get("error") or doc["errorDetail"]))
        status = doc.get("status", "")
        if status.startswith("sha256:"):
            image_id = status.strip()
    if not image_id:
        raise BadInput(f"docker import gave no image id ({str(text)[:200]})")
    return image_id


def split_tag(tag: str):
    name, sep, t = tag.rpartition(":")
    if not sep or "/" in t:
        return tag, "latest"
    return name, t


def export_import(client, analysis, plan, temp_tag: str, notes: list) -> str:
    """Flatten analysis.image (in the engine) into temp_tag; returns the new image id."""
    import docker
    cfg = analysis.image.config.get("config") or {}
    source_id = analysis.image.id
    fixups = instructions(cfg, BUILD_FIELDS)
    carried = [f for f in IMPORT_FIELDS if not (f == "OnBuild" and fixups)]
    changes = instructions(cfg, carried)
    if fixups:
        fixups += instructions(cfg, ["OnBuild"])   # triggers would fire in the fixup build
    composed = analysis.composed
    keep = {}
    for p, ref in composed.final.items():
        if p in plan.removed:
            continue
        li, i = ref >> 32, ref & 0xFFFFFFFF
        keep[p] = composed.layers[li].sizes[i]
    command = None if (cfg.get("Cmd") or cfg.get("Entrypoint")) else ["/slimscope-not-run"]
    try:
        cid = client.api.create_container(source_id, command=command)["Id"]
    except docker.errors.APIError as e:
        raise BadInput(f"cannot create a container from {analysis.image.reference}: "
                       f"{e.explanation or e}") from None
    repo, tag = split_tag(temp_tag)
    filt = None
    try:
        filt = FilteredExport(client.api.export(cid, chunk_size=CHUNK), keep, plan.survivors,
                              notes)
        try:
            text = client.api.import_image_from_stream(filt.chunks(), repository=repo, tag=tag,
                                                       changes=changes)
        except docker.errors.APIError as e:
            raise BadInput(f"docker import failed: {e.explanation or e}") from None
        finally:
            filt.close()
        if filt.error is not None:
            raise filt.error
        image_id = _import_result(text)
    finally:
        client.api.remove_container(cid, force=True)
    if fixups:
        image_id = _fixup_build(client, temp_tag, image_id, fixups)
    arch = analysis.image.config.get("architecture")
    got = client.api.inspect_image(image_id).get("Architecture")
    if arch and got and arch != got:
        notes.append(f"the engine's import marked the image {got}, the source is {arch}")
    return image_id


def _fixup_build(client, temp_tag: str, imported_id: str, lines: list) -> str:
    dockerfile = f"FROM {temp_tag}\n" + "\n".join(lines) + "\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = dockerfile.encode()
        ti = tarfile.TarInfo("Dockerfile")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    buf.seek(0)
    log = []
    for chunk in client.api.build(fileobj=buf, custom_context=True, tag=temp_tag, rm=True,
                                  forcerm=True, pull=False, decode=True):
        if "stream" in chunk:
            log.append(chunk["stream"])
        if "error" in chunk:
            raise BadInput("restoring the config by `docker build` failed: "
                           + chunk["error"].strip().splitlines()[-1])
    new_id = client.api.inspect_image(temp_tag)["Id"]
    if new_id != imported_id:
        try:
            client.api.remove_image(imported_id)
        except Exception:
            pass
    return new_id
