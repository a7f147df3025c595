"""Where helmkit's words go: stdout for results, stderr for progress and errors.

Every line passes through the run's masker, so a secret that slipped into a message is still
never printed.

Colour (``--color auto|always|never``, decided per stream by :func:`colour_wanted`):
``never`` and ``always`` are what they say. ``auto`` (the default): no colour when ``NO_COLOR`` is
set to anything (https://no-color.org), else colour when ``FORCE_COLOR`` is set to anything but
``0`` (https://force-color.org), else no colour for ``TERM=dumb`` or a stream that is not a
terminal (a pipe, a file, CI logs), else colour. The live progress line, which moves the cursor,
is shown only on a terminal that is not ``TERM=dumb``.

helmkit writes its own few SGR sequences rather than adopting a terminal library: colour is a
handful of styles on whole lines, and these rules are the whole policy; a library would add
import time to every command (``helmkit --help`` included) for nothing more.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from helmkit.adapters.masking import Masker

COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36", "bold": "1", "dim": "2"}
COLOR_MODES = ("auto", "always", "never")


def colour_wanted(mode: str, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what goes to ``stream`` under ``--color mode`` and the environment."""
    if mode == "never":
        return False
    if mode == "always":
        return True
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    return env.get("TERM") != "dumb" and _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or foreign stream
        return False


@dataclass
class Console:
    masker: Masker = field(default_factory=Masker)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    colour: bool | None = None  # stdout; None: decided by colour_wanted("auto", out)
    verbose: bool = False
    colour_err: bool | None = None  # stderr (progress, errors); None: decided like stdout's
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.colour is None:
            self.colour = colour_wanted("auto", self.out)
        if self.colour_err is None:
            self.colour_err = colour_wanted("auto", self.err)

    def set_color(self, mode: str) -> None:
        """Apply ``--color auto|always|never`` to both streams."""
        self.colour = colour_wanted(mode, self.out)
        self.colour_err = colour_wanted(mode, self.err)

    @property
    def interactive(self) -> bool:
        """A terminal a person watches, where a live line may be redrawn."""
        return _isatty(self.err) and os.environ.get("TERM") != "dumb"

    @property
    def out_width(self) -> int | None:
        """The terminal's width when stdout is one (tables may fit it); None when piped: nothing is cut."""
        return _width(self.out)

    @property
    def err_width(self) -> int | None:
        """The terminal's width when stderr is one (the live progress line fits it)."""
        return _width(self.err)

    def style(self, text: str, colour: str) -> str:
        """``text`` in ``colour`` for stdout (plain when stdout gets no colour)."""
        return _paint(text, colour) if self.colour else text

    def style_err(self, text: str, colour: str) -> str:
        """``text`` in ``colour`` for stderr (plain when stderr gets no colour)."""
        return _paint(text, colour) if self.colour_err else text

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


def _width(stream: TextIO) -> int | None:
    if not _isatty(stream) or os.environ.get("TERM") == "dumb":
        return None
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        columns = 0
    return columns or shutil.get_terminal_size().columns  # a terminal that reports no size: $COLUMNS or 80


def _paint(text: str, colour: str) -> str:
    return f"\033[{COLOURS[colour]}m{text}\033[0m"
