"""Images in the local Docker engine, read through the SDK's `docker save` stream
(the engine client itself is slimscope.engine's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from slimscope.engine import engine_client, short_error
from slimscope.errors import BadInput, EngineUnavailable
from slimscope.image.tarstream import TarStreamSource
from slimscope.index.streams import ByteFile, IterStream

if TYPE_CHECKING:
    from docker import DockerClient


class DaemonSource(TarStreamSource):
    """An image in the local Docker engine, streamed through `docker save`."""

    def __init__(self, ref: str, bare: bool = False, path_like: bool = False):
        self.ref = ref
        self.bare = bare  # named without a prefix: it may as well have been a mistyped path
        self.path_like = path_like  # and it looks like one (a '/', a .tar ending)
        self.reference = ref
        self.where = f"docker-daemon:{ref}"
        self._client: Optional[DockerClient] = None
        self._size: Optional[int] = None
        self._engine_id: Optional[str] = None

    @property
    def engine_ref(self) -> Optional[str]:
        return self.ref

    def check(self) -> None:
        self.inspect()

    def client(self) -> DockerClient:
        if self._client is None:
            try:
                self._client = engine_client()
            except EngineUnavailable as e:
                if self.path_like:
                    raise EngineUnavailable(f"no such file: {self.ref}, and {e} to look it up "
                                            "as an image") from None
                if self.bare:
                    raise EngineUnavailable(f"{self.ref!r} is not a file or directory, and {e} "
                                            "to look it up as an image") from None
                raise
        return self._client

    def inspect(self) -> dict[str, Any]:
        """The engine's description of the image (`docker image inspect`)."""
        import docker
        try:
            img = self.client().images.get(self.ref)
        except docker.errors.ImageNotFound:
            if self.path_like:
                raise BadInput(f"no such file: {self.ref}, and no image {self.ref!r} in the "
                               "Docker engine") from None
            raise BadInput(f"no image {self.ref!r} in the Docker engine") from None
        except docker.errors.APIError as e:
            raise BadInput(f"the Docker engine refused {self.ref!r}: {short_error(e)}") from None
        attrs: dict[str, Any] = img.attrs
        self._size = attrs.get("Size")
        self._engine_id = img.id
        return attrs

    def open_stream(self) -> ByteFile:
        self.inspect()
        try:
            resp = self.client().api.get_image(self._engine_id)
        except Exception as e:
            raise BadInput(f"the Docker engine could not save {self.ref!r}: {short_error(e)}") from None
        return IterStream(resp, getattr(resp, "close", None))

    def total_bytes(self) -> Optional[int]:
        return self._size
