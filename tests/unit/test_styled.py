"""The report's line writer: widths, styles, and names that cannot drive the terminal."""

import io

import pytest

from slimscope.core.styled import Line, Writer, cell_len, terminal_width


def _written(line, style="", **kw) -> str:
    buf = io.StringIO()
    Writer(buf, width=80, **kw).print(line, style)
    return buf.getvalue()


def test_plain_output_has_no_codes():
    assert _written("hello", "bold red", color=False) == "hello\n"


def test_styles_become_sgr_codes_attributes_first(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _written("x", "red bold", color=True) == "\x1b[1;31mx\x1b[0m\n"
    line = Line("a", "dim").append("b", "dim").append("c")
    assert _written(line, color=True) == "\x1b[2mab\x1b[0mc\n"


def test_no_color_keeps_bold_and_dim(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert _written("x", "bold red", color=True) == "\x1b[1mx\x1b[0m\n"


def test_control_characters_are_shown_not_sent():
    assert _written("/etc/\x1b[2Jevil\rname", color=False) == "/etc/\\x1b[2Jevil\\x0dname\n"


def test_truncate_counts_cells_and_ends_in_an_ellipsis():
    line = Line("ab", "bold").append("cdef", "dim")
    line.truncate(4)
    assert line.plain == "abc…" and line.runs[-1] == ("…", "dim")
    wide = Line("日本語です")
    wide.truncate(5)
    assert wide.plain == "日本…" and cell_len(wide.plain) == 5
    short = Line("ok")
    short.truncate(10)
    assert short.plain == "ok"


def test_stylize_puts_a_style_under_every_run():
    line = Line("a").append("b", "red")
    line.stylize("dim")
    assert line.runs == [("a", "dim"), ("b", "dim red")]


@pytest.mark.parametrize("columns, want", [("132", 132), ("0", 80), ("wide", 80)])
def test_width_from_columns_else_80_off_a_terminal(monkeypatch, columns, want):
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr("os.get_terminal_size", lambda fd: (_ for _ in ()).throw(OSError()))
    assert terminal_width() == want


def test_colour_is_decided_from_the_file(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Writer(io.StringIO(), width=80).color is False
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Writer(io.StringIO(), width=80).color is True
