"""Whiteout rules and the byte ledger, on layers built in memory."""

from __future__ import annotations

import pytest

from slimscope.core.analysis import analyze
from slimscope.errors import BadInput
from tests.support.synth import docker_archive


def run(tmp_path, layers, history=None, **kw):
    path = docker_archive(str(tmp_path / "img.tar"), layers, history=history)
    a = analyze(path, use_cache=False, **kw)
    # every image of this file is held to the byte definitions, worked out
    # from the layer lists themselves by model_bytes below, not by the composer
    assert (a.total_bytes, a.final_bytes) == model_bytes(layers)
    return a


def model_bytes(layers) -> tuple:
    """(total_bytes, final_bytes) of synth layer lists, straight from the rules
    in DESIGN.md: a content unit is one regular-file body stored in one layer
    (a hardlink stores none), final_bytes counts the distinct units some final
    path shows. Whiteouts speak of lower layers only; a non-directory replaces
    a directory together with its subtree; a directory over a directory merges.
    Deliberately slow and plain: a dict of path -> (kind, unit)."""
    tree: dict = {}
    total = 0
    units: dict = {}

    def drop(path, subtree_only=False):
        for p in [p for p in tree if p.startswith(path + "/") or (p == path and not subtree_only)]:
            del tree[p]

    for li, entries in enumerate(layers):
        lower = set(tree)
        for path, kind, *_ in entries:
            parent, _, base = path.rpartition("/")
            prefix = parent + "/" if parent else ""
            if kind == "opaque":
                for p in [p for p in lower if p.startswith(prefix) and p in tree]:
                    del tree[p]
            elif kind == "whiteout":
                target = prefix + base[len(".wh."):]
                for p in [p for p in lower if (p == target or p.startswith(target + "/"))
                          and p in tree]:
                    del tree[p]
        for n, (path, kind, *rest) in enumerate(entries):
            if kind in ("opaque", "whiteout"):
                continue
            old = tree.get(path)
            if kind == "dir":
                if old and old[0] != "dir":
                    drop(path)
                tree[path] = ("dir", None)
                continue
            if old and old[0] == "dir":
                drop(path, subtree_only=True)
            if kind == "file":
                unit = (li, n)
                units[unit] = len(rest[0]) if rest else 0
                total += units[unit]
                tree[path] = ("file", unit)
            elif kind == "hardlink":
                tree[path] = ("file", tree[rest[0]][1])
            else:
                tree[path] = (kind, None)
    shown = {unit for kind, unit in tree.values() if unit is not None}
    return total, sum(units[u] for u in shown)


def final(a):
    return {r.path: r._asdict() for r in a.files()}


def reasons(a):
    return {(w.path, w.layer): (w.reason, w.hidden_by) for w in a.waste}


def check_ledger(a):
    # the layers' shares add up to the image's totals
    assert a.total_bytes == sum(l.bytes for l in a.layers)
    assert sum(l.wasted_bytes for l in a.layers) == a.wasted_bytes
    assert sum(l.hides_bytes for l in a.layers) == a.wasted_bytes


def test_plain_layers_have_no_waste(tmp_path):
    a = run(tmp_path, [[("etc", "dir"), ("etc/a", "file", b"x" * 10)],
                       [("etc", "dir"), ("etc/b", "file", b"y" * 5)]])
    assert a.total_bytes == a.final_bytes == 15
    assert a.efficiency == 1.0
    assert set(final(a)) == {"/etc", "/etc/a", "/etc/b"}
    assert a.layers[1].added == 1 and a.layers[1].modified == 0
    check_ledger(a)


def test_empty_image_efficiency_is_one(tmp_path):
    a = run(tmp_path, [[]])
    assert a.total_bytes == 0 and a.efficiency == 1.0 and a.waste == []


def test_whiteout_hides_file_and_counts_it(tmp_path):
    a = run(tmp_path, [[("big", "file", b"z" * 1000), ("keep", "file", b"k")],
                       [(".wh.big", "whiteout")]])
    assert "/big" not in final(a)
    assert reasons(a) == {("/big", 0): ("deleted", 1)}
    assert a.wasted_bytes == 1000 and a.final_bytes == 1
    assert a.layers[1].deleted == 1 and a.layers[1].hides_bytes == 1000
    assert a.layers[0].wasted_bytes == 1000
    check_ledger(a)


