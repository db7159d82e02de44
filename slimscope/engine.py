"""The one adapter to the local Docker engine: how a client is made and how the
engine's errors are shortened to one line."""

from __future__ import annotations

import shlex
import uuid
from typing import TYPE_CHECKING, Optional

from slimscope import stale
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


def run_once(client: DockerClient, image: str, argv: Optional[list[str]], timeout: int = 120
             ) -> tuple[int, bytes]:
    """(exit code, stdout) of `docker run --rm --network none image argv` (the image's
    own CMD when `argv` is None)."""
    import docker
    try:
        cid = client.api.create_container(image, command=argv, network_disabled=True,
                                          labels=owner_labels())["Id"]
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


OWNER_LABEL = "org.slimscope.owner"   # on every container slimscope creates
TEMP_REPO = "slimscope-tmp/"          # temporary tags: slimscope-tmp/<owner>-<random>:slim


def owner_labels() -> dict[str, str]:
    return {OWNER_LABEL: stale.owner()}


def temp_tag() -> str:
    """A tag for an image under construction, named after this process."""
    return f"{TEMP_REPO}{stale.owner()}-{uuid.uuid4().hex[:8]}:slim"


def sweep_engine(client: DockerClient) -> list[str]:
    """Remove the containers and temporary tags of slimscope runs that ended without
    cleaning up (kill -9, a power cut); only those whose maker is gone. Never fails."""
    removed: list[str] = []
    try:
        for c in client.api.containers(all=True, filters={"label": OWNER_LABEL}):
            if stale.owner_is_stale((c.get("Labels") or {}).get(OWNER_LABEL, "")):
                client.api.remove_container(c["Id"], force=True)
                removed.append(c["Id"][:12])
        for img in client.api.images(filters={"reference": TEMP_REPO + "*"}):
            for tag in img.get("RepoTags") or []:
                repo = tag.rsplit(":", 1)[0]
                who = repo[len(TEMP_REPO):].rsplit("-", 1)[0]
                if repo.startswith(TEMP_REPO) and stale.owner_is_stale(who):
                    client.api.remove_image(tag, force=True)
                    removed.append(tag)
    except Exception:   # the engine is busy or refuses: the next run tries again
        pass
    return removed
