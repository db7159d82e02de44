"""Slimming an image: plan, rewrite, proof and report tied together."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import uuid

from slimscope import stale
from slimscope.core.analysis import measure_compressed
from slimscope.engine import engine_client
from slimscope.errors import BadInput, CheckFailed, EngineUnavailable, SlimscopeError, Terminated


def _temp_tag() -> str:
    return f"slimscope-tmp/{uuid.uuid4().hex[:16]}:slim"


def _tag_exists(client, tag: str) -> bool:
    import docker
    try:
        client.api.inspect_image(tag)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as e:
        raise BadInput(f"the Docker engine refused to look up {tag!r}: {e.explanation or e}"
                       ) from None


def _check_tag(tag: str, flag: str = "--tag") -> None:
    from slimscope.slim.engine import split_tag
    name, t = split_tag(tag)
    ok = name and name == name.lower() and all(c.isalnum() or c in "._-/:" for c in name) \
        and t and all(c.isalnum() or c in "._-" for c in t) and len(t) <= 128
    if not ok:
        raise BadInput(f"{flag} {tag!r} is not a valid image reference (name[:tag], lower case)")


def _untag(client, ref: str) -> None:
    try:
        client.api.remove_image(ref, force=True)
    except Exception:
        pass


def _retag(client, image_id: str, tag: str) -> None:
    from slimscope.slim.engine import split_tag
    repo, t = split_tag(tag)
    client.api.tag(image_id, repo, t, force=True)


def _load(client, archive) -> None:
    """`docker load` a path or an open file."""
    if isinstance(archive, str):
        with open(archive, "rb") as f:
            return _load(client, f)
    for doc in client.api.load_image(archive):
        if isinstance(doc, dict) and (doc.get("error") or doc.get("errorDetail")):
            raise BadInput(f"docker load failed: {doc.get('error') or doc['errorDetail']}")


def _output_path(out: str, src_path) -> str:
    """Where -o really writes: a symlink is followed (the link stays); the source itself,
    under any name, and anything but a file or a directory are refused, --force or not."""
    if not out:
        raise BadInput("-o: the output path is empty")
    real = os.path.realpath(out) if os.path.islink(out) else out
    if src_path and (os.path.realpath(real) == os.path.realpath(src_path)
                     or _same_file(real, src_path)):
        raise BadInput(f"-o {out} is the source itself; the source is never overwritten")
    if os.path.lexists(real) and not (os.path.isfile(real) or os.path.isdir(real)):
        raise BadInput(f"-o {out} is not a regular file or a directory; slim writes an image "
                       "archive or an OCI layout there")
    if real.endswith("/") and not os.path.isdir(real):
        real = real.rstrip("/") or "/"   # the name the link or mkdir below can take
    return real


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _commit_path(tmp: str, out: str, force: bool) -> None:
    """Give the staged output its name. Without --force the name is claimed atomically
    (a link for a file, mkdir for a layout): of two runs, one wins and one says so."""
    if force:
        _replace_path(tmp, out)
        return
    try:
        if os.path.isdir(tmp):
            os.mkdir(out)               # our claim; the rename below replaces it
            os.replace(tmp, out)
        else:
            os.link(tmp, out)
            os.unlink(tmp)
    except FileExistsError:
        raise BadInput(f"{out} appeared while slimming; pass --force to replace it") from None


def _replace_path(tmp: str, out: str) -> None:
    """Move tmp to out; an existing directory out is swapped away first (with --force)."""
    if os.path.isdir(out) and not os.path.islink(out):
        old = stale.mkdtemp("old", os.path.dirname(os.path.abspath(out)))
        os.rmdir(old)
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


class Cleanup:
    """What to undo unless the slim completes: temporary files, dirs and tags."""

    def __init__(self):
        self.paths, self.tags, self.client = [], [], None
        self.committed: list = []      # outputs already given their names

    def run(self):
        for p in self.paths:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass
        for t in self.tags:
            _untag(self.client, t)


def run(load_analysis, image, tag, out, name, via, keep_base, base_layers, removes, presets, dry_run, smoke, force,
         fmt, as_json, no_verify, no_compressed, image_sel, platform, no_hash, no_cache,
         trace=None) -> str:
    """Slim IMAGE as the options say; returns the report to print. `load_analysis` reads
    an image with the caller's progress display. `trace` (a trace.session.TraceOptions)
    makes the kept set what the probes use (--trace) or what a keep list names."""
    from slimscope.image.reference import open_source
    from slimscope.slim import keepbase, report
    from slimscope.slim.plan import make_plan

    if base_layers is not None and not keep_base:
        raise BadInput("--base-layers goes with --keep-base")
    if not dry_run and not tag and not out:
        raise BadInput("say where the slimmed image goes: --tag NAME[:TAG] and/or -o PATH")
    for given, flag in ((tag, "--tag"), (name, "--name")):
        if given:
            _check_tag(given, flag)
    if name and not out:
        raise BadInput("--name names the file or layout -o writes; give -o PATH (or use --tag)")
    if fmt == "oci" and not out:
        raise BadInput("--format oci writes a directory: give it with -o DIR")
    src = open_source(image)
    in_engine = src.in_engine
    src_path = src.local_path
    if out:
        out = _output_path(out, src_path)
    if out and os.path.lexists(out) and not force and not dry_run:
        raise BadInput(f"{out} exists; pass --force to replace it")
    if out and not dry_run and not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        raise BadInput(f"cannot write {out}: its directory does not exist")

    tracing = trace is not None and trace.active
    if trace is not None:
        trace.check(force)
    if tracing:
        from slimscope.slim.trace import fanotify
        if via == "engine":
            raise BadInput("--trace and --keep-from write through the offline writer; "
                           "drop --via engine")
        via = "offline"
        if trace.trace:
            fanotify.check()
    client = None
    if in_engine or tag or (smoke and not dry_run) or via == "engine" or tracing:
        try:
            client = engine_client()
        except EngineUnavailable as e:
            if tracing:
                raise EngineUnavailable(f"--trace runs the image: {e}") from None
            if tag or smoke or via == "engine" or (in_engine and not dry_run):
                raise
    if via is None:
        via = "engine" if in_engine and client is not None and not keep_base else "offline"
    if via == "engine" and keep_base:
        raise BadInput("--keep-base needs --via offline (export/import always flattens)")
    if via == "engine" and not in_engine:
        raise BadInput(f"--via engine needs an image in the engine; {image} is not (use --via "
                       "offline, or `docker load` it first)")
    if tag and not dry_run:
        if in_engine and _same_tag(tag, src.engine_ref):
            raise BadInput(f"--tag {tag} is the source image; the source is never changed")
        if _tag_exists(client, tag) and not force:
            raise BadInput(f"image {tag} exists; pass --force to replace the tag")

    before = load_analysis(image, image_sel, platform, no_hash, no_cache)
    start = 0
    notes = []
    if keep_base:
        start, why = keepbase.find_base(before, base_layers, client)
        notes.append(f"base: the first {start} layer{'s' if start != 1 else ''} ({why})")
    session = None
    scratch = Cleanup()     # what the trace made for itself (the original under a temporary
    scratch.client = client  # tag): undone whatever happens
    try:
        if tracing:
            session = _trace_session(client, before, trace, scratch)
            plan = session.plan(before, removes, presets, start)
        else:
            plan = make_plan(before, removes, presets)
        if dry_run:
            text = "\n".join([report.render_plan(before, plan, start, via)]
                             + [f"  note: {n}" for n in notes])
            if session is not None:
                text += "\n" + _trace_text(session.doc(before, plan))
            return text
        return _slim(before, plan, start, via, client, tag, out, name, fmt, force, smoke,
                     no_verify, no_hash, no_compressed, as_json, notes, session)
    finally:
        if session is not None:
            session.close()
        scratch.run()


def _trace_text(doc) -> str:
    from slimscope.slim.trace.session import render_text
    return render_text(doc)


def _trace_session(client, before, trace, scratch):
    """The traced slim's session, the original image runnable in the engine."""
    from slimscope.slim.trace import probes
    from slimscope.slim.trace.containers import Containers
    from slimscope.slim.trace.session import Session

    src = before.image.source
    if src.in_engine:
        original = before.image.id
    elif src.archive_path:
        original = _temp_tag()
        _load_as(client, src.archive_path, original, scratch)
    else:
        raise BadInput("--trace and --keep-from run the image: give it in the engine or as a "
                       "docker archive")
    found = probes.parse(trace.execs, trace.http, trace.script, trace.duration)
    ports = probes.resolve_ports(found.service, before.image.config) if found.service else []
    return Session(trace, client, Containers(client), original, found, ports)


