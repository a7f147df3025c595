"""Values helmfile read from environment variables become ``ref+env://NAME``: never written out.

A helmfile reads variables with ``requiredEnv "NAME"`` and ``env "NAME"`` (often secrets). Once
helmfile has evaluated its templates those values are plain text; written into the new repository
they would leave the environment. So a rendered string value equal to such a variable's value
becomes the reference ``ref+env://NAME`` (read from the environment at each run, as helmfile does,
and masked in helmkit's output); a string that merely contains one (``postgres://u:{{ env "PW" }}@db``)
cannot be a reference and is replaced by a placeholder and listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_ENV_CALL = re.compile(r"\b(?:requiredEnv|env)\s+\"([A-Za-z_][A-Za-z0-9_]*)\"")
MIN_CONTAINED = 6  # shorter values are not looked for inside longer strings (too many false matches)


def env_names(texts: Iterable[str]) -> set[str]:
    """The variables the texts read with ``requiredEnv``/``env``."""
    return {m.group(1) for text in texts for m in _ENV_CALL.finditer(text)}


@dataclass
class EnvReferences:
    """Replaces variable values in rendered values; ``contained`` collects the paths of strings it had to cut."""

    variables: Mapping[str, str]  # name -> value (non-empty)
    contained: list[tuple[str, str]] = field(default_factory=list)  # (dotted path, variable name)

    def replace(self, value: Any, path: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.replace(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.replace(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        for name, secret in self.variables.items():
            if value == secret:
                return f"ref+env://{name}"
        for name, secret in self.variables.items():
            if len(secret) >= MIN_CONTAINED and secret in value:
                self.contained.append((path, name))
                return f"<from ${name}: not translated>"
        return value
