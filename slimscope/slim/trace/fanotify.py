"""Every open, exec and read on one filesystem, seen from the host through fanotify.

A FAN_MARK_FILESYSTEM mark sits on a superblock, so it sees the accesses made
through every mount of it, including the container's own root mount inside its
mount namespace (a FAN_MARK_MOUNT mark on the host's merged dir would see none
of them: the container pivots into a copy of that mount). Each event carries an
open fd of the file; its /proc/self/fd link names the file as the opener sees it.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import tempfile
import threading

from slimscope.errors import BadInput

FAN_CLOEXEC, FAN_NONBLOCK, FAN_UNLIMITED_QUEUE = 0x1, 0x2, 0x10
FAN_ACCESS, FAN_OPEN, FAN_OPEN_EXEC, FAN_Q_OVERFLOW = 0x1, 0x20, 0x1000, 0x4000
FAN_MARK_ADD, FAN_MARK_FILESYSTEM = 0x1, 0x100
AT_FDCWD = -100
EVENTS = FAN_OPEN | FAN_OPEN_EXEC | FAN_ACCESS
_META = struct.Struct("IBBHQii")   # struct fanotify_event_metadata


class WatchUnavailable(BadInput):
    """This process may not watch files (not root, no fanotify)."""


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
    libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int,
                                   ctypes.c_char_p]
    return libc


def _init(libc) -> int:
    fd = libc.fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
                            os.O_RDONLY | os.O_LARGEFILE | os.O_CLOEXEC)
    if fd < 0:
        err = ctypes.get_errno()
        raise WatchUnavailable(f"--trace needs to watch files from the host (root with "
                               f"CAP_SYS_ADMIN, fanotify): fanotify_init: {os.strerror(err)}")
    return fd


def _mark(libc, fd: int, path: str) -> None:
    if libc.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, EVENTS, AT_FDCWD,
                          os.fsencode(path)) < 0:
        err = ctypes.get_errno()
        raise WatchUnavailable(f"--trace cannot watch {path}: fanotify_mark: {os.strerror(err)}")


def check() -> None:
    """Raise WatchUnavailable unless a filesystem mark can be placed here."""
    try:
        libc = _libc()
    except (OSError, AttributeError):
        raise WatchUnavailable("--trace needs fanotify (Linux), which this system lacks") from None
    fd = _init(libc)
    try:
        with tempfile.TemporaryDirectory(prefix="slimscope-fanotify-") as d:
            _mark(libc, fd, d)
    finally:
        os.close(fd)


def _pid_ns(pid) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


class Watch:
    """Collects the paths opened on the filesystem holding `root` by the container's
    processes, until stop().

    The engine reads the same root (its export helper, its user lookup) from the
    host's pid namespace; a container's processes live in their own. So the first
    event of each pid decides: a live process in the host's pid namespace, or one
    of `ignore_pids`, is not the container's. A pid already gone when its first
    event is read was a short-lived process of the container (the engine's
    helpers live on while the watch is placed).
    """

    def __init__(self, root: str, ignore_pids=()):
        self.root = root.rstrip("/")
        self.ignore = set(ignore_pids) | {os.getpid()}
        self._host_ns = _pid_ns("self")
        self._pids: dict = {}      # pid -> is the container's
        self.paths: dict = {}      # path as the container sees it -> OR of event masks
        self.error: BaseException | None = None
        self._libc = _libc()
        self._fd = _init(self._libc)
        self._stop_r, self._stop_w = os.pipe()
        try:
            _mark(self._libc, self._fd, root)
        except BaseException:
            self._close()
            raise
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        try:
            while True:
                ready = {fd for fd, _ in poller.poll()}
                self._drain()
                if self._stop_r in ready:
                    self._drain()
                    return
        except BaseException as e:   # handed to stop()
            self.error = e

    def _drain(self):
        while True:
            try:
                buf = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            off = 0
            while off + _META.size <= len(buf):
                length, _v, _r, _ml, mask, fd, pid = _META.unpack_from(buf, off)
                off += length
                if mask & FAN_Q_OVERFLOW:
                    raise BadInput("--trace: the kernel dropped file events (queue overflow)")
                if fd < 0:
                    continue
                try:
                    if self._containers(pid):
                        self._record(os.readlink(f"/proc/self/fd/{fd}"), mask)
                finally:
                    os.close(fd)

    def _containers(self, pid: int) -> bool:
        known = self._pids.get(pid)
        if known is None:
            ns = _pid_ns(pid)
            known = pid not in self.ignore and (ns is None or ns != self._host_ns)
            self._pids[pid] = known
        return known

    def _record(self, path: str, mask: int):
        if path.endswith(" (deleted)"):
            path = path[:-len(" (deleted)")]
        if path == self.root or path.startswith(self.root + "/"):
            path = path[len(self.root):] or "/"    # opened through the host's mount
        if path.startswith("/"):
            self.paths[path] = self.paths.get(path, 0) | mask

    def stop(self) -> dict:
        """Stop watching; the paths seen so far."""
        if self._thread.is_alive():
            os.write(self._stop_w, b"x")
            self._thread.join()
        self._close()
        if self.error is not None:
            raise self.error
        return self.paths

    def _close(self):
        for fd in (self._fd, self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._fd = self._stop_r = self._stop_w = -1
