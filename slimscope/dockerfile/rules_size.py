"""The size and reproducibility rules slimscope started with: each finding names its line
and, given the image built from the Dockerfile, the bytes it costs."""

from __future__ import annotations

import posixpath
import re

from slimscope.dockerfile.classify import is_apt_update, is_build_package, package_install, split_commands
from slimscope.dockerfile.findings import Finding, Rule
from slimscope.dockerfile.fixes import fix_stage, removes_copy, rm_paths

_RULES = [
    Rule("unpinned-base", "warning", "Base image without a pinned tag or digest", ("DL3006", "DL3007")),
    Rule("apt-update-alone", "warning", "apt-get update in its own RUN: stale lists, and a layer of them",
         ("DL3009",)),
    Rule("apt-lists", "warning", "apt lists or .deb cache not removed in the RUN that made them",
         ("DL3009",)),
    Rule("apt-recommends", "info", "apt-get install without --no-install-recommends", ("DL3015",)),
    Rule("pip-cache", "warning", "pip install without --no-cache-dir", ("DL3042",)),
    Rule("apk-cache", "warning", "apk add without --no-cache", ("DL3019",)),
    Rule("dnf-cache", "warning", "dnf/yum install without clean all", ("DL3040", "DL3032")),
    Rule("npm-cache", "info", "npm/yarn cache not cleaned where it is filled"),
    Rule("conda-clean", "warning", "conda install without conda clean -afy"),
    Rule("later-rm", "warning", "files removed in a later layer still ship in the earlier one"),
    Rule("chown-layer", "warning", "chown/chmod in its own RUN stores the files a second time"),
    Rule("apt-upgrade", "warning", "apt-get upgrade/dist-upgrade in the image"),
    Rule("remove-without-autoremove", "warning", "build packages removed without autoremove/clean"),
    Rule("volume-before-write", "error", "VOLUME declared before steps that write into it"),
    Rule("add-remote", "warning", "ADD of a remote file keeps it in a layer"),
    Rule("add-archive", "info", "ADD of a local archive: it is unpacked into a layer"),
    Rule("fat-base", "info", "Base image with a slim variant"),
    Rule("build-tools", "warning", "Build toolchain shipped in the final image"),
]
RULES = {r.id: r for r in _RULES}

# known fat bases -> slim variants
FAT_BASES = [
    (r"^(docker\.io/)?(library/)?debian(:(bookworm|bullseye|buster|trixie|\d+|latest|stable))?$",
     "debian:{tag}-slim"),
    (r"^(docker\.io/)?(library/)?ubuntu(:.*)?$",
     "ubuntu:{tag} with --no-install-recommends, or debian:bookworm-slim"),
    (r"^(docker\.io/)?(library/)?python(:(\d+(\.\d+)*|latest))?$", "python:{tag}-slim"),
    (r"^(docker\.io/)?(library/)?node(:(\d+(\.\d+)*|lts|latest|current))?$",
     "node:{tag}-slim or node:{tag}-alpine"),
    (r"^(docker\.io/)?(library/)?golang(:.*)?$", "a builder stage and gcr.io/distroless/static or scratch"),
    (r"^(docker\.io/)?(library/)?(openjdk|eclipse-temurin|maven)(:.*)?$", "eclipse-temurin:<v>-jre"),
    (r"^(docker\.io/)?(library/)?(ruby|php|perl|rust|gcc)(:(\d+(\.\d+)*|latest))?$",
     "the {name}:{tag}-slim variant"),
    (r"^(docker\.io/)?(library/)?(buildpack-deps|centos|fedora)(:.*)?$", "a -slim or minimal base"),
]



