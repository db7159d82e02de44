"""The generated Dockerfile: a builder/runtime split of the final stage, FROM scratch for
static results, or the image-driven fallback; in-place fixes everywhere."""

from __future__ import annotations

import json
import os
import posixpath
import shlex
import struct
import tarfile
from dataclasses import dataclass, field
from typing import Optional

from slimscope.core.compose import ADDED, MODIFIED, unpack
from slimscope.dockerfile.classify import (CACHE_PATHS, Segment, Step, classify_run, is_source_file,
                                           package_install)
from slimscope.dockerfile.fixes import Change, Out, fix_stage, run_text
from slimscope.index.records import DIR, FILE, HARDLINK, SYMLINK  # noqa: F401

BOTH = {"ENV", "ARG", "WORKDIR", "USER", "LABEL", "SHELL", "MAINTAINER"}
RUNTIME_ONLY = {"EXPOSE", "VOLUME", "HEALTHCHECK", "CMD", "ENTRYPOINT", "STOPSIGNAL", "ONBUILD"}
# Package-managed places: a build step's files there belong to the toolchain, not the app.
SYSTEM_PREFIXES = ("/usr/lib/", "/usr/share/", "/usr/include/", "/usr/bin/", "/usr/sbin/",
                   "/usr/libexec/", "/etc/", "/var/", "/lib/", "/lib64/", "/bin/", "/sbin/",
                   "/usr/lib64/", "/usr/local/include/")
# Junk an image-driven rewrite removes: hint id -> rm arguments
JUNK = {
    "apt-lists": ["/var/lib/apt/lists/*"],
    "apt-archives": ["/var/cache/apt/archives/*.deb", "/var/cache/apt/*.bin"],
    "pip-cache": ["/root/.cache/pip"],
    "npm-cache": ["/root/.npm/_cacache", "/usr/local/share/.cache/yarn"],
    "apk-cache": ["/var/cache/apk/*"],
    "dnf-cache": ["/var/cache/dnf/*", "/var/cache/yum/*"],
}
TMP_JUNK = ("/tmp/", "/var/tmp/")


@dataclass
class Result:
    text: str
    mode: str                          # split | scratch | fixes | fallback
    changes: list = field(default_factory=list)
    notes: list = field(default_factory=list)    # things the user should know

    @property
    def measured_bytes(self) -> int:
        return sum(c.bytes or 0 for c in self.changes)


def _abs(path: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir or "/", path))


def _context_sources(ins, context_dir: Optional[str]) -> list:
    """Files (relative names) a context COPY/ADD sends; the patterns when unknown."""
    srcs = ins.words()[:-1]
    if not context_dir:
        return srcs
    import glob
    names = []
    for s in srcs:
        hits = glob.glob(os.path.join(context_dir, s)) or [os.path.join(context_dir, s)]
        for h in hits:
            if os.path.isdir(h):
                for root, _, files in os.walk(h):
                    names += [os.path.join(root, f) for f in files]
            else:
                names.append(h)
    return names


def _build_only_copy(ins, context_dir) -> bool:
    if ins.cmd != "COPY" or "from" in ins.flags:
        return False
    names = _context_sources(ins, context_dir)
    return bool(names) and all(is_source_file(n) for n in names)


def _step_of(out: Out, workdir: str) -> Optional[tuple]:
    ins = out.ins
    if ins.cmd != "RUN" or not out.text:
        return None
    if out.segs is not None:
        script = " ".join((f"{sg.sep or '&&'} " if k else "") + sg.text for k, sg in enumerate(out.segs))
    elif ins.json_form is not None:
        script = shlex.join(ins.json_form)
    else:
        script = "\n".join(h.body for h in ins.heredocs) or ins.rest
    return classify_run(script, workdir)


# --------------------------------------------------------------------------- #
# What the image shows about the build
# --------------------------------------------------------------------------- #

def measured_outputs(analysis, layers: list, explicit: list) -> list:
    """Paths the build layers left in the final filesystem, collapsed to the top-most
    directories they created; toolchain and cache places left out."""
    composed = analysis.composed
    added_dirs = set()
    files = []
    for li in layers:
        idx = composed.layers[li]
        status = composed.status[li]
        for i in range(len(idx)):
            path = idx.paths[i]
            kind = idx.kinds[i]
            if kind == DIR and status[i] == ADDED:
                added_dirs.add(path)
            if kind in (FILE, HARDLINK, SYMLINK) and status[i] in (ADDED, MODIFIED) \
                    and composed.final.get(path) == (li << 32 | i):
                files.append(path)
    keep = []
    for p in files:
        if p.startswith(CACHE_PATHS) and not any(p == e or p.startswith(e + "/") for e in explicit):
            continue
        if p.startswith(SYSTEM_PREFIXES) and not any(p == e or p.startswith(e + "/") for e in explicit):
            continue
        root = p
        parent = posixpath.dirname(p)
        while parent in added_dirs and parent != "/":
            root, parent = parent, posixpath.dirname(parent)
        keep.append(root)
    return _top_level(keep)


