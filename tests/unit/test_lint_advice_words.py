"""Advice that contradicts itself or names the wrong tool: fat-base never suggests
`latest`, yum gets `yum clean all`, and `dockerfile` says what lint says of an
unknown instruction."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.dockerfile import lint, parser
from slimscope.dockerfile.measure import NoMeasure


def messages(text: str, rule: str) -> list:
    return [f.message for f in lint.lint(parser.parse(text), NoMeasure()) if f.rule == rule]


@pytest.mark.parametrize("ref", ["ubuntu", "ubuntu:latest", "debian", "python:latest", "node",
                                 "ruby:latest"])
def test_fat_base_never_suggests_latest(ref):
    (msg,) = messages(f"FROM {ref}\n", "fat-base")
    suggestion = msg.split("consider ", 1)[1]
    assert "latest" not in suggestion and "<version>" in suggestion
    assert messages(f"FROM {ref}\n", "unpinned-base")


def test_fat_base_keeps_a_pinned_tag():
    (msg,) = messages("FROM debian:bookworm\n", "fat-base")
    assert msg.endswith("consider debian:bookworm-slim")


@pytest.mark.parametrize("prog", ["yum", "dnf", "microdnf"])
def test_the_clean_advice_names_the_package_manager_used(prog):
    (msg,) = messages(f"FROM fedora:39\nRUN {prog} install -y x\n", "dnf-cache")
    assert f"`{prog} clean all`" in msg
    (msg,) = messages(f"FROM fedora:39\nONBUILD RUN {prog} install -y x\n", "dnf-cache")
    assert f"`{prog} clean all`" in msg


def test_dockerfile_names_an_unknown_instruction(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:bookworm\nFOO bar\nRUN echo hi\n")
    r = CliRunner().invoke(main, ["dockerfile", str(df)])
    assert r.exit_code == 0
    assert "line 2: FOO is not a Dockerfile instruction" in r.stderr
    assert "FOO bar" in r.stdout
