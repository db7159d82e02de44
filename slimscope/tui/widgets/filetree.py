"""The file pane: a lazy tree over one `Shown` view.

Rows are created only when their directory opens (a page of PAGE rows at a
time); a new view (another layer, mode, sort or filter) rebuilds only the rows
that were open, keeping the open directories and the cursor where they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional, Union

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from slimscope.core.compose import unpack
from slimscope.index.records import OPAQUE, WHITEOUT, parent_of
from slimscope.tui.messages import EntryHighlighted
from slimscope.tui.render import entry_columns, entry_name

if TYPE_CHECKING:
    from slimscope.index.records import LayerIndex
    from slimscope.tui.entry import Entry
    from slimscope.tui.shown import Shown

# A row's data: its path, or the "… more" row of a long directory.
RowData = Union[str, "More"]

PAGE = 500
EXPAND_ALL_LIMIT = 5000
BAR_FROM = 64          # the tree pane shows its size bars from this width on


class More:
    """The "… N more" row at the end of a long directory."""

    def __init__(self, parent: str, offset: int) -> None:
        self.parent = parent
        self.offset = offset


class FileTree(Tree[RowData]):
    BINDINGS = [
        Binding("right", "open", "Open", show=False),
        Binding("left", "close", "Close", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__("/", data="/", **kwargs)
        self.shown: Optional[Shown] = None
        self.indexes: Sequence[LayerIndex] = ()   # the layers the rows' refs point into
        self.by_size = True
        self.nodes: dict[str, TreeNode[RowData]] = {}   # path -> node, for the rows built so far
        self.loaded: set[str] = set()    # dirs whose children rows exist
        self.guide_depth = 2
        self.border_title = "Files"
        self.show_owner = False     # the mode and uid:gid columns (a toggle)

    # -- building --------------------------------------------------------------
    def label_for(self, shown: Shown, path: str) -> Text:
        """The name part of a row; the fixed columns are drawn before the guides
        (`_render_line`), from the view, when the row is on screen."""
        e = shown.view.rows[path]
        name = "/" if path == "/" else path[path.rfind("/") + 1:]
        link = None
        if e.ref >= 0 and e.kind_name in ("symlink", "hardlink"):
            li, i = unpack(e.ref)
            link = self.indexes[li].links.get(i)
        return entry_name(name, e, link)

    # -- the row: fixed columns, then the guides, then the name -----------------
    def _bar_width(self) -> int:
        return 10 if self.size.width >= BAR_FROM else 0

    def columns_width(self) -> int:
        bar = self._bar_width()
        return 19 + (bar + 1 if bar else 0) + (18 if self.show_owner else 0)

    def _owner(self, e: Entry) -> tuple[Optional[int], Optional[int], Optional[int]]:
        if e.ref < 0 or e.kind in (WHITEOUT, OPAQUE):
            return (None, None, None)
        li, i = unpack(e.ref)
        idx = self.indexes[li]
        return (idx.modes[i], idx.uids[i], idx.gids[i])

    def columns_for(self, node: TreeNode[RowData]) -> Text:
        path = node.data
        shown = self.shown
        if shown is None or not isinstance(path, str) or path not in shown.view.rows:
            return Text(" " * self.columns_width())
        e = shown.view.rows[path]
        parent_total = shown.totals.get(parent_of(path), 0) if path != "/" else shown.total
        return entry_columns(e, shown.totals.get(path, 0), parent_total, self._bar_width(),
                             self._owner(e) if self.show_owner else None)

    def set_show_owner(self, on: bool) -> None:
        self.show_owner = on
        self._invalidate()

    def render_label(self, node: TreeNode[RowData], base_style: Style, style: Style) -> Text:
        text = super().render_label(node, base_style, style)
        # leaves get the expander's two cells too, so names line up with their siblings'
        return text if node.allow_expand else Text("  ", style=base_style) + text

    def get_label_width(self, node: TreeNode[RowData]) -> int:
        return self.columns_width() + super().get_label_width(node)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        lines = self._tree_lines
        width = self.size.width
        if y >= len(lines):
            return Strip.blank(width, base_style)
        line = lines[y]
        key = (y, width, self._updates, self._pseudo_class_state, self.show_owner,
               self.cursor_line == y, self.hover_line == y,
               tuple(node._updates for node in line.path))
        strip = self._line_cache.get(key)
        if strip is None:
            line_style = base_style + Style(meta={"line": y})
            label_style = self.get_component_rich_style("tree--label", partial=True)
            if self.hover_line == y:
                label_style += self.get_component_rich_style("tree--highlight", partial=True)
            cursor = self.cursor_line == y
            cursor_style = self.get_component_rich_style("tree--cursor", partial=False)
            if cursor:
                label_style += cursor_style
            guide_style = self.get_component_rich_style("tree--guides", partial=True)
            text = Text(style=line_style, no_wrap=True)
            columns = self.columns_for(line.node)
            text.append_text(columns)
            if cursor:
                text.stylize(cursor_style, 0, columns.cell_len)
            for n in line.path[1:-1]:
                text.append("  " if n.is_last else "│ ", guide_style)
            if len(line.path) > 1:
                text.append("└ " if line.last else "├ ", guide_style)
            label = self.render_label(line.node, line_style, label_style).copy()
            label.stylize(Style(meta={"node": line.node._id}))
            text.append_text(label)
            segments = list(text.render(self.app.console))
            strip = Strip(segments).extend_cell_length(max(self.virtual_size.width, width),
                                                       line_style)
            self._line_cache[key] = strip
        return strip.crop(x1, x2)

    def _load(self, node: TreeNode[RowData], offset: int = 0) -> None:
        path = node.data
        shown = self.shown
        if shown is None or not isinstance(path, str):
            return
        kids = shown.sorted_children(path, self.by_size)
        children = shown.children
        for c in kids[offset:offset + PAGE]:
            if c in children:
                self.nodes[c] = node.add(self.label_for(shown, c), data=c)
            else:
                self.nodes[c] = node.add_leaf(self.label_for(shown, c), data=c)
        rest = len(kids) - offset - PAGE
        if rest > 0:
            node.add_leaf(f"… {rest} more (Enter)", data=More(path, offset + PAGE))
        self.loaded.add(path)

    def _ensure_loaded(self, node: TreeNode[RowData]) -> None:
        if isinstance(node.data, str) and node.data not in self.loaded:
            self._load(node)

    def show(self, shown: Shown, indexes: Sequence[LayerIndex], by_size: bool = True) -> None:
        """Show another view (`indexes`: the model's layers its rows point into); only the
        rows that were open are built again."""
        opened = [p for p, n in self.nodes.items() if n.is_expanded] if self.shown else []
        cursor = self.cursor_path
        self.shown = shown
        self.indexes = indexes
        self.by_size = by_size
        self.clear()
        self.root.data = "/"
        self.root.set_label(self.label_for(shown, "/"))
        self.nodes = {"/": self.root}
        self.loaded = set()
        self._load(self.root)
        self.root.expand()
        for p in sorted(opened, key=lambda p: p.count("/")):
            node = self.nodes.get(p)
            if node is not None and p in shown.children:
                self._ensure_loaded(node)
                node.expand()
        if cursor:
            self.reveal(cursor, exact=False)
        else:
            self.call_after_refresh(self.move_cursor, self.root)

    def reveal(self, path: str, exact: bool = True) -> bool:
        """Open the parents of `path` and put the cursor on it (or its nearest shown parent)."""
        if self.shown is None:
            return False
        target = path
        while target not in self.shown and target != "/":
            target = parent_of(target)
        if exact and target != path:
            return False
        chain = []
        a = target
        while a != "/":
            chain.append(a)
            a = parent_of(a)
        node = self.root
        for p in reversed(chain):
            self._ensure_loaded(node)
            while p not in self.nodes:   # past the first page: load pages until it shows
                more = [c for c in node.children if isinstance(c.data, More)]
                if not more:
                    break
                self._load_more(more[-1])
            node.expand()
            node = self.nodes.get(p, node)
        self.call_after_refresh(self.move_cursor, node)
        return True

    def _load_more(self, node: TreeNode[RowData]) -> None:
        more = node.data
        parent = node.parent
        if not isinstance(more, More) or parent is None:
            return
        node.remove()
        self._load(parent, more.offset)

    # -- actions ---------------------------------------------------------------
    @property
    def cursor_path(self) -> Optional[str]:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, str) else None

    def expand_all_under(self, node: Optional[TreeNode[RowData]] = None,
                         limit: int = EXPAND_ALL_LIMIT) -> int:
        """Open every directory under `node` (default: the root), breadth first, up to
        `limit` rows; -1 when it stopped there."""
        node = node or self.root
        queue = [node]
        rows = 0
        while queue:
            n = queue.pop(0)
            if self.shown is None or not isinstance(n.data, str) \
                    or n.data not in self.shown.children:
                continue
            self._ensure_loaded(n)
            n.expand()
            rows += len(n.children)
            if rows > limit:
                return -1
            queue.extend(n.children)
        return rows

    def collapse_everything(self) -> None:
        for n in self.nodes.values():
            if n is not self.root and n.is_expanded:
                n.collapse()
        self.root.expand()
        self.call_after_refresh(self.move_cursor, self.root)

    def action_open(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        else:
            self.action_cursor_down()

    def action_close(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node is not self.root:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    # -- events ----------------------------------------------------------------
    def on_tree_node_expanded(self, event: Tree.NodeExpanded[RowData]) -> None:
        event.stop()
        self._ensure_loaded(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[RowData]) -> None:
        if isinstance(event.node.data, More):
            event.stop()
            parent = event.node.parent
            self._load_more(event.node)
            self.call_after_refresh(self.move_cursor, parent.children[-1] if parent else None)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[RowData]) -> None:
        event.stop()
        if isinstance(event.node.data, str):
            self.post_message(EntryHighlighted(event.node.data))
