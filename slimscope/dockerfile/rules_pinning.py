"""Pinned package versions, off unless the config enables them: users of hadolint find its
pinning rules the noisiest, and a base image pinned by digest already fixes most of it."""

from __future__ import annotations

import re

from slimscope.dockerfile.findings import Finding, Rule
from slimscope.dockerfile.shellwords import commands, prog, runs

_RULES = [
    Rule("pin-apt", "info", "apt-get install of a package without =VERSION: rebuilds drift",
         ("DL3008",), default=False),
    Rule("pin-apk", "info", "apk add of a package without =VERSION: rebuilds drift",
         ("DL3018",), default=False),
    Rule("pin-pip", "info", "pip install of a package without ==VERSION: rebuilds drift",
         ("DL3013",), default=False),
    Rule("pin-npm", "info", "npm install of a package without @VERSION: rebuilds drift",
         ("DL3016",), default=False),
    Rule("pin-gem", "info", "gem install without -v VERSION: rebuilds drift", ("DL3028",),
         default=False),
]
RULES = {r.id: r for r in _RULES}

# options whose next word is a value, not a package
APT_VALUED = {"-o", "-t", "--target-release", "-c", "--config-file"}
APK_VALUED = {"-t", "--virtual", "-X", "--repository", "--root", "-p", "--arch", "--cache-dir",
              "--keys-dir", "--repositories-file"}
PIP_VALUED = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
              "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi",
              "--upgrade-strategy", "--progress-bar", "--cache-dir", "--log", "--report",
              "--only-binary", "--no-binary", "--trusted-host", "--src", "--python", "--proxy",
              "--timeout", "--retries", "--exists-action", "--cert", "--client-cert", "-c",
              "--constraint", "--global-option", "--config-settings", "-C", "-r", "--requirement",
              "-e", "--editable"}
NPM_VALUED = {"--registry", "--prefix", "--cache", "--userconfig", "--tag", "-w", "--workspace"}
GEM_VALUED = {"-i", "--install-dir", "-n", "--bindir", "-s", "--source", "-P", "--trust-policy",
              "--platform", "-g", "--file"}
# pip's requirement operators that hold the version in (>= alone is a floor, not a pin)
PIP_PINNED = ("==", "~=", "!=", "<", "@")


def _operands(argv: list, sub: str, valued: set) -> list:
    """The words after the subcommand `sub` that are not options or option values."""
    try:
        k = argv.index(sub)
    except ValueError:
        return []
    out, skip = [], False
    for w in argv[k + 1:]:
        if skip:
            skip = False
            continue
        if w.startswith("-"):
            skip = w in valued
            continue
        out.append(w)
    return out


def _local(word: str) -> bool:
    return word.startswith((".", "/", "~", "$")) or word.endswith((".deb", ".whl", ".tar.gz", ".tgz",
                                                                   ".zip", ".gem", ".apk", ".rpm"))


def _apt(argv):
    if prog(argv) != "apt-get" or "install" not in argv[1:]:
        return []
    return [p for p in _operands(argv, "install", APT_VALUED) if "=" not in p and not _local(p)]


def _apk(argv):
    if prog(argv) != "apk" or "add" not in argv[1:]:
        return []
    return [p for p in _operands(argv, "add", APK_VALUED) if "=" not in p and not _local(p)]


def _pip(argv):
    p = prog(argv)
    if re.match(r"^python[0-9.]*$", p) and argv[1:3] == ["-m", "pip"]:
        argv = argv[2:]
    elif not re.match(r"^pip[0-9.]*$", p):
        return []
    if "install" not in argv[1:]:
        return []
    words = _operands(argv, "install", PIP_VALUED)
    return [w for w in words if not any(op in w for op in PIP_PINNED) and not _local(w)]


def _npm(argv):
    if prog(argv) != "npm" or not any(s in argv[1:] for s in ("install", "i", "add")):
        return []
    sub = next(s for s in argv[1:] if s in ("install", "i", "add"))
    out = []
    for w in _operands(argv, sub, NPM_VALUED):
        if _local(w) or ("://" in w and "#" in w):
            continue
        name = w[1:] if w.startswith("@") else w
        if "@" not in name:
            out.append(w)
    return out


def _gem(argv):
    if prog(argv) != "gem" or "install" not in argv[1:]:
        return []
    if any(w in ("-v", "--version") or w.startswith("--version=") for w in argv):
        return []
    return [w for w in _operands(argv, "install", GEM_VALUED) if ":" not in w and not _local(w)]


def _name(word: str) -> str:
    """The package name of a requirement, its version part dropped."""
    head, rest = (word[0], word[1:]) if word.startswith("@") else ("", word)
    return head + re.split(r"[<>=!~@\[]", rest)[0]


CHECKS = [("pin-apt", _apt, "apt-get install {p}=VERSION"), ("pin-apk", _apk, "apk add {p}=VERSION"),
          ("pin-pip", _pip, "pip install {p}==VERSION"), ("pin-npm", _npm, "npm install {p}@VERSION"),
          ("pin-gem", _gem, "gem install {p} -v VERSION")]


def check(df, enabled) -> list:
    out: list[Finding] = []
    todo = [(rule, fn, hint) for rule, fn, hint in CHECKS if rule in enabled]
    if not todo:
        return out
    for st in df.stages:
        for ins in runs(st):
            cmds = [a for _, a in commands(ins)]
            for rule, fn, hint in todo:
                loose = [p for a in cmds for p in fn(a)]
                if loose:
                    out.append(Finding(rule, ins.line, ins.end_line,
                                       f"not pinned: {', '.join(loose[:6])}; write "
                                       f"{hint.format(p=_name(loose[0]))}"))
    return out
