"""The file pane: a lazy tree over one `Shown` view.

Rows are created only when their directory opens (a page of PAGE rows at a
time); a new view (another layer, mode, sort or filter) rebuilds only the rows
that were open, keeping the open directories and the cursor where they were.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from slimscope.index.records import parent_of
from slimscope.tui.messages import EntryHighlighted
from slimscope.tui.render import entry_label

PAGE = 500
EXPAND_ALL_LIMIT = 5000


class More:
    """The "… N more" row at the end of a long directory."""

    def __init__(self, parent: str, offset: int) -> None:
        self.parent = parent
        self.offset = offset


class FileTree(Tree):
    BINDINGS = [
        Binding("right", "open", "Open", show=False),
        Binding("left", "close", "Close", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__("/", data="/", **kwargs)
        self.shown = None
        self.by_size = True
        self.nodes: dict = {}       # path -> node, for the rows built so far
        self.loaded: set = set()    # dirs whose children rows exist
        self.guide_depth = 2
        self.border_title = "Files"

    # -- building --------------------------------------------------------------
    def label_for(self, path: str):
        shown = self.shown
        e = shown.view.rows[path]
        parent_total = shown.totals.get(parent_of(path), 0) if path != "/" else shown.total
        name = "/" if path == "/" else path[path.rfind("/") + 1:]
        link = None
        if e.ref >= 0 and e.kind_name in ("symlink", "hardlink"):
            model = self.app.model
            li, i = divmod(e.ref, 1 << 32)
            link = model.indexes[li].links.get(i)
        return entry_label(name, e, shown.totals.get(path, 0), parent_total, link)

    def _load(self, node: TreeNode, offset: int = 0) -> None:
        path = node.data
        kids = self.shown.sorted_children(path, self.by_size)
        children = self.shown.children
        for c in kids[offset:offset + PAGE]:
            if c in children:
                self.nodes[c] = node.add(self.label_for(c), data=c)
            else:
                self.nodes[c] = node.add_leaf(self.label_for(c), data=c)
        rest = len(kids) - offset - PAGE
        if rest > 0:
            node.add_leaf(f"… {rest} more (Enter)", data=More(path, offset + PAGE))
        self.loaded.add(path)

    def _ensure_loaded(self, node: TreeNode) -> None:
        if isinstance(node.data, str) and node.data not in self.loaded:
            self._load(node)

    def show(self, shown, by_size: bool = True) -> None:
        """Show another view; only the rows that were open are built again."""
        opened = [p for p, n in self.nodes.items() if n.is_expanded] if self.shown else []
        cursor = self.cursor_path
        self.shown = shown
        self.by_size = by_size
        self.clear()
        self.root.data = "/"
        self.root.set_label(self.label_for("/"))
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

    def _load_more(self, node: TreeNode) -> None:
        more = node.data
        parent = node.parent
        node.remove()
        self._load(parent, more.offset)

    # -- actions ---------------------------------------------------------------
    @property
    def cursor_path(self):
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, str) else None

    def expand_all_under(self, node=None) -> int:
        """Open every directory under `node` (default: the root), up to a limit of rows."""
        node = node or self.root
        queue = [node]
        rows = 0
        while queue:
            n = queue.pop(0)
            if not isinstance(n.data, str) or n.data not in self.shown.children:
                continue
            self._ensure_loaded(n)
            n.expand()
            rows += len(n.children)
            if rows > EXPAND_ALL_LIMIT:
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
    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        event.stop()
        self._ensure_loaded(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        if isinstance(event.node.data, More):
            event.stop()
            parent = event.node.parent
            self._load_more(event.node)
            self.call_after_refresh(self.move_cursor, parent.children[-1] if parent else None)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        if isinstance(event.node.data, str):
            self.post_message(EntryHighlighted(event.node.data))
