"""What an import could not translate, each at the helmfile's file:line with what to do.

``helmfile build`` prints evaluated YAML without line numbers, so a place is found again in the
helmfile's own text: the release's ``name:`` line, then the key inside that release's list item
(the text may hold Go templates, so it is scanned line by line rather than parsed).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotTranslated:
    file: Path
    line: int | None
    what: str
    todo: str

    def render(self, relative_to: Path | None = None) -> str:
        file = self.file
        if relative_to is not None:
            with contextlib.suppress(ValueError):
                file = self.file.relative_to(relative_to)
        where = f"{file}:{self.line}" if self.line else str(file)
        return f"{where}: {self.what}\n  to do: {self.todo}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _item_block(lines: list[str], name_at: int) -> tuple[int, int]:
    """The list item (start, end) that holds the ``name:`` at ``name_at``."""
    start = name_at
    name_line = lines[name_at]
    if not name_line.lstrip().startswith("-"):
        for i in range(name_at - 1, -1, -1):
            stripped = lines[i].strip()
            if stripped.startswith("- ") and _indent(lines[i]) < _indent(name_line):
                start = i
                break
            if stripped and not stripped.startswith("#") and _indent(lines[i]) < _indent(name_line) - 2:
                break
    dash = _indent(lines[start])
    end = len(lines)
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#") and _indent(lines[i]) <= dash:
            end = i
            break
    return start, end


def locate(text: str, release: str | None, key: str | None, *, contains: str | None = None,
           occurrence: int = 0) -> int | None:
    """1-based line of ``key`` inside release ``release`` (or at the top level / in ``helmDefaults``).

    ``release`` None: ``key`` is a top-level key or ``helmDefaults.<key>`` when written ``helmDefaults.key``.
    ``contains``: the first line from ``key`` on, inside the release, holding that text (a list entry).
    ``occurrence``: the n-th release of that name in the text (0 is the first).
    """
    lines = text.splitlines()
    if release is None:
        if key is None:
            return None
        top, _, sub = key.partition(".")
        for i, line in enumerate(lines):
            if re.match(rf"^{re.escape(top)}\s*:", line):
                if not sub:
                    return i + 1
                for j in range(i + 1, len(lines)):
                    if lines[j].strip() and _indent(lines[j]) == 0:
                        break
                    if re.match(rf"^\s+{re.escape(sub)}\s*:", lines[j]):
                        return j + 1
                return i + 1
        return None
    pattern = re.compile(rf"^\s*(-\s+)?name\s*:\s*[\"']?{re.escape(release)}[\"']?\s*(#.*)?$")
    matches = [i for i, line in enumerate(lines) if pattern.match(line)]
    if not matches:
        return None
    i = matches[min(occurrence, len(matches) - 1)]
    if key is None:
        return i + 1
    start, end = _item_block(lines, i)
    key_pattern = re.compile(rf"^\s*(-\s+)?{re.escape(key)}\s*:")
    for j in range(start, end):
        if key_pattern.match(lines[j]):
            if contains:
                return next((k + 1 for k in range(j, end) if contains in lines[k]), j + 1)
            return j + 1
    return i + 1
