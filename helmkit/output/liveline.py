"""One status line on a terminal's stderr, redrawn by a ticker thread while something runs.

:class:`LiveLine` owns the thread, the lock and clearing the line; a subclass says what the line
reads (:meth:`status_text`). Without a terminal (``live=False``) nothing is drawn.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Self

from helmkit.output.console import Console

REFRESH_SECONDS = 0.5


@dataclass
class LiveLine:
    console: Console
    live: bool = False  # a TTY: keep the status line
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _ticker: threading.Thread | None = None
    _shown: bool = False

    def status_text(self) -> str:
        """What the line reads now ("" for no line); called with the lock held."""
        return ""

    def __enter__(self) -> Self:
        if self.live:
            self._ticker = threading.Thread(target=self._tick, name="helmkit-live-line", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._clear()
            self.console.err.flush()

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            with self._lock:
                self._clear()
                self._draw()
                self.console.err.flush()

    def _clear(self) -> None:
        if self._shown:
            self.console.err.write("\r\033[K")
            self._shown = False

    def _draw(self) -> None:
        text = self.status_text() if self.live else ""
        if not text:
            return
        text = self.console.masker.mask(text)
        width = self.console.err_width
        if width is not None and len(text) > width - 1:
            text = text[: max(width - 2, 0)] + "…"
        self.console.err.write(text)
        self._shown = True
