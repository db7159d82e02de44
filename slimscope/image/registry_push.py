"""Pushing an OCI layout's image to a registry: `slimscope slim --push docker://…`.

The blobs the registry lacks are uploaded (one POST + a monolithic PUT each,
streamed from their files), then the manifest is PUT under the tag. An existing
tag is refused unless forced: the check is made before any work, and again just
before the manifest goes up.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from slimscope.errors import BadInput
from slimscope.image.registry import RegistryRef, RegistrySource, parse_registry_ref
from slimscope.image.registry_auth import current_access
from slimscope.index.digests import blob_name


@dataclass
class Pushed:
    name: str
    digest: str            # the manifest's
    uploaded: int          # blobs sent
    uploaded_bytes: int
    present: int           # blobs the registry had already


def push_target(name: str) -> RegistryRef:
    if not name.startswith("docker://"):
        raise BadInput(f"--push wants docker://HOST[:PORT]/REPO:TAG, got {name!r}")
    ref = parse_registry_ref(name[len("docker://"):])
    if ":" in ref.ref:
        raise BadInput(f"--push wants a tag to push to, not a digest: {name}")
    return ref


def check_tag_free(ref: RegistryRef, force: bool) -> None:
    """Refuse a tag that exists already, unless --force."""
    if force:
        return
    reg = RegistrySource(ref, current_access()).registry
    r = reg.request("HEAD", f"/v2/{ref.repo}/manifests/{ref.ref}",
                    {"Accept": "application/vnd.oci.image.manifest.v1+json, "
                               "application/vnd.docker.distribution.manifest.v2+json, "
                               "application/vnd.oci.image.index.v1+json, "
                               "application/vnd.docker.distribution.manifest.list.v2+json"})
    r.close()
    if r.status_code == 200:
        raise BadInput(f"{ref.name} exists; pass --force to replace it")


def push_layout(layout: str, ref: RegistryRef, force: bool) -> Pushed:
    """Push the one image of the OCI layout directory `layout` to `ref`."""
    with open(os.path.join(layout, "index.json"), "rb") as f:
        index = json.load(f)
    manifests = index.get("manifests") or []
    if len(manifests) != 1:
        raise BadInput(f"{layout}: --push sends one image, the layout holds {len(manifests)}")
    desc = manifests[0]
    manifest_path = os.path.join(layout, blob_name(desc["digest"], layout))
    with open(manifest_path, "rb") as f:
        body = f.read()
    doc = json.loads(body)
    reg = RegistrySource(ref, current_access()).registry
    pushed = Pushed(ref.name, desc["digest"], 0, 0, 0)
    for blob in [doc["config"], *doc["layers"]]:
        digest = blob["digest"]
        head = reg.request("HEAD", f"/v2/{ref.repo}/blobs/{digest}")
        head.close()
        if head.status_code == 200:
            pushed.present += 1
            continue
        start = reg.request("POST", f"/v2/{ref.repo}/blobs/uploads/")
        start.close()
        if start.status_code != 202 or "Location" not in start.headers:
            raise BadInput(f"{ref.name}: the registry refused an upload ({start.status_code})")
        location = urljoin(reg.base + "/", start.headers["Location"])
        sep = "&" if "?" in location else "?"
        path = os.path.join(layout, blob_name(digest, layout))
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            put = reg.request("PUT", f"{location}{sep}{urlencode({'digest': digest})}",
                              {"Content-Type": "application/octet-stream",
                               "Content-Length": str(size)}, data=f)
        put.close()
        if put.status_code != 201:
            raise BadInput(f"{ref.name}: the registry refused blob {digest} ({put.status_code})")
        pushed.uploaded += 1
        pushed.uploaded_bytes += size
    check_tag_free(ref, force)
    media_type = doc.get("mediaType") or desc.get("mediaType") or \
        "application/vnd.oci.image.manifest.v1+json"
    r = reg.request("PUT", f"/v2/{ref.repo}/manifests/{ref.ref}", {"Content-Type": media_type},
                    data=body)
    r.close()
    if r.status_code != 201:
        raise BadInput(f"{ref.name}: the registry refused the manifest ({r.status_code})")
    return pushed
