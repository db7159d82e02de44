"""Hints say what they found and give advice the user can follow: apt's binary caches
are not .deb archives, and leftovers of the base image are not the user's RUN to edit."""

from __future__ import annotations

from slimscope.catalog import GROUPS
from slimscope.core.analysis import analyze
from tests.support.synth import docker_archive

APT_DIRS = [("var", "dir"), ("var/cache", "dir"), ("var/cache/apt", "dir"),
            ("var/lib", "dir"), ("var/lib/apt", "dir"), ("var/lib/apt/lists", "dir")]
LISTS = ("var/lib/apt/lists/deb.debian.org_dists_bookworm_main_binary-amd64_Packages",
         "file", b"p" * 4000)
BINS = [("var/cache/apt/pkgcache.bin", "file", b"c" * 3000),
        ("var/cache/apt/srcpkgcache.bin", "file", b"s" * 2000)]
IMPORTED = {"created_by": "", "comment": "Imported from -"}
APP = [("app", "dir"), ("app/main", "file", b"m" * 10)]


def _hints(tmp_path, layers, history=None):
    path = str(tmp_path / "img.tar")
    docker_archive(path, layers, history=history)
    return {h.id: h for h in analyze(path, use_cache=False).hints}


def test_apt_binary_caches_are_named_as_such(tmp_path):
    hints = _hints(tmp_path, [APT_DIRS + BINS])
    assert "apt-archives" not in hints
    h = hints["apt-pkgcache"]
    assert h.bytes == 5000 and h.count == 2
    assert ".deb" not in h.title and "pkgcache.bin" in h.title


def test_debs_and_binary_caches_are_two_hints(tmp_path):
    deb = [("var/cache/apt/archives", "dir"), ("var/cache/apt/archives/gcc_12.deb", "file", b"d" * 700)]
    hints = _hints(tmp_path, [APT_DIRS + BINS + deb])
    assert hints["apt-archives"].bytes == 700 and hints["apt-archives"].paths == [
        "/var/cache/apt/archives/gcc_12.deb"]
    assert hints["apt-pkgcache"].bytes == 5000


def test_a_leftover_of_the_base_points_at_the_base_not_at_a_run(tmp_path):
    hints = _hints(tmp_path, [APT_DIRS + [LISTS], APP],
                   history=[IMPORTED, {"created_by": "/bin/sh -c cp main /app/"}])
    h = hints["apt-lists"]
    assert h.layer == 0
    assert "same RUN" not in h.advice
    assert "base image" in h.advice and "imported" in h.advice
    assert "slimmer base" in h.advice and "--preset apt" in h.advice and "--keep-base" in h.advice


def test_a_base_found_by_its_cmd_and_a_leftover_of_the_users_run(tmp_path):
    history = [{"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
               {"created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True},
               {"created_by": "/bin/sh -c apt-get update"}]
    hints = _hints(tmp_path, [APP, APT_DIRS + [LISTS]], history=history)
    # layer 1 is the user's: the advice is about their RUN
    assert hints["apt-lists"].layer == 1
    assert hints["apt-lists"].advice == GROUPS["apt-lists"].advice


def test_deleting_base_files_later_is_said_to_save_nothing(tmp_path):
    wh = [("var", "dir"), ("var/lib", "dir"), ("var/lib/apt", "dir"),
          ("var/lib/apt/lists", "dir"), ("var/lib/apt/lists/.wh." + LISTS[0].rsplit("/", 1)[1], "whiteout")]
    path = str(tmp_path / "img.tar")
    docker_archive(path, [APT_DIRS + [LISTS], wh],
                   history=[IMPORTED, {"created_by": "/bin/sh -c rm -rf /var/lib/apt/lists/*"}])
    h = next(h for h in analyze(path, use_cache=False).hints if h.id == "removed-later")
    assert "same RUN" not in h.advice
    assert "base image" in h.advice and "saves nothing" in h.advice


def test_pycache_advice_does_not_promise_py3compile_obeys_the_variable():
    advice = GROUPS["pycache"].advice
    assert "py3compile" in advice and "not Debian's py3compile" in advice
    assert not advice.startswith("set PYTHONDONTWRITEBYTECODE")


def test_files_a_copy_brought_in_are_not_a_run_to_edit(tmp_path):
    key = [("root", "dir"), ("root/.ssh", "dir"), ("root/.ssh/id_rsa", "file", b"k" * 850)]
    gone = [("root", "dir"), ("root/.ssh", "dir"), ("root/.ssh/.wh.id_rsa", "whiteout")]
    pyc = [("app", "dir"), ("app/__pycache__", "dir"), ("app/__pycache__/m.cpython-311.pyc", "file",
                                                        b"c" * 90)]
    history = [{"created_by": "/bin/sh -c #(nop) COPY file:ab in /root/.ssh/id_rsa "},
               {"created_by": "COPY . /app # buildkit"},
               {"created_by": "/bin/sh -c rm /root/.ssh/id_rsa"}]
    path = str(tmp_path / "img.tar")
    docker_archive(path, [key, pyc, gone], history=history)
    hints = {h.id: h for h in analyze(path, use_cache=False).hints}
    removed = hints["removed-later"]
    assert removed.layer == 0 and "same RUN" not in removed.advice
    assert "layer 0 is a COPY" in removed.advice and ".dockerignore" in removed.advice
    assert hints["pycache"].layer == 1 and "layer 1 is a COPY" in hints["pycache"].advice


def test_base_files_stored_again_are_not_folded_into_a_copy(tmp_path):
    body = b"x" * 500
    hints = _hints(tmp_path, [[("usr", "dir"), ("usr/bin", "dir"), ("usr/bin/tool", "file", body, 0o644)],
                              [("usr", "dir"), ("usr/bin", "dir"), ("usr/bin/tool", "file", body, 0o755)]],
                   history=[IMPORTED, {"created_by": "/bin/sh -c chmod 755 /usr/bin/tool"}])
    h = hints["chmod-duplicate"]
    assert h.layer == 1 and "layer 0 belongs to the base image" in h.advice
    assert "helps only for files you copy" in h.advice
