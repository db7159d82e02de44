"""The one adapter to the local Docker engine: how a client is made and how the
engine's errors are shortened to one line."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from slimscope.errors import BadInput, EngineUnavailable

if TYPE_CHECKING:
    from docker import DockerClient


def engine_client() -> DockerClient:
    """A client for the local engine, or EngineUnavailable saying why not."""
    import docker
    try:
        client = docker.from_env(timeout=600)
        client.ping()
        return client
    except Exception as e:  # the SDK raises several unrelated types here
        raise EngineUnavailable(f"no Docker engine answers ({short_error(e)})") from None


def short_error(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:160]


def run_once(client: DockerClient, image: str, argv: list[str], timeout: int = 120
             ) -> tuple[int, bytes]:
    """(exit code, stdout) of `docker run --rm --network none image argv`."""
    import docker
    try:
        cid = client.api.create_container(image, command=argv, network_disabled=True)["Id"]
    except docker.errors.APIError as e:
        raise BadInput(f"--smoke: cannot create a container from {image}: "
                       f"{e.explanation or e}") from None
    try:
        client.api.start(cid)
        try:
            code = client.api.wait(cid, timeout=timeout)["StatusCode"]
        except Exception:
            raise BadInput(f"--smoke: the command did not finish within {timeout}s in {image}"
                           ) from None
        out = client.api.logs(cid, stdout=True, stderr=False)
        return code, out
    finally:
        client.api.remove_container(cid, force=True)


def smoke_argv(command: str) -> list[str]:
    """Split a --smoke command the way a shell would, or say why it cannot be."""
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise BadInput(f"--smoke: cannot split {command!r}: {e}") from None
    if not argv:
        raise BadInput("--smoke wants a command, e.g. --smoke 'python -c \"import app\"'")
    return argv
