"""Masking of secret values in any text helmkit prints or raises.

A :class:`Masker` knows the secret strings of one run (resolved secret references, tokens).
``mask(text)`` replaces each with ``***``; ``digest_mask(value)`` gives a short stable mask
(``<secret sha256:1a2b3c4d>``) so that a changed secret still shows as a change.
"""

from __future__ import annotations

import hashlib
import threading

MIN_SECRET_LENGTH = 4


def digest_mask(value: str | bytes) -> str:
    """A mask that differs when the value differs, without revealing it."""
    raw = value.encode() if isinstance(value, str) else value
    return f"<secret sha256:{hashlib.sha256(raw).hexdigest()[:8]}>"


class Masker:
    """Replaces every registered secret in text. Thread-safe; shared by one run."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        for secret in secrets or []:
            self.add(secret)

    def add(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def __contains__(self, text: str) -> bool:
        with self._lock:
            return any(secret in text for secret in self._secrets)
