"""Which layers belong to the base image (--keep-base).

In order: --base-layers N; the image's own history (a base's last instruction is
usually its CMD or ENTRYPOINT, and an imported base says "Imported from"), named
by the local image that has exactly those layers when there is one; only then a
local image whose layers are the longest proper prefix of this image's. Any two
images built from one Dockerfile share their first layers, so a prefix alone may
be a sibling, not the base: the history comes first.
"""

from __future__ import annotations

from slimscope.core.base import base_from_history
from slimscope.errors import BadInput


def _local_images(client):
    """(name, layer diff_ids) of every local image."""
    try:
        images = client.api.images()
    except Exception:
        return
    for img in images:
        try:
            attrs = client.api.inspect_image(img["Id"])
        except Exception:
            continue
        ids = (attrs.get("RootFS") or {}).get("Layers") or []
        yield (attrs.get("RepoTags") or [img["Id"][:19]])[0], ids


def from_engine(client, diff_ids: list):
    """(layers, why) from the longest proper prefix among local images, or (None, None)."""
    best, name = 0, ""
    for tag, ids in _local_images(client):
        if best < len(ids) < len(diff_ids) and diff_ids[:len(ids)] == ids:
            best, name = len(ids), tag
    if best:
        return best, (f"the local image {name} has exactly the first {best} layer"
                      f"{'s' if best != 1 else ''}; the history marks no base")
    return None, None


def named_by_engine(client, diff_ids: list) -> str:
    """A local image whose layers are exactly `diff_ids`, or ''."""
    for tag, ids in _local_images(client):
        if ids == diff_ids:
            return tag
    return ""


def find_base(analysis, base_layers=None, client=None):
    """(number of base layers, how it was found, in words)."""
    n = len(analysis.layers)
    if base_layers is not None:
        if not 0 <= base_layers < n:
            raise BadInput(f"--base-layers {base_layers}: the image has {n} layers; keep at most "
                           f"{n - 1} so that something is left to squash")
        return base_layers, "given by --base-layers"
    diff_ids = [l.diff_id for l in analysis.layers]
    found, why = base_from_history(analysis.image.config, n)
    if found:
        name = named_by_engine(client, diff_ids[:found]) if client is not None else ""
        return found, why + (f"; that is the local image {name}" if name else "")
    if client is not None:
        found, why = from_engine(client, diff_ids)
        if found:
            return found, why
    raise BadInput("cannot tell which layers are the base image; pass --base-layers N")
