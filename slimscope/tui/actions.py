"""What the explorer's keys do (tui/keys.py names them): move between layers, switch
mode, sort and the status toggles, open the file viewer, extraction, the waste list
and help, and the same actions in the command palette."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from textual.app import SystemCommand
from textual.screen import Screen

from slimscope.tui.entry import CHANGES, IMAGE
from slimscope.tui.keys import KEYS
from slimscope.tui.panes import Panes

if TYPE_CHECKING:
    from slimscope.core.records import WasteItem


class Actions(Panes):
    """The `action_*` methods of the bindings, on the panes' state."""

    def _step_layer(self, step: int) -> None:
        # From the table's cursor, which moves at once: `self.layer` follows only when
        # the highlight message is handled, after the rest of a burst of presses.
        if self.model is not None and self.model.analysis.layers \
                and self.screen is self.screen_stack[0]:
            at = self.layers_pane.cursor_row
            last = len(self.model.analysis.layers) - 1
            self.layers_pane.select_layer(min(max(at + step, 0), last))

    def action_prev_layer(self) -> None:
        self._step_layer(-1)

    def action_next_layer(self) -> None:
        self._step_layer(1)

    def action_toggle_mode(self) -> None:
        self.mode = IMAGE if self.mode == CHANGES else CHANGES
        self.refresh_files()

    def action_toggle_sort(self) -> None:
        self.by_size = not self.by_size
        if self.shown is not None and self.model is not None:
            self.tree.show(self.shown, self.model.indexes, self.by_size)
            self._status()

    def action_filter(self) -> None:
        # At once, not as focus() does (after the messages already queued): keys typed
        # right after `/` would reach the tree, whose `d` toggles the details pane.
        self.screen.set_focus(self.filter_bar.input)

    @property
    def hide_unchanged(self) -> bool:
        return "unmodified" in self.hidden

    def _toggle_status(self, name: str) -> None:
        self.hidden = self.hidden ^ {name}
        self.refresh_files()

    def action_toggle_unchanged(self) -> None:
        self._toggle_status("unmodified")

    def action_toggle_added(self) -> None:
        self._toggle_status("added")

    def action_toggle_removed(self) -> None:
        self._toggle_status("removed")

    def action_toggle_modified(self) -> None:
        self._toggle_status("modified")

    def action_toggle_unmodified(self) -> None:
        self._toggle_status("unmodified")

    def body_at_cursor(self) -> Optional[tuple[int, str]]:
        """(layer, path) of the body the row under the cursor shows: its own for a regular
        file, its target's for a hardlink; None (and a notice) for anything else."""
        from slimscope.core.compose import unpack
        from slimscope.index.records import FILE, HARDLINK

        path = self.tree.cursor_path
        if self.model is None or self.shown is None or path is None \
                or path not in self.shown.view.rows:
            return None
        e = self.shown.view.rows[path]
        ref = e.ref
        if e.kind == HARDLINK:
            ref = self.model.composed.hardlink_unit.get(e.ref, -1)
        elif e.kind != FILE:
            ref = -1
        if ref < 0:
            self.notify(f"{path} is not a regular file ({e.kind_name})", severity="warning")
            return None
        li, i = unpack(ref)
        return li, self.model.indexes[li].paths[i]

    def action_view_file(self) -> None:
        body = self.body_at_cursor()
        if body is not None and self.model is not None:
            from slimscope.tui.widgets.viewer import ViewerScreen  # (and TextArea): on use
            self.push_screen(ViewerScreen(self.model.analysis.image, *body))

    def action_extract_file(self) -> None:
        body = self.body_at_cursor()
        if body is not None and self.model is not None:
            layer, path = body
            default = os.path.join(os.getcwd(), path.rsplit("/", 1)[-1])
            from slimscope.tui.widgets.viewer import ExtractScreen
            self.push_screen(ExtractScreen(self.model.analysis.image, layer, path, default))

    def action_toggle_owner(self) -> None:
        self.tree.set_show_owner(not self.tree.show_owner)

    def action_toggle_waste_only(self) -> None:
        self.waste_only = not self.waste_only
        self.refresh_files()

    def action_waste(self) -> None:
        if self.model is not None and self.model.analysis.layers:
            from slimscope.tui.screens import WasteScreen  # (DataTable): on use
            self.push_screen(WasteScreen(self.model.analysis), callback=self.jump_to_waste)

    def jump_to_waste(self, item: Optional[WasteItem]) -> None:
        """Show the layer that stores `item` in changes mode, cursor on its path."""
        if item is None:
            return
        self.filter_text = ""
        self.filter_bar.input.value = ""
        self.hidden = frozenset()
        self.waste_only = False
        self.mode = CHANGES
        self.layer = item.layer
        self.layers_pane.select_layer(item.layer)
        self._pending_reveal = item.path
        self.tree.focus()
        self.refresh_files()

    def action_toggle_details(self) -> None:
        self.details.display = not self.details.display
        self._layout()

    def action_expand_all(self) -> None:
        if self.shown is None:
            return
        node = self.tree.cursor_node or self.tree.root
        if not node.allow_expand:
            node = node.parent or self.tree.root
        if self.tree.expand_all_under(node) < 0:
            self.notify("Stopped expanding after 5,000 rows; filter or open directories one "
                        "by one.", severity="warning")

    def action_collapse_all(self) -> None:
        if self.shown is not None:
            self.tree.collapse_everything()

    def action_help(self) -> None:
        # the help and waste screens (Markdown, DataTable, pygments: ~50 ms) load on first
        # use, not before the explorer's first screen
        from slimscope.tui.screens import HelpScreen
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for k in KEYS:
            if k.action in ("quit",):
                continue
            yield SystemCommand(k.title, f"{k.help} (key: {k.show})",
                                getattr(self, f"action_{k.action}"))
