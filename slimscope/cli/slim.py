"""`slimscope slim`: rewrite an image smaller and prove it."""

from __future__ import annotations

import click

from slimscope.cli.common import SOURCES_HELP, image_options, load_analysis, not_empty

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
  slimscope slim docker://reg.example.com/app:1 --push docker://reg.example.com/app:1-slim
  slimscope slim myapp:1.2 --tag myapp:slim --trace --http-probe 8080/health --keep-list keep.txt
  slimscope slim myapp:1.3 --tag myapp:slim --keep-from keep.txt --http-probe 8080/health

--trace runs the image and keeps only what its probes use: the files opened,
executed or mapped (watched from the host with fanotify, nothing added to the
image), their ELF closure, --include/--include-preset, and every directory,
symlink, device and FIFO. Probes: the image's own entrypoint when none is
given; --exec CMD runs CMD as `docker run IMAGE CMD` would; --http-probe
starts the image's entrypoint with its ports on 127.0.0.1 and GETs the path.
The slimmed image is then run with the same probes and must answer the same
(exit code and output; HTTP status and body), else nothing is written (exit 1).

""" + SOURCES_HELP


@click.command(help=SLIM_HELP)
@click.argument("image")
@click.option("--tag", "tag", metavar="NAME[:TAG]", help="Tag the slimmed image in the engine.")
@click.option("-o", "--output", "out", type=click.Path(), callback=not_empty,
              help="Write the slimmed image here.")
@click.option("--push", metavar="docker://HOST/REPO:TAG",
              help="Push the verified result to a registry (refuses an existing tag without "
                   "--force).")
@click.option("--name", metavar="NAME[:TAG]",
              help="The name the -o output carries (default: --tag, else the source's name).")
@click.option("--via", type=click.Choice(["engine", "offline"]),
              help="export the filesystem through the engine, or rewrite the layers offline "
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
@click.option("--trace", is_flag=True,
              help="Run the image and keep only the files its probes use (needs root).")
@click.option("--exec", "execs", multiple=True, metavar="CMD",
              help="With --trace: a probe run as `docker run IMAGE CMD`, without a network "
                   "(repeatable).")
@click.option("--http-probe", "http", multiple=True, metavar="[PORT][/PATH]",
              help="With --trace: start the service, GET PATH on PORT (repeatable).")
@click.option("--probe-script", type=click.Path(dir_okay=False), metavar="FILE",
              help="With --trace: a host script run against the started service "
                   "(SLIMSCOPE_CONTAINER, SLIMSCOPE_PORT_<port>=127.0.0.1:<host port>).")
@click.option("--duration", type=float, metavar="SECONDS",
              help="With --trace: keep the service running this long under the watch.")
@click.option("--include", "includes", multiple=True, metavar="GLOB",
              help="With --trace: also keep paths matching GLOB (repeatable).")
@click.option("--include-preset", "include_presets", multiple=True,
              type=click.Choice(["ca-certificates", "tzdata", "users", "locale"]),
              help="With --trace: also keep a group often needed but rarely opened "
                   "(repeatable).")
@click.option("--keep-list", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the kept paths (and why) to FILE for a later --keep-from.")
@click.option("--keep-from", type=click.Path(dir_okay=False), metavar="FILE",
              help="Keep what a keep list names instead of tracing (the probes still prove it).")
@image_options
def slim(image, tag, out, push, name, via, keep_base, base_layers, removes, presets, dry_run, smoke, force,
         fmt, as_json, no_verify, compressed, trace, execs, http, probe_script, duration,
         includes, include_presets, keep_list, keep_from, image_sel, platform, no_hash,
         no_cache):
    from slimscope.slim import pipeline  # here, not at the top: every command pays for a top import
    from slimscope.slim.trace.session import TraceOptions

    traced = TraceOptions(trace, execs, http, probe_script, duration, includes, include_presets,
                          keep_list, keep_from)

    # What slim rewrites, it reads whole and checks against the image's digests first.
    # A source that downloads its blobs (a registry) keeps them here, for the rewrite
    # to read again; the others leave it empty.
    from slimscope import stale
    spool = stale.mkdtemp("spool", None)

    def read_whole(*args, **kwargs):
        return load_analysis(*args, verify=True, spool=spool, **kwargs)

    def run(out, fmt):
        return pipeline.run(read_whole, image, tag, out, name, via, keep_base, base_layers,
                            removes, presets, dry_run, smoke, force, fmt, as_json, no_verify,
                            not compressed, image_sel, platform, no_hash, no_cache, trace=traced)

    try:
        if push:
            from slimscope.slim.push import slim_and_push
            click.echo(slim_and_push(push, force, dry_run, out, run))
        else:
            click.echo(run(out, fmt))
    finally:
        import shutil
        shutil.rmtree(spool, ignore_errors=True)
