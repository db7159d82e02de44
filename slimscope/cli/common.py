"""What every command that reads an image shares: its options, its help text, and
loading the analysis with a progress bar on a terminal."""

from __future__ import annotations

import functools
import os
import sys

import click

SOURCES_HELP = """IMAGE is any of: a `docker save` archive (plain or gzip; - reads one
from stdin), an OCI layout directory, an OCI archive, or an image in the local
Docker engine. Prefixes force the kind: docker-archive:PATH[:NAME:TAG],
oci:DIR[:TAG], oci-archive:PATH[:TAG], docker-daemon:REF."""


def not_empty(ctx, param, value):
    """A file option given as '' names no file: say so rather than print to stdout."""
    if value is not None and not str(value).strip():
        from slimscope.errors import BadInput
        raise BadInput(f"{param.opts[-1]} is empty: give a path (or leave the option out)")
    return value


def image_options(f):
    """Options every command that reads an image shares."""

    @click.option("--image", "image_sel", metavar="REF",
                  help="Which image of an archive or layout that holds several.")
    @click.option("--platform", metavar="OS/ARCH",
                  help="Which platform of a multi-platform index (default: this host's).")
    @click.option("--no-hash", is_flag=True,
                  help="Skip content hashing (faster; cannot tell metadata-only duplication).")
    @click.option("--no-cache", is_flag=True, help="Do not read or write the layer-index cache.")
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


def progress_callback(label: str):
    """A progress bar on stderr when it is a terminal, else None. Returns (callback, stop)."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)
    task = prog.add_task(label, total=None)
    prog.start()

    def update(done, total):
        prog.update(task, completed=done, total=total)

    return update, prog.stop


def load_analysis(image: str, image_sel=None, platform=None, no_hash=False, no_cache=False,
                  label: str = "reading"):
    from slimscope.core.analysis import analyze

    callback, stop = progress_callback(f"{label} {image}")
    try:
        return analyze(image, hash_contents=not no_hash, image=image_sel, platform=platform,
                       use_cache=not no_cache, progress=callback)
    finally:
        stop()


def default_dockerfile(path):
    """PATH as given, else ./Dockerfile when there is one."""
    if path:
        return path
    return "Dockerfile" if os.path.exists("Dockerfile") else None


def measured(df, image, no_cache):
    """The analysis of the image built from the Dockerfile df, and its measurer."""
    from slimscope.dockerfile.measure import Measure, NoMeasure

    if not image:
        return None, NoMeasure()
    analysis = load_analysis(image, no_cache=no_cache, label="measuring")
    measure = Measure(analysis, df.final.instructions) if df is not None else NoMeasure()
    return analysis, measure
