"""Slimming an image: plan, rewrite, proof and report tied together."""

from __future__ import annotations

import json
import os
import sys
import threading

from slimscope import stale
from slimscope.core.analysis import measure_compressed
from slimscope.engine import engine_client, sweep_engine
from slimscope.errors import BadInput, CheckFailed, EngineUnavailable
from slimscope.slim import destinations, loading


def run(load_analysis, image, tag, out, name, via, keep_base, base_layers, removes, presets,
        dry_run, smoke, force, fmt, as_json, no_verify, no_compressed, image_sel, platform, no_hash, no_cache,
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
            destinations.check_tag(given, flag)
    if name and not out:
        raise BadInput("--name names the file or layout -o writes; give -o PATH (or use --tag)")
    if fmt == "oci" and not out:
        raise BadInput("--format oci writes a directory: give it with -o DIR")
    src = open_source(image)
    in_engine = src.in_engine
    src_path = src.local_path
    if out:
        out = destinations.output_path(out, src_path)
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
    if client is not None and not dry_run:
        sweep_engine(client)     # what killed runs of slimscope left in the engine
    if via is None:
        via = "engine" if in_engine and client is not None and not keep_base else "offline"
    if via == "engine" and keep_base:
        raise BadInput("--keep-base needs --via offline (the export always flattens)")
    if via == "engine" and not in_engine:
        raise BadInput(f"--via engine needs an image in the engine; {image} is not (use --via "
                       "offline, or `docker load` it first)")
    if tag and not dry_run:
        if src.engine_ref is not None and destinations.same_tag(tag, src.engine_ref):
            raise BadInput(f"--tag {tag} is the source image; the source is never changed")
        if destinations.tag_exists(client, tag) and not force:
            raise BadInput(f"image {tag} exists; pass --force to replace the tag")

    before = load_analysis(image, image_sel, platform, no_hash, no_cache)
    start = 0
    notes = []
    if keep_base:
        start, why = keepbase.find_base(before, base_layers, client)
        notes.append(f"base: the first {start} layer{'s' if start != 1 else ''} ({why})")
    session = None
    scratch = destinations.Cleanup()     # what the trace made for itself (the original under a temporary
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
        original = destinations.temp_tag()
        loading.load_as(client, src.archive_path, original, scratch)
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
    cleanup = destinations.Cleanup()
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
            raise destinations.StoppedAfterCommit(e, cleanup.committed) from None
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


def _load_and_verify(client, archive: str, temp_tag: str, before, plan, no_hash: bool,
                     compressed: bool, kept_base: int, no_verify: bool, known=None):
    """`docker load` the archive while it is verified (the engine's work and ours run at
    once), then check that the engine holds the layers that were verified.

    The archive is what the engine is given, and a load takes each layer only if it
    hashes to its diff_id: verifying the file and then the engine's diff_ids proves
    what a second `docker save` of the loaded image would, at a fraction of its time.
    `known` is the analysis of the same layers written elsewhere (-o), verified already.
    Returns the output's analysis, or None with `no_verify`.
    """
    failed: list[BaseException] = []

    def load() -> None:
        try:
            loading.load(client, archive)
        except BaseException as e:   # handed to the main thread below
            failed.append(e)

    loader = threading.Thread(target=load, name="slimscope-load", daemon=True)
    loader.start()
    try:
        after = known if known is not None or no_verify else \
            _verify(before, plan, archive, no_hash, compressed, kept_base)
    finally:
        loader.join()
    if failed:
        raise failed[0]
    if after is not None:
        held = (client.api.inspect_image(temp_tag).get("RootFS") or {}).get("Layers") or []
        want = [layer.diff_id for layer in after.layers]
        if held != want:
            raise CheckFailed(f"the engine loaded layers {held} for the slimmed image, not the "
                              f"verified {want}; nothing was written")
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
    from slimscope.slim import offline, writers
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
        cfg = writers.rewrite_config(before.image.config, start, [l.diff_id for l in layers],
                                     comment)
        if out:
            parent = os.path.dirname(os.path.abspath(out))
            if fmt == "oci":
                staged_out = stale.mkdtemp("staged", parent)
                cleanup.paths.append(staged_out)
                writers.write_oci_layout(staged_out, cfg, layers, out_name)
                ref = "oci:" + staged_out
            else:
                fd, staged_out = stale.mkstemp("staged", parent, ".tar")
                os.close(fd)
                cleanup.paths.append(staged_out)
                writers.write_docker_archive(staged_out, cfg, layers,
                                             [out_name] if out_name else [])
                ref = staged_out
            if not no_verify:
                after = _verify(before, plan, ref, no_hash, not no_compressed, start)
        if tag:
            temp_tag = destinations.temp_tag()
            archive = os.path.join(work.name, "load.tar")
            writers.write_docker_archive(archive, cfg, layers, [temp_tag])
            cleanup.tags.append(temp_tag)
            after = _load_and_verify(client, archive, temp_tag, before, plan, no_hash,
                                     not no_compressed, start, no_verify, after)
            engine_ref = temp_tag
        work.cleanup()
    else:
        from slimscope.slim.engine import export_squashed
        temp_tag = destinations.temp_tag()
        work = offline.workdir_near(out)
        cleanup.paths.append(work.name)
        archive = export_squashed(client, before, plan, work.name, temp_tag, comment)
        cleanup.tags.append(temp_tag)
        after = _load_and_verify(client, archive, temp_tag, before, plan, no_hash,
                                 not no_compressed, 0, no_verify)
        work.cleanup()
        engine_ref = temp_tag
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
        scratch = destinations.Cleanup()
        scratch.client = client
        try:
            if smoke:
                smoke_result = loading.smoke(client, before, engine_ref, staged_out, fmt, smoke, scratch)
            if session is not None:     # the proof: every probe answers as on the original
                session.replay(loading.slimmed_ref(client, engine_ref, staged_out, fmt, scratch))
                session.write_keep_list(before, force)
        finally:
            scratch.run()

    # commit: nothing above touched a user-visible name. Ctrl-C waits until the names
    # are given, so that what the user is told matches what was written.
    with destinations.signals_held():
        if out:
            if not os.path.isdir(staged_out):
                os.chmod(staged_out, 0o666 & ~destinations.umask())
            destinations.commit_path(staged_out, out, force)
            cleanup.paths.remove(staged_out)
            targets.append(out)
            cleanup.committed.append(out)
        if tag:
            image_id = client.api.inspect_image(engine_ref)["Id"]
            destinations.retag(client, image_id, tag)
            targets.append(tag)
            cleanup.committed.append(tag)
    if engine_ref:
        destinations.untag(client, engine_ref)      # only the temporary name (the image keeps --tag)
        cleanup.tags.remove(engine_ref)
    return after, targets, smoke_result