def test_whiteout_of_directory_hides_subtree(tmp_path):
    a = run(tmp_path, [[("d", "dir"), ("d/s", "dir"), ("d/s/f", "file", b"12345"), ("d2", "dir"),
                        ("d2/f", "file", b"1")],
                       [(".wh.d", "whiteout")]])
    assert set(final(a)) == {"/d2", "/d2/f"}
    assert reasons(a) == {("/d/s/f", 0): ("deleted", 1)}
    check_ledger(a)


def test_whiteout_does_not_hide_a_prefix_sibling(tmp_path):
    a = run(tmp_path, [[("ab", "file", b"1"), ("a", "file", b"22")], [(".wh.a", "whiteout")]])
    assert set(final(a)) == {"/ab"}


def test_opaque_hides_lower_children_but_keeps_same_layer_whatever_the_order(tmp_path):
    a = run(tmp_path, [[("d", "dir"), ("d/old", "file", b"old!"), ("d/sub", "dir"),
                        ("d/sub/x", "file", b"xx")],
                       # the new child comes before the opaque marker in the tar
                       [("d", "dir"), ("d/new", "file", b"n"), ("d/.wh..wh..opq", "opaque")]])
    assert set(final(a)) == {"/d", "/d/new"}
    assert reasons(a) == {("/d/old", 0): ("opaque", 1), ("/d/sub/x", 0): ("opaque", 1)}
    check_ledger(a)


def test_whiteout_only_speaks_of_lower_layers(tmp_path):
    a = run(tmp_path, [[("f", "file", b"old")], [("f", "file", b"new!"), (".wh.f", "whiteout")]])
    assert final(a)["/f"]["size"] == 4
    assert reasons(a) == {("/f", 0): ("deleted", 1)}


def test_overwrite_and_metadata_only(tmp_path):
    a = run(tmp_path, [[("a", "file", b"one", 0o644), ("b", "file", b"same", 0o644)],
                       [("a", "file", b"two!", 0o644), ("b", "file", b"same", 0o600)]])
    r = reasons(a)
    assert r[("/a", 0)] == ("overwritten", 1)
    assert r[("/b", 0)] == ("metadata-only", 1)
    assert final(a)["/b"]["mode"] == 0o600
    assert a.layers[1].metadata_only == 1 and a.layers[1].modified == 1
    assert any(h.id == "chmod-duplicate" and h.bytes == 4 for h in a.hints)
    check_ledger(a)


def test_no_hash_cannot_tell_metadata_only(tmp_path):
    a = run(tmp_path, [[("b", "file", b"same", 0o644)], [("b", "file", b"same", 0o600)]],
            hash_contents=False)
    assert reasons(a)[("/b", 0)][0] == "overwritten"
    assert not a.hashed and a.duplicates == []


def test_type_replacements(tmp_path):
    a = run(tmp_path, [[("x", "file", b"file!"), ("y", "dir"), ("y/in", "file", b"inside")],
                       [("x", "dir"), ("x/k", "file", b"k"), ("y", "symlink", "/x")]])
    f = final(a)
    assert f["/x"]["type"] == "dir" and f["/y"]["type"] == "symlink" and f["/y"]["link"] == "/x"
    assert "/y/in" not in f
    assert reasons(a) == {("/x", 0): ("replaced", 1), ("/y/in", 0): ("replaced", 1)}
    check_ledger(a)


def test_directory_over_directory_merges(tmp_path):
    a = run(tmp_path, [[("d", "dir", 0o755), ("d/a", "file", b"a")],
                       [("d", "dir", 0o700), ("d/b", "file", b"b")]])
    f = final(a)
    assert {"/d/a", "/d/b"} <= set(f) and f["/d"]["mode"] == 0o700


def test_hardlink_keeps_body_visible_after_twin_is_deleted(tmp_path):
    a = run(tmp_path, [[("a", "file", b"body" * 100), ("b", "hardlink", "a")],
                       [(".wh.a", "whiteout")]])
    f = final(a)
    assert "/a" not in f and f["/b"]["size"] == 400 and f["/b"]["type"] == "hardlink"
    assert a.waste == [] and a.final_bytes == 400 == a.total_bytes
    check_ledger(a)


