"""helm's ``template`` output and its ``crds/`` part.

``helm template --include-crds`` prints the files of a chart's (and its subcharts') ``crds/``
folders first, each behind a ``# Source:`` line, then the templates' documents.
kube-prometheus-stack prints 4.5 MB of CRDs ahead of 0.7 MB of templates, in each of its
renderings: finding where the part ends means scanning it (5 ms with one non-ASCII character in
it, which makes Python keep the whole text two bytes a character). A sync asks that of each
rendering several times (which CRDs to create, whether the chart holds only CRDs, which documents
to compare with the record, which fields the chart generates).

A :class:`Rendering` is helm's output with that answer attached: its ``crds/`` part, one string
object shared by all renderings with the same part (a dict keyed by it hashes 4.5 MB once, and
finds it by identity), and the part's line count. :func:`crds_prefix` reads it from there and
scans only other texts (a record, a rendering read back from the cache).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

SOURCE_PREFIX = "# Source: "
HEADER = re.compile(r"\s*" + re.escape(SOURCE_PREFIX) + r"([^\n]*)")


class Rendering(str):
    """helm's output whose leading ``crds/`` part (``crds``, ``crds_lines`` lines) is known."""

    crds: str
    crds_lines: int

    def __new__(cls, text: str, crds: str, crds_lines: int) -> Rendering:
        made = super().__new__(cls, text)
        made.crds = crds
        made.crds_lines = crds_lines
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return Rendering, (str(self), self.crds, self.crds_lines)


def with_crds_part(part: str, lines: int, templates: str) -> Rendering:
    """A rendering of ``part`` (a kept ``crds/`` part of ``lines`` lines) followed by ``templates``."""
    return Rendering(part + templates, part, lines)


def known_part(text: str) -> Rendering | str:
    """``text`` as a :class:`Rendering` when it has a ``crds/`` part (found by scanning it once)."""
    if isinstance(text, Rendering):
        return text
    part = crds_prefix(text)
    return text if not part else Rendering(text, part, part.count("\n"))


def crds_prefix(text: str) -> str | None:
    """The leading ``crds/`` documents of helm's output (``--include-crds`` prints them before the
    templates'), up to the first template's document; None when no template's document follows."""
    if isinstance(text, Rendering):
        return text.crds
    for start in separators(text):
        header = HEADER.match(text, start + 3)
        if header is not None and not from_crds_folder(header.group(1).strip()):
            return text[:start]
    return None


def separators(text: str) -> Iterator[int]:
    """Offsets of the ``---`` lines of ``text`` (``---`` then a blank, a tab or the line's end)."""
    found = 0 if text.startswith("---") else text.find("\n---")
    while found != -1:
        start = found if found == 0 and text.startswith("---") else found + 1
        follows = text[start + 3:start + 4]
        if follows in ("", "\n", " ", "\t", "\r"):
            yield start
        found = text.find("\n---", start + 3)


def from_crds_folder(source: str) -> bool:
    """Whether a ``# Source:`` path is a file of a chart's (or a subchart's) ``crds/`` folder:
    ``chart/crds/x.yaml``, ``chart/charts/sub/crds/x.yaml``; ``chart/templates/crds/x.yaml`` is a template."""
    parts = source.split("/")
    index = 1  # past the chart's own name
    while len(parts) > index + 2 and parts[index] == "charts":
        index += 2  # past charts/<subchart>
    return len(parts) > index + 1 and parts[index] == "crds"
