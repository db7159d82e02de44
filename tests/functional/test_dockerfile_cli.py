"""`slimscope dockerfile` and `slimscope lint` on bad input and on a plain Dockerfile."""

from __future__ import annotations

import json

from click.testing import CliRunner

from slimscope.cli import main
from tests.support.dockerfiles import ANTI


def test_cli_bad_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["dockerfile"])
    assert r.exit_code == 2 and "no Dockerfile here" in r.output
    (tmp_path / "Dockerfile").write_text("RUN x\n")
    r = CliRunner().invoke(main, ["lint"])
    assert r.exit_code == 2 and "before the first FROM" in r.output
    (tmp_path / "Dockerfile").write_text(ANTI)
    (tmp_path / "out").write_text("mine")
    r = CliRunner().invoke(main, ["dockerfile", "-o", "out"])
    assert r.exit_code == 2 and (tmp_path / "out").read_text() == "mine"
    r = CliRunner().invoke(main, ["dockerfile", "-o", "Dockerfile", "--force"])
    assert r.exit_code == 2 and (tmp_path / "Dockerfile").read_text() == ANTI
    r = CliRunner().invoke(main, ["lint", "--format", "json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == "slimscope.lint/v1" and doc["findings"]
    r = CliRunner().invoke(main, ["dockerfile", "-o", "new.Dockerfile"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "new.Dockerfile").read_text().count("# slimscope:") >= 5
