"""Text of values in diffs: YAML with multi-line strings as literal blocks, and one field's change
as lines (a multi-line string as its line diff). The formats are described in
:mod:`helmkit.plan.diffmodel`; values reach here already masked.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, Literal

import yaml

Op = Literal["add", "change", "remove"]
SYMBOL: dict[str, str] = {"add": "+", "change": "~", "remove": "-"}
DEFAULT_CONTEXT = 3


def sorted_yaml(data: Any) -> str:
    """Block-style YAML with sorted keys and no line wrapping: the text the diffs compare.
    Multi-line strings are literal blocks (``|``), one line of text per line of YAML."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=1_000_000)


# characters a literal block holds as they are (no escapes): printable text, tabs, newlines
_BLOCK_SAFE = re.compile("[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")


class _BlockDumper(yaml.SafeDumper):
    """A safe dumper that writes multi-line strings as literal blocks, also when a line ends in
    spaces (PyYAML would escape the whole string then; the block keeps them, as YAML allows)."""

    def choose_scalar_style(self) -> str:
        event = self.event
        if isinstance(event, yaml.ScalarEvent) and event.style == "|" and not self.flow_level \
                and not self.simple_key_context:
            if self.analysis is None:
                self.analysis = self.analyze_scalar(event.value)
            return "|"
        return str(super().choose_scalar_style())


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if is_text(data) and _BLOCK_SAFE.fullmatch(data) and not data.startswith((" ", "\t")) \
            and not data.endswith((" ", "\t")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_str(data)


_BlockDumper.add_representer(str, _represent_str)


def is_text(value: Any) -> bool:
    """A multi-line string: shown as block text, never as one escaped line."""
    return isinstance(value, str) and "\n" in value.rstrip("\n")


def value_lines(op: Op, path: str, old: Any, new: Any, *, context: int = DEFAULT_CONTEXT,
                text_indent: str = "  ") -> list[str]:
    """One field change as lines: ``~ path: old -> new`` (compact JSON), or, when a side is a
    multi-line string, a header ``~ path: (text)`` and the text's line diff under it (hunks of
    ``context`` lines; an added or removed text every line ``+``/``-``). Values already masked."""
    symbol = SYMBOL[op]
    if not (is_text(old) or is_text(new)):
        if op == "change":
            return [f"{symbol} {path}: {_compact(old)} -> {_compact(new)}"]
        return [f"{symbol} {path}: {_compact(new if op == 'add' else old)}"]
    before = _text_of(old) if op != "add" else ""
    after = _text_of(new) if op != "remove" else ""
    body = difflib.unified_diff(before.splitlines(), after.splitlines(), n=context, lineterm="")
    hunks = [line for line in body if not line.startswith(("---", "+++"))]
    if op != "change":
        hunks = [line for line in hunks if not line.startswith("@@")]
    return [f"{symbol} {path}: (text)", *(text_indent + line for line in hunks)]


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else sorted_yaml(value) if value is not None else ""



def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
