"""The secrets of a rendering: resolved (or placeholders), applied to the values, and digested for the render key.

:mod:`helmkit.model.secrets` (and the secret stores behind it) is imported only when an instance
has secret references.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from helmkit.context import Context
from helmkit.model.instance import ReleaseInstance

Resolved = dict[tuple[str | int, ...], str]


def resolve_secrets(ctx: Context, instance: ReleaseInstance) -> Resolved:
    """The instance's secret values by values path; each is registered with the run's masker (and its base64)."""
    if not instance.secrets:
        return {}
    from helmkit.model.secrets import resolve_secrets as resolve

    resolved = resolve(instance, ctx.secret_stores)
    for value in resolved.values():
        ctx.masker.add(value)
        ctx.masker.add(base64.b64encode(value.encode()).decode())
    return dict(resolved)


def placeholder_secrets(instance: ReleaseInstance) -> Resolved:
    """A stand-in derived from each secret reference itself (no secret is read)."""
    from helmkit.model.secrets import placeholder_secrets as placeholders

    return placeholders(instance)


def apply_secrets(values: dict[str, Any], resolved: Resolved) -> dict[str, Any]:
    from helmkit.model.secrets import apply_secrets as apply

    applied: dict[str, Any] = apply(values, resolved)
    return applied


def secrets_digest(ctx: Context, resolved: Resolved) -> str:
    """What the render key holds of the secrets: a keyed hash (the mask key), so a key kept on disk
    confirms no guess of a secret; empty without secrets (the key then does not depend on the machine)."""
    if not resolved:
        return ""
    return ctx.masker.key.keyed_hash(json.dumps(sorted((json.dumps(list(p)), v) for p, v in resolved.items())))
