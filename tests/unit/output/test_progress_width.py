"""The live progress line fits the terminal: a real pseudo-terminal, 40 columns wide."""

from __future__ import annotations

import fcntl
import io
import os
import struct
import termios

from helmkit.output.console import Console
from helmkit.output.progress import Progress
from helmkit.plan.execute import Event
from helmkit.plan.rollout import Step, StepKind


def step(release: str) -> Step:
    return Step(StepKind.UPGRADE, f"prod/prod-eu-west-1/{release}", "prod-eu-west-1", [], [], "", release, release)


def drain(fd: int) -> str:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_the_live_line_is_cut_to_the_terminal_width(monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    with open(follower, "w", encoding="utf-8") as err:
        console = Console(out=io.StringIO(), err=err, colour=False)
        assert console.err_width == 40
        with Progress(console, live=console.interactive) as progress:
            for index, name in enumerate(("prometheus-operator", "cert-manager", "ingress-nginx")):
                progress.on_event(Event("start", step(name), index, 0.0))
        text = drain(leader)
    os.close(leader)
    shown = [part for part in text.replace("\r\n", "\n").replace("\x1b[K", "").split("\r") if "running:" in part]
    assert shown, text
    for part in shown:
        line = part[part.index("running:"):].split("\n")[0]
        assert len(line) <= 39, line
    assert any(part.rstrip("\n").endswith("…") for part in shown)
