"""`slimscope lint`: the Dockerfile's size and reproducibility anti-patterns."""

from __future__ import annotations

import json

import click

from slimscope.cli.common import default_dockerfile, measured
from slimscope.errors import BadInput

LINT_HELP = """Size and reproducibility anti-patterns of the Dockerfile PATH (default ./Dockerfile).

\b
Each finding names its line; with --image (the image built from PATH) it also
gives the bytes it costs, measured from the image's layers. SARIF 2.1.0 output
lets code hosts show the findings inline. Exit 1 when there are findings of
level warning or error (--exit-zero: always 0).

\b
Examples:
  slimscope lint
  slimscope lint app/Dockerfile --image app:1.0
  slimscope lint --format sarif -o slimscope.sarif
"""



@click.command("lint", help=LINT_HELP)
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--image", metavar="IMAGE", help="The image built from PATH: measure each finding.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)
@click.option("-o", "--output", metavar="OUT", type=click.Path(dir_okay=False),
              help="Write the report here instead of stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the layer-index cache.")
def lint_cmd(path, image, fmt, output, exit_zero, no_cache):
    from slimscope.dockerfile import lint, parser

    path = default_dockerfile(path)
    if path is None:
        raise BadInput("no Dockerfile here: name one")
    df = parser.read(path)
    _, measure = measured(df, image, no_cache)
    findings = lint.lint(df, measure)
    if fmt == "json":
        text = json.dumps(lint.to_json(findings, path, image), indent=2)
    elif fmt == "sarif":
        text = json.dumps(lint.to_sarif(findings, path), indent=2)
    else:
        text = lint.to_text(findings, path)
    if output:
        from slimscope.fileio import write_atomic
        write_atomic(output, text.encode() + b"\n")
    else:
        click.echo(text)
    if not exit_zero and any(f.level in ("warning", "error") for f in findings):
        click.get_current_context().exit(1)
