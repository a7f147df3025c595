"""helmkit's one table style, as kubectl and helm print theirs: UPPERCASE headers, no rules, columns
left-aligned (numbers too) and at least two spaces apart, no trailing blanks. ``status``, ``list``,
``drift`` and the sync summary all use it (the summary, in the plan layer below this one, makes
the same tabulate call).

    CLUSTER         RELEASE  STATUS
    prod-eu-west-1  web      in-sync

A column is never cut to a fixed width: the caller may pass ``width`` (a terminal's) to shorten
only the last column, with ``…``; piped output is never shortened.
"""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

MIN_LAST_COLUMN = 20


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, width: int | None = None) -> str:
    """The rows under ``headers`` (None cells empty); with ``width``, the last column fits in it."""
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if width is not None and cells:
        cells = _fit_last_column(headers, cells, width)
    text = tabulate(cells, headers=[h.upper() for h in headers], tablefmt="plain", disable_numparse=True)
    return "\n".join(line.rstrip() for line in text.splitlines())


def _fit_last_column(headers: Sequence[str], cells: list[list[str]], width: int) -> list[list[str]]:
    # tabulate's plain format: a column is as wide as its widest cell or its header + 2, then 2 spaces
    widths = [max(len(headers[i]) + 2, *(len(row[i]) for row in cells)) for i in range(len(headers) - 1)]
    room = max(MIN_LAST_COLUMN, width - sum(widths) - 2 * len(widths))
    return [[*row[:-1], row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"] for row in cells]
