"""In-place Dockerfile fixes (no engine: NoMeasure)."""

from __future__ import annotations

from slimscope.dockerfile import fixes, measure, parser
from tests.support.dockerfiles import ANTI


def test_in_place_fixes():
    df = parser.parse(ANTI)
    outs = fixes.fix_stage(df.final.instructions, measure.NoMeasure())
    text = "\n".join(o.render() for o in outs if o.render())
    rules = sorted(c.rule for o in outs for c in o.changes)
    assert rules == ["apt-lists", "apt-recommends", "apt-update-alone", "chown-layer", "chown-layer",
                     "later-rm", "pip-cache"]
    assert "RUN apt-get update \\\n    && apt-get install --no-install-recommends -y curl" in text
    assert "&& rm -rf /var/lib/apt/lists/*" in text
    assert "pip install --no-cache-dir requests" in text
    assert "COPY --chown=1000:1000 --chmod=0755 app.sh /app/app.sh" in text
    assert "chown 1000" not in text and "RUN chmod" not in text
    assert "tar xf /tmp/x.tgz -C /opt \\\n    && rm -rf /tmp/x.tgz" in text
    # every change is commented
    assert text.count("# slimscope:") == len(rules)
    # the classic builder has no --chmod: that layer stays
    legacy = fixes.fix_stage(df.final.instructions, measure.NoMeasure(), legacy_builder=True)
    assert any(o.text == "RUN chmod 0755 /app/app.sh" for o in legacy)

def test_rm_not_moved_past_a_user_of_the_files():
    df = parser.parse("FROM x\nRUN curl -o /tmp/a http://h/a\nCOPY b /tmp/a\nRUN rm /tmp/a\n")
    outs = fixes.fix_stage(df.final.instructions, measure.NoMeasure())
    assert not any(c.rule == "later-rm" for o in outs for c in o.changes)
