"""The catalogue: one table that hints, slim presets and the Dockerfile fixes read."""

from __future__ import annotations

import re

import pytest

from slimscope.catalog import GROUPS, HINTED, PRESETS, is_build_package, is_source_file
from slimscope.core import hints
from slimscope.core.analysis import analyze
from slimscope.globs import compile_glob
from slimscope.slim.plan import make_plan
from tests.support.synth import docker_archive

# A path of each hinted group, and paths that belong to none.
EXAMPLES = {
    "apt-lists": ["/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                  "/var/lib/apt/lists/partial/x"],
    "apt-archives": ["/var/cache/apt/archives/gcc_12.deb"],
    "apt-pkgcache": ["/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin"],
    "pip-cache": ["/root/.cache/pip/http/a/b", "/home/u/.cache/pip/x", "/tmp/pip-build-1/setup.py"],
    "npm-cache": ["/root/.npm/_cacache/index/x", "/root/.npm/_logs/1.log",
                  "/usr/local/share/.cache/yarn/v6/x", "/app/.yarn/cache/z.zip"],
    "apk-cache": ["/var/cache/apk/APKINDEX.tar.gz"],
    "dnf-cache": ["/var/cache/dnf/x", "/var/cache/yum/y"],
    "build-tools": ["/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "/usr/bin/gcc-12",
                    "/usr/bin/x86_64-linux-gnu-g++-12", "/usr/include/x/y.h",
                    "/usr/lib/llvm-14/lib/libLLVM.so", "/usr/bin/clang-14"],
    "docs": ["/usr/share/doc/pkg/copyright", "/usr/share/man/man1/ls.1.gz",
             "/usr/share/locale/de/LC_MESSAGES/x.mo", "/usr/share/i18n/locales/de_DE"],
    "pycache": ["/usr/lib/python3/__pycache__/a.cpython-311.pyc", "/app/old.pyc"],
}
NOT_HINTED = ["/usr/bin/ls", "/etc/passwd", "/app/main.py", "/usr/share/docs-not", "/tmp/x"]


def test_every_glob_compiles_and_every_dir_is_one():
    for g in GROUPS.values():
        for glob in g.globs + g.keep:
            assert compile_glob(glob).pattern.pattern    # compiled on use: compile it here
            re.compile(compile_glob(glob).lines_source, re.M)
        assert all(d.endswith("/") for d in g.dirs), g.id
    assert set(HINTED) <= set(GROUPS)
    assert {gid for _, gids in PRESETS.values() for gid in gids} <= set(GROUPS)


@pytest.mark.parametrize("gid", sorted(EXAMPLES))
def test_hints_name_the_group_of_a_path(gid):
    for path in EXAMPLES[gid]:
        m = re.compile(hints._RULES).match(path)
        assert m is not None and hints._RULE_OF_GROUP[m.lastgroup] == gid, path
        # the substring prefilter must keep every path a rule matches
        assert any(n in "\0" + path + "\0" for n in hints._NEEDLES), path
    for path in NOT_HINTED:
        assert re.compile(hints._RULES).match(path) is None, path


def test_presets_remove_the_groups_and_spare_what_the_manager_needs(tmp_path):
    layer = [("var", "dir"), ("var/lib", "dir"), ("var/lib/apt", "dir"),
             ("var/lib/apt/lists", "dir"), ("var/lib/apt/lists/partial", "dir"),
             ("var/lib/apt/lists/lock", "file", b""),
             ("var/lib/apt/lists/deb_InRelease", "file", b"x" * 100),
             ("var/cache", "dir"), ("var/cache/apt", "dir"), ("var/cache/apt/archives", "dir"),
             ("var/cache/apt/archives/a.deb", "file", b"d" * 50),
             ("usr", "dir"), ("usr/share", "dir"), ("usr/share/doc", "dir"),
             ("usr/share/doc/p", "dir"), ("usr/share/doc/p/README", "file", b"r" * 7)]
    path = str(tmp_path / "img.tar")
    docker_archive(path, [layer])
    plan = make_plan(analyze(path), presets=["apt", "docs"])
    assert sorted(plan.removed) == ["/usr/share/doc/p", "/usr/share/doc/p/README",
                                    "/var/cache/apt/archives/a.deb",
                                    "/var/lib/apt/lists/deb_InRelease"]
    assert plan.bytes == 157


@pytest.mark.parametrize("name, build", [
    ("gcc", True), ("gcc-12:amd64=12.2", True), ("libssl-dev", True), ("python3-devel", True),
    ("openjdk-17-jdk-headless", True), ("ca-certificates", False), ("libssl3", False),
    ("python3", False)])
def test_build_packages(name, build):
    assert is_build_package(name) is build


@pytest.mark.parametrize("name, source", [
    ("src/main.c", True), ("go.mod", True), ("requirements-dev.txt", True), ("/ctx/Makefile", True),
    ("app.py", False), ("static/", False), ("main.c/", True)])
def test_source_files(name, source):
    assert is_source_file(name) is source
