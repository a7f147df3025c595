"""Where helmkit's words go: stdout for results, stderr for progress and errors.

Every line passes through the run's masker, so a secret that slipped into a message is still
never printed. Colour only on a TTY and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

from helmkit.adapters.masking import Masker

COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36", "bold": "1", "dim": "2"}


@dataclass
class Console:
    masker: Masker = field(default_factory=Masker)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    colour: bool | None = None
    verbose: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.colour is None:
            self.colour = self.out.isatty() and not os.environ.get("NO_COLOR")

    @property
    def interactive(self) -> bool:
        return self.err.isatty()

    def style(self, text: str, colour: str) -> str:
        if not self.colour:
            return text
        return f"\033[{COLOURS[colour]}m{text}\033[0m"

    def print(self, text: str = "") -> None:
        with self._lock:
            self.out.write(self.masker.mask(text) + "\n")
            self.out.flush()

    def info(self, text: str) -> None:
        with self._lock:
            self.err.write(self.masker.mask(text) + "\n")
            self.err.flush()

    def debug(self, text: str) -> None:
        if self.verbose:
            self.info(text)
