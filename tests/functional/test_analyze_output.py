"""`analyze -o FILE` writes the bytes stdout shows (the streamed JSON too), atomically."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from tests.support.engine import REPO_ROOT

DEMO = REPO_ROOT / "sample-images" / "demo.tar"


@pytest.mark.parametrize("args", [["--format", "json"], ["--format", "json", "--files"],
                                  ["--format", "markdown"]], ids=["json", "json-files", "md"])
def test_the_file_holds_what_stdout_shows(tmp_path, args):
    shown = CliRunner().invoke(main, ["analyze", str(DEMO), *args])
    assert shown.exit_code == 0, shown.output
    out = tmp_path / "report"
    out.write_text("an older report")
    written = CliRunner().invoke(main, ["analyze", str(DEMO), *args, "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_bytes() == shown.stdout_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_the_text_report_file_ends_as_the_terminal_shows_it(tmp_path):
    shown = CliRunner().invoke(main, ["analyze", str(DEMO)], env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    out = tmp_path / "report.txt"
    written = CliRunner().invoke(main, ["analyze", str(DEMO), "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_bytes() == shown.stdout_bytes
    assert out.read_bytes().endswith(b")\n")
