"""Previews of an image while it loads: the views of the layers read so far, made in a
thread of their own so that neither the loader nor the screen waits for them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Optional

from slimscope.tui.model import ImageModel

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis
    from slimscope.image.model import Image

# Hands a preview to the app from the preview's thread; RuntimeError once the app has closed.
Deliver = Callable[["Analysis", ImageModel, int], None]

# A preview of the layers read so far waits this long after they are in, so that an
# image read at once (a warm cache, a small image) is not slowed by one; later
# previews come at most this often: each costs an analysis of the prefix.
PREVIEW_DELAY = 0.5
PREVIEW_EVERY = 1.5


class Previews:
    """Makes the views of the layers read so far, in a thread of its own, while the
    loader reads the rest: the newest prefix wins, none is made after the loader is done."""

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver
        self._cond = threading.Condition()
        self._next: Optional[tuple[Image, int]] = None
        self._done = False
        self._thread: Optional[threading.Thread] = None

    def offer(self, image: Image, count: int) -> None:
        """The source's on_layer: called in the loading thread, so it only hands over."""
        with self._cond:
            self._next = (image, count)
            self._cond.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="slimscope-preview",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify()

    def _run(self) -> None:
        from slimscope.core.analysis import build
        not_before = time.monotonic() + PREVIEW_DELAY
        while True:
            with self._cond:
                while not self._done and (self._next is None or time.monotonic() < not_before):
                    self._cond.wait(None if self._next is None else
                                    max(not_before - time.monotonic(), 0.01))
                if self._done or self._next is None:
                    return
                image, count = self._next
                self._next = None
            try:
                analysis = build(image)
                model = ImageModel(analysis)
            except Exception:   # a preview is a courtesy: the loader reports what is wrong
                continue
            with self._cond:
                if self._done:
                    return
            try:
                self.deliver(analysis, model, count)
            except RuntimeError:   # the app has closed
                return
            not_before = time.monotonic() + PREVIEW_EVERY
