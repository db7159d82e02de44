"""`slimscope analyze`: the report of where every byte of an image goes."""

from __future__ import annotations

import sys

import click

from slimscope import jsonout
from slimscope.cli.common import SOURCES_HELP, image_options, load_analysis, not_empty, put_report

ANALYZE_HELP = """Where every byte of IMAGE goes: layers, waste, hidden secrets, hints.

\b
Examples:
  slimscope analyze myapp:1.2
  slimscope analyze sample-images/demo.tar --format json --files
  slimscope analyze oci:./layout --platform linux/arm64
  slimscope analyze docker-archive:app.tar.gz --image app:2 --format markdown
  slimscope analyze myapp:1.2 --format html -o report.html

""" + SOURCES_HELP


@click.command(help=ANALYZE_HELP)
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]),
              default="text", show_default=True,
              help="html: one self-contained page with a zoomable treemap (opens offline).")
@click.option("--files", is_flag=True, help="Also list the final filesystem (JSON: `files`).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1),
              help="How many rows in the largest-files, waste and hint lists.")
@click.option("--compressed", is_flag=True,
              help="Measure the push size of layers stored uncompressed (gzip, as a push would).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), callback=not_empty,
              help="Write the report to this file instead of stdout.")
@image_options
def analyze(image, fmt, files, top, compressed, output, image_sel, platform, no_hash, no_cache):
    from slimscope.core import report

    result = load_analysis(image, image_sel, platform, no_hash, no_cache)
    if compressed:
        from slimscope.core.analysis import measure_compressed
        measure_compressed(result)
    if fmt == "json" and files:
        # streamed: the records of every file are made, encoded and written a few
        # thousand at a time, never all held (the same text as below)
        def stream(out) -> None:
            doc = report.to_json(result)
            doc["files"] = (report.file_json(r) for r in result.files())
            jsonout.dump(doc, out)
            out.write("\n")
            out.flush()
        if output:
            import io

            from slimscope.fileio import write_atomic_with
            def into(f) -> None:
                text = io.TextIOWrapper(f, "utf-8", newline="\n")
                stream(text)
                text.detach()   # the file is closed by its writer, not by this wrapper
            write_atomic_with(output, into)
        else:
            stream(sys.stdout)
        return
    if fmt == "json":
        text = jsonout.dumps(report.to_json(result, include_files=files))
    elif fmt == "markdown":
        text = report.render_markdown(result, top)
    elif fmt == "html":
        from slimscope import html
        text = html.analysis_page(report.to_json(result, include_files=True))
    else:
        text = None
    if output and text is None:
        import io

        from slimscope.core.styled import Writer
        buf = io.StringIO()
        report.render_text(result, Writer(buf, width=120, color=False), top, files)
        text = buf.getvalue()
    if text is not None:
        put_report(text, output)
    else:
        from slimscope.core.styled import Writer
        report.render_text(result, Writer(), top, files)
