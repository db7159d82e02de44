"""Containers for tracing and replaying, and the watch placed before the first process runs.

The engine mounts a container's root filesystem only when it starts, and the
first process runs a moment later, too soon to mark the mount after the fact.
So the mount is made earlier: an export of the created container makes the
engine mount its root (and hold it while the export stream stays open, unread).
The watch is marked on that mount, then `start` finds the root mounted and
reuses it (the overlay driver counts its users), and the export is closed. Every
access of the container, from the runtime's first look at /etc/passwd to the
entrypoint's exec, lands on the watched superblock. The engine's own reads
(the export, the user lookup) come from the engine's pid and are left out.
"""

from __future__ import annotations

import os
import socket
import struct
import time
import uuid

from slimscope.engine import owner_labels, short_error
from slimscope.errors import BadInput
from slimscope.slim.trace.fanotify import Watch

PREFIX = "slimscope-trace-"


def engine_pids(client) -> set:
    """The engine's pid, asked of its unix socket (SO_PEERCRED); empty when remote."""
    base = str(getattr(client.api, "base_url", ""))
    path = "/var/run/docker.sock"
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        path = host[len("unix://"):]
    elif host or not base.startswith("http+docker://"):
        return set()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return {struct.unpack("3i", cred)[0]}
    except OSError:
        return set()


class Containers:
    """Every container made here, so that none outlives the slim, whatever happens."""

    def __init__(self, client) -> None:
        self.client = client
        self.ids: list = []
        self.run_id = uuid.uuid4().hex[:10]

    def create(self, image: str, role: str, **kwargs) -> str:
        import docker
        name = f"{PREFIX}{self.run_id}-{role}-{len(self.ids)}"
        try:
            kwargs["labels"] = {**owner_labels(), **(kwargs.get("labels") or {})}
            cid = self.client.api.create_container(image, name=name, **kwargs)["Id"]
        except docker.errors.APIError as e:
            raise BadInput(f"cannot create a container from {image}: "
                           f"{e.explanation or e}") from None
        self.ids.append(cid)
        return cid

    def remove(self, cid: str) -> None:
        try:
            self.client.api.remove_container(cid, force=True, v=True)
        except Exception:
            pass
        if cid in self.ids:
            self.ids.remove(cid)

    def remove_all(self) -> None:
        for cid in list(self.ids):
            self.remove(cid)


class HeldRoot:
    """The root filesystem of a created container, mounted by the engine while held."""

    def __init__(self, client, cid: str, timeout: float = 30):
        self.client, self.cid = client, cid
        info = client.api.inspect_container(cid)
        data = (info.get("GraphDriver") or {}).get("Data") or {}
        merged = data.get("MergedDir")
        if not merged:
            driver = (info.get("GraphDriver") or {}).get("Name")
            raise BadInput(f"--trace needs the engine's overlay2 storage driver (it uses "
                           f"{driver!r}): no merged root directory to watch")
        self.merged: str = merged
        try:
            self._stream = client.api._get(client.api._url("/containers/{0}/export", cid),
                                           stream=True)
        except Exception as e:
            raise BadInput(f"cannot mount the root of container {cid[:12]}: "
                           f"{short_error(e)}") from None
        deadline = time.monotonic() + timeout
        while not os.path.ismount(self.merged):
            if time.monotonic() > deadline:
                self.release()
                raise BadInput(f"the engine did not mount the root of container {cid[:12]} "
                               f"at {self.merged}; is this process in the engine's "
                               "mount namespace?")
            time.sleep(0.005)

    def release(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def start_watched(client, cid: str, ignore_pids) -> Watch:
    """Start the created container cid with a watch on its root already in place."""
    held = HeldRoot(client, cid)
    try:
        watch = Watch(held.merged, ignore_pids)
        try:
            client.api.start(cid)
        except BaseException:
            watch.stop()
            raise
    finally:
        held.release()
    return watch
