"""later-rm when the removed file came from COPY/ADD: the classic `COPY x.tar` then
`RUN rm x.tar`, whose bytes stay in the COPY's layer whatever RUN the rm is in."""

from __future__ import annotations

import json

from click.testing import CliRunner

from slimscope.cli import main
from slimscope.dockerfile import lint, parser
from slimscope.dockerfile.fixes import fix_stage
from slimscope.dockerfile.measure import NoMeasure


def later_rm(text: str) -> list:
    return [f for f in lint.lint(parser.parse(text), NoMeasure()) if f.rule == "later-rm"]


def test_a_copied_file_removed_in_its_own_run():
    (f,) = later_rm("FROM a:1\nCOPY x.tar /tmp/x.tar\nRUN rm /tmp/x.tar\n")
    assert f.line == 3 and "COPY of line 2" in f.message and "/tmp/x.tar" in f.message
    assert "bind" in f.message


def test_a_copied_file_removed_after_use_is_not_moved_into_that_run():
    text = "FROM a:1\nCOPY x.tar /tmp/x.tar\nRUN tar -xf /tmp/x.tar -C /opt\nRUN rm /tmp/x.tar\n"
    (f,) = later_rm(text)
    assert f.line == 4 and "COPY of line 2" in f.message
    # moving the rm into line 3 would save nothing: the fixer leaves it where it is
    outs = fix_stage(parser.parse(text).final.instructions, NoMeasure())
    assert not any(c.rule == "later-rm" for o in outs for c in o.changes)
    assert outs[3].text == "RUN rm /tmp/x.tar"


def test_copied_into_a_directory_relative_and_by_glob():
    (f,) = later_rm("FROM a:1\nWORKDIR /src\nCOPY a.tar b.c ./\nRUN tar xf a.tar && rm -f a.tar\n")
    assert f.line == 4 and "/src/a.tar" in f.message
    (f,) = later_rm("FROM a:1\nCOPY --from=b /out/x.deb /tmp/\nRUN dpkg -i /tmp/x.deb\nRUN rm -rf /tmp/*\n")
    assert f.line == 4 and "from that stage" in f.message


def test_not_when_the_copy_only_holds_the_removed_path():
    # /app/build may be make's, not the context's: nothing to blame on the COPY
    assert later_rm("FROM a:1\nCOPY . /app\nRUN make -C /app && rm -rf /app/build\n") == []
    # a download removed later is still the fixer's move, found once
    (f,) = later_rm("FROM a:1\nRUN curl -o /tmp/x.tgz http://h/x.tgz\nRUN rm /tmp/x.tgz\n")
    assert f.line == 3 and "COPY" not in f.message


def test_json_keeps_its_shape(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM a:1\nCOPY x.tar /tmp/x.tar\nRUN rm /tmp/x.tar\n")
    r = CliRunner().invoke(main, ["lint", "--format", "json", str(df)])
    doc = json.loads(r.output)
    (f,) = doc["findings"]
    assert set(f) == {"rule", "line", "end_line", "message", "bytes", "level"}
    assert (f["rule"], f["line"], f["level"]) == ("later-rm", 3, "warning")
    r = CliRunner().invoke(main, ["lint", "--format", "sarif", str(df)])
    (res,) = json.loads(r.output)["runs"][0]["results"]
    assert res["ruleId"] == "later-rm"