def _base_finding(ins, stage_names, measure, is_final: bool) -> list:
    out: list[Finding] = []
    ref = ins.expanded.split()[0]
    if ref.lower() == "scratch" or ref in stage_names or "$" in ref:
        return out
    name = ref.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if "@" not in ref and tag in ("", "latest"):
        out.append(Finding("unpinned-base", ins.line, ins.line,
                           f"FROM {ref}: pin a version tag or a digest (@sha256:...) so rebuilds are "
                           "reproducible", hadolint="DL3007" if tag == "latest" else "DL3006"))
    if is_final:
        for rx, slim in FAT_BASES:
            m = re.match(rx, name)
            if m and not tag.endswith(("slim", "alpine")) and "-slim" not in tag:
                repo = last.split(":")[0]
                b = measure.base_bytes()
                cost = f"; the base accounts for {_size(b)} of the image" if b else ""
                # never suggest `latest` (unpinned-base warns against it on the line before)
                version = tag if tag not in ("", "latest") else "<version>"
                out.append(Finding("fat-base", ins.line, ins.line,
                                   f"{ref} is a full image: consider "
                                   f"{slim.format(tag=version, name=repo)}{cost}", b))
                break
    return out


def _size(n) -> str:
    from slimscope.core.fmt import size
    return size(n)


def check(df, measure) -> list:
    findings: list = []
    for st in df.stages:
        is_final = st is df.final
        m = measure if is_final else _Blind()
        # FROM may name an earlier stage (even `FROM base AS base`), never a later one
        names = {s.name for s in df.stages[:st.index] if s.name}
        findings += _base_finding(st.instructions[0], names,
                                  m, is_final)
        # everything the in-place fixer would change is a finding too
        for out in fix_stage(st.instructions, m):
            for c in out.changes:
                if c.rule == "apt-update-alone":
                    continue
                findings.append(Finding(c.rule, _line_of(st, c), _end_of(st, c),
                                        _message(c, st), c.bytes, hadolint=_hadolint_of(st, c)))
        findings += _stage_rules(st, m, is_final)
        findings += _trigger_caches(st)
    findings.sort(key=lambda f: (f.line, f.rule))
    return findings


# what the fixer finds inside one instruction; ONBUILD triggers get these (their bytes land
# in the child image, which is not measured here)
CACHE_RULES = {"apt-lists", "apt-recommends", "pip-cache", "apk-cache", "dnf-cache", "npm-cache",
               "conda-clean"}


def _trigger_caches(st) -> list:
    from slimscope.dockerfile.parser import Stage

    triggers = [i.trigger for i in st.instructions if i.cmd == "ONBUILD" and i.trigger is not None]
    if not triggers:
        return []
    child = Stage(st.index, st.base, st.name, [st.instructions[0]] + triggers)
    out = []
    for o in fix_stage(child.instructions, _Blind()):
        for c in o.changes:
            if c.rule in CACHE_RULES:
                out.append(Finding(c.rule, c.line, _end_of(child, c), "ONBUILD: " + _message(c, child),
                                   hadolint=_hadolint_of(child, c)))
    return out


def _line_of(st, c) -> int:
    if c.rule in ("later-rm", "chown-layer"):
        # the finding belongs on the instruction that should go away
        m = re.search(r"line (\d+)", c.comment)
        if m:
            return int(m.group(1))
    return c.line


def _hadolint_of(st, c):
    """The hadolint id of this very finding: DL3009 is about lists an apt-get update made in
    the RUN, so an install that only leaves its .deb cache is slimscope's alone."""
    ins = next((i for i in st.instructions if i.line == c.line), None)
    if c.rule == "dnf-cache":
        return "DL3032" if ins is not None and re.search(r"\byum\b", ins.rest) else "DL3040"
    if c.rule == "apt-lists":
        script = "\n".join(h.body for h in ins.heredocs) or ins.rest if ins is not None else ""
        return "DL3009" if any(is_apt_update(s) for s in split_commands(script)) else ""
    return None


def _end_of(st, c) -> int:
    line = _line_of(st, c)
    for ins in st.instructions:
        if ins.line == line:
            return ins.end_line
    return line


