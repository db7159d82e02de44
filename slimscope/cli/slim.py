"""`slimscope slim`: rewrite an image smaller and prove it."""

from __future__ import annotations

import click

from slimscope.cli.common import SOURCES_HELP, image_options, load_analysis
from slimscope.slim import pipeline

SLIM_HELP = """Rewrite IMAGE smaller, prove the result still matches, report where the bytes went.

Flattening alone drops every byte that a later layer hid (deleted, overwritten,
re-stored by chmod/chown) and is lossless; --remove and --preset drop more, only
when asked. The output is re-analyzed and its filesystem and config compared with
the input's minus what was removed; any difference fails (exit 1).

\b
Examples:
  slimscope slim myapp:1.2 --tag myapp:1.2-slim --smoke 'myapp --version'
  slimscope slim app.tar -o app-slim.tar
  slimscope slim myapp:1.2 --tag myapp:slim --preset apt --preset docs --dry-run
  slimscope slim myapp:1.2 --tag myapp:slim --keep-base
  slimscope slim oci:./layout -o ./slim-layout --format oci

""" + SOURCES_HELP


@click.command(help=SLIM_HELP)
@click.argument("image")
@click.option("--tag", "tag", metavar="NAME[:TAG]", help="Tag the slimmed image in the engine.")
@click.option("-o", "--output", "out", type=click.Path(), help="Write the slimmed image here.")
@click.option("--name", metavar="NAME[:TAG]",
              help="The name the -o output carries (default: --tag, else the source's name).")
@click.option("--via", type=click.Choice(["engine", "offline"]),
              help="export/import through the engine, or rewrite the layers offline "
                   "(default: engine when IMAGE is in the engine, else offline).")
@click.option("--keep-base", is_flag=True,
              help="Keep the base image's layers as they are; squash only the layers above.")
@click.option("--base-layers", type=int, metavar="N",
              help="With --keep-base: the first N layers are the base (default: found).")
@click.option("--remove", "removes", multiple=True, metavar="GLOB",
              help="Also remove paths matching GLOB (repeatable; /abs or any-depth, ** crosses /).")
@click.option("--preset", "presets", multiple=True,
              type=click.Choice(["apt", "pip", "npm", "apk", "docs", "pycache", "tmp"]),
              help="Also remove well-known junk (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print what would go and the bytes per rule; "
                                               "change nothing.")
@click.option("--smoke", metavar="CMD",
              help="Run CMD in the original and the slimmed image; compare exit code and stdout.")
@click.option("--force", is_flag=True, help="Replace an existing target tag or file.")
@click.option("--format", "fmt", type=click.Choice(["docker", "oci"]), default="docker",
              show_default=True, help="-o writes a `docker load`-able archive or an OCI layout dir.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-verify", is_flag=True, help="Skip re-analyzing the output (not advised).")
@click.option("--compressed/--no-compressed", default=False,
              help="Also measure the gzip sizes of the input's and the output's layers for the "
                   "report: a second read of both (default: not measured).")
@image_options
def slim(image, tag, out, name, via, keep_base, base_layers, removes, presets, dry_run, smoke, force,
         fmt, as_json, no_verify, compressed, image_sel, platform, no_hash, no_cache):
    click.echo(pipeline.run(load_analysis, image, tag, out, name, via, keep_base, base_layers, removes,
                            presets, dry_run, smoke, force, fmt, as_json, no_verify,
                            not compressed, image_sel, platform, no_hash, no_cache))
