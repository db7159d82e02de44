"""Putting images into the engine (`docker load`, under temporary tags only) and
running the --smoke command in the original and the slimmed image."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading

from slimscope.errors import BadInput, CheckFailed
from slimscope.slim import destinations


def load(client, archive) -> None:
    """`docker load` a path or an open file."""
    if isinstance(archive, str):
        with open(archive, "rb") as f:
            return load(client, f)
    for doc in client.api.load_image(archive):
        if isinstance(doc, dict) and (doc.get("error") or doc.get("errorDetail")):
            raise BadInput(f"docker load failed: {doc.get('error') or doc['errorDetail']}")


def smoke(client, before, engine_ref, staged_out, fmt, command, cleanup):
    from slimscope.slim.verify import smoke as run_smoke

    src = before.image.source
    if src.in_engine:
        original = before.image.id
    elif src.archive_path:
        original = destinations.temp_tag()
        load_as(client, src.archive_path, original, cleanup)
    else:
        raise BadInput("--smoke needs the source in the engine or a docker archive")
    slimmed = slimmed_ref(client, engine_ref, staged_out, fmt, cleanup)
    problems, (code, stdout) = run_smoke(client, original, slimmed, command)
    if problems:
        raise CheckFailed("; ".join(problems) + "; nothing was written")
    return f"{command!r} gives exit code {code} and the same {len(stdout)} bytes of stdout"


def slimmed_ref(client, engine_ref, staged_out, fmt, cleanup) -> str:
    """The slimmed image in the engine: under its temporary tag, else loaded for the run."""
    if engine_ref is not None:
        return engine_ref
    if fmt == "oci":
        raise BadInput("running the slimmed image with --format oci needs --tag as well")
    slimmed = destinations.temp_tag()
    load_as(client, staged_out, slimmed, cleanup)
    return slimmed


def load_as(client, archive: str, temp_tag: str, cleanup) -> None:
    """Load an archive under a temporary tag only: the tags it records are not
    applied, so no tag of the user's moves."""

    r, w = os.pipe()
    errors = []

    def pump():
        try:
            with os.fdopen(w, "wb") as sink, tarfile.open(archive, "r|*") as src, \
                    tarfile.open(fileobj=sink, mode="w|") as dst:
                for ti in src:
                    name = ti.name.lstrip("./")
                    if name == "repositories":
                        continue
                    if name == "manifest.json":
                        doc = json.loads(src.extractfile(ti).read())
                        for m in doc:
                            m["RepoTags"] = [temp_tag]
                        data = json.dumps(doc[:1]).encode()
                        ti.size = len(data)
                        dst.addfile(ti, io.BytesIO(data))
                        continue
                    dst.addfile(ti, src.extractfile(ti) if ti.isreg() else None)
        except BrokenPipeError:
            pass
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    cleanup.tags.append(temp_tag)
    with os.fdopen(r, "rb") as f:
        try:
            load(client, f)
        finally:
            f.close()
            t.join(timeout=60)
    if errors:
        raise BadInput(f"cannot read {archive} to load it: {errors[0]}")
