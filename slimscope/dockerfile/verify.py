"""--verify: build the original and the generated Dockerfile with the engine, run both,
compare exit code and stdout, and report both sizes."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from typing import Optional

from slimscope.errors import BadInput

RUN_TIMEOUT = 300


@dataclass
class RunResult:
    image: str
    size: int
    exit_code: int
    stdout: str


@dataclass
class Verification:
    original: RunResult
    generated: RunResult
    kept: tuple = ()        # tags of the images built here and left in the engine

    @property
    def ok(self) -> bool:
        return (self.original.exit_code == self.generated.exit_code
                and self.original.stdout == self.generated.stdout)


def _client():
    from slimscope.engine import engine_client
    return engine_client()


def build(dockerfile_text: str, context_dir: Optional[str], tag: str) -> str:
    """Build with the engine; the Dockerfile travels inside the context tar."""
    client = _client()
    buf = io.BytesIO()
    name = ".slimscope.Dockerfile"
    with tarfile.open(fileobj=buf, mode="w") as tf:
        if context_dir:
            for entry in sorted(os.listdir(context_dir)):
                tf.add(os.path.join(context_dir, entry), arcname=entry)
        data = dockerfile_text.encode()
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(data))
    buf.seek(0)
    log = []
    for chunk in client.api.build(fileobj=buf, custom_context=True, dockerfile=name, tag=tag,
                                  rm=True, forcerm=True, pull=False, decode=True):
        if "stream" in chunk:
            log.append(chunk["stream"])
        if "error" in chunk:
            tail = "".join(log)[-1500:]
            raise BuildFailed(f"docker build of {tag} failed: {chunk['error'].strip()}", tail)
    return tag


class BuildFailed(Exception):
    def __init__(self, message: str, log: str):
        super().__init__(message)
        self.log = log


def run(image: str, command: Optional[list[str]]) -> RunResult:
    """Run `image` (its CMD, or `command`) once, without network; reuses the slimmer's runner."""
    from slimscope.engine import run_once

    client = _client()
    code, out = run_once(client, image, command, timeout=RUN_TIMEOUT)
    size = client.api.inspect_image(image)["Size"]
    return RunResult(image, size, int(code), out.decode(errors="replace"))


def tag_for(kind: str, text: str) -> str:
    return f"slimscope-verify/{kind}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def verify(original_text: Optional[str], original_image: Optional[str], generated_text: str,
           context_dir: Optional[str], smoke: Optional[list[str]],
           keep_images: bool = False) -> Verification:
    """Build what is not built yet, run both, and remove what was built here unless
    `keep_images`: a verification should not leave hundreds of MB in the engine."""
    built: list = []
    try:
        if original_image is None:
            if original_text is None:
                raise BadInput("--verify needs the Dockerfile or --image")
            original_image = build(original_text, context_dir, tag_for("original", original_text))
            built.append(original_image)
        generated_image = build(generated_text, context_dir, tag_for("generated", generated_text))
        built.append(generated_image)
        result = Verification(run(original_image, smoke), run(generated_image, smoke))
    finally:
        if not keep_images:
            remove_images(built)
    if keep_images:
        result.kept = tuple(built)
    return result


def remove_images(tags: list) -> None:
    """Untag what this run built; the engine prunes the layers no other image uses."""
    if not tags:
        return
    client = _client()
    for tag in tags:
        try:
            client.api.remove_image(tag, force=True)
        except Exception:   # already gone, or in use by a container the user started
            pass
