"""From an image's manifests to one image: which entry of an OCI index or of
`docker save`'s manifest.json (by --image and --platform), its config, and where
each of its layer blobs is kept. Shared by every transport."""

from __future__ import annotations

import json
import platform as _platform
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from slimscope.errors import BadInput
from slimscope.image import shapes
from slimscope.image.model import JSONObject, Options, Resolved
from slimscope.index.digests import sha256_digest
from slimscope.index.records import LayerIndex

ReadBlob = Callable[[str], bytes]  # a blob's bytes by digest, checked against it


def host_platform() -> str:
    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "armv7l": "arm", "i686": "386", "i386": "386", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(machine, machine)
    return f"linux/{arch}"


def parse_json(data: bytes, what: str) -> JSONObject | list[Any]:
    try:
        doc = json.loads(data, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{what} is not valid JSON ({e})") from None
    except RecursionError:
        raise BadInput(f"{what} nests too deep to be an image document") from None
    if not isinstance(doc, (dict, list)):
        raise BadInput(f"{what} is not a JSON object")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_object(data: bytes, what: str) -> JSONObject:
    doc = parse_json(data, what)
    if not isinstance(doc, dict):
        raise BadInput(f"{what} is not a JSON object")
    return doc


def _platform_str(p: JSONObject) -> str:
    s = f"{p.get('os', '?')}/{p.get('architecture', '?')}"
    return s + (f"/{p['variant']}" if p.get("variant") else "")


_PLATFORM = re.compile(r"[a-z0-9_.-]+/[a-z0-9_.-]+(?:/[a-z0-9_.-]+)?")


def check_platform(want: str) -> None:
    """A --platform value must have the form OS/ARCH[/VARIANT], whatever the image."""
    if not want:
        raise BadInput("--platform is empty: give OS/ARCH[/VARIANT], e.g. linux/amd64")
    if not _PLATFORM.fullmatch(want):
        raise BadInput(f"--platform wants OS/ARCH[/VARIANT] (e.g. linux/amd64), got {want!r}")


def _platform_matches(p: JSONObject, want: str) -> bool:
    check_platform(want)
    parts = want.split("/")
    if p.get("os") != parts[0] or p.get("architecture") != parts[1]:
        return False
    return len(parts) < 3 or p.get("variant", "") == parts[2]


def check_config_platform(res: Resolved, opts: Options, where: str) -> Resolved:
    """An image chosen without a platform list (a single manifest, a docker archive) is
    of the platform its config says: a --platform it does not match is refused."""
    if opts.platform is None:
        return res
    cfg = res.config
    have = {k: cfg.get(k) for k in ("os", "architecture", "variant")
            if isinstance(cfg.get(k), str) and cfg.get(k)}
    if "os" not in have or "architecture" not in have:
        return res   # the config does not say: nothing to hold it against
    want = opts.platform.split("/")
    fits = want[0] == have["os"] and want[1] == have["architecture"] and (
        len(want) < 3 or "variant" not in have or want[2] == have["variant"])
    if not fits:
        raise BadInput(f"{where}: no image for platform {opts.platform}; it is "
                       f"{_platform_str(have)}")
    return res


def _ref_names(desc: JSONObject) -> list[str]:
    """The names one descriptor carries, the fullest first (containerd's, then the tag)."""
    ann = desc.get("annotations") or {}
    return [ann[k] for k in ("io.containerd.image.name", "org.opencontainers.image.ref.name")
            if isinstance(ann.get(k), str) and ann[k]]


def _matches_ref(names: Iterable[str], want: str) -> bool:
    for n in names:
        if n == want or n.endswith("/" + want) or n == want + ":latest" or n.endswith(":" + want):
            return True
    return False


def resolve_oci(read_blob: ReadBlob, index: JSONObject, opts: Options, where: str) -> Resolved:
    """Walk an OCI index down to one image manifest (by --image and --platform)."""
    manifests = shapes.oci_index(index, f"{where}: index.json")["manifests"]
    if not manifests:
        raise BadInput(f"{where}: index.json lists no manifests")
    candidates = manifests
    if opts.image:
        candidates = [m for m in manifests if _matches_ref(_ref_names(m), opts.image)]
        if not candidates:
            names = sorted({n for m in manifests for n in _ref_names(m)}) or ["(unnamed)"]
            raise BadInput(f"{where}: no image {opts.image!r} here; it holds: {', '.join(names)}")
    named = [m for m in candidates if _ref_names(m)]
    if len({m.get("digest") for m in named}) > 1 and not opts.image:
        names_seen = sorted({_ref_names(m)[0] for m in named})
        raise BadInput(f"{where} holds several images, pick one with --image: {', '.join(names_seen)}")
    reference = _ref_names(named[0])[0] if named else where
    return check_config_platform(_descend(read_blob, candidates, opts, where, reference, depth=0),
                                 opts, where)


def _descend(read_blob: ReadBlob, descs: Sequence[JSONObject], opts: Options, where: str,
             reference: str, depth: int) -> Resolved:
    if depth > 4:
        raise BadInput(f"{where}: image indexes nest too deep")
    with_platform = [d for d in descs if isinstance(d.get("platform"), dict)]
    if with_platform:
        want = opts.platform or host_platform()
        fits = [d for d in with_platform if _platform_matches(d["platform"], want)]
        if not fits:
            have = ", ".join(sorted({_platform_str(d["platform"]) for d in with_platform
                                     if d["platform"].get("os") != "unknown"}))
            raise BadInput(f"{where}: no manifest for platform {want}; it has: {have}")
        desc = fits[0]
    else:
        if len(descs) > 1:
            raise BadInput(f"{where} holds {len(descs)} manifests with no names or platforms to "
                           "choose by")
        desc = descs[0]
    mt = desc.get("mediaType", "")
    at = f"{where}: manifest {desc.get('digest')}"
    doc = shapes.oci_manifest(json_object(read_blob(desc.get("digest", "")), at), at)
    if "index" in mt or "manifest.list" in mt or ("manifests" in doc and "layers" not in doc):
        return _descend(read_blob, doc.get("manifests") or [], opts, where, reference, depth + 1)
    layers = doc.get("layers")
    cfg_desc = doc.get("config") or {}
    if not isinstance(layers, list) or "digest" not in cfg_desc:
        raise BadInput(f"{where}: manifest {desc.get('digest')} is not an image manifest")
    at = f"{where}: config {cfg_desc['digest']}"
    config = shapes.config(json_object(read_blob(cfg_desc["digest"]), at), at)
    return Resolved(reference, cfg_desc["digest"], config,
                    [ld.get("digest", "") for ld in layers],
                    [ld.get("digest", "") for ld in layers],
                    [ld.get("mediaType", "") for ld in layers])


def resolve_docker_manifest(manifest: JSONObject | list[Any], blobs: Mapping[str, bytes],
                            opts: Options, where: str) -> Resolved:
    """`docker save`'s manifest.json (both the legacy and the Docker >= 25 layout)."""
    manifest = shapes.docker_manifest(manifest, f"{where}: manifest.json")
    if not manifest:
        raise BadInput(f"{where}: manifest.json lists no images")
    chosen = manifest
    if opts.image:
        want = opts.image
        chosen = [m for m in manifest if _matches_ref(m.get("RepoTags") or [], want)
                  or (m.get("Config", "").split("/")[-1].split(".")[0].startswith(
                      want.replace("sha256:", "")))]
        if not chosen:
            tags = sorted(t for m in manifest for t in (m.get("RepoTags") or [])) or ["(untagged)"]
            raise BadInput(f"{where}: no image {want!r} here; it holds: {', '.join(tags)}")
    if len(chosen) > 1:
        tags = [", ".join(m.get("RepoTags") or []) or m.get("Config", "?") for m in chosen]
        raise BadInput(f"{where} holds several images, pick one with --image: {'; '.join(tags)}")
    m = chosen[0]
    cfg_name = m.get("Config", "")
    if cfg_name not in blobs:
        raise BadInput(f"{where}: manifest.json names a config that is missing: {cfg_name}")
    config = shapes.config(json_object(blobs[cfg_name], f"{where}: {cfg_name}"),
                           f"{where}: {cfg_name}")
    layer_names = list(m.get("Layers") or [])
    tags = m.get("RepoTags") or []
    return check_config_platform(
        Resolved(tags[0] if tags else where, sha256_digest(blobs[cfg_name]), config,
                 layer_names, ["" for _ in layer_names], ["" for _ in layer_names]), opts, where)


def check_diff_ids(res: Resolved, indexes: Sequence[LayerIndex], where: str) -> None:
    """The layers read must be the ones the config lists, in its order."""
    diff_ids = ((res.config.get("rootfs") or {}).get("diff_ids")) or []
    if len(diff_ids) != len(indexes):
        raise BadInput(f"{where}: the config lists {len(diff_ids)} layers but the manifest "
                       f"{len(indexes)}")
    for pos, (want, idx) in enumerate(zip(diff_ids, indexes)):
        if idx.diff_id and want != idx.diff_id:
            raise BadInput(f"{where}: layer {pos} does not match its diff_id "
                           f"(config says {want}, content is {idx.diff_id})")


def qualified(reference: str, where: str) -> str:
    """OCI layouts often name an image by a bare tag ("latest"): say where it lives too."""
    if reference and reference != where and "/" not in reference and ":" not in reference:
        return f"{where}:{reference}"
    return reference


def media_type_for(kind: str) -> str:
    """The OCI layer media type for a blob `sniff` called `kind`, when no manifest says."""
    return {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}.get(
        kind, "application/vnd.oci.image.layer.v1.tar")


def image_name(reference: str, res: Resolved, where: str) -> str:
    """The name an Image goes by: what the user named, else what the manifest calls it."""
    return reference or qualified(res.reference, where)

