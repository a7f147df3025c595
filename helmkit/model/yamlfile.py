"""Hardened YAML loading with positions.

PyYAML's ``safe_load`` has no budget: a few hundred bytes of aliases expand to billions of
nodes, deep nesting recurses, duplicate keys silently keep the last. :func:`load_yaml` builds
plain Python data from the parser's event stream instead, iteratively, under budgets:

- file size (``max_bytes``), nesting depth (``max_depth``), nodes including alias expansions
  (``max_nodes``; an alias counts the whole subtree it stands for, without copying it);
- an alias to an anchor that is still open (a cycle) or unknown is an error;
- a duplicate mapping key is an error naming both lines;
- only the safe scalar tags (str, int, float, bool, null) and map/seq; timestamps stay strings;
- one document per file.

Mapping keys are strings (as Helm sees them after its YAML-to-JSON step). Merge keys (``<<``)
are supported. Positions (1-based line and column) of every mapping key and sequence item are
kept in :attr:`YamlDocument.positions`, keyed by the path tuple of the value.

Every failure is an :class:`~helmkit.errors.InputError` at file:line:column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from helmkit.errors import InputError, Location, Problem

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 250_000  # a 4 MB values file of short scalars stays under it; an alias bomb stops well under 200 MB

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "merge")}
_COLLECTION_TAGS = {f"{_TAG}map", f"{_TAG}seq"}
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()


@dataclass
class YamlDocument:
    """One loaded file: its data, its display name and where each value was written."""

    file: str  # as shown to people (relative to the repo root)
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: Path_) -> Location:
        """The location of ``path`` or of its closest written parent."""
        probe = tuple(path)
        while probe:
            pos = self.positions.get(probe)
            if pos is not None:
                return Location(self.file, pos[0], pos[1])
            probe = probe[:-1]
        pos = self.positions.get(())
        return Location(self.file, pos[0], pos[1]) if pos else Location(self.file, 1, 1)


@dataclass
class _Frame:
    kind: str  # "map" or "seq"
    value: Any
    path: Path_
    anchor: str | None
    nodes_at_start: int
    key: str | None = None  # map: the key waiting for its value
    key_pos: tuple[int, int] | None = None
    key_is_merge: bool = False
    merges: list[dict[str, Any]] = field(default_factory=list)
    key_lines: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, file: str, max_depth: int, max_nodes: int) -> None:
        self.file = file
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, subtree node count)
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.root: Any = None
        self.documents = 0

    def fail(self, message: str, mark: Any, hint: str | None = None) -> InputError:
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        return InputError(Problem(message, Location(self.file, line, col), hint))

    def count(self, n: int, mark: Any) -> None:
        self.nodes += n
        if self.nodes > self.max_nodes:
            raise self.fail(
                f"too many YAML nodes (more than {self.max_nodes:,}, counting alias expansions)",
                mark,
                "this looks like an alias bomb; write the values out or split the file",
            )

    def feed(self, event: Any) -> None:
        mark = event.start_mark
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fail("more than one YAML document in this file", mark, "remove the `---` separator")
            return
        if isinstance(event, yaml.ScalarEvent):
            self.count(1, mark)
            self.add_value(self.scalar(event), event.anchor, 1, mark, is_key_candidate=event)
        elif isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name in self.open_anchors:
                raise self.fail(f"alias *{name} refers to an anchor that contains it (a cycle)", mark)
            if name not in self.anchors:
                raise self.fail(f"alias *{name} has no anchor &{name} before it", mark)
            value, size = self.anchors[name]
            self.count(size, mark)
            self.add_value(value, None, size, mark, is_key_candidate=None)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.count(1, mark)
            if event.tag not in (None, "!") and event.tag not in _COLLECTION_TAGS:
                raise self.fail(f"YAML tag {event.tag} is not allowed", mark, "use plain YAML maps and lists")
            if len(self.stack) >= self.max_depth:
                raise self.fail(f"nesting deeper than {self.max_depth} levels", mark)
            path = self.child_path(mark)
            kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
            frame = _Frame(kind, {} if kind == "map" else [], path, event.anchor, self.nodes)
            if event.anchor:
                self.open_anchors.add(event.anchor)
            self.stack.append(frame)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            value = frame.value
            if frame.kind == "map" and frame.merges:
                merged: dict[str, Any] = {}
                for source in reversed(frame.merges):
                    merged.update(source)
                merged.update(value)
                value = merged
            size = self.nodes - frame.nodes_at_start + 1
            if frame.anchor:
                self.open_anchors.discard(frame.anchor)
                self.anchors[frame.anchor] = (value, size)
            self.place(value, frame.path, mark)

    def child_path(self, mark: Any) -> Path_:
        """The path of the value that starts now, recording its position."""
        if not self.stack:
            self.positions[()] = (mark.line + 1, mark.column + 1)
            return ()
        top = self.stack[-1]
        if top.kind == "seq":
            path = (*top.path, len(top.value))
            self.positions[path] = (mark.line + 1, mark.column + 1)
            return path
        if top.key is None:
            raise self.fail("a map or list cannot be a mapping key", mark, "use a plain string key")
        return (*top.path, top.key)

    def add_value(self, value: Any, anchor: str | None, size: int, mark: Any, is_key_candidate: Any) -> None:
        if self.stack and self.stack[-1].kind == "map" and self.stack[-1].key is None:
            self.add_key(self.stack[-1], value, is_key_candidate, mark)
            return
        path = self.child_path(mark)
        if anchor:
            self.anchors[anchor] = (value, size)
        self.place(value, path, mark)

    def add_key(self, frame: _Frame, value: Any, event: Any, mark: Any) -> None:
        if event is None or isinstance(value, dict | list):
            raise self.fail("a map or list cannot be a mapping key", mark, "use a plain string key")
        raw = event.value
        is_merge = raw == "<<" and event.tag is None and event.implicit[0]
        if not is_merge:
            first = frame.key_lines.get(raw)
            if first is not None:
                raise self.fail(
                    f"duplicate key {raw!r} (first at line {first})",
                    mark,
                    "YAML keeps only one of them; remove or rename one",
                )
            frame.key_lines[raw] = mark.line + 1
        frame.key = raw
        frame.key_is_merge = is_merge
        self.positions[(*frame.path, raw)] = (mark.line + 1, mark.column + 1)

    def place(self, value: Any, path: Path_, mark: Any) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if top.kind == "seq":
            top.value.append(value)
            return
        key = top.key
        assert key is not None
        if top.key_is_merge:
            self.positions.pop(path, None)
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise self.fail("a merge key `<<` needs a map or a list of maps", mark)
            top.merges.extend(sources)
        else:
            top.value[key] = value
        top.key = None
        top.key_is_merge = False

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolve_tag(event.value, event.implicit) if tag is None else f"{_TAG}str"
        if tag not in _SCALAR_TAGS:
            raise self.fail(f"YAML tag {tag} is not allowed", event.start_mark, "use plain strings, numbers, booleans")
        value: str = event.value
        kind = tag[len(_TAG):]
        if kind in ("str", "timestamp", "merge"):
            return value
        if kind == "null":
            return None
        if kind == "bool":
            return value.lower() in ("yes", "true", "on", "y")
        node = ScalarNode(tag, value)
        try:
            if kind == "int":
                return _CONSTRUCTOR.construct_yaml_int(node)
            return _CONSTRUCTOR.construct_yaml_float(node)
        except ValueError:
            raise self.fail(f"{value!r} is not a valid {kind}", event.start_mark) from None


def _resolve_tag(value: str, implicit: tuple[bool, bool]) -> str:
    tag: str = _RESOLVER.resolve(ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
    return tag


def parse_yaml(
    text: str,
    file: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> YamlDocument:
    """Parse ``text`` (shown as ``file`` in errors) under the budgets."""
    builder = _Builder(file, max_depth, max_nodes)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        raise builder.fail(f"invalid YAML: {message}", mark) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"invalid YAML: {exc}", Location(file))) from None
    return YamlDocument(file, builder.root, builder.positions)


def load_yaml(
    path: Path,
    file: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> YamlDocument:
    """Load one YAML file under the budgets; ``file`` is the name shown in errors."""
    shown = file or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                Problem(f"file is too large ({size:,} bytes, limit {max_bytes:,})", Location(shown), "split it")
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", Location(shown))) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"not UTF-8 text (byte {exc.start})", Location(shown))) from None
    return parse_yaml(text, shown, max_depth=max_depth, max_nodes=max_nodes)