def _message(c, st=None) -> str:
    texts = {
        "apt-lists": "apt-get install leaves /var/lib/apt/lists and /var/cache/apt in the layer: "
                     "end the RUN with `apt-get clean && rm -rf /var/lib/apt/lists/*`",
        "apt-recommends": "apt-get install pulls recommended packages: add --no-install-recommends",
        "pip-cache": "pip keeps its download cache in the layer: add --no-cache-dir",
        "apk-cache": "apk keeps its index in the layer: use apk add --no-cache",
        "dnf-cache": "the package cache stays in the layer: end the RUN with `{prog} clean all`",
        "npm-cache": "the npm cache stays in the layer: `npm cache clean --force` in the same RUN",
        "conda-clean": "conda keeps package tarballs: end the RUN with `conda clean -afy`",
        "later-rm": "this rm runs in its own layer; the files still ship in the layer that made them "
                    "(do it in that RUN)",
        "chown-layer": "chown/chmod in its own RUN stores the files again: use COPY --chown/--chmod",
    }
    text = texts.get(c.rule, c.comment)
    if c.rule == "dnf-cache":
        text = text.format(prog=_dnf_prog(st, c))
    return text


def _dnf_prog(st, c) -> str:
    """The package manager (dnf, yum, microdnf) the RUN of a dnf-cache change installs with."""
    ins = next((i for i in st.instructions if i.line == c.line), None) if st is not None else None
    script = ("\n".join(h.body for h in ins.heredocs) or ins.rest) if ins is not None else ""
    for s in split_commands(script):
        pi = package_install(s)
        if pi and pi[0] in ("dnf", "yum", "microdnf"):
            return pi[0]
    return "dnf"


class _Blind:
    paired = False

    def __getattr__(self, name):
        return lambda *a, **k: None

    def known(self, ins):
        return False


