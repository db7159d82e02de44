"""What every source turns the user's name into: an Image of ordered, indexed Layers.

A Source is one transport's reader. Callers ask it what they need to know (is the
image in the engine, under which name; is it an archive file `docker load` takes)
through the properties below, never by testing its class.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from slimscope.index.cache import IndexCache
from slimscope.index.records import LayerIndex
from slimscope.index.streams import Progress, Readable

# A JSON object as an image's config or manifest holds it: its values are any JSON.
JSONObject = dict[str, Any]


@dataclass
class Layer:
    position: int
    digest: str            # the blob as stored
    diff_id: str           # sha256 of the uncompressed tar
    media_type: str
    stored_bytes: int      # the blob's size as stored
    compressed: bool       # whether the stored blob is gzip/zstd
    index: LayerIndex
    member: str = ""       # where the blob lives in its source (archive member or blob path)

    @property
    def size(self) -> int:
        return self.index.tar_bytes


@dataclass
class Image:
    reference: str
    id: str
    config: JSONObject
    layers: list[Layer]
    source: Source = field(repr=False)

    @property
    def os(self) -> str:
        return self._config_str("os")

    @property
    def architecture(self) -> str:
        return self._config_str("architecture")

    def _config_str(self, key: str) -> str:
        value = self.config.get(key, "")
        return value if isinstance(value, str) else ""

    def fill_digests(self, wants: dict[int, set[int]]) -> None:
        """Read the digests lazy indexes left out: layer position -> entries."""
        wants = {pos: entries for pos, entries in wants.items()
                 if entries and self.layers[pos].index.lazy}
        if wants:
            self.source.fill_digests(self, wants)


# (the image of layers 0..k, the number of layers the whole image has)
LayerCallback = Callable[["Image", int], None]


@dataclass
class Options:
    hash_contents: bool = True
    # Where a layer can be read at any offset (an uncompressed layer of an archive
    # file), hash only the small bodies and note where the others are: their digests
    # are read when asked for (Image.fill_digests), and the layer is not checked
    # against its diff_id (no pass over every byte). Off: every byte read and checked.
    lazy_digests: bool = False
    image: Optional[str] = None        # which image of a multi-image archive
    platform: Optional[str] = None     # os/arch[/variant] for multi-platform indexes
    cache: Optional[IndexCache] = None
    progress: Progress = None
    # Called, in the loading thread, with the image of layers 0..k each time those are
    # all indexed, before the rest is (image/feed.py says which sources can).
    on_layer: Optional[LayerCallback] = None
    # A directory where a source that downloads layer blobs (a registry) keeps each one
    # it fetched, checked, for layer_streams to read again from there (slim reads an
    # image twice); nothing is kept without it.
    spool: Optional[str] = None


@dataclass
class Resolved:
    """A manifest resolved to one image: its config and where each layer blob is kept."""

    reference: str
    config_digest: str
    config: JSONObject
    layer_keys: list[str]     # per layer: the key its blob is stored under (member or digest)
    layer_digests: list[str]  # per layer: the blob digest the manifest claims, or "" if none
    media_types: list[str]


LayerStreams = Iterator[tuple[list[int], Readable]]


class Source(abc.ABC):
    """One transport's reader of one named image."""

    reference: str  # the name the user gave, when it names the image ("" for a bare path)
    where: str      # how messages name the source

    @property
    def engine_ref(self) -> Optional[str]:
        """The engine's name for the image, when it is read from the Docker engine."""
        return None

    @property
    def in_engine(self) -> bool:
        return self.engine_ref is not None

    @property
    def archive_path(self) -> Optional[str]:
        """The archive file the image is read from (one `docker load` takes), if any."""
        return None

    @property
    def local_path(self) -> Optional[str]:
        """The file or directory the image is read from, if it is on disk."""
        return None

    def check(self) -> None:
        """Fail fast, with the one-line error `load` would give, if the image cannot
        be found. Cheap: nothing is indexed. A path was checked when it was parsed."""
        return None

    @abc.abstractmethod
    def load(self, opts: Options) -> Image:
        """Read the config and index every layer."""

    def sketch(self, opts: Options) -> Optional[Image]:
        """The image from its layers' tar headers alone, bodies seeked past: no content
        digest, no check of any layer against its digest or diff_id, nothing cached.
        A view shows it while `load` does the real work; None where a source cannot
        seek (streams, compressed layers) and would gain nothing."""
        return None

    def fill_digests(self, image: Image, wants: dict[int, set[int]]) -> None:
        """Hash the bodies lazy indexes noted (layer position -> entries): only a
        source that reads layers at offsets makes such indexes."""
        raise NotImplementedError(f"{type(self).__name__} makes no lazy layer index")

    @abc.abstractmethod
    def layer_streams(self, image: Image) -> LayerStreams:
        """Yield (positions, uncompressed tar stream) for every layer blob, in storage order."""
