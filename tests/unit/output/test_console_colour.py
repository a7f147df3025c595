"""Colour rules: --color auto|always|never, NO_COLOR, FORCE_COLOR, TERM=dumb, TTY or not.

The terminal is a real pseudo-terminal (``os.openpty``), the pipe a real pipe."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import TextIO

import pytest

from helmkit.output.console import Console, colour_wanted


@pytest.fixture
def tty() -> Iterator[TextIO]:
    leader, follower = os.openpty()
    stream = open(follower, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield stream
    finally:
        stream.close()
        os.close(leader)


@pytest.fixture
def pipe() -> Iterator[TextIO]:
    read, write = os.pipe()
    stream = open(write, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield stream
    finally:
        stream.close()
        os.close(read)


@pytest.mark.parametrize(("mode", "env", "on_tty", "on_pipe"), [
    ("auto", {}, True, False),
    ("auto", {"TERM": "xterm-256color"}, True, False),
    ("auto", {"TERM": "dumb"}, False, False),
    ("auto", {"NO_COLOR": "1"}, False, False),
    ("auto", {"NO_COLOR": ""}, True, False),  # set but empty: not a request (no-color.org)
    ("auto", {"FORCE_COLOR": "1"}, True, True),
    ("auto", {"FORCE_COLOR": "0"}, True, False),
    ("auto", {"FORCE_COLOR": "1", "TERM": "dumb"}, True, True),
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ("always", {"NO_COLOR": "1", "TERM": "dumb"}, True, True),
    ("never", {"FORCE_COLOR": "1"}, False, False),
])
def test_colour_rules(*, tty: TextIO, pipe: TextIO, mode: str, env: dict[str, str], on_tty: bool, on_pipe: bool):
    assert colour_wanted(mode, tty, env) is on_tty
    assert colour_wanted(mode, pipe, env) is on_pipe


def test_a_console_on_a_pipe_writes_no_escapes_and_set_color_applies_to_both_streams(pipe: TextIO):
    console = Console(out=pipe, err=io.StringIO())
    assert console.style("x", "red") == "x" and console.style_err("x", "red") == "x"
    console.set_color("always")
    assert console.style("x", "red") == "\033[31mx\033[0m" == console.style_err("x", "red")
    console.set_color("never")
    assert console.style("x", "red") == "x"


def test_no_live_line_for_a_dumb_terminal(tty: TextIO, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TERM", "xterm")
    assert Console(out=tty, err=tty).interactive
    monkeypatch.setenv("TERM", "dumb")
    assert not Console(out=tty, err=tty).interactive
