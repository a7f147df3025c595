"""Masking of secret values in any text helmkit prints or raises.

A :class:`Masker` knows the secret strings of one run (resolved secret references, tokens).
``mask(text)`` replaces each of them -- in every form helm or Go may print it: escaped, quoted,
base64, URL-encoded (:mod:`helmkit.adapters.secretforms`) -- with ``***``.

``digest(value)`` gives a short mask that differs when the value changes (``<secret
hmac:1a2b3c4d>``). It is an HMAC-SHA256 under a :class:`MaskKey` that never leaves the machine or
secret store the secrets come from, so someone who reads a mask (a PR comment, a drift report)
cannot test password guesses against it. The key, in order:

1. ``$HELMKIT_MASK_KEY`` (put it in the CI secret store next to the secrets themselves: every
   machine that shares it prints the same masks, so reports stay comparable run to run);
2. a random key kept in ``$XDG_CONFIG_HOME/helmkit/mask-key`` (``~/.config/...``, mode 0600),
   made on first use: stable on one machine, never in the repository;
3. when neither can be had, a random key for this run only (masks then compare within one run).

A mask reveals only whether two values (under the same key) are equal; not their length, not
their content, and nothing that a guess could be checked against without the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.adapters.secretforms import secret_forms

MIN_SECRET_LENGTH = 4
UNMASKABLE = ("true", "false")  # a boolean from a sops file: masking it would hide every true in the output
MASK_KEY_ENV = "HELMKIT_MASK_KEY"
MASK_PREFIX = "<secret hmac:"

Digest = Callable[[str | bytes], str]


@dataclass(frozen=True)
class MaskKey:
    """The key of digest masks and where it came from (the key itself is never printed)."""

    secret: bytes = field(repr=False)
    origin: str

    def digest(self, value: str | bytes) -> str:
        raw = value.encode() if isinstance(value, str) else value
        return f"{MASK_PREFIX}{hmac.new(self.secret, raw, hashlib.sha256).hexdigest()[:8]}>"

    def keyed_hash(self, value: str | bytes) -> str:
        """The whole HMAC-SHA256 of ``value`` (hex): a cache key that confirms no guess without the key."""
        raw = value.encode() if isinstance(value, str) else value
        return hmac.new(self.secret, b"helmkit keyed hash\0" + raw, hashlib.sha256).hexdigest()

    @classmethod
    def ephemeral(cls) -> MaskKey:
        return cls(secrets.token_bytes(32), "a random key of this run")

    @classmethod
    def from_text(cls, text: str, origin: str) -> MaskKey:
        return cls(hashlib.sha256(b"helmkit mask key\0" + text.encode()).digest(), origin)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> MaskKey:
        """``$HELMKIT_MASK_KEY``, else the user's key file (made if missing), else an ephemeral key."""
        env = os.environ if environ is None else environ
        text = env.get(MASK_KEY_ENV, "")
        if text:
            return cls.from_text(text, f"${MASK_KEY_ENV}")
        path = key_file(env)
        if path is None:
            return cls.ephemeral()
        try:
            return cls(_read_or_create_key(path), str(path))
        except OSError:
            return cls.ephemeral()


def key_file(environ: Mapping[str, str]) -> Path | None:
    config = environ.get("XDG_CONFIG_HOME") or (str(Path(environ["HOME"]) / ".config") if environ.get("HOME") else "")
    return Path(config) / "helmkit" / "mask-key" if config else None


def _read_or_create_key(path: Path) -> bytes:
    with contextlib.suppress(FileNotFoundError):
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:64]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(tmp, path)  # first writer wins; a concurrent run reads the same key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()[:64]


def digest_mask(value: str | bytes, key: MaskKey) -> str:
    """A mask that differs when the value differs, without revealing it or confirming a guess."""
    return key.digest(value)


class Masker:
    """Replaces every registered secret in text, in every printed form. Thread-safe; one per run."""

    def __init__(self, secrets: list[str] | None = None, *, key: MaskKey | None = None) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._forms: list[str] = []
        self._key = key
        for secret in secrets or []:
            self.add(secret)

    @property
    def key(self) -> MaskKey:
        with self._lock:
            if self._key is None:
                self._key = MaskKey.load()
            return self._key

    def digest(self, value: str | bytes) -> str:
        """The digest mask of ``value`` under the run's key."""
        return self.key.digest(value)

    def add(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH or secret in UNMASKABLE:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            forms = set(self._forms) | set(secret_forms(secret, min_length=MIN_SECRET_LENGTH))
            self._forms = sorted(forms, key=lambda f: (-len(f), f))

    def mask(self, text: str) -> str:
        with self._lock:
            forms = self._forms
        for form in forms:
            if form in text:
                text = text.replace(form, "***")
        return text

    def stamp(self, *parts: str) -> str:
        """A keyed hash of ``parts`` and of every secret form masked: it changes when either does."""
        with self._lock:
            forms = self._forms
        return self.key.keyed_hash(json.dumps([list(parts), forms]))

    def __contains__(self, text: str) -> bool:
        with self._lock:
            return any(form in text for form in self._forms)
