"""helmkit's diff model: desired vs deployed (or live) objects as small typed items.

Objects are compared as parsed data, never as text: map key order and YAML formatting never
show as a change. Lists that Kubernetes merges by a key are compared item by item under that
key (``containers``, ``initContainers``, ``env``, ``volumes``, ``imagePullSecrets`` by ``name``;
``volumeMounts`` by ``mountPath``; ``ports`` by ``name``, else ``containerPort``/``port``; ...),
so a reordered list is not a change and a changed item is named, not indexed. Other lists are
compared by position. Secret values are masked (:mod:`helmkit.plan.masking`) before anything is
compared, so a diff can be printed safely.

Result types: :class:`ObjectChange` ``(key, op, items)`` with ``op`` one of ``add`` (only
desired), ``change``, ``remove`` (only deployed); :class:`FieldChange` ``(op, path, old, new)``.

Paths: dot-separated map keys (``spec.replicas``); a key that is not a plain identifier is quoted
(``metadata.labels["app.kubernetes.io/name"]``); a keyed list item is ``[name=web]``; a positional
list item is ``[0]``. Example: ``spec.template.spec.containers[name=web].env[name=LEVEL].value``.

Text formats (deterministic: objects sorted by key -- API group, kind, namespace, name --, and
fields by path):

``render_summary`` -- one line, counts of added, changed and removed objects::

    +1 ~1 -1

``render_fields`` -- one line per object, then one per field (values as compact JSON)::

    + v1/ConfigMap prod/web-extra
    - v1/Service prod/web-old
    ~ apps/Deployment prod/web
        + metadata.labels.team: "payments"
        ~ spec.replicas: 1 -> 3
        - spec.template.spec.containers[name=web].env[name=DEBUG]: {"name": "DEBUG", "value": "1"}

A multi-line string (a config file, a script) is shown as block text, not as one escaped line:
a changed one as a line diff of its text (``@@`` hunks, ``--context`` lines), an added or removed
one line by line (:func:`value_lines`)::

    ~ v1/ConfigMap prod/fluent-bit
        ~ data["fluent-bit.conf"]: (text)
          @@ -1,3 +1,3 @@
           [SERVICE]
          -    Flush 1
          +    Flush 5
           [INPUT]

``render_unified`` -- per object, a unified diff (``difflib``, ``--context N`` lines) of the
normalized YAML of both sides (keys sorted, block style, keyed lists sorted by their key, so the
text shows exactly what the model compares), under a header naming the object::

    # ~ apps/Deployment prod/web
    --- deployed apps/Deployment prod/web
    +++ desired apps/Deployment prod/web
    @@ -10,7 +10,7 @@
    ...

An added object diffs against nothing (every line ``+``), a removed one against nothing (``-``).
Multi-line strings are literal blocks (``key: |``) in that YAML, so their change is a line diff
too, as helm-diff shows it (:mod:`helmkit.plan.blocktext`). A Secret shows ``data`` only, each
value as ``<secret hmac:...>`` (see :mod:`helmkit.plan.masking`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from helmkit.adapters.masking import Digest, MaskKey
from helmkit.plan.blocktext import DEFAULT_CONTEXT, SYMBOL, Op, is_text, sorted_yaml, value_lines
from helmkit.plan.generated import Volatile, adopt_generated
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.masking import mask_object

__all__ = ["DEFAULT_CONTEXT", "SYMBOL", "FieldChange", "ObjectChange", "Op", "diff_objects", "is_text",
           "render_fields", "render_summary", "render_unified", "sorted_yaml", "to_json", "value_lines"]

# list field name -> candidate merge keys, first that identifies every item wins
KEYED_LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "ports": ("name", "containerPort", "port"),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "conditions": ("type",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey",),
    "webhooks": ("name",),
    "versions": ("name",),
}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class FieldChange:
    op: Op
    path: str
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class ObjectChange:
    key: ObjectKey
    op: Op
    items: tuple[FieldChange, ...] = ()
    old: dict[str, Any] | None = field(default=None, compare=False, repr=False)  # masked
    new: dict[str, Any] | None = field(default=None, compare=False, repr=False)  # masked


@dataclass(frozen=True)
class _Selector:
    """A keyed-list item inside the comparison tree: ``[name=web]``."""

    field: str
    value: Any

    def __str__(self) -> str:
        return f"[{self.field}={self.value}]"


class _KeyedList(dict[_Selector, Any]):
    """A list converted to a mapping by its merge key (only inside the comparison)."""


def diff_objects(
    desired: Mapping[ObjectKey, dict[str, Any]],
    deployed: Mapping[ObjectKey, dict[str, Any]],
    *,
    secret_values: Iterable[str] = (),
    mask: bool = True,
    generated: Volatile | None = None,
    digest: Digest | None = None,
) -> list[ObjectChange]:
    """Changes that turn ``deployed`` into ``desired``, sorted by key; unchanged objects omitted.

    ``mask=False`` compares the objects as they are (only for ``--show-secrets``). ``generated``:
    per object, JSON pointers of fields the chart generates on every render; they are not compared
    (:func:`helmkit.plan.generated.adopt_generated`). ``digest`` makes the masks (the run's keyed
    digest); without it, a random key of this call (masks compare within it).
    """
    secrets = list(secret_values)
    digest_of = digest or MaskKey.ephemeral().digest
    if generated:
        desired = {key: adopt_generated(body, deployed[key], generated[key])
                   if key in generated and key in deployed else body for key, body in desired.items()}

    def prepared(obj: dict[str, Any] | None) -> dict[str, Any] | None:
        return mask_object(obj, secrets, digest=digest_of) if mask and obj is not None else obj

    changes: list[ObjectChange] = []
    for key in sorted(set(desired) | set(deployed)):
        if key in desired and key in deployed and desired[key] == deployed[key]:
            continue  # equal as parsed objects: nothing to mask or compare
        new, old = prepared(desired.get(key)), prepared(deployed.get(key))
        if old is None:
            changes.append(ObjectChange(key, "add", (), None, new))
        elif new is None:
            changes.append(ObjectChange(key, "remove", (), old, None))
        else:
            items = diff_fields(old, new)
            if items:
                changes.append(ObjectChange(key, "change", tuple(items), old, new))
    return changes


def diff_fields(old: Any, new: Any) -> list[FieldChange]:
    """Field changes from ``old`` to ``new`` (both already masked)."""
    keyed_old, keyed_new = _align(_keyed(old), _keyed(new))
    from deepdiff import DeepDiff  # only where objects are compared: status and drift start without it

    tree = DeepDiff(keyed_old, keyed_new, view="tree", verbose_level=2)
    items: list[FieldChange] = []
    for report, levels in tree.items():
        for level in levels:
            path = format_path(level.path(output_format="list"))
            if report.endswith("_added"):
                items.append(FieldChange("add", path, None, _plain(level.t2)))
            elif report.endswith("_removed"):
                items.append(FieldChange("remove", path, _plain(level.t1), None))
            elif report in ("values_changed", "type_changes"):
                items.append(FieldChange("change", path, _plain(level.t1), _plain(level.t2)))
    items.sort(key=lambda item: (item.path, item.op))
    return items


def format_path(segments: Iterable[Any]) -> str:
    text = ""
    for segment in segments:
        if isinstance(segment, _Selector):
            text += str(segment)
        elif isinstance(segment, int) and not isinstance(segment, bool):
            text += f"[{segment}]"
        elif isinstance(segment, str):
            piece = path_segment(segment)
            text += piece if text else piece.removeprefix(".")
        else:
            text += f"[{json.dumps(str(segment))}]"
    return text


def render_summary(changes: Iterable[ObjectChange]) -> str:
    counts = {"add": 0, "change": 0, "remove": 0}
    for change in changes:
        counts[change.op] += 1
    return f"+{counts['add']} ~{counts['change']} -{counts['remove']}"


def render_fields(changes: Iterable[ObjectChange], *, indent: str = "    ") -> str:
    lines: list[str] = []
    for change in changes:
        lines.append(f"{SYMBOL[change.op]} {_key_text(change.key)}")
        for item in change.items:
            if item.op == "change":
                value = f"{_compact(item.old)} -> {_compact(item.new)}"
            else:
                value = _compact(item.new if item.op == "add" else item.old)
            if is_text(item.old) or is_text(item.new):
                lines += [indent + line for line in value_lines(item.op, item.path, item.old, item.new)]
            else:
                lines.append(f"{indent}{SYMBOL[item.op]} {item.path}: {value}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_unified(
    changes: Iterable[ObjectChange],
    *,
    context: int = DEFAULT_CONTEXT,
    old_label: str = "deployed",
    new_label: str = "desired",
) -> str:
    out: list[str] = []
    for change in changes:
        name = _key_text(change.key)
        out.append(f"# {SYMBOL[change.op]} {name}\n")
        out.append(unified_text(
            normalized_yaml(change.old) if change.old is not None else "",
            normalized_yaml(change.new) if change.new is not None else "",
            fromfile=f"{old_label} {name}", tofile=f"{new_label} {name}", context=context,
        ))
    return "".join(out)


def unified_text(old: str, new: str, *, fromfile: str, tofile: str, context: int = DEFAULT_CONTEXT) -> str:
    """A unified diff of two texts, every line ending in a newline (empty when they are equal)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=fromfile, tofile=tofile, n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def normalized_yaml(obj: Any) -> str:
    """Block-style YAML with sorted keys and keyed lists sorted by their key: the same data
    (as the model compares it) always gives the same text."""
    return sorted_yaml(_plain(_keyed(obj), sort_keyed=True))