def _slim(before, plan, start, via, client, tag, out, name, fmt, force, smoke, no_verify,
          no_hash, no_compressed, as_json, notes, session) -> str:
    from slimscope.slim import report

    measuring = None
    if not no_compressed:    # gzip runs outside the GIL: measure the input alongside the rewrite
        sys.stderr.write("slimscope: measuring gzip sizes of the input's and the output's "
                         "layers (--compressed): a second read of each\n")
        measuring = _Background(measure_compressed, before)
    cleanup = Cleanup()
    cleanup.client = client
    ok = False
    try:
        after, targets, smoke_result = _rewrite(before, plan, start, via, client, tag, out, fmt,
                                                force, smoke, no_verify, no_hash, no_compressed,
                                                cleanup, notes, name or tag or source_name(before),
                                                session)
        ok = True
        if measuring is not None:
            measuring.join()
        doc = report.build(before, after, plan, start, via, targets, notes, not no_verify,
                           smoke_result)
    except KeyboardInterrupt as e:
        if cleanup.committed:       # say what is true: the output is there and complete
            raise StoppedAfterCommit(e, cleanup.committed) from None
        raise
    finally:
        if not ok:
            cleanup.run()
    text = None
    if session is not None:
        doc["trace"] = session.doc(before, plan)
        text = _trace_text(doc["trace"])
    if as_json:
        return json.dumps(doc, indent=2)
    return report.render_text(doc) + ("\n" + text if text else "")


