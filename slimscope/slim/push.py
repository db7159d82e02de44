"""`slim --push docker://…`: the slimmed image, verified, written as an OCI layout
into a temporary directory and pushed from there; nothing is pushed when the slim
or its verification fails, and an existing tag is refused before any work unless
--force."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable

from slimscope.core.fmt import size as fmt_size
from slimscope.errors import BadInput


def slim_and_push(target: str, force: bool, dry_run: bool, out: str | None,
                  run: Callable[[str | None, str], str]) -> str:
    """Run the slim (`run(out, fmt)` returns its report) into a layout, then push it."""
    from slimscope.image.registry_push import check_tag_free, push_layout, push_target

    ref = push_target(target)
    if out:
        raise BadInput("--push writes through a layout of its own; drop -o (or push it later)")
    check_tag_free(ref, force)
    if dry_run:
        return run(None, "docker")
    tmp = tempfile.mkdtemp(prefix="slimscope-push-")
    try:
        layout = f"{tmp}/layout"
        report = run(layout, "oci")
        pushed = push_layout(layout, ref, force)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = report.replace(layout, ref.name)  # the layout was only on the way
    return (f"{report}\npushed {pushed.name} ({pushed.digest[:19]}): {pushed.uploaded} blobs "
            f"sent ({fmt_size(pushed.uploaded_bytes)}), {pushed.present} already there")