def to_json(changes: Iterable[ObjectChange]) -> list[dict[str, Any]]:
    """The changes as plain data for JSON output (masked like the text)."""
    return [
        {
            "group": c.key.group, "kind": c.key.kind, "namespace": c.key.namespace, "name": c.key.name,
            "op": c.op,
            "items": [{"op": i.op, "path": i.path, "old": i.old, "new": i.new} for i in c.items],
        }
        for c in changes
    ]


def _key_text(key: ObjectKey) -> str:
    api = f"{key.group}/{key.kind}" if key.group else f"v1/{key.kind}"
    return f"{api} {key.namespace}/{key.name}" if key.namespace else f"{api} {key.name}"


def list_merge_key(name: str, *lists: list[Any]) -> str | None:
    """The first merge key of :data:`KEYED_LISTS` for a list field ``name`` that identifies every
    item of each of ``lists`` (present in each, no duplicates), or None: compare by position."""
    for candidate in KEYED_LISTS.get(name, ()):
        if all(_identifies(candidate, items) for items in lists):
            return candidate
    return None


def _identifies(candidate: str, items: list[Any]) -> bool:
    if not all(isinstance(i, dict) and candidate in i for i in items):
        return False
    values = [merge_key_value(i[candidate]) for i in items]
    return len(set(values)) == len(values)


