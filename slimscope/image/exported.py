"""Images kept by Podman (`podman:REF`) or containerd (`containerd:REF`, with
--namespace), read through the archive stream each tool's own command writes:
`podman image save` (a docker-archive) and `ctr images export` (an OCI archive).

The stream goes straight into the archive reader, read once, never written to
disk. The command's failure (no such image, no daemon) is what the user sees,
as one line, in place of a truncated archive.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING, BinaryIO, Optional

from slimscope.errors import BadInput
from slimscope.image.reference import CONTAINERD, PODMAN
from slimscope.image.tarstream import TarStreamSource
from slimscope.index.streams import ByteFile

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer




def containerd_name(ref: str) -> str:
    """containerd keeps fully qualified names: `alpine` is docker.io/library/alpine:latest."""
    from slimscope.image.registry import parse_registry_ref
    if "@" not in ref and ref.rsplit("/", 1)[-1].count(":") == 0:
        ref += ":latest"
    r = parse_registry_ref(ref)
    return r.name.removeprefix("docker://")


class _CommandOutput(io.RawIOBase):
    """A command's stdout; at its end, the command must have succeeded."""

    def __init__(self, proc: subprocess.Popen[bytes], stderr: BinaryIO, what: str):
        self.proc, self.stderr, self.what = proc, stderr, what

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        assert self.proc.stdout is not None
        n = self.proc.stdout.readinto(b)  # type: ignore[attr-defined]
        if not n:
            self._finish()
        return int(n or 0)

    def _finish(self) -> None:
        code = self.proc.wait()
        self.stderr.seek(0)
        err = self.stderr.read()
        if code != 0:
            lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
            raise BadInput(f"{self.what} failed: {lines[-1].strip() if lines else f'exit {code}'}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()
        super().close()


class ExportedSource(TarStreamSource):
    """One image in Podman's or containerd's store, read through its export stream."""

    def __init__(self, tool: str, ref: str, namespace: Optional[str] = None):
        self.tool, self.ref = tool, ref
        self.reference = f"{tool}:{ref}"
        self.where = self.reference
        if tool == CONTAINERD:
            self.namespace = namespace or os.environ.get("CONTAINERD_NAMESPACE") or "default"
            self.name = containerd_name(ref)
            self.save = ["ctr", "--namespace", self.namespace, "images", "export", "-", self.name]
            self.exists = ["ctr", "--namespace", self.namespace, "images", "ls", "-q",
                           f"name=={self.name}"]
        else:
            self.name = ref
            self.save = ["podman", "image", "save", "--quiet", "--format", "docker-archive", ref]
            self.exists = ["podman", "image", "exists", ref]

    def _program(self) -> str:
        prog = self.save[0]
        if shutil.which(prog) is None:
            raise BadInput(f"{self.reference}: {prog} is not installed")
        return prog

    def check(self) -> None:
        self._program()
        try:
            r = subprocess.run(self.exists, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise BadInput(f"{self.reference}: {self.exists[0]} did not answer in 60 s") from None
        out = r.stdout.decode(errors="replace").split()
        if r.returncode == 0 and (self.tool == PODMAN or self.name in out):
            return
        err = [ln for ln in r.stderr.decode(errors="replace").splitlines() if ln.strip()]
        if r.returncode != 0 and err:
            raise BadInput(f"{self.reference}: {err[-1].strip()}")
        where = f" in namespace {self.namespace}" if self.tool == CONTAINERD else ""
        raise BadInput(f"no such image in {self.tool}{where}: {self.name}")

    def open_stream(self) -> ByteFile:
        self.check()
        # stderr to a file, not a pipe: a chatty command must not block on a full pipe
        err = tempfile.TemporaryFile()
        proc = subprocess.Popen(self.save, stdout=subprocess.PIPE, stderr=err,
                                stdin=subprocess.DEVNULL)
        return _CommandOutput(proc, err, " ".join(self.save[:5 if self.tool == CONTAINERD else 3]))
