"""Starting probe containers under a watch, and the paths all of them opened."""

from __future__ import annotations

from slimscope.slim.trace.containers import engine_pids, start_watched


class Tracer:
    """Passed to the probes as `watch_start`: starts each container watched; finish(cid)
    ends its watch once the container has stopped and adds what it saw; drop(cid)
    ends a watch that finish did not."""

    def __init__(self, client) -> None:
        self.client = client
        self.ignore = engine_pids(client)
        self.paths: dict = {}
        self._watches: dict = {}

    def __call__(self, cid: str) -> None:
        self._watches[cid] = start_watched(self.client, cid, self.ignore)

    def finish(self, cid: str) -> None:
        watch = self._watches.pop(cid, None)
        if watch is None:
            return
        try:
            self.client.api.wait(cid, timeout=30)
        except Exception:
            pass
        for path, mask in watch.stop().items():
            self.paths[path] = self.paths.get(path, 0) | mask

    def drop(self, cid: str) -> None:
        """End cid's watch without keeping what it saw (the probe did not finish)."""
        watch = self._watches.pop(cid, None)
        if watch is not None:
            try:
                watch.stop()
            except Exception:
                pass

    def close(self) -> None:
        for cid in list(self._watches):
            self.drop(cid)
