"""helm's own error lines, picked out of its stderr for a person to read.

helm prints its error last, as ``Error: <what failed>`` (possibly followed by more lines, e.g.
the schema problems of each chart); helm 4 logs ``level=WARN msg=...`` lines before it that say
the same. A Go panic is different: ``panic: <message>``, then a stack trace per goroutine whose
last line is some frame deep in the runtime. :func:`error_lines` returns what a failed step's
reason should show -- the ``Error:`` lines, or for a panic its message and the failing frame (the
first frame of the panicking goroutine below the runtime's own ``panic(...)`` frames) -- the way
helmfile shows helm's error instead of the last line of its output. The caller masks them (the
runner's stderr is already masked).
"""

from __future__ import annotations

import re

MAX_LINES = 8
_GOROUTINE = re.compile(r"^goroutine \d+ \[[^\]]*\]:$")
_FRAME_FILE = re.compile(r"^\s+(\S+\.go:\d+)")


def error_lines(stderr: str) -> list[str]:
    """helm's error lines of ``stderr`` (at most :data:`MAX_LINES`); empty when it printed nothing."""
    lines = [line.rstrip() for line in stderr.splitlines()]
    panic = next((i for i, line in enumerate(lines) if line.startswith("panic: ")), None)
    if panic is not None:
        return _panic_lines(lines, panic)
    start = next((i for i, line in enumerate(lines) if line.startswith("Error: ")), None)
    if start is not None:
        return [line for line in lines[start:] if line.strip() and not line.startswith("level=")][:MAX_LINES]
    kept = [line.strip() for line in lines if line.strip()]
    return kept[-1:]


def _panic_lines(lines: list[str], panic: int) -> list[str]:
    message = lines[panic]
    frame = _failing_frame(lines[panic + 1:])
    return [message, f"  at {frame}"] if frame else [message]


def _failing_frame(lines: list[str]) -> str | None:
    """``function (file.go:line)`` of the first frame that is not the runtime's, below its panic frames."""
    start = next((i for i, line in enumerate(lines) if _GOROUTINE.match(line)), None)
    if start is None:
        return None
    frames: list[tuple[str, str]] = []
    index = start + 1
    while index < len(lines) and lines[index].strip() and not _GOROUTINE.match(lines[index]):
        function = lines[index].strip()
        where = _FRAME_FILE.match(lines[index + 1]) if index + 1 < len(lines) else None
        frames.append((function, where.group(1) if where else ""))
        index += 2 if where else 1
    last_panic = max((i for i, (f, _) in enumerate(frames) if f.startswith("panic(")), default=-1)
    for function, place in frames[last_panic + 1:]:
        if function.startswith(("runtime.", "panic(")):
            continue
        name = function.rpartition("(")[0] if function.endswith(")") else function
        return f"{name} ({_short_path(place)})" if place else name
    return None


def _short_path(where: str) -> str:
    """``/home/x/go/pkg/mod/helm.sh/helm/v3@v3.19.0/pkg/kube/ready.go:400`` -> ``pkg/kube/ready.go:400``."""
    for marker in ("/pkg/", "/internal/", "/cmd/"):
        if marker in where:
            return where[where.rindex(marker) + 1:]
    return where.rsplit("/", 1)[-1]