class StoppedAfterCommit(SlimscopeError):
    """Ctrl-C or SIGTERM came after the output got its name: it is written, and whole."""

    def __init__(self, signal_error: KeyboardInterrupt, targets: list):
        word = "terminated" if isinstance(signal_error, Terminated) else "interrupted"
        super().__init__(f"{word} after writing {', '.join(targets)} (complete and verified; "
                         "the report was not printed)")
        self.exit_code = 143 if isinstance(signal_error, Terminated) else 130


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM for the few calls that give the outputs their names."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same_tag(tag: str, src_ref: str) -> bool:
    from slimscope.slim.engine import split_tag
    return split_tag(tag) == split_tag(src_ref)


class _Background(threading.Thread):
    def __init__(self, fn, *args):
        super().__init__(target=self._run, args=(fn, args), daemon=True)
        self.error = None
        self.start()

    def _run(self, fn, args):
        try:
            fn(*args)
        except Exception as e:   # the report then shows "?" for what could not be measured
            self.error = e


def _verify(before, plan, ref: str, no_hash: bool, compressed: bool = True, kept_base: int = 0):
    from slimscope.core.analysis import analyze
    from slimscope.slim.verify import differences

    after = analyze(ref, hash_contents=not no_hash, use_cache=True)
    problems = differences(before, plan, after, kept_base)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise CheckFailed(f"the slimmed image differs from the input: {shown}{more}; "
                          "nothing was written")
    if compressed:
        measure_compressed(after)   # while the output is still where it was analyzed
    return after


def source_name(analysis) -> str:
    """The image's own name, when its source has one (a tag in an archive, the engine's
    reference); '' when the reference only says where a layout lives."""
    ref = analysis.image.reference or ""
    where = getattr(analysis.image.source, "where", "")
    if not ref or ref == where or (where and ref.startswith(where + ":")):
        return ""
    return ref