def test_hardlink_adds_no_unit_and_both_deleted_is_waste(tmp_path):
    a = run(tmp_path, [[("a", "file", b"q" * 50), ("b", "hardlink", "a")],
                       [(".wh.a", "whiteout"), (".wh.b", "whiteout")]])
    assert a.total_bytes == 50 and a.wasted_bytes == 50
    assert reasons(a) == {("/a", 0): ("deleted", 1)}


def test_hardlink_in_later_layer_to_lower_file(tmp_path):
    a = run(tmp_path, [[("a", "file", b"lower")], [("c", "hardlink", "a")], [(".wh.a", "whiteout")]])
    assert final(a)["/c"]["size"] == 5 and a.waste == []


def test_hardlink_to_missing_target_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="hardlink"):
        run(tmp_path, [[("b", "hardlink", "nothere")]])


def test_same_path_twice_in_one_layer(tmp_path):
    a = run(tmp_path, [[("a", "file", b"first"), ("a", "file", b"second!")]])
    assert final(a)["/a"]["size"] == 7
    assert reasons(a) == {("/a", 0): ("overwritten", 0)}
    check_ledger(a)


def test_long_and_non_utf8_names(tmp_path):
    long = "d/" + "x" * 200 + "/" + "y" * 150
    weird = "caf\udce9"  # a Latin-1 byte that is not UTF-8
    a = run(tmp_path, [[("d", "dir"), (long, "file", b"l"), (weird, "file", b"w")]])
    f = final(a)
    assert "/" + long in f and "/" + weird in f


def test_secrets_are_flagged_and_first(tmp_path):
    a = run(tmp_path, [[("root", "dir"), ("root/.ssh", "dir"), ("root/.ssh/id_rsa", "file", b"KEY"),
                        ("app", "dir"), ("app/.env", "file", b"A=1"), ("big", "file", b"b" * 999),
                        ("root/.ssh/known_hosts", "file", b"h")],
                       [(".wh.big", "whiteout"), ("root/.ssh/.wh.id_rsa", "whiteout"),
                        ("root/.ssh/.wh.known_hosts", "whiteout"), ("app/.env", "file", b"A=2")]])
    flagged = [w.path for w in a.waste if w.sensitive]
    assert sorted(flagged) == ["/app/.env", "/root/.ssh/id_rsa"]
    assert a.waste[0].sensitive and a.waste[1].sensitive
    assert not [w for w in a.waste if w.path == "/root/.ssh/known_hosts"][0].sensitive


def test_duplicates_grouped_by_content(tmp_path):
    a = run(tmp_path, [[("a", "file", b"dup" * 10), ("b", "file", b"dup" * 10),
                        ("c", "file", b"other"), ("h", "hardlink", "a")]])
    assert len(a.duplicates) == 1
    d = a.duplicates[0]
    assert d.paths == ["/a", "/b", "/h"] and d.bytes == 30 and d.savable == 30


def test_history_pairs_skip_empty_layers(tmp_path):
    history = [{"created_by": "ADD rootfs"}, {"created_by": "ENV A=1", "empty_layer": True},
               {"created_by": "RUN make"}]
    a = run(tmp_path, [[("a", "file", b"1")], [("b", "file", b"2")]], history=history)
    assert [l.created_by for l in a.layers] == ["ADD rootfs", "RUN make"]


def test_hints_name_measured_leftovers(tmp_path):
    a = run(tmp_path, [[("var", "dir"), ("var/lib", "dir"), ("var/lib/apt", "dir"),
                        ("var/lib/apt/lists", "dir"),
                        ("var/lib/apt/lists/deb_Packages", "file", b"p" * 700),
                        ("usr", "dir"), ("usr/share", "dir"), ("usr/share/doc", "dir"),
                        ("usr/share/doc/README", "file", b"d" * 30)]])
    by_id = {h.id: h for h in a.hints}
    assert by_id["apt-lists"].bytes == 700 and by_id["apt-lists"].layer == 0
    assert by_id["docs"].bytes == 30
