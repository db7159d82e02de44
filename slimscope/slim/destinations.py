"""Where a slimmed image goes: the user's tags and paths, checked before any work,
claimed atomically at the end, and everything temporary undone if the run stops."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from typing import TYPE_CHECKING, Optional

from slimscope import stale
from slimscope.engine import temp_tag as engine_temp_tag
from slimscope.errors import BadInput, SlimscopeError, Terminated

if TYPE_CHECKING:
    from docker import DockerClient


def temp_tag() -> str:
    return engine_temp_tag()


def tag_exists(client, tag: str) -> bool:
    import docker
    try:
        client.api.inspect_image(tag)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as e:
        raise BadInput(f"the Docker engine refused to look up {tag!r}: {e.explanation or e}"
                       ) from None


def check_tag(tag: str, flag: str = "--tag") -> None:
    from slimscope.slim.engine import split_tag
    name, t = split_tag(tag)
    ok = name and name == name.lower() and all(c.isalnum() or c in "._-/:" for c in name) \
        and t and all(c.isalnum() or c in "._-" for c in t) and len(t) <= 128
    if not ok:
        raise BadInput(f"{flag} {tag!r} is not a valid image reference (name[:tag], lower case)")


def untag(client, ref: str) -> None:
    try:
        client.api.remove_image(ref, force=True)
    except Exception:
        pass


def retag(client, image_id: str, tag: str) -> None:
    from slimscope.slim.engine import split_tag
    repo, t = split_tag(tag)
    client.api.tag(image_id, repo, t, force=True)


def output_path(out: str, src_path) -> str:
    """Where -o really writes: a symlink is followed (the link stays); the source itself,
    under any name, and anything but a file or a directory are refused, --force or not."""
    if not out:
        raise BadInput("-o: the output path is empty")
    real = os.path.realpath(out) if os.path.islink(out) else out
    if src_path and (os.path.realpath(real) == os.path.realpath(src_path)
                     or same_file(real, src_path)):
        raise BadInput(f"-o {out} is the source itself; the source is never overwritten")
    if os.path.lexists(real) and not (os.path.isfile(real) or os.path.isdir(real)):
        raise BadInput(f"-o {out} is not a regular file or a directory; slim writes an image "
                       "archive or an OCI layout there")
    if real.endswith("/") and not os.path.isdir(real):
        real = real.rstrip("/") or "/"   # the name the link or mkdir below can take
    return real


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def commit_path(tmp: str, out: str, force: bool) -> None:
    """Give the staged output its name. Without --force the name is claimed atomically
    (a link for a file, mkdir for a layout): of two runs, one wins and one says so."""
    if force:
        replace_path(tmp, out)
        return
    try:
        if os.path.isdir(tmp):
            os.mkdir(out)               # our claim; the rename below replaces it
            os.replace(tmp, out)
        else:
            os.link(tmp, out)
            os.unlink(tmp)
    except FileExistsError:
        raise BadInput(f"{out} appeared while slimming; pass --force to replace it") from None


def replace_path(tmp: str, out: str) -> None:
    """Move tmp to out; an existing directory out is swapped away first (with --force)."""
    if os.path.isdir(out) and not os.path.islink(out):
        old = stale.mkdtemp("old", os.path.dirname(os.path.abspath(out)))
        os.rmdir(old)
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


class Cleanup:
    """What to undo unless the slim completes: temporary files, dirs and tags."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.tags: list[str] = []
        self.client: Optional[DockerClient] = None   # the engine the tags are removed from
        self.committed: list = []      # outputs already given their names

    def run(self):
        for p in self.paths:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass
        for t in self.tags:
            untag(self.client, t)


class StoppedAfterCommit(SlimscopeError):
    """Ctrl-C or SIGTERM came after the output got its name: it is written, and whole."""

    def __init__(self, signal_error: KeyboardInterrupt, targets: list):
        word = "terminated" if isinstance(signal_error, Terminated) else "interrupted"
        super().__init__(f"{word} after writing {', '.join(targets)} (complete and verified; "
                         "the report was not printed)")
        self.exit_code = 143 if isinstance(signal_error, Terminated) else 130


@contextlib.contextmanager
def signals_held():
    """Hold SIGINT and SIGTERM for the few calls that give the outputs their names."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def same_tag(tag: str, src_ref: str) -> bool:
    from slimscope.slim.engine import split_tag
    return split_tag(tag) == split_tag(src_ref)
