"""Which layers belong to the base image (--keep-base).

In order: --base-layers N; a local image whose diff_ids are the longest proper
prefix of this image's (the engine knows the base it was built FROM); the
history (the base's last instruction is usually its CMD/ENTRYPOINT, and an
imported base says "Imported from").
"""

from __future__ import annotations

from slimscope.errors import BadInput


def _is_base_end(created_by: str) -> bool:
    text = " ".join((created_by or "").split())
    for marker in ("#(nop) CMD", "#(nop) ENTRYPOINT"):
        if marker in text:
            return True
    return text.startswith(("CMD [", "CMD ", "ENTRYPOINT "))


def from_history(config: dict, n_layers: int):
    """(layers, why) from history alone, or (None, None)."""
    history = config.get("history") or []
    seen = 0
    best = None
    for h in history:
        if not h.get("empty_layer"):
            seen += 1
            if "Imported from" in (h.get("comment") or "") and seen < n_layers:
                best = (seen, "the history says the first layer was imported")
        elif _is_base_end(h.get("created_by", "")) and 0 < seen < n_layers:
            best = (seen, "the base image's CMD/ENTRYPOINT in the history")
    return best or (None, None)


def from_engine(client, diff_ids: list):
    """(layers, why) from the longest proper prefix among local images, or (None, None)."""
    best = 0
    name = ""
    try:
        images = client.api.images()
    except Exception:
        return None, None
    for img in images:
        try:
            attrs = client.api.inspect_image(img["Id"])
        except Exception:
            continue
        ids = (attrs.get("RootFS") or {}).get("Layers") or []
        if best < len(ids) < len(diff_ids) and diff_ids[:len(ids)] == ids:
            best = len(ids)
            name = (attrs.get("RepoTags") or [img["Id"][:19]])[0]
    if best:
        return best, f"the local image {name} holds the first {best} layers"
    return None, None


def find_base(analysis, base_layers=None, client=None):
    """(number of base layers, how it was found)."""
    n = len(analysis.layers)
    if base_layers is not None:
        if not 0 <= base_layers < n:
            raise BadInput(f"--base-layers {base_layers}: the image has {n} layers; keep at most "
                           f"{n - 1} so that something is left to squash")
        return base_layers, "--base-layers"
    diff_ids = [l.diff_id for l in analysis.layers]
    if client is not None:
        found, why = from_engine(client, diff_ids)
        if found:
            return found, why
    found, why = from_history(analysis.image.config, n)
    if found:
        return found, why
    raise BadInput("cannot tell which layers are the base image; pass --base-layers N")
