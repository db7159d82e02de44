"""`slimscope dockerfile`: the smaller multi-stage Dockerfile."""

from __future__ import annotations

import os

import click

from slimscope.cli.common import default_dockerfile, measured, not_empty, registry_options
from slimscope.errors import BadInput, CheckFailed

DOCKERFILE_HELP = """Write a smaller multi-stage Dockerfile for PATH (default ./Dockerfile).

\b
Build-only packages and steps (compilers, *-dev headers, fetches, pip/npm/go/
cargo/mvn builds) stay in a `builder` stage; the runtime stage installs only
runtime packages and copies only what runs. A static result goes FROM scratch.
In-place fixes (apt lists, --no-install-recommends, pip --no-cache-dir, a later
rm, chown/chmod layers) apply in every mode. Each change carries a
`# slimscope:` comment; with --image (the image built from PATH) it gives the
bytes it saves, measured. Without PATH, --image alone gives the image-driven
rewrite: FROM IMAGE AS full, junk removed, FROM scratch, COPY --from=full / /.

\b
Examples:
  slimscope dockerfile -o Dockerfile.slim
  slimscope dockerfile app/Dockerfile --image app:1.0 -o app/Dockerfile.slim
  slimscope dockerfile --verify --smoke "hello --version" -o Dockerfile.slim
  slimscope dockerfile --image app:1.0 -o Dockerfile.flat      # no Dockerfile at hand
"""

@click.command("dockerfile", help=DOCKERFILE_HELP)
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--image", metavar="IMAGE",
              help="The image built from PATH: measures every change (any source analyze reads).")
@click.option("--base", metavar="IMAGE", help="Base of the runtime stage (default: the original base).")
@click.option("-o", "--output", metavar="OUT", type=click.Path(dir_okay=False), callback=not_empty,
              help="Write the generated Dockerfile here (default: stdout).")
@click.option("--force", is_flag=True, help="Replace OUT when it exists.")
@click.option("--verify", is_flag=True,
              help="Build the original and the generated file, run both, compare exit code and stdout.")
@click.option("--smoke", metavar="CMD", help="Command to run for --verify instead of the image's CMD.")
@click.option("--legacy-builder", is_flag=True,
              help="Stay within the classic builder (no COPY --chmod); implied by --verify.")
@click.option("--keep-images", is_flag=True,
              help="With --verify: keep the images it builds (default: removed after the run).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the layer-index cache.")
@registry_options
def dockerfile_cmd(path, image, base, output, force, verify, smoke, legacy_builder, keep_images,
                   no_cache):
    from slimscope.dockerfile import generate, parser

    path = default_dockerfile(path)
    if path is None and not image:
        raise BadInput("no Dockerfile here: name one, or give --image for the image-driven rewrite")
    if output and path and os.path.abspath(output) == os.path.abspath(path):
        raise BadInput(f"-o {output} is the input Dockerfile; write the result to another file")
    if output and os.path.exists(output) and not force:
        raise BadInput(f"{output} exists; pass --force to replace it")
    if keep_images and not verify:
        raise BadInput("--keep-images goes with --verify")
    smoke_argv = None
    if smoke is not None:
        from slimscope.engine import smoke_argv as split_smoke
        smoke_argv = split_smoke(smoke)
    df = parser.read(path) if path else None
    analysis, measure = measured(df, image, no_cache)
    if df is None:
        result = generate.fallback(analysis, _image_ref(analysis, image))
    else:
        result = generate.generate(df, measure, analysis=analysis, base=base,
                                   context_dir=os.path.dirname(os.path.abspath(path)),
                                   legacy_builder=legacy_builder or verify,
                                   image_ref=_image_ref(analysis, image) if analysis else "")
    text = result.text
    _summary(result, measure)

    failure = None
    if verify:
        from slimscope.dockerfile import verify as verifier
        original = open(path, encoding="utf-8").read() if path else None
        orig_image = _engine_ref(image) if image else None
        try:
            v = verifier.verify(original, orig_image, text,
                                os.path.dirname(os.path.abspath(path)) if path else None, smoke_argv,
                                keep_images=keep_images)
        except verifier.BuildFailed as e:
            text = "# slimscope: UNVERIFIED: the generated file did not build\n" + text
            click.echo(f"{e}\n{e.log}", err=True)
            failure = str(e)
        else:
            _report_verification(v)
            if not v.ok:
                text = ("# slimscope: UNVERIFIED: the generated image does not run like the original\n"
                        + text)
                failure = "verification failed: the generated image does not run like the original"
    if output:
        from slimscope.fileio import write_atomic
        write_atomic(output, text.encode(), force=True)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    if failure:
        raise CheckFailed(failure)


def _image_ref(analysis, image: str) -> str:
    """The name to write after FROM for the image-driven rewrite."""
    ref = image
    # a builder pulls registry names itself; Podman's and containerd's are names it knows too
    for prefix in ("docker-daemon:", "docker://", "podman:", "containerd:"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    if os.path.exists(ref) or ref.startswith(("oci:", "oci-archive:", "docker-archive:")):
        tags = [t for t in [analysis.image.reference] if t and ":" in t and not os.path.exists(t)]
        if tags:
            return tags[0]
        raise BadInput(f"{image} is a file; the image-driven rewrite needs the image in the engine "
                       "(load it, then name its tag)")
    return ref


def _engine_ref(image: str) -> str:
    return image[len("docker-daemon:"):] if image.startswith("docker-daemon:") else image


def _summary(result, measure) -> None:
    from slimscope.core.fmt import size
    click.echo(f"slimscope dockerfile: {result.mode}, {len(result.changes)} change"
               f"{'s' if len(result.changes) != 1 else ''}"
               + (f", {size(result.measured_bytes)} measured" if result.measured_bytes else ""), err=True)
    for c in result.changes:
        where = f"line {c.line}: " if c.line else ""
        click.echo(f"  {where}{c.comment}" + (f" ({size(c.bytes)})" if c.bytes else ""), err=True)
    for n in result.notes:
        click.echo(f"  note: {n}", err=True)


def _smaller(old: int, new: int) -> str:
    """" (99.8% smaller)": rounded down, so only an empty image reads 100%."""
    if not old or new == old:
        return ""
    if new > old:
        return f" ({(new - old) * 100 / old:.1f}% larger)"
    tenths = (old - new) * 1000 // old
    return f" ({tenths // 10}.{tenths % 10}% smaller)"


def _report_verification(v) -> None:
    from slimscope.core.fmt import size
    o, g = v.original, v.generated
    pct = _smaller(o.size, g.size)
    click.echo(f"original : {o.image} {size(o.size)} exit {o.exit_code}", err=True)
    click.echo(f"generated: {g.image} {size(g.size)} exit {g.exit_code}{pct}", err=True)
    if v.kept:
        click.echo(f"kept in the engine: {', '.join(v.kept)}", err=True)
    if v.ok:
        click.echo("verified: same exit code and stdout", err=True)
    else:
        click.echo("MISMATCH", err=True)
        click.echo(f"--- original stdout (exit {o.exit_code})\n{o.stdout}", err=True)
        click.echo(f"--- generated stdout (exit {g.exit_code})\n{g.stdout}", err=True)