def _rewrite(before, plan, start, via, client, tag, out, fmt, force, smoke, no_verify, no_hash,
             no_compressed, cleanup, notes, out_name="", session=None):
    from slimscope.slim import offline
    n = len(before.layers)
    comment = (f"slimscope slim: layers {start}..{n - 1} squashed into one"
               + (f"; removed {', '.join(r.name for r in plan.rules)}" if plan.rules else ""))
    targets = []
    after = None
    engine_ref = None          # the slimmed image in the engine, under a temporary tag
    staged_out = None          # the output file/dir under a temporary name
    if via == "offline":
        work = offline.workdir_near(out)
        cleanup.paths.append(work.name)
        sq = offline.squash(before, plan, start, work.name)
        notes.extend(sq.notes)
        layers = sq.base + [sq.layer]
        cfg = offline.rewrite_config(before.image.config, start, [l.diff_id for l in layers],
                                     comment)
        if out:
            parent = os.path.dirname(os.path.abspath(out))
            if fmt == "oci":
                staged_out = stale.mkdtemp("staged", parent)
                cleanup.paths.append(staged_out)
                offline.write_oci_layout(staged_out, cfg, layers, out_name)
                ref = "oci:" + staged_out
            else:
                fd, staged_out = stale.mkstemp("staged", parent, ".tar")
                os.close(fd)
                cleanup.paths.append(staged_out)
                offline.write_docker_archive(staged_out, cfg, layers,
                                             [out_name] if out_name else [])
                ref = staged_out
            if not no_verify:
                after = _verify(before, plan, ref, no_hash, not no_compressed, start)
        if tag:
            temp_tag = _temp_tag()
            archive = os.path.join(work.name, "load.tar")
            offline.write_docker_archive(archive, cfg, layers, [temp_tag])
            if not no_verify and after is None:
                after = _verify(before, plan, archive, no_hash, not no_compressed, start)
            cleanup.tags.append(temp_tag)
            _load(client, archive)
            engine_ref = temp_tag
        work.cleanup()
    else:
        from slimscope.slim.engine import export_import
        temp_tag = _temp_tag()
        cleanup.tags.append(temp_tag)
        export_import(client, before, plan, temp_tag, notes)
        engine_ref = temp_tag
        if not no_verify:
            after = _verify(before, plan, "docker-daemon:" + temp_tag, no_hash,
                            not no_compressed)
        if out:
            fd, staged_out = stale.mkstemp("staged", os.path.dirname(os.path.abspath(out)),
                                           ".tar")
            os.close(fd)
            cleanup.paths.append(staged_out)
            if fmt == "oci":
                raise BadInput("--via engine writes docker archives; use --via offline for "
                               "--format oci")
            image_id = client.api.inspect_image(temp_tag)["Id"]
            with open(staged_out, "wb") as f:
                for chunk in client.api.get_image(image_id):
                    f.write(chunk)

    smoke_result = None
    if smoke or session is not None:
        scratch = Cleanup()
        scratch.client = client
        try:
            if smoke:
                smoke_result = _smoke(client, before, engine_ref, staged_out, fmt, smoke, scratch)
            if session is not None:     # the proof: every probe answers as on the original
                session.replay(_slimmed_ref(client, engine_ref, staged_out, fmt, scratch))
                session.write_keep_list(before, force)
        finally:
            scratch.run()

    # commit: nothing above touched a user-visible name. Ctrl-C waits until the names
    # are given, so that what the user is told matches what was written.
    with _signals_held():
        if out:
            if not os.path.isdir(staged_out):
                os.chmod(staged_out, 0o666 & ~_umask())
            _commit_path(staged_out, out, force)
            cleanup.paths.remove(staged_out)
            targets.append(out)
            cleanup.committed.append(out)
        if tag:
            image_id = client.api.inspect_image(engine_ref)["Id"]
            _retag(client, image_id, tag)
            targets.append(tag)
            cleanup.committed.append(tag)
    if engine_ref:
        _untag(client, engine_ref)      # only the temporary name (the image keeps --tag)
        cleanup.tags.remove(engine_ref)
    return after, targets, smoke_result


def _smoke(client, before, engine_ref, staged_out, fmt, command, cleanup):
    from slimscope.slim.verify import smoke as run_smoke

    src = before.image.source
    if src.in_engine:
        original = before.image.id
    elif src.archive_path:
        original = _temp_tag()
        _load_as(client, src.archive_path, original, cleanup)
    else:
        raise BadInput("--smoke needs the source in the engine or a docker archive")
    slimmed = _slimmed_ref(client, engine_ref, staged_out, fmt, cleanup)
    problems, (code, stdout) = run_smoke(client, original, slimmed, command)
    if problems:
        raise CheckFailed("; ".join(problems) + "; nothing was written")
    return f"{command!r} gives exit code {code} and the same {len(stdout)} bytes of stdout"


def _slimmed_ref(client, engine_ref, staged_out, fmt, cleanup) -> str:
    """The slimmed image in the engine: under its temporary tag, else loaded for the run."""
    if engine_ref is not None:
        return engine_ref
    if fmt == "oci":
        raise BadInput("running the slimmed image with --format oci needs --tag as well")
    slimmed = _temp_tag()
    _load_as(client, staged_out, slimmed, cleanup)
    return slimmed


def _load_as(client, archive: str, temp_tag: str, cleanup) -> None:
    """Load an archive under a temporary tag only: the tags it records are not
    applied, so no tag of the user's moves."""
    import io
    import tarfile
    import threading

    r, w = os.pipe()
    errors = []

    def pump():
        try:
            with os.fdopen(w, "wb") as sink, tarfile.open(archive, "r|*") as src, \
                    tarfile.open(fileobj=sink, mode="w|") as dst:
                for ti in src:
                    name = ti.name.lstrip("./")
                    if name == "repositories":
                        continue
                    if name == "manifest.json":
                        doc = json.loads(src.extractfile(ti).read())
                        for m in doc:
                            m["RepoTags"] = [temp_tag]
                        data = json.dumps(doc[:1]).encode()
                        ti.size = len(data)
                        dst.addfile(ti, io.BytesIO(data))
                        continue
                    dst.addfile(ti, src.extractfile(ti) if ti.isreg() else None)
        except BrokenPipeError:
            pass
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    cleanup.tags.append(temp_tag)
    with os.fdopen(r, "rb") as f:
        try:
            _load(client, f)
        finally:
            f.close()
            t.join(timeout=60)
    if errors:
        raise BadInput(f"cannot read {archive} to load it: {errors[0]}")
