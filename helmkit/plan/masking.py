"""Secret masking in Kubernetes objects, applied before any diff is computed or printed.

In a ``v1`` Secret, every value of ``data`` (base64) and ``stringData`` (plain) becomes a digest
mask of the decoded value (a keyed HMAC: :class:`~helmkit.adapters.masking.MaskKey`), and
``stringData`` is folded into ``data`` as the API server does on write: the same secret gives the
same mask whichever field held it, and a changed secret gives a different mask, so a change stays
visible without showing the value. The ``kubectl.kubernetes.io/last-applied-configuration``
annotation of a Secret (which holds a copy of the data) is masked whole. In any object, a string
holding a known secret value (a resolved secret reference of the values) has that value -- in
every form helm prints it: escaped, quoted, base64 -- replaced by its digest mask.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Iterable
from typing import Any

from helmkit.adapters.masking import Digest
from helmkit.adapters.secretforms import secret_forms

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def is_secret(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def mask_object(obj: dict[str, Any], secret_values: Iterable[str] = (), *, digest: Digest) -> dict[str, Any]:
    """A masked deep copy of ``obj``; ``obj`` itself is not changed."""
    masked = copy.deepcopy(obj)
    if is_secret(masked):
        _mask_secret(masked, digest)
    replacements = _replacements(secret_values, digest)
    if replacements:
        masked = _mask_strings(masked, replacements)
    return masked


def mask_objects(objects: dict[Any, dict[str, Any]], secret_values: Iterable[str] = (), *,
                 digest: Digest) -> dict[Any, dict[str, Any]]:
    values = list(secret_values)
    return {key: mask_object(obj, values, digest=digest) for key, obj in objects.items()}


def _replacements(secret_values: Iterable[str], digest: Digest) -> list[tuple[str, str]]:
    """(form, mask) for every printed form of every value, longest form first."""
    pairs = {form: digest(value) for value in {v for v in secret_values if v}
             for form in secret_forms(value, min_length=min(len(value), 4))}
    return sorted(pairs.items(), key=lambda pair: (-len(pair[0]), pair[0]))


def _mask_secret(secret: dict[str, Any], digest_mask: Digest) -> None:
    data = secret.get("data")
    masked: dict[str, str] = {}
    if isinstance(data, dict):
        masked = {str(key): digest_mask(_b64_or_raw(value)) for key, value in data.items()}
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict):
        # the API server merges stringData into data on write (stringData wins): compare it so
        masked.update({str(key): digest_mask(str(value)) for key, value in string_data.items()})
    if isinstance(data, dict) or isinstance(string_data, dict):
        secret["data"] = masked
    meta = secret.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = digest_mask(str(annotations[LAST_APPLIED]))


def _b64_or_raw(value: Any) -> bytes:
    text = "" if value is None else str(value)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


def _mask_strings(node: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(node, str):
        for form, mask in replacements:
            if form in node:
                node = node.replace(form, mask)
        return node
    if isinstance(node, dict):
        return {_mask_strings(k, replacements): _mask_strings(v, replacements) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask_strings(item, replacements) for item in node]
    return node
