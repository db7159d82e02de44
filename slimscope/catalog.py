"""The one catalogue of what images carry and rarely need: package-manager leftovers,
caches, docs, temporary files, build tools and build inputs.

Each kind of leftover is one `Group`, named by the id hints, lint rules and
Dockerfile changes already use. Its fields answer what each consumer asks:

- `globs`: its files in a final filesystem, in slimscope.globs' dialect (hints count
  them; a slim preset removes them, keeping a directory that a trailing `/**` names);
- `keep`: what a slim spares although a glob matches it (apt's lock and partial/);
- `rm`: the `rm -rf` words a Dockerfile uses to drop it where it is made;
- `dirs`: the directories (with a trailing `/`) that hold it, for measuring the bytes
  a layer stores there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slimscope.globs import matcher

__all__ = ["Group", "GROUPS", "group", "globs_of", "HINTED", "PRESETS", "BUILD_LEFTOVERS",
           "SYSTEM_PREFIXES", "BUILD_PACKAGES", "BUILD_PACKAGE_GLOBS", "BUILD_SOURCES",
           "is_build_package", "is_source_file"]


@dataclass(frozen=True)
class Group:
    id: str
    title: str                      # what a hint calls it
    advice: str                     # how to avoid it, as a hint says
    globs: tuple[str, ...]
    keep: tuple[str, ...] = ()
    rm: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()


_GROUPS = [
    Group("apt-lists", "apt package lists left in the image",
          "run `rm -rf /var/lib/apt/lists/*` in the same RUN as `apt-get update`",
          ("/var/lib/apt/lists/**",),
          keep=("/var/lib/apt/lists/partial", "/var/lib/apt/lists/lock"),
          rm=("/var/lib/apt/lists/*",), dirs=("/var/lib/apt/lists/",)),
    Group("apt-archives", "downloaded .deb archives left in the image",
          "run `apt-get clean` (or `rm -rf /var/cache/apt/archives/*.deb`) in the same RUN",
          ("/var/cache/apt/archives/*.deb", "/var/cache/apt/archives/partial/**"),
          rm=("/var/cache/apt/archives/*.deb",), dirs=("/var/cache/apt/archives/",)),
    # apt rebuilds these from the lists on the next update: no package is in them
    Group("apt-pkgcache", "apt's binary package caches (pkgcache.bin, srcpkgcache.bin) left in "
          "the image", "run `apt-get clean` (or `rm -f /var/cache/apt/*.bin`) in the same RUN as "
          "`apt-get update`", ("/var/cache/apt/*.bin",), rm=("/var/cache/apt/*.bin",),
          dirs=("/var/cache/apt/",)),
    Group("pip-cache", "pip's download cache left in the image",
          "use `pip install --no-cache-dir`", (".cache/pip/**", "/tmp/pip-*/**"),
          rm=("/root/.cache/pip",), dirs=("/root/.cache/pip/",)),
    Group("npm-cache", "npm/yarn caches left in the image",
          "run `npm cache clean --force` / `yarn cache clean` in the same RUN, or mount a cache",
          (".npm/_cacache/**", ".npm/_logs/**", ".cache/yarn/**", ".yarn/cache/**"),
          rm=("/root/.npm/_cacache", "/usr/local/share/.cache/yarn"),
          dirs=("/root/.npm/", "/usr/local/share/.cache/yarn/")),
    Group("apk-cache", "apk's cache left in the image", "use `apk add --no-cache`",
          ("/var/cache/apk/**",), rm=("/var/cache/apk/*",), dirs=("/var/cache/apk/",)),
    Group("dnf-cache", "dnf/yum caches left in the image",
          "run `dnf clean all` (or `yum clean all`) in the same RUN",
          ("/var/cache/dnf/**", "/var/cache/yum/**"),
          rm=("/var/cache/dnf/*", "/var/cache/yum/*"), dirs=("/var/cache/dnf/", "/var/cache/yum/")),
    Group("conda-clean", "conda's package tarballs and caches left in the image",
          "run `conda clean -afy` in the same RUN", ("/opt/conda/pkgs/**",),
          rm=("/opt/conda/pkgs/*",), dirs=("/opt/conda/pkgs/",)),
    Group("build-tools", "compilers and headers in the runtime image",
          "build in a separate stage and copy only the result (multi-stage build)",
          ("/usr/lib/gcc/**", "/usr/libexec/gcc/**", "/usr/bin/*gcc*", "/usr/bin/*g++*",
           "/usr/bin/cc1*", "/usr/bin/x86_64-linux-gnu-as", "/usr/bin/x86_64-linux-gnu-ld*",
           "/usr/bin/aarch64-linux-gnu-ld*", "/usr/include/**", "/usr/local/include/**",
           "/usr/lib/llvm-*/**", "/usr/bin/clang*")),
    Group("docs", "documentation, man pages and locales",
          "drop them in the same RUN, or use a dpkg path-exclude for /usr/share/doc, man and locale",
          ("/usr/share/doc/**", "/usr/share/man/**", "/usr/share/info/**", "/usr/share/locale/**",
           "/usr/share/i18n/locales/**")),
    Group("pycache", "Python bytecode caches",
          "drop `__pycache__` and `*.pyc` in the RUN that writes them, or `pip install --no-compile`;"
          " PYTHONDONTWRITEBYTECODE=1 only stops Python writing them as it runs, not Debian's"
          " py3compile when apt installs python3 packages",
          ("__pycache__/**", "*.pyc")),
    Group("tmp", "files left in /tmp and /var/tmp", "remove them in the RUN that makes them",
          ("/tmp/**", "/var/tmp/**"), rm=("/tmp/*", "/var/tmp/*"), dirs=("/tmp/", "/var/tmp/")),
]
GROUPS: dict[str, Group] = {g.id: g for g in _GROUPS}


def group(gid: str) -> Group:
    return GROUPS[gid]


# The groups `analyze` reports as hints, in the order a path is given to the first
# that matches it.
HINTED = ("apt-lists", "apt-archives", "apt-pkgcache", "pip-cache", "npm-cache", "apk-cache",
          "dnf-cache", "build-tools", "docs", "pycache")

# slim --preset NAME -> (what it removes, the groups)
PRESETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "apt": ("apt package lists, downloaded .deb archives and apt's binary caches",
            ("apt-lists", "apt-archives", "apt-pkgcache")),
    "pip": ("pip's download and wheel caches", ("pip-cache",)),
    "npm": ("npm and yarn caches and logs", ("npm-cache",)),
    "apk": ("apk's package cache", ("apk-cache",)),
    "docs": ("documentation, man and info pages, locales other than the ones set", ("docs",)),
    "pycache": ("Python bytecode caches (__pycache__ directories)", ("pycache",)),
    "tmp": ("temporary files", ("tmp",)),
}

# What a build step leaves that is not its result: package-manager state, caches,
# logs, downloads (path prefixes; a directory ends with `/`).
BUILD_LEFTOVERS = ("/var/lib/apt/lists/", "/var/cache/", "/root/.cache/", "/tmp/", "/var/log/",
                   "/var/lib/dpkg/", "/root/.npm/", "/root/.cargo/registry/", "/root/.m2/",
                   "/root/go/pkg/", "/var/lib/apt/", "/etc/ld.so.cache", "/root/.wget-hsts")

# Package-managed places: a build step's files there belong to the toolchain, not the app.
SYSTEM_PREFIXES = ("/usr/lib/", "/usr/share/", "/usr/include/", "/usr/bin/", "/usr/sbin/",
                   "/usr/libexec/", "/etc/", "/var/", "/lib/", "/lib64/", "/bin/", "/sbin/",
                   "/usr/lib64/", "/usr/local/include/")

# Packages a running program does not need (Debian/Ubuntu, Alpine, Fedora names).
BUILD_PACKAGES = frozenset({
    "gcc", "g++", "cpp", "cc", "clang", "llvm", "make", "cmake", "ninja-build", "meson",
    "build-essential", "build-base", "autoconf", "automake", "libtool", "pkg-config", "pkgconf",
    "bison", "flex", "patch", "binutils", "gfortran", "musl-dev", "libc6-dev", "libc-dev",
    "linux-headers", "git", "curl", "wget", "subversion", "mercurial", "golang", "golang-go", "go",
    "rustc", "cargo", "maven", "gradle", "default-jdk", "openjdk-17-jdk", "npm", "yarn",
    "python3-dev", "python3-pip", "python3-venv", "python3-wheel", "python3-setuptools",
    "python-dev", "python3-devel", "unzip", "xz-utils", "bzip2", "gnupg", "dirmngr",
})
BUILD_PACKAGE_GLOBS = ("*-dev", "*-devel", "gcc-*", "g++-*", "clang-*", "llvm-*", "cpp-*",
                       "openjdk-*-jdk", "openjdk-*-jdk-headless", "golang-*-go", "libstdc++-*-dev")

# Files copied only to be built: sources of compiled languages, build manifests,
# packages to install (matched against the file name).
BUILD_SOURCES = ("*.c", "*.h", "*.cc", "*.cpp", "*.cxx", "*.hpp", "*.go", "go.mod", "go.sum",
                 "*.rs", "Cargo.toml", "Cargo.lock", "Makefile", "makefile", "GNUmakefile",
                 "CMakeLists.txt", "*.cmake", "*.java", "pom.xml", "build.gradle", "*.kt", "*.whl",
                 "*.tar.gz", "*.zip", "*.s", "*.S", "configure", "*.in", "*.am", "*.mk", "setup.py",
                 "setup.cfg", "pyproject.toml", "requirements*.txt", "*.pyx")

# A name is matched as a one-segment path: the dialect's `*` then never meets a `/`,
# and the globs mean what they say of a bare name.
_build_package_glob = matcher(BUILD_PACKAGE_GLOBS)
_build_source = matcher(BUILD_SOURCES)


def is_build_package(name: str) -> bool:
    """A package name (version and arch suffixes allowed) of a build-only package."""
    base = name
    for sep in "=<>:":
        base = base.split(sep, 1)[0]
    return base in BUILD_PACKAGES or ("/" not in base and _build_package_glob("/" + base))


def is_source_file(name: str) -> bool:
    """A file (its last name) that is only an input of a build."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return bool(base) and _build_source("/" + base)


def globs_of(gids: Iterable[str]) -> tuple[str, ...]:
    return tuple(g for gid in gids for g in GROUPS[gid].globs)
