"""Layers handed out while an image is still being indexed, for a view that wants to
show the bottom of the image before the top is read.

A source calls `LayerFeed.start` once it knows the layer order (OCI layouts and plain
archive files know it before any layer is indexed; a tar stream, whose manifest
comes last, never does before the end) and `put` as each layer's index is complete,
in whatever order the indexing finishes. The feed calls `Options.on_layer` with the
image made of layers 0..k as soon as all of them are indexed: always in layer
order, each prefix at most once, never the whole image (the loader returns that).

The prefixes are previews: the checks a loader makes at the end (digests against
the manifest, diff_ids against the config) have not run on them yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from slimscope.image.model import Image, Layer, LayerCallback

# Layers 0..k -> the image they make (the reference, config and source the final one has).
ImageOf = Callable[[list[Layer]], Image]


class LayerFeed:
    """Turns layers indexed in any order into growing prefixes, in order."""

    def __init__(self, on_layer: Optional[LayerCallback]):
        self.on_layer = on_layer
        self.count = 0
        self._image_of: Optional[ImageOf] = None
        self._waiting: dict[int, Layer] = {}
        self._ready: list[Layer] = []

    @property
    def wanted(self) -> bool:
        """Whether anyone listens: a source skips the work of making preview layers if not."""
        return self.on_layer is not None

    def start(self, count: int, image_of: ImageOf) -> None:
        """The order is known: `count` layers; `image_of` makes an image of a prefix."""
        if self.on_layer is not None:
            self.count = count
            self._image_of = image_of

    @property
    def started(self) -> bool:
        return self._image_of is not None

    def put(self, layer: Layer) -> None:
        """Layer `layer.position` is indexed: hand out every prefix it completes."""
        if self._image_of is None or self.on_layer is None:
            return
        self._waiting[layer.position] = layer
        grown = False
        while len(self._ready) in self._waiting:
            self._ready.append(self._waiting.pop(len(self._ready)))
            grown = True
        if grown and len(self._ready) < self.count:
            self.on_layer(self._image_of(list(self._ready)), self.count)
