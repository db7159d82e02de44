"""The shape each image document must have, checked once where it is read.

Past this point the code may index a manifest, a config or an index as the specs
say, with no type test of its own: anything else (a number where a list belongs,
a config whose `rootfs` is a string, 100,000 layers) is refused here with one
line naming the file and the key.
"""

from __future__ import annotations

from typing import Any

from slimscope.errors import BadInput

# Docker refuses to run more than 127 layers; a little room above that for odd tools.
MAX_LAYERS = 4096
MAX_MANIFESTS = 4096


def _fail(what: str, key: str, want: str) -> BadInput:
    return BadInput(f'{what}: "{key}" must be {want}')


def _opt_str(doc: dict[str, Any], key: str, what: str) -> None:
    if doc.get(key) is not None and not isinstance(doc[key], str):
        raise _fail(what, key, "a string")


def _opt_str_list(doc: dict[str, Any], key: str, what: str) -> None:
    v = doc.get(key)
    if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
        raise _fail(what, key, "a list of strings")


def _opt_object(doc: dict[str, Any], key: str, what: str) -> None:
    if doc.get(key) is not None and not isinstance(doc[key], dict):
        raise _fail(what, key, "an object")


def descriptor(d: Any, what: str) -> None:
    """An OCI content descriptor: a digest, and optionally a media type, a size, a
    platform and string annotations."""
    if not isinstance(d, dict):
        raise BadInput(f"{what} must be an object (a descriptor)")
    if not isinstance(d.get("digest"), str):
        raise _fail(what, "digest", "a string")
    _opt_str(d, "mediaType", what)
    size = d.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise _fail(what, "size", "a whole number of bytes")
    _opt_object(d, "platform", what)
    for k in ("os", "architecture", "variant"):
        _opt_str(d.get("platform") or {}, k, f"{what} platform")
    ann = d.get("annotations")
    if ann is not None and (not isinstance(ann, dict)
                            or not all(isinstance(v, str) for v in ann.values())):
        raise _fail(what, "annotations", "an object of strings")


def _descriptors(doc: dict[str, Any], key: str, what: str, limit: int) -> None:
    items = doc.get(key)
    if not isinstance(items, list):
        raise _fail(what, key, "a list of descriptors")
    if len(items) > limit:
        raise BadInput(f'{what}: "{key}" lists {len(items)} entries, more than {limit}')
    for i, d in enumerate(items):
        descriptor(d, f"{what} {key}[{i}]")


def oci_index(doc: Any, what: str) -> dict[str, Any]:
    """index.json, or an image index blob."""
    if not isinstance(doc, dict):
        raise BadInput(f"{what} must be a JSON object")
    _descriptors(doc, "manifests", what, MAX_MANIFESTS)
    return doc


def oci_manifest(doc: Any, what: str) -> dict[str, Any]:
    """An image manifest, or an index met on the way down to one."""
    if not isinstance(doc, dict):
        raise BadInput(f"{what} must be a JSON object")
    _opt_str(doc, "mediaType", what)
    if "layers" not in doc and "manifests" in doc:
        return oci_index(doc, what)
    if "config" in doc:
        descriptor(doc["config"], f"{what} config")
    _descriptors(doc, "layers", what, MAX_LAYERS)
    return doc


def docker_manifest(doc: Any, what: str) -> list[dict[str, Any]]:
    """`docker save`'s manifest.json: a list of {Config, RepoTags, Layers}."""
    if not isinstance(doc, list):
        raise BadInput(f"{what} must be a list of images")
    if len(doc) > MAX_MANIFESTS:
        raise BadInput(f"{what} lists {len(doc)} images, more than {MAX_MANIFESTS}")
    for i, m in enumerate(doc):
        at = f"{what} [{i}]"
        if not isinstance(m, dict):
            raise BadInput(f"{at} must be an object")
        if not isinstance(m.get("Config"), str) or not m["Config"]:
            raise _fail(at, "Config", "the path of the config")
        layers = m.get("Layers")
        if not isinstance(layers, list) or not all(isinstance(x, str) and x for x in layers):
            raise _fail(at, "Layers", "a list of paths")
        if len(layers) > MAX_LAYERS:
            raise BadInput(f'{at}: "Layers" lists {len(layers)} layers, more than {MAX_LAYERS}')
        _opt_str_list(m, "RepoTags", at)
    return doc


def config(doc: Any, what: str) -> dict[str, Any]:
    """An image config: what the analysis reads of it, with the types it reads."""
    if not isinstance(doc, dict):
        raise BadInput(f"{what} must be a JSON object")
    for k in ("os", "architecture", "variant", "created", "author"):
        _opt_str(doc, k, what)
    rootfs = doc.get("rootfs")
    if rootfs is not None:
        if not isinstance(rootfs, dict):
            raise _fail(what, "rootfs", "an object")
        _opt_str_list(rootfs, "diff_ids", f"{what} rootfs")
        if len(rootfs.get("diff_ids") or []) > MAX_LAYERS:
            raise BadInput(f'{what}: "rootfs.diff_ids" lists more than {MAX_LAYERS} layers')
    history = doc.get("history")
    if history is not None:
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise _fail(what, "history", "a list of objects")
        for i, h in enumerate(history):
            for k in ("created_by", "comment", "created", "author"):
                _opt_str(h, k, f"{what} history[{i}]")
            if h.get("empty_layer") is not None and not isinstance(h["empty_layer"], bool):
                raise _fail(f"{what} history[{i}]", "empty_layer", "true or false")
    inner = doc.get("config")
    if inner is not None:
        if not isinstance(inner, dict):
            raise _fail(what, "config", "an object")
        for k in ("Env", "Cmd", "Entrypoint", "Shell", "OnBuild"):
            _opt_str_list(inner, k, f"{what} config")
        for k in ("User", "WorkingDir", "StopSignal"):
            _opt_str(inner, k, f"{what} config")
        for k in ("Labels", "ExposedPorts", "Volumes"):
            _opt_object(inner, k, f"{what} config")
    return doc
