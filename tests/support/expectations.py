"""What a fixture image claims (tests/support/images.FIXTURES), checked against an
analysis of it: the ground-truth tests read each fixture in every form the engine
and a registry hand out, and hold each reading to the same claims."""

from __future__ import annotations

import stat

from slimscope.index.records import OPAQUE
from tests.support import images

# The fixtures quick to build; the slow ones download packages (the Debian base).
FAST = [n for n, (_, _, exp) in images.FIXTURES.items() if not exp.get("slow")]
SLOW = [n for n, (_, _, exp) in images.FIXTURES.items() if exp.get("slow")]


def check_expectations(a, exp: dict):
    waste = {w.path: w for w in a.waste}
    if "reasons" in exp:
        assert {p: w.reason for p, w in waste.items()} == exp["reasons"]
    for p, reason in exp.get("reasons_include", {}).items():
        assert waste[p].reason == reason, p
    if "wasted_bytes" in exp:
        assert a.wasted_bytes == exp["wasted_bytes"]
    if "wasted_bytes_min" in exp:
        assert a.wasted_bytes >= exp["wasted_bytes_min"]
    for p in exp.get("hidden_sensitive", []):
        assert waste[p].sensitive, p
    if "hidden_sensitive" in exp or "reasons" in exp:
        # exactly the hidden secrets the fixture has (none, if it claims none) ...
        assert sorted(w.path for w in a.secrets) == sorted(exp.get("hidden_sensitive", []))
        # ... and they lead the waste list, ahead of bigger items
        assert [w.sensitive for w in a.waste] == sorted((w.sensitive for w in a.waste),
                                                         reverse=True)
    final = {r.path: r._asdict() for r in a.files()}
    for p, kind in exp.get("final", {}).items():
        got = final[p]["type"]
        assert (got if got != "hardlink" else "file") == kind, p
    for p in exp.get("absent", []):
        assert p not in final, p
    for p in exp.get("setuid", []):
        assert final[p]["mode"] & stat.S_ISUID, p
    for p in exp.get("setgid", []):
        assert final[p]["mode"] & stat.S_ISGID, p
    for d in exp.get("opaque_dirs", []):
        assert any(idx.paths[i] == d and idx.kinds[i] == OPAQUE
                   for idx in a.composed.layers for i in range(len(idx))), d
    if "layers" in exp:
        assert len(a.layers) == exp["layers"]
    if "empty_layers" in exp:
        assert sum(1 for h in a.image.config.get("history", []) if h.get("empty_layer")) \
            == exp["empty_layers"]
    if "duplicate_diff_ids" in exp:
        ids = [l.diff_id for l in a.layers]
        assert len(ids) - len(set(ids)) == exp["duplicate_diff_ids"]
    for path in exp.get("hints", {}).values():
        assert any(p.startswith(path) for h in a.hints for p in h.paths), path
    for path, n in exp.get("hint_min_bytes", {}).items():
        assert sum(r["size"] for p, r in final.items()
                   if p.startswith(path + "/") and r["type"] == "file") >= n, path
