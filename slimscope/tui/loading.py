"""The explorer's loader: reads the image in a worker thread while the window is up,
shows previews of the layers read so far, then the whole image's views."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Optional

from textual import work

from slimscope.errors import SlimscopeError
from slimscope.tui.model import ImageModel
from slimscope.tui.panes import Panes
from slimscope.tui.previews import Previews
from slimscope.tui.widgets.layers import LayerCommand
from slimscope.tui.widgets.summary import LoadingPanel, SummaryBar

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis


class Loading(Panes):
    """`image` is what the user named; `analysis` one already made (nothing is read)."""

    def __init__(self, image: str, *, display_name: Optional[str] = None,
                 image_sel: Optional[str] = None, platform: Optional[str] = None,
                 no_hash: bool = False, no_cache: bool = False,
                 analysis: Optional[Analysis] = None, verify: bool = False) -> None:
        super().__init__(display_name or image)
        self.image_arg = image
        self.image_sel = image_sel
        self.platform = platform
        self.hash_contents = not no_hash
        self.use_cache = not no_cache
        self.verify = verify
        self.analysis = analysis
        self.error: Optional[str] = None
        self.error_code = 2
        # While the image loads, the layers read so far: (layers shown, layers in all).
        self.partial: Optional[tuple[int, int]] = None
        self._moved = False    # the user picked a layer: a new preview must not move it

    def on_mount(self) -> None:
        self.query_one(SummaryBar).show_loading(self.display_name)
        if self.analysis is not None:
            self._loaded(self.analysis)
        else:
            self.load()

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        from slimscope.core.analysis import build, open_image

        panel = self.query_one(LoadingPanel)
        last = [0.0]

        def progress(done: int, total: Optional[int]) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or (total and done >= total):
                last[0] = now
                self.call_from_thread(self._progress, done, total)

        def show_preview(analysis: Analysis, model: ImageModel, count: int) -> None:
            self.call_from_thread(self._show_partial, analysis, model, count)

        previews = Previews(show_preview)
        try:
            # An archive file's tar headers alone give every path and size in a fraction
            # of the full read: shown at once, while the contents are hashed and checked.
            # Layer previews would then show less than is already there.
            drawn = self._sketch()
            try:
                image = open_image(self.image_arg, hash_contents=self.hash_contents,
                                   image=self.image_sel, platform=self.platform,
                                   use_cache=self.use_cache, progress=progress,
                                   on_layer=None if drawn else previews.offer,
                                   verify=self.verify)
            finally:
                # Every layer is in: the whole image's analysis is now the quicker view,
                # and a preview made beside it would only slow it down.
                previews.stop()
            analysis = build(image)     # what analyze() returns
            self.call_from_thread(panel.stage, "Composing views …")
            model = ImageModel(analysis)
        except SlimscopeError as e:
            self.call_from_thread(self._fail, str(e), e.exit_code)
            return
        except Exception as e:  # a bug: still one line after the app closes
            self.call_from_thread(self._fail, f"unexpected error: {type(e).__name__}: {e}", 2)
            return
        self.call_from_thread(self._loaded, analysis, model)

    def _sketch(self) -> bool:
        """Show the sketch of the image (worker thread); whether there was one."""
        from slimscope.core.analysis import sketch
        try:
            draft = sketch(self.image_arg, self.image_sel, self.platform, self.use_cache)
        except (SlimscopeError, OSError):
            return False    # the full read says what is wrong
        if draft is None or not draft.layers:
            return False
        model = ImageModel(draft)
        drawn = threading.Event()

        def show() -> None:
            self._show_partial(draft, model, len(draft.layers))
            self.call_after_refresh(drawn.set)

        self.call_from_thread(show)
        # The full read holds the GIL for much of its tar walk: started now, it would
        # slow the very frame that puts the sketch on screen. It waits for that frame
        # (a second at most, should the screen never refresh).
        drawn.wait(1.0)
        return True

    def _progress(self, done: int, total: Optional[int]) -> None:
        self.query_one(LoadingPanel).progress(done, total)
        if self.partial is not None:
            self.query_one(SummaryBar).show_progress(done, total)

    def _show_partial(self, analysis: Analysis, model: ImageModel, count: int) -> None:
        """Layers 0..k are read: show them, saying the rest is coming."""
        if self.model is not None and self.partial is None:
            return   # the whole image came first
        keep = self._moved and self.layer < len(analysis.layers)
        layer = self.layer
        self.partial = (len(analysis.layers), count)
        self._show(analysis, model, layer if keep else None)

    def _fail(self, message: str, code: int) -> None:
        self.error = message
        self.error_code = code
        self.exit(return_code=code)

    def _loaded(self, analysis: Analysis, model: Optional[ImageModel] = None) -> None:
        # A user who has been reading a preview keeps the layer they chose.
        keep = self.partial is not None and self._moved
        self.partial = None
        model = model or ImageModel(analysis)
        self._show(analysis, model, self.layer if keep else None)
        self._warm_filters(model)

    def _show(self, analysis: Analysis, model: ImageModel, layer: Optional[int]) -> None:
        """Show an analysis (the whole image's, or a preview's) at `layer` (the top if None)."""
        first = self.model is None
        self.analysis = analysis
        self.model = model
        self.query_one(LoadingPanel).display = False
        self.query_one("#main").display = True
        self.query_one(SummaryBar).show(analysis, self.display_name, self.partial)
        self.layer = max(len(analysis.layers) - 1, 0) if layer is None else layer
        self._layout()
        self.layers_pane.load(analysis)
        self.layers_pane.select_layer(self.layer)
        if not analysis.layers:
            self.filter_bar.set_status("this image has no layers")
            return
        if first or self.details.file_path is None:
            self.details.show_layer(analysis, self.layer)   # (a file shown stays: _apply)
        self.query_one(LayerCommand).show_layer(analysis, self.layer)
        if first:
            self.tree.focus()
        self.refresh_files()

    @work(thread=True, exclusive=True, group="warm")
    def _warm_filters(self, model: ImageModel) -> None:
        """Make the texts that filters scan while the user still looks at the first screen."""
        for which in ("lower", "names", "paths"):
            model.table.lines(which)