def _top_level(paths) -> list:
    out = []
    for p in sorted(set(paths)):
        if not any(p.startswith(o.rstrip("/") + "/") for o in out):
            out.append(p)
    return out


def read_heads(analysis, paths: set, n: int = 8192) -> dict:
    """The first `n` bytes of each final path (files only), read from the layers."""
    want: dict = {}
    for p in paths:
        ref = analysis.composed.final.get(p)
        if ref is None:
            continue
        li, i = unpack(ref)
        want.setdefault(li, set()).add(p)
    out: dict = {}
    if not want:
        return out
    for positions, stream in analysis.image.source.layer_streams(analysis.image):
        names = set().union(*(want.get(p, set()) for p in positions))
        if not names:
            continue
        with tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
                name = "/" + m.name.lstrip("./").lstrip("/")
                if name in names and m.isreg():
                    f = tf.extractfile(m)
                    out[name] = f.read(n) if f else b""
    return out


def elf_static(head: bytes) -> Optional[bool]:
    """True for a static ELF, False for a dynamic one, None when not ELF."""
    if head[:4] != b"\x7fELF" or len(head) < 64:
        return None
    is64 = head[4] == 2
    end = "<" if head[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(end + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x36)
    else:
        phoff, = struct.unpack_from(end + "I", head, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x2A)
    for k in range(phnum):
        off = phoff + k * phentsize
        if off + 4 > len(head):
            return False   # cannot see all headers: assume dynamic
        ptype, = struct.unpack_from(end + "I", head, off)
        if ptype == 3:     # PT_INTERP
            return False
    return True


# --------------------------------------------------------------------------- #
# The split
# --------------------------------------------------------------------------- #

def generate(df, measure, analysis=None, base: Optional[str] = None, context_dir: Optional[str] = None,
             legacy_builder: bool = False, image_ref: str = "") -> Result:
    final = df.final
    earlier = df.stages[:-1]
    changes: list = []
    notes: list = []
    head = _header(df)

    parts = []
    for st in earlier:
        outs = fix_stage(st.instructions, _NoMeasure(), legacy_builder)
        changes += [c for o in outs for c in o.changes]
        parts.append("\n".join(o.render() for o in outs if o.render()))

    outs = fix_stage(final.instructions, measure, legacy_builder)

    workdir = "/"
    steps: list = []        # (out, kind, Step|None, segments-with-kinds, workdir)
    for out in outs:
        ins = out.ins
        if ins.cmd == "WORKDIR":
            workdir = _abs(ins.expanded.strip(), workdir)
        cls = _step_of(out, workdir)
        if cls is None:
            kind = "config" if ins.cmd not in ("COPY", "ADD", "FROM") else ins.cmd.lower()
            if kind == "copy" and _build_only_copy(ins, context_dir):
                kind = "source"
            steps.append((out, kind, None, [], workdir))
        else:
            step, seg_kinds = cls
            steps.append((out, step.kind, step, seg_kinds, workdir))

    build_steps = [s for s in steps if s[1] in ("build", "fetch")]
    build_pkgs = [p for s in steps if s[2] for p in s[2].build_packages]
    unknown = [s for s in steps if s[1] == "unknown"]

    if unknown and (build_steps or build_pkgs) and analysis is not None and image_ref:
        first = unknown[0][0].ins
        res = fallback(analysis, image_ref, reason=f"line {first.line} ({_short(first)}) is not a step "
                                                   "slimscope can classify")
        return res
    if not build_steps and not build_pkgs:
        body = "\n".join(o.render() for o in outs if o.render())
        changes += [c for o in outs for c in o.changes]
        notes.append("no build-only step found: in-place fixes only")
        return Result(head + "\n".join(parts + [body]) + "\n", "fixes", changes, notes)

    builder = "builder"
    taken = df.stage_names()
    while builder in taken:
        builder = "slimscope-" + builder
    base_image = final.base
    from_ins = final.instructions[0]

    # ---- the builder stage: everything the build needs, fixed in place
    b_lines = [f"# slimscope: build stage: toolchain and sources stay here",
               f"FROM {_from_ref(from_ins)} AS {builder}"]
    for out, kind, step, _, _ in steps[1:]:
        if out.ins.cmd in RUNTIME_ONLY or not out.text:
            continue
        b_lines.append(out.text)

    # ---- what the runtime needs from the builder
    explicit = _top_level(p for s in build_steps for p in s[2].outputs
                          if not (s[1] == "fetch" and s is not None))
    entry = _entry_paths(steps)
    measured = None
    if analysis is not None and measure.paired:
        layers = [measure.layer(s[0].ins) for s in build_steps if measure.layer(s[0].ins) is not None]
        if layers:
            measured = measured_outputs(analysis, layers, explicit + entry)
    if measured:
        copies = measured
    else:
        copies = list(explicit)
        for s in build_steps:
            if s[1] == "build" and not s[2].outputs and s[4] != "/":
                copies.append(s[4])
        for p in entry:
            if not any(p == c or p.startswith(c.rstrip("/") + "/") for c in copies) \
                    and any(p.startswith(s[4].rstrip("/") + "/") for s in build_steps):
                copies.append(p)
        copies = _top_level(c for c in copies if not c.startswith(TMP_JUNK))
    if not copies:
        notes.append("could not tell what the build produces; copying the build directories")
        copies = _top_level(s[4] for s in build_steps if s[4] != "/") or ["/usr/local"]

    # ---- the runtime stage
    runtime_pkgs = [p for s in steps if s[2] for p in s[2].runtime_packages]
    runtime_runs: list = []
    r_body: list = []
    last_build = max(k for k, s in enumerate(steps) if s in build_steps)
    for k, (out, kind, step, seg_kinds, wd) in enumerate(steps[1:], start=1):
        ins = out.ins
        if not out.render():
            continue
        if kind in ("config", "copy", "add") or ins.cmd in BOTH or ins.cmd in RUNTIME_ONLY:
            r_body.append(out.render())
            changes += out.changes
        elif kind == "source":
            c = Change("build-sources", ins.line, "build inputs copied into the builder only")
            r_body.append(c.render())
            changes.append(c)
        elif kind == "install":
            text, ch = _runtime_install(out, seg_kinds, step, measure)
            if text and not ch:
                ch = out.changes
            changes += ch
            if text:
                r_body.append("\n".join([c.render() for c in ch] + [text]))
                runtime_runs.append(out)
            else:
                r_body.extend(c.render() for c in ch)
        elif kind in ("build", "fetch", "unknown", "runtime"):
            keep = [s for s, kd in seg_kinds if kd == "runtime" and s.prog in
                    ("useradd", "adduser", "groupadd", "addgroup", "mkdir", "ln", "usermod")] \
                if kind in ("build", "fetch") else [s for s, _ in seg_kinds]
            if kind in ("build", "fetch"):
                lb = measure.layer_bytes(ins)
                kept = measure.bytes_under(ins, [c.rstrip("/") for c in copies])
                c = Change("build-step", ins.line, f"build step ({step.reason}) runs in the builder only",
                           None if lb is None else max(0, lb - (kept or 0)))
                changes.append(c)
                r_body.append(c.render())
            if kind == "unknown":
                notes.append(f"line {ins.line} ({_short(ins)}) is not classified: kept in both stages; "
                             "pass --image for the image-driven rewrite")
                r_body.append(f"# slimscope: not classified, kept in both stages (check it)")
            if kind in ("build", "fetch") and step.runtime_packages:
                inst = [(s, kd) for s, kd in seg_kinds if kd == "install"]
                text, ch = _runtime_install(Out(ins, "", segs=[s for s, _ in inst]), inst, step, measure)
                changes += ch
                r_body.extend(c.render() for c in ch)
                if text:
                    r_body.append(text)
                    runtime_runs.append(out)
            if keep and kind in ("build", "fetch"):
                keep = [Segment(s.text, "&&" if i else "", s.words) for i, s in enumerate(keep)]
                r_body.append(run_text(ins, keep))
                runtime_runs.append(out)
            elif kind in ("unknown", "runtime"):
                r_body.append(out.render())
                changes += out.changes
                runtime_runs.append(out)
        if k == last_build:
            r_body.append("# slimscope: copy only what runs from the builder")
            for p in copies:
                r_body.append(f"COPY --from={builder} {p} {p}")

    runtime_base = base or base_image
    static_note = None
    if base is None and not runtime_pkgs and not runtime_runs:
        static_note = _static_verdict(analysis, copies, entry, build_steps, steps)
        if static_note is True:
            runtime_base = "scratch"
    r_from = f"FROM {runtime_base}" if runtime_base != base_image else f"FROM {_from_ref(from_ins)}"
    first = ["# slimscope: runtime stage: " + (
        "FROM scratch, the result is statically linked and needs nothing else"
        if runtime_base == "scratch" else f"from {runtime_base}, runtime packages only"), r_from]
    if runtime_base == "scratch":
        user = next((s[0].ins.expanded for s in steps if s[0].ins.cmd == "USER"), None)
        if user and not user.split(":")[0].isdigit():
            first.append(f"COPY --from={builder} /etc/passwd /etc/group /etc/")
    total = measure.base_bytes() if runtime_base == "scratch" else None
    changes.append(Change("multi-stage", from_ins.line,
                          "builder/runtime split" + (", runtime FROM scratch" if runtime_base == "scratch" else ""),
                          total))
    mode = "scratch" if runtime_base == "scratch" else "split"
    text = head + "\n".join(parts + ["\n".join(b_lines), "\n".join(first + r_body)]) + "\n"
    return Result(text, mode, changes, notes)


def _short(ins) -> str:
    t = " ".join(ins.args.split())
    return (ins.cmd + " " + t)[:60]


def _from_ref(from_ins) -> str:
    words = from_ins.rest.split()
    flags = "".join(f"--{k}={v} " for k, v in from_ins.flags.items())
    return flags + words[0]


def _header(df) -> str:
    lines = []
    for k, v in df.directives.items():
        lines.append(f"# {k}={v}")
    for ins in df.instructions:
        if ins.cmd == "ARG" and ins.stage == 0 and df.instructions.index(ins) < \
                df.instructions.index(df.stages[0].instructions[0]):
            lines.append(ins.text)
    lines.append(f"# Generated by slimscope from {os.path.basename(df.path) or 'Dockerfile'}; "
                 "every change carries a '# slimscope:' comment.")
    return "\n".join(lines) + "\n"


def _entry_paths(steps) -> list:
    """Absolute paths the image runs (CMD/ENTRYPOINT program and path arguments)."""
    out = []
    for out_, kind, _, _, wd in steps:
        ins = out_.ins
        if ins.cmd in ("CMD", "ENTRYPOINT"):
            words = ins.words()
            for w in words[:3]:
                if w.startswith("/") or w.startswith("./") or "/" in w and not w.startswith("-"):
                    out.append(_abs(w, wd))
    return out


def _runtime_install(out: Out, seg_kinds, step: Step, measure) -> tuple:
    """The install RUN with build packages taken out; ('', changes) when nothing remains."""
    segs = out.segs if out.segs is not None else [s for s, _ in seg_kinds]
    removed = list(step.build_packages)
    if not removed:
        return out.text or run_text(out.ins, segs), []
    keep_pkgs = set(step.runtime_packages)
    new = []
    any_install = False
    for s in segs:
        pi = package_install(s)
        if pi:
            pkgs = [p for p in pi[1] if p in keep_pkgs]
            if not pkgs:
                continue
            words = [w for w in s.argv if w not in removed]
            any_install = True
            new.append(Segment(shlex.join(words), s.sep, words))
        else:
            new.append(s)
    saved = None
    if not any_install and measure.known(out.ins):
        saved = (measure.layer_bytes(out.ins) or 0) + sum(
            c.bytes or 0 for c in out.changes if c.rule == "apt-update-alone")
    ch = [Change("build-packages", out.ins.line,
                 "build-only packages left to the builder: " + " ".join(removed), saved)]
    if not any_install:
        return "", ch
    for i, s in enumerate(new):
        s.sep = "&&" if i else ""
    return run_text(out.ins, new), ch


def _static_verdict(analysis, copies, entry, build_steps, steps):
    """True when the runtime can be FROM scratch: the program is a static ELF."""
    cmd = [s[0].ins for s in steps if s[0].ins.cmd in ("CMD", "ENTRYPOINT")]
    if not cmd or any(i.json_form is None for i in cmd) or not entry:
        return False
    if not all(any(p == c or p.startswith(c.rstrip("/") + "/") for c in copies) for p in entry[:1]):
        return False
    if analysis is not None:
        files = {p for p in entry[:1]}
        heads = read_heads(analysis, files)
        verdicts = [elf_static(h) for h in heads.values()]
        return bool(verdicts) and all(v is True for v in verdicts)
    return all(s[2].static for s in build_steps if s[1] == "build")


class _NoMeasure:
    paired = False

    def __getattr__(self, name):
        return lambda *a, **k: None

    def known(self, ins):
        return False


# --------------------------------------------------------------------------- #
# The image-driven fallback
# --------------------------------------------------------------------------- #

def fallback(analysis, image_ref: str, reason: str = "no Dockerfile given") -> Result:
    """FROM <image> AS full, one RUN removing the measured junk, FROM scratch,
    COPY --from=full / /, and the full config."""
    changes: list = []
    rm_args: list = []
    for h in analysis.hints:
        if h.id in JUNK:
            for a in JUNK[h.id]:
                if a not in rm_args:
                    rm_args.append(a)
            changes.append(Change(h.id, 0, h.title, h.bytes))
    tmp_bytes = 0
    for rec in analysis.files():
        if rec.path.startswith(TMP_JUNK) and rec.type == "file":
            tmp_bytes += rec.size
    if tmp_bytes:
        rm_args += ["/tmp/*", "/var/tmp/*"]
        changes.append(Change("tmp", 0, "files left in /tmp and /var/tmp", tmp_bytes))
    has_shell = any(p in analysis.composed.final for p in ("/bin/sh", "/usr/bin/sh"))
    lines = [f"# Generated by slimscope from the image {image_ref}: {reason}.",
             "# The image is flattened: one layer, measured junk removed, config kept.",
             f"FROM {image_ref} AS full"]
    if rm_args and has_shell:
        by = {}
        for c in changes:
            by[c.rule] = c
        lines.append("USER root")
        for c in changes:
            lines.append(c.render())
        lines.append("RUN rm -rf " + " ".join(rm_args))
    elif rm_args:
        lines.append("# slimscope: the image has no /bin/sh; junk is left, only hidden bytes go")
        changes = []
    flat = Change("flatten", 0, "one layer: the bytes earlier layers hid are gone",
                  analysis.wasted_bytes)
    changes.append(flat)
    lines += [flat.render(), "FROM scratch", "COPY --from=full / /"]
    lines += config_lines(analysis.image.config.get("config") or {})
    return Result("\n".join(lines) + "\n", "fallback", changes,
                  [f"image-driven rewrite: {reason}"])


def _q(s: str) -> str:
    return json.dumps(s)


def config_lines(cfg: dict) -> list:
    out = []
    for e in cfg.get("Env") or []:
        k, _, v = e.partition("=")
        out.append(f"ENV {k}={_q(v)}")
    for k, v in sorted((cfg.get("Labels") or {}).items()):
        out.append(f"LABEL {_q(k)}={_q(v)}")
    for p in sorted(cfg.get("ExposedPorts") or {}):
        out.append(f"EXPOSE {p}")
    if cfg.get("Volumes"):
        out.append("VOLUME " + json.dumps(sorted(cfg["Volumes"])))
    if cfg.get("WorkingDir"):
        out.append(f"WORKDIR {cfg['WorkingDir']}")
    if cfg.get("StopSignal"):
        out.append(f"STOPSIGNAL {cfg['StopSignal']}")
    hc = cfg.get("Healthcheck")
    if hc and hc.get("Test"):
        test = hc["Test"]
        opts = ""
        for key, flag in (("Interval", "interval"), ("Timeout", "timeout"),
                          ("StartPeriod", "start-period")):
            if hc.get(key):
                opts += f"--{flag}={hc[key] // 1_000_000_000}s "
        if hc.get("Retries"):
            opts += f"--retries={hc['Retries']} "
        if test[0] == "NONE":
            out.append("HEALTHCHECK NONE")
        elif test[0] == "CMD-SHELL":
            out.append(f"HEALTHCHECK {opts}CMD {test[1]}")
        else:
            out.append(f"HEALTHCHECK {opts}CMD {json.dumps(test[1:])}")
    if cfg.get("User"):
        out.append(f"USER {cfg['User']}")
    if cfg.get("Entrypoint"):
        out.append("ENTRYPOINT " + json.dumps(cfg["Entrypoint"]))
    if cfg.get("Cmd"):
        out.append("CMD " + json.dumps(cfg["Cmd"]))
    return out
