"""What every command that reads an image shares: its options, its help text, and
loading the analysis with a progress bar on a terminal."""

from __future__ import annotations

import functools
import os
import sys

import click

SOURCES_HELP = """IMAGE is any of: a `docker save` archive (plain or gzip; - reads one
from stdin), an OCI layout directory, an OCI archive, an image in the local Docker
engine, or one in a registry. Prefixes force the kind: docker-archive:PATH[:NAME:TAG],
oci:DIR[:TAG], oci-archive:PATH[:TAG], docker-daemon:REF, docker://HOST[:PORT]/REPO:TAG
(or @sha256:DIGEST), podman:REF, containerd:REF (with --namespace)."""


def not_empty(ctx, param, value):
    """A file option given as '' names no file: say so rather than print to stdout."""
    if value is not None and not str(value).strip():
        from slimscope.errors import BadInput
        raise BadInput(f"{param.opts[-1]} is empty: give a path (or leave the option out)")
    return value


def registry_options(f):
    """How images are reached where they live (docker://, containerd:): every command
    that reads an image has these, through image_options or on their own."""

    @click.option("--tls-verify", "tls_verify", type=click.BOOL, default=True, show_default=True,
                  metavar="BOOL", help="Verify a registry's TLS certificate (docker://).")
    @click.option("--cert-dir", type=click.Path(file_okay=False), metavar="DIR",
                  help="Trust the CA certificates (*.crt) in DIR for registries, as skopeo does.")
    @click.option("--ca-file", type=click.Path(dir_okay=False), metavar="PEM",
                  help="Trust the CA certificates in this PEM bundle for registries.")
    @click.option("--authfile", type=click.Path(dir_okay=False), metavar="FILE",
                  help="Registry credentials file (auth.json; default REGISTRY_AUTH_FILE, then "
                       "~/.docker/config.json).")
    @click.option("--creds", metavar="USER:PASS", help="Registry credentials.")
    @click.option("--namespace", metavar="NS",
                  help="containerd namespace of a containerd:REF image (default: "
                       "CONTAINERD_NAMESPACE, else default).")
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        settings = ("tls_verify", "cert_dir", "ca_file", "authfile", "creds", "namespace")
        if "slimscope.image.registry_auth" not in sys.modules and kwargs["tls_verify"] \
                and not any(kwargs[k] for k in settings[1:]):
            # nothing set, and no earlier call set anything: the transports' defaults
            # hold, and a local archive never loads their settings module at all
            for k in settings:
                del kwargs[k]
            return f(*args, **kwargs)
        from slimscope.image.registry_auth import Access, configure

        # Where images live is the sources' business, not each command's: the
        # settings are handed to the transports once, here.
        configure(Access(tls_verify=kwargs.pop("tls_verify"), cert_dir=kwargs.pop("cert_dir"),
                         ca_file=kwargs.pop("ca_file"), authfile=kwargs.pop("authfile"),
                         creds=kwargs.pop("creds"), namespace=kwargs.pop("namespace")))
        return f(*args, **kwargs)

    return wrapper


def image_options(f):
    """Options every command that reads an image shares."""

    @click.option("--image", "image_sel", metavar="REF",
                  help="Which image of an archive or layout that holds several.")
    @click.option("--platform", metavar="OS/ARCH",
                  help="Which platform of a multi-platform index (default: this host's).")
    @click.option("--no-hash", is_flag=True,
                  help="Skip content hashing (faster; cannot tell metadata-only duplication).")
    @click.option("--no-cache", is_flag=True, help="Do not read or write the layer-index cache.")
    @click.option("--verify", is_flag=True,
                  help="Read every byte of an archive file's layers and check each against "
                       "its diff_id (streams, compressed layers and registries always are).")
    @registry_options
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        # as the registry options: how images are read, not what a command does
        _reading["verify"] = kwargs.pop("verify")
        return f(*args, **kwargs)

    return wrapper


_reading = {"verify": False}


def verifying() -> bool:
    """Whether --verify was given to the command that runs."""
    return _reading["verify"]


PROGRESS_AFTER = 0.3   # seconds: a run that ends sooner shows (and imports) no bar


def progress_callback(label: str, after: float = PROGRESS_AFTER):
    """A progress bar on stderr when it is a terminal, else None. Returns (callback, stop).

    The bar appears only once the run has taken `after` seconds: a warm run is over
    in a tenth of a second, and rich's import alone is a third of that."""
    if not sys.stderr.isatty():
        return None, lambda: None
    import threading

    lock = threading.Lock()
    state: dict = {"prog": None, "task": None, "stopped": False, "last": (0, None)}

    def start() -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

        with lock:
            if state["stopped"]:
                return
            prog = Progress(TextColumn(label), BarColumn(), DownloadColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            done, total = state["last"]
            state["task"] = prog.add_task(label, total=total, completed=done)
            prog.start()
            state["prog"] = prog

    timer = threading.Timer(after, start)
    timer.daemon = True
    timer.start()

    def update(done, total):
        with lock:
            state["last"] = (done, total)
            if state["prog"] is not None:
                state["prog"].update(state["task"], completed=done, total=total)

    def stop() -> None:
        timer.cancel()
        with lock:
            state["stopped"] = True
            if state["prog"] is not None:
                state["prog"].stop()

    return update, stop


def load_analysis(image: str, image_sel=None, platform=None, no_hash=False, no_cache=False,
                  label: str = "reading", verify=None, spool=None):
    """`verify` None: as --verify says; `spool` as for analysis.open_image."""
    from slimscope.core.analysis import analyze

    callback, stop = progress_callback(f"{label} {image}")
    try:
        return analyze(image, hash_contents=not no_hash, image=image_sel, platform=platform,
                       use_cache=not no_cache, progress=callback,
                       verify=verifying() if verify is None else verify, spool=spool)
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


def put_report(text: str, output: str | None) -> None:
    """A report into the file named (atomically), else onto stdout; ending in one
    newline either way, as the terminal shows it."""
    if not text.endswith("\n"):
        text += "\n"
    if output:
        from slimscope.fileio import write_atomic
        write_atomic(output, text.encode())
    else:
        click.echo(text, nl=False)
