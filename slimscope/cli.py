"""The `slimscope` command line: one group, one module per command family."""

from __future__ import annotations

import functools
import json
import sys

import click

from slimscope import __version__
from slimscope.errors import SlimscopeError

SOURCES_HELP = """IMAGE is any of: a `docker save` archive (plain or gzip), an OCI layout
directory, an OCI archive, or an image in the local Docker engine. Prefixes force
the kind: docker-archive:PATH, oci:DIR, oci-archive:PATH, docker-daemon:REF."""


class Group(click.Group):
    """Turns every expected failure into one line on stderr and its exit code."""

    def invoke(self, ctx):
        debug = ctx.params.get("debug") or "--debug" in sys.argv
        try:
            return super().invoke(ctx)
        except SlimscopeError as e:
            if debug:
                raise
            click.echo(f"slimscope: {e}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("slimscope: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as e:  # a bug: still one line, with the way to see more
            if debug:
                raise
            click.echo(f"slimscope: unexpected error: {type(e).__name__}: {e} "
                       "(run with --debug for a traceback)", err=True)
            ctx.exit(2)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slimscope")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug):
    """See where the bytes of a container image go, gate them in CI, make the image smaller.

    \b
    Examples:
      slimscope analyze myapp:1.2
      slimscope analyze sample-images/demo.tar --format json
      slimscope tui oci:./layout
    """


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
    from slimscope.analysis import analyze

    callback, stop = progress_callback(f"{label} {image}")
    try:
        return analyze(image, hash_contents=not no_hash, image=image_sel, platform=platform,
                       use_cache=not no_cache, progress=callback)
    finally:
        stop()


ANALYZE_HELP = """Where every byte of IMAGE goes: layers, waste, hidden secrets, hints.

\b
Examples:
  slimscope analyze myapp:1.2
  slimscope analyze sample-images/demo.tar --format json --files
  slimscope analyze oci:./layout --platform linux/arm64
  slimscope analyze docker-archive:app.tar.gz --image app:2 --format markdown

""" + SOURCES_HELP


@main.command(help=ANALYZE_HELP)
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@click.option("--files", is_flag=True, help="Also list the final filesystem (JSON: `files`).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1),
              help="How many rows in the largest-files, waste and hint lists.")
@click.option("--compressed", is_flag=True,
              help="Measure the push size of layers stored uncompressed (gzip, as a push would).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file instead of stdout.")
@image_options
def analyze(image, fmt, files, top, compressed, output, image_sel, platform, no_hash, no_cache):
    from slimscope import report

    result = load_analysis(image, image_sel, platform, no_hash, no_cache)
    if compressed:
        from slimscope.analysis import measure_compressed
        measure_compressed(result)
    if fmt == "json":
        text = json.dumps(report.to_json(result, include_files=files), indent=2)
    elif fmt == "markdown":
        text = report.render_markdown(result, top)
    else:
        text = None
    if output:
        from slimscope.fileio import write_atomic
        if text is None:
            from rich.console import Console
            con = Console(record=True, width=120, file=open("/dev/null", "w"))
            report.render_text(result, con, top, files)
            text = con.export_text()
        write_atomic(output, text.encode() + b"\n")
        return
    if text is not None:
        click.echo(text)
    else:
        from rich.console import Console
        report.render_text(result, Console(), top, files)
from slimscope.gate.command import ci as _ci; main.add_command(_ci)  # noqa: E402
from slimscope.gate.command import diff as _diff; main.add_command(_diff)  # noqa: E402
from slimscope.dockerfile.cli import dockerfile_cmd as _dockerfile; main.add_command(_dockerfile)  # noqa: E402,E702
from slimscope.dockerfile.cli import lint_cmd as _lint; main.add_command(_lint)  # noqa: E402,E702
from slimscope.tui.command import tui as _tui; main.add_command(_tui)  # noqa: E402
from slimscope.slim.command import slim as _slim; main.add_command(_slim)  # noqa: E402,E702
