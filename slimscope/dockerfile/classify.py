"""What each step of a Dockerfile is for: installing packages (build-only or runtime),
fetching sources, compiling, or setting up the runtime."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

# The build-tool packages and build inputs are the catalogue's; importable from here too.
from slimscope.catalog import is_build_package, is_source_file  # noqa: F401
from slimscope.dockerfile.words import split as words_split

# What builds run; their presence makes a RUN a build step.
COMPILERS = {"gcc", "g++", "cc", "c++", "clang", "clang++", "musl-gcc", "tcc", "gfortran", "ld", "as"}
FETCHERS = {"git", "curl", "wget", "svn", "hg"}
# Commands that are harmless to repeat in a runtime stage (they set up users, dirs, links).
RUNTIME_SAFE = {"useradd", "adduser", "groupadd", "addgroup", "mkdir", "ln", "chmod", "chown",
                "echo", "printf", "touch", "true", ":", "cd", "export", "set", "rm", "update-ca-certificates",
                "ldconfig", "mkfifo", "install", "usermod", "chgrp", "test", "[", "cat"}


# --------------------------------------------------------------------------- #
# Shell commands
# --------------------------------------------------------------------------- #

@dataclass
class Segment:
    text: str              # the command as written (no separator)
    sep: str               # the separator before it: "", "&&", "||", ";"
    words: list            # shlex words of the first pipeline element
    pipe: bool = False     # the command is a pipeline

    @property
    def prog(self) -> str:
        """The program run, past env assignments, sudo and `python -m`."""
        w = self.argv
        return posixpath.basename(w[0]) if w else ""

    @property
    def argv(self) -> list:
        w = list(self.words)
        while w and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w[0]) or w[0] in ("sudo", "env", "exec",
                                                                           "nice", "time")):
            w.pop(0)
        return w


def split_commands(script: str) -> list:
    """Top-level `&&`, `||`, `;` and newline split, quotes and $(...) respected."""
    out, buf, sep = [], [], ""
    i, n, quote, depth = 0, len(script), "", 0
    while i < n:
        # runs of characters that mean nothing here are taken whole: linear in practice
        # as well as in theory on a megabyte line
        m = (_QUOTED[quote] if quote else _PLAIN).match(script, i)
        if m and m.end() > i:
            buf.append(m.group())
            i = m.end()
            continue
        c = script[i]
        if quote:
            buf.append(c)
            if c == "\\" and quote == '"' and i + 1 < n:
                buf.append(script[i + 1])
                i += 2
                continue
            if c == quote:
                quote = ""
            i += 1
            continue
        if c in ("'", '"'):
            quote = c
        elif c == "\\" and i + 1 < n:
            buf.append(c + script[i + 1])
            i += 2
            continue
        elif script.startswith("$(", i):
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif depth == 0 and (script.startswith("&&", i) or script.startswith("||", i)):
            out.append((sep, "".join(buf)))
            sep, buf = script[i:i + 2], []
            i += 2
            continue
        elif depth == 0 and c in (";", "\n"):
            out.append((sep, "".join(buf)))
            sep, buf = ";", []
            i += 1
            continue
        buf.append(c)
        i += 1
    out.append((sep, "".join(buf)))
    segs: list[Segment] = []
    for s, t in out:
        t = t.strip()
        if not t:
            continue
        first = _split_pipe(t)
        try:
            words = words_split(first)
        except ValueError:
            words = first.split()
        segs.append(Segment(t, s if segs else "", words, pipe=first != t))
    return segs


_PLAIN = re.compile(r"[^'\"\\$)&|;\n]+")
_QUOTED = {"'": re.compile(r"[^']+"), '"': re.compile(r'[^"\\]+')}


def _split_pipe(text: str) -> str:
    quote = ""
    if "|" not in text:
        return text
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in ("'", '"'):
            quote = c
        elif c == "|" and text[i:i + 2] != "||" and (i == 0 or text[i - 1] != "|"):
            return text[:i].strip()
    return text


def join_commands(segs: list, indent: str = "    ") -> str:
    """Segments back into one RUN body, one command per line."""
    parts = []
    for k, s in enumerate(segs):
        sep = s.sep or ("&&" if k else "")
        parts.append(s.text if k == 0 else f"{sep} {s.text}")
    if len(parts) == 1:
        return parts[0]
    return (" \\\n" + indent).join(parts)


def make_segment(text: str, sep: str = "&&") -> Segment:
    return Segment(text, sep, words_split(text))


# --------------------------------------------------------------------------- #
# Package managers
# --------------------------------------------------------------------------- #

PM_INSTALL = {("apt-get", "install"), ("apt", "install"), ("apk", "add"), ("dnf", "install"),
              ("yum", "install"), ("microdnf", "install"), ("zypper", "install"), ("zypper", "in")}


def package_install(seg: Segment):
    """(manager, [packages]) for an install command, else None."""
    w = seg.argv
    if len(w) < 2:
        return None
    prog = posixpath.basename(w[0])
    sub = next((x for x in w[1:] if not x.startswith("-")), "")
    if (prog, sub) not in PM_INSTALL:
        return None
    pkgs, skip = [], False
    after = w[w.index(sub) + 1:]
    for x in after:
        if skip:
            skip = False
            continue
        if x.startswith("-"):
            if x in ("-o", "-t", "--target-release", "--virtual", "-t"):
                skip = True
            continue
        pkgs.append(x)
    return prog, pkgs


def is_apt_update(seg: Segment) -> bool:
    w = seg.argv
    return len(w) >= 2 and posixpath.basename(w[0]) in ("apt-get", "apt") and "update" in w[1:]


def pip_install(seg: Segment) -> bool:
    w = seg.argv
    if not w:
        return False
    prog = posixpath.basename(w[0])
    if re.match(r"^pip[0-9.]*$", prog):
        return len(w) > 1 and w[1] in ("install", "wheel", "download")
    if re.match(r"^python[0-9.]*$", prog) and "-m" in w:
        k = w.index("-m")
        return w[k + 1:k + 2] == ["pip"] and any(x in ("install", "wheel") for x in w[k + 2:k + 4])
    return False


# --------------------------------------------------------------------------- #
# Steps
# --------------------------------------------------------------------------- #

@dataclass
class Step:
    kind: str              # install | build | fetch | runtime | config | copy | unknown | from
    build_packages: list = field(default_factory=list)
    runtime_packages: list = field(default_factory=list)
    outputs: list = field(default_factory=list)    # paths the step produces (absolute)
    static: bool = False   # the step links statically
    reason: str = ""       # what made it build-only


def _resolve(path: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir or "/", path))


def _venv_root(path: str) -> str:
    m = re.match(r"^(.*)/bin/(pip[0-9.]*|python[0-9.]*)$", path)
    return m.group(1) if m and m.group(1) else ""


def classify_segment(seg: Segment, workdir: str, step: Step) -> str:
    """Kind of one command: install, build, fetch, runtime or unknown; outputs are recorded."""
    w = seg.argv
    if not w:
        return "runtime"
    prog = seg.prog
    pi = package_install(seg)
    if pi:
        mgr, pkgs = pi
        for p in pkgs:
            (step.build_packages if is_build_package(p) else step.runtime_packages).append(p)
        return "install"
    if is_apt_update(seg) or (prog in ("apt-get", "apt", "apk", "dnf", "yum", "conda")
                              and any(x in ("clean", "autoremove", "purge", "remove", "del",
                                            "upgrade", "dist-upgrade") for x in w[1:])):
        return "install"
    if prog in COMPILERS or (prog == "go" and w[1:2] in (["build"], ["install"])) \
            or (prog == "cargo" and w[1:2] in (["build"], ["install"])) \
            or prog in ("make", "cmake", "ninja", "mvn", "gradle", "javac", "rustc", "meson",
                        "./configure", "configure") \
            or (prog in ("npm", "yarn", "pnpm") and w[1:2] in (["ci"], ["install"], ["run"], ["prune"])) \
            or pip_install(seg) or (re.match(r"^python[0-9.]*$", prog) and "venv" in w[1:4]) \
            or (prog == "strip"):
        _outputs(seg, w, prog, workdir, step)
        step.reason = step.reason or " ".join(w[:2])
        return "build"
    if prog in FETCHERS or prog in ("tar", "unzip", "gunzip"):
        if prog == "git" and w[1:2] == ["clone"]:
            args = [x for x in w[2:] if not x.startswith("-")]
            if len(args) >= 2:
                step.outputs.append(_resolve(args[1], workdir))
        step.reason = step.reason or prog
        return "fetch"
    if prog in RUNTIME_SAFE:
        return "runtime"
    return "unknown"


def _outputs(seg: Segment, w: list, prog: str, workdir: str, step: Step) -> None:
    if "-o" in w and w.index("-o") + 1 < len(w) and prog not in ("pip", "pip3"):
        step.outputs.append(_resolve(w[w.index("-o") + 1], workdir))
    for x in w:
        if x.startswith("-o") and len(x) > 2 and prog in COMPILERS:
            step.outputs.append(_resolve(x[2:], workdir))
    if prog in COMPILERS and ("-static" in w or "--static" in w):
        step.static = True
    if prog == "go" and re.search(r"\bCGO_ENABLED=0\b", seg.text):
        step.static = True
    if prog == "make" and "install" in w[1:] or prog == "cmake" and "--install" in w:
        step.outputs.append("/usr/local")
    if re.match(r"^python[0-9.]*$", prog) and "venv" in w[1:4]:
        rest = [x for x in w[w.index("venv") + 1:] if not x.startswith("-")]
        if rest:
            step.outputs.append(_resolve(rest[0], workdir))
    if pip_install(seg):
        venv = _venv_root(w[0]) if w[0].startswith("/") else ""
        for flag in ("--target", "-t", "--prefix", "--root"):
            if flag in w and w.index(flag) + 1 < len(w):
                step.outputs.append(_resolve(w[w.index(flag) + 1], workdir))
                break
            eq = next((x for x in w if x.startswith(flag + "=")), None)
            if eq:
                step.outputs.append(_resolve(eq.split("=", 1)[1], workdir))
                break
        else:
            if venv:
                step.outputs.append(venv)
            elif "--user" in w:
                step.outputs.append("/root/.local")
            elif "wheel" not in w[:3] and "download" not in w[:3]:
                step.outputs.append("/usr/local")
    if prog in ("npm", "yarn", "pnpm") and w[1:2] in (["ci"], ["install"]):
        step.outputs.append(_resolve("node_modules", workdir))
    if prog == "mvn" or prog == "gradle":
        step.outputs.append(_resolve("target" if prog == "mvn" else "build/libs", workdir))
    if prog == "cargo" and w[1:2] == ["install"]:
        root = w[w.index("--root") + 1] if "--root" in w else "/root/.cargo"
        step.outputs.append(_resolve(root, workdir) + "/bin")
    if prog == "go" and w[1:2] == ["install"]:
        step.outputs.append("/root/go/bin")


def classify_run(script: str, workdir: str) -> tuple:
    """(Step, [(Segment, kind)]) for the shell body of a RUN."""
    step = Step("runtime")
    segs = split_commands(script)
    kinds = [(s, classify_segment(s, workdir, step)) for s in segs]
    present = {k for _, k in kinds}
    if "unknown" in present:
        step.kind = "unknown"
    elif "build" in present:
        step.kind = "build"
    elif "fetch" in present:
        step.kind = "fetch"
    elif "install" in present:
        step.kind = "install"
    else:
        step.kind = "runtime"
    return step, kinds
