"""The `slimscope tui` click command. Imports Textual only when it runs."""

from __future__ import annotations

import sys

import click

from slimscope.cli.common import SOURCES_HELP, image_options, verifying
from slimscope.errors import BadInput

TUI_HELP = """Explore IMAGE in the terminal: layers, files by size, and every hidden byte.

\b
Examples:
  slimscope tui myapp:1.2
  slimscope tui sample-images/demo.tar
  slimscope tui oci:./layout --platform linux/arm64

Keys: [ ] layers, m changes/image, s sort, / filter, u changed only, o waste only,
w waste list, d details, e/c expand/collapse all, ? help, q quit.

""" + SOURCES_HELP


def check_source(image: str, image_sel=None, platform=None) -> None:
    """Fail fast (one line, exit 2) on a name no source can open, or a malformed --image
    or --platform, before the app starts."""
    from slimscope.image.reference import check_choice, open_source

    check_choice(image_sel, platform)
    open_source(image).check()


@click.command("tui", help=TUI_HELP)
@click.argument("image")
@image_options
def tui(image, image_sel, platform, no_hash, no_cache):
    check_source(image, image_sel, platform)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput("slimscope tui needs a terminal; for a report use `slimscope analyze "
                       f"{image}`")
    from slimscope.tui.app import ExplorerApp

    app = ExplorerApp(image, image_sel=image_sel, platform=platform, no_hash=no_hash,
                      no_cache=no_cache, verify=verifying())
    app.run()
    if app.error:
        err = BadInput(app.error)
        err.exit_code = app.error_code
        raise err