def _stage_rules(st, measure, is_final) -> list:
    out = []
    volumes: list = []
    workdir = "/"
    removed_build = None
    copied: list = []    # (COPY/ADD, its workdir) so far
    for ins in st.instructions[1:]:
        if ins.cmd == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, ins.expanded.strip()))
        if ins.cmd in ("COPY", "ADD"):
            copied.append((ins, workdir))
        if ins.cmd == "VOLUME":
            words = ins.json_form if ins.expanded.startswith("[") else ins.expanded.split()
            if ins.expanded.startswith("["):
                import json
                try:
                    words = json.loads(ins.expanded)
                except ValueError:
                    words = ins.expanded.strip("[]").replace('"', "").split(",")
            for v in words:
                volumes.append((posixpath.normpath(posixpath.join(workdir, v.strip())), ins.line))
        if ins.cmd in ("RUN", "COPY", "ADD") and volumes:
            targets = ins.expanded if ins.cmd == "RUN" else (ins.words()[-1] if ins.words() else "")
            if ins.cmd != "RUN":
                targets = posixpath.normpath(posixpath.join(workdir, targets))
            for v, vline in volumes:
                if ins.cmd == "RUN":
                    hit = re.search(re.escape(v) + r"(/|\s|$|\*)", targets) is not None
                else:
                    hit = targets == v or targets.startswith(v + "/")
                if hit and ins.cmd == "RUN":
                    out.append(Finding("volume-before-write", ins.line, ins.end_line,
                                       f"VOLUME {v} (line {vline}) is declared before this RUN: "
                                       "what it writes there is thrown away at build time"))
        if ins.cmd == "ADD":
            srcs = ins.words()[:-1]
            for s in srcs:
                if re.match(r"^(https?|ftp)://", s):
                    out.append(Finding("add-remote", ins.line, ins.end_line,
                                       f"ADD {s}: the download stays in a layer; fetch, use and delete "
                                       "it in one RUN (or a builder stage)", measure.layer_bytes(ins)))
                elif re.search(r"\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2?)$", s):
                    out.append(Finding("add-archive", ins.line, ins.end_line,
                                       f"ADD {s} unpacks the archive into a layer: if only part of it "
                                       "is needed, unpack and prune in a builder stage",
                                       measure.layer_bytes(ins)))
        if ins.cmd != "RUN" or ins.json_form is not None:
            continue
        segs = split_commands("\n".join(h.body for h in ins.heredocs) or ins.rest)
        progs = [s.prog for s in segs]
        out += _removed_copies(ins, segs, workdir, copied, measure)
        for s in segs:
            w = s.argv
            if s.prog in ("apt-get", "apt") and any(x in ("upgrade", "dist-upgrade", "full-upgrade")
                                                     for x in w[1:]):
                out.append(Finding("apt-upgrade", ins.line, ins.end_line,
                                   "apt-get upgrade in the image: rebuild on a newer base instead "
                                   "(unreproducible, and every upgraded package is stored again)",
                                   measure.layer_bytes(ins)))
            if s.prog in ("apt-get", "apt") and any(x in ("remove", "purge") for x in w[1:]):
                pkgs = [x for x in w[2:] if not x.startswith("-")]
                if any(is_build_package(p) for p in pkgs):
                    removed_build = ins
                    has_auto = any(p in ("apt-get", "apt") and "autoremove" in q.argv
                                   for p, q in zip(progs, segs))
                    has_clean = any("clean" in q.argv or any("/var/lib/apt/lists" in a for a in q.argv)
                                    for q in segs)
                    if not (has_auto and has_clean):
                        miss = " and ".join(x for x, ok in (("autoremove", has_auto), ("clean", has_clean))
                                            if not ok)
                        out.append(Finding("remove-without-autoremove", ins.line, ins.end_line,
                                           f"build packages removed without apt-get {miss}: their "
                                           "dependencies stay (and in a later RUN the bytes stay in the "
                                           "earlier layer anyway; use a builder stage)",
                                           measure.hides_bytes(ins)))
        if is_final and removed_build is None:
            pkgs = [p for s in segs for p in ((package_install(s) or ("", []))[1])]
            tools = [p for p in pkgs if is_build_package(p)]
            if tools and not any(s.prog in ("apt-get", "apt") and ("remove" in s.argv or "purge" in s.argv)
                                 for s in segs):
                out.append(Finding("build-tools", ins.line, ins.end_line,
                                   f"build packages ({', '.join(tools[:6])}) ship in the final image: "
                                   "build in a builder stage (`slimscope dockerfile`)",
                                   measure.layer_bytes(ins)))
    if is_final:
        # an apt-get update alone: its own finding (the fixer folds it into the install)
        for ins in st.instructions:
            if ins.cmd == "RUN" and ins.json_form is None and not ins.heredocs:
                segs = split_commands(ins.rest)
                if segs and all(is_apt_update(s) for s in segs):
                    out.append(Finding("apt-update-alone", ins.line, ins.end_line,
                                       "apt-get update in its own RUN: a cached layer of stale lists; "
                                       "join it with the install", measure.layer_bytes(ins)))
    return out


def _removed_copies(ins, segs, workdir, copied, measure) -> list:
    """later-rm for files a COPY/ADD brought in: removing them in any later RUN leaves
    their bytes in the COPY's layer (the fixer cannot move that rm anywhere useful)."""
    out = []
    for s in segs:
        for p in rm_paths(s, workdir):
            src = next((c for c, wd in reversed(copied) if removes_copy(p, c, wd)), None)
            if src is None or any(re.match(r"^(https?|ftp)://", w) for w in src.words()[:-1]):
                continue   # a remote ADD has its own finding, add-remote
            cut = p.rstrip("/*") or "/"
            where = [p] if cut == p else [cut.rstrip("/") + "/"]
            mount = "type=bind,from=STAGE" if "from" in src.flags else "type=bind"
            out.append(Finding("later-rm", ins.line, ins.end_line,
                               f"this rm removes {p}, which {src.cmd} of line {src.line} added: "
                               f"its bytes still ship in that layer; "
                               + ("copy only what is needed from that stage"
                                  if "from" in src.flags else
                                  f"leave it out of the {src.cmd} (.dockerignore, a narrower source)")
                               + f" or bind-mount it for the one RUN that uses it (`RUN --mount={mount},"
                               "source=...,target=...`)", measure.bytes_under(src, where)))
            return out   # one finding per RUN: the first copied path it removes
    return out
