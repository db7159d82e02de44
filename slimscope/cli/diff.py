"""`slimscope diff`: what changed between two images or saved reports."""

from __future__ import annotations

import click

from slimscope import jsonout
from slimscope.cli.common import SOURCES_HELP, image_options, load_analysis, not_empty, put_report

DIFF_HELP = """What changed between OLD and NEW: totals, layers, directories and files.

OLD and NEW are images or saved JSON reports (`slimscope analyze --format json
--files` or `slimscope ci --json`); a report without its file list still gives
the totals and layers.

\b
Examples:
  slimscope diff myapp:1.2 myapp:1.3
  slimscope diff ci-main.json build/image.tar --format markdown -o diff.md
  slimscope diff old.json new.json --format json --top 50
  slimscope diff myapp:1.2 myapp:1.3 --format html -o diff.html

""" + SOURCES_HELP


@click.command("diff", help=DIFF_HELP)
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]),
              default="text", show_default=True,
              help="html: one self-contained page with a treemap of growth (opens offline).")
@click.option("--top", default=15, show_default=True, type=click.IntRange(1),
              help="How many directories and files to list (JSON: all when not given).")
@click.option("--depth", default=3, show_default=True, type=click.IntRange(1),
              help="How deep to total directories.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), callback=not_empty,
              help="Write the report to this file instead of stdout.")
@image_options
def diff(old, new, fmt, top, depth, output, image_sel, platform, no_hash, no_cache):
    from slimscope.core import delta as d
    from slimscope.diff import render

    def loader(label):
        return lambda name: load_analysis(name, image_sel, platform, no_hash, no_cache, label)

    old_view = d.load_view(old, loader("reading old"))
    new_view = d.load_view(new, loader("reading new"))
    result = d.compare(old_view, new_view, depth)
    top_given = click.get_current_context().get_parameter_source("top").name != "DEFAULT"
    if fmt == "json":
        text = jsonout.dumps(d.to_json(result, top if top_given else None))
    elif fmt == "markdown":
        text = render.render_markdown(result, top)
    elif fmt == "html":
        from slimscope import html
        text = html.diff_page(d.to_json(result, top if top_given else None))
    else:
        text = render.render_text(result, top)
    put_report(text, output)
