"""What a killed slimscope run left in the engine (a container, a temporary tag) is
removed by the next run, and only when its maker is gone."""

from __future__ import annotations

import pytest

from slimscope import stale
from slimscope.engine import OWNER_LABEL, TEMP_REPO, sweep_engine
from tests.support import bases

pytestmark = pytest.mark.engine


def _dead_owner() -> str:
    """An owner string of this boot whose process does not exist."""
    boot = stale.owner().split("-")[0]
    pid = 4_000_000          # above any pid_max the kernel allows
    return f"{boot}-{pid}-12345"


def test_stale_containers_and_tags_go_live_ones_stay(engine):
    base = bases.busybox_base()
    dead, live = _dead_owner(), stale.owner()
    made = []
    try:
        for who in (dead, live):
            cid = engine.api.create_container(base, command=["true"],
                                              labels={OWNER_LABEL: who})["Id"]
            made.append(cid)
            engine.api.tag(base, f"{TEMP_REPO}{who}-abcd1234", "slim")
        removed = sweep_engine(engine)
        assert made[0][:12] in removed and f"{TEMP_REPO}{dead}-abcd1234:slim" in removed
        assert made[1][:12] not in removed
        left = {c["Id"] for c in engine.api.containers(all=True,
                                                        filters={"label": OWNER_LABEL})}
        assert made[0] not in left and made[1] in left
        tags = {t for i in engine.api.images(filters={"reference": TEMP_REPO + "*"})
                for t in i.get("RepoTags") or []}
        assert f"{TEMP_REPO}{live}-abcd1234:slim" in tags
        assert f"{TEMP_REPO}{dead}-abcd1234:slim" not in tags
    finally:
        for cid in made:
            try:
                engine.api.remove_container(cid, force=True)
            except Exception:
                pass
        for who in (dead, live):
            try:
                engine.api.remove_image(f"{TEMP_REPO}{who}-abcd1234:slim")
            except Exception:
                pass