def merge_key_value(value: Any) -> Any:
    """A merge key's value in a hashable form (JSON text for maps and lists)."""
    return value if isinstance(value, str | int | float | bool) or value is None else json.dumps(value, sort_keys=True)


def path_segment(key: str) -> str:
    """One map key of a path: ``.name``, or ``["app.kubernetes.io/name"]`` when not a plain identifier."""
    return f".{key}" if _PLAIN_KEY.match(key) else f"[{json.dumps(key)}]"


def _keyed(node: Any, name: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _keyed(v, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        items = [_keyed(item) for item in node]
        merge_key = list_merge_key(name, items) if items else None
        if merge_key is not None:
            return _KeyedList({_Selector(merge_key, merge_key_value(i[merge_key])): i for i in items})
        return items
    return node


def _align(old: Any, new: Any) -> tuple[Any, Any]:
    """A list keyed on one side only (duplicate or missing keys on the other) is compared by position."""
    if isinstance(old, _KeyedList) != isinstance(new, _KeyedList) and isinstance(old, dict | list) \
            and isinstance(new, dict | list) and (isinstance(old, list) or isinstance(new, list)):
        old, new = _positional(old), _positional(new)
    if isinstance(old, dict) and isinstance(new, dict):
        aligned = [(k, *_align(old[k], new[k])) for k in old.keys() & new.keys()]
        old_out, new_out = type(old)(old), type(new)(new)
        for k, a, b in aligned:
            old_out[k], new_out[k] = a, b
        return old_out, new_out
    if isinstance(old, list) and isinstance(new, list):
        pairs = [_align(a, b) for a, b in zip(old, new, strict=False)]
        shared = len(pairs)
        return [a for a, _ in pairs] + old[shared:], [b for _, b in pairs] + new[shared:]
    return old, new


def _positional(node: Any) -> Any:
    return list(node.values()) if isinstance(node, _KeyedList) else node


def _plain(node: Any, *, sort_keyed: bool = False) -> Any:
    """Undo :func:`_keyed` for values reported in a change (keyed lists sorted by key if asked)."""
    if isinstance(node, _KeyedList):
        pairs = sorted(node.items(), key=lambda kv: _compact(kv[0].value)) if sort_keyed else node.items()
        return [_plain(v, sort_keyed=sort_keyed) for _, v in pairs]
    if isinstance(node, dict):
        return {k: _plain(v, sort_keyed=sort_keyed) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, sort_keyed=sort_keyed) for v in node]
    return node


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
