"""The explorer's layout rules (tui/layout.py), from sizes alone."""

from __future__ import annotations

from slimscope.tui import layout


def test_narrow_layers_pane_gives_up_columns_before_the_command():
    assert layout.layer_columns(88) == ["n", "size", "bar", "share", "wasted"]
    assert layout.layer_columns(64) == ["n", "size", "bar", "wasted"]
    assert layout.layer_columns(56) == ["n", "size", "wasted"]
    assert layout.layer_columns(40) == ["n", "size"]
    for width in (40, 50, 70, 88):
        assert layout.command_width(width, layout.layer_columns(width)) >= 19


def test_layers_fit_at_80x24_and_take_the_column_without_details():
    main = 24 - 2
    assert layout.layers_height(7, main, details=True) == 7 + 3
    assert layout.layers_height(40, main, details=True) < main // 2 + 2
    assert layout.layers_height(7, main, details=False) == main - layout.command_lines(main)


def test_too_small_and_pane_widths():
    assert layout.too_small(59, 30) and layout.too_small(100, 14)
    assert not layout.too_small(60, 15)
    assert layout.left_width(80) == 40 and layout.left_width(160) == 80


def test_fit_items_drops_the_least_useful_first_and_never_priority_0():
    items = [(3, "name"), (5, "total"), (1, "wasted"), (0, "SECRET")]
    measure = lambda kept: len(" ".join(kept))  # noqa: E731
    assert layout.fit_items(items, 100, measure) == ["name", "total", "wasted", "SECRET"]
    assert layout.fit_items(items, 18, measure) == ["name", "wasted", "SECRET"]
    assert layout.fit_items(items, 3, measure) == ["SECRET"]
