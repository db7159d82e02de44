"""Check that an optimisation changed nothing: `python bench/compare.py OLD_CODE IMAGE...`.

Analyzes each IMAGE with the slimscope checkout OLD_CODE and with this one (in
separate processes), hashing and not, and compares everything the analysis
exposes: the full JSON report with files, every layer's per-entry statuses, the
ledger of hidden units (layer, reason and the path each was hidden under), the
hardlink map, duplicates and hints. Prints one line per image and mode; exits 1
on any difference.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def fingerprint(path: str, hash_contents: bool) -> dict:
    from slimscope.core.analysis import analyze
    from slimscope.core.report import to_json
    a = analyze(path, hash_contents=hash_contents, use_cache=False)
    c = a.composed
    parts = {
        "report": to_json(a, include_files=True),
        "status": [bytes(s).hex() for s in c.status],
        "hidden": sorted((u, h.layer, h.reason, h.path) for u, h in c.hidden.items()),
        "visible": sorted(c.visible),
        "hardlinks": sorted(c.hardlink_unit.items()),
        "final": sorted(c.final.items()),
        "duplicates": [(d.digest, d.bytes, d.paths, d.savable) for d in a.duplicates],
        "hints": [(h.id, h.title, h.bytes, h.layer, h.paths, h.count) for h in a.hints],
        "waste": [(w.path, w.bytes, w.layer, w.hidden_by, w.reason, w.sensitive, w.digest, w.unit)
                  for w in a.waste],
    }
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True, default=str).encode()).hexdigest()
            for k, v in parts.items()}


def _run(code: str, path: str, mode: str) -> dict:
    env = dict(os.environ, PYTHONPATH=code + os.pathsep + HERE)
    p = subprocess.run([sys.executable, __file__, "--child", path, mode], env=env, cwd=code,
                       capture_output=True, text=True)
    if p.returncode:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"}
    return json.loads(p.stdout)


def main(argv):
    if argv and argv[0] == "--child":
        print(json.dumps(fingerprint(argv[1], argv[2] == "hash")))
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    old, images = os.path.abspath(argv[0]), argv[1:]
    bad = 0
    for img in images:
        for mode in ("hash", "nohash"):
            a, b = _run(old, img, mode), _run(REPO, img, mode)
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            print(f"{'same' if not diff else 'DIFFERENT ' + ','.join(diff)}  {mode:6}  {img}")
            bad += bool(diff)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
