"""What the user named → config + ordered, indexed layers.

reference  the one parser of names (skopeo-style prefixes or a bare path/engine ref):
           open_source, load_image
model      Image, Layer, Options, Resolved, and Source: what callers may ask a source
manifest   OCI index/manifest and docker manifest.json resolution, platforms
archive    docker-save / OCI archives read as one tar stream (or in parallel by offset)
oci        OCI layout directories
daemon     the Docker engine, through the SDK's save stream
"""
