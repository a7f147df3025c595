"""What a render key holds of resolved secrets: nothing a guess could be checked against."""

from __future__ import annotations

import hashlib
from pathlib import Path

from helmkit.actions.rendersecrets import secrets_digest
from helmkit.adapters.masking import Masker, MaskKey
from helmkit.context import Context

SECRET = "hunter2-but-longer"


def digest_under(tmp_path: Path, key: str, resolved: dict[tuple[str | int, ...], str]) -> str:
    return secrets_digest(Context(repo=tmp_path, masker=Masker(key=MaskKey.from_text(key, "test"))), resolved)


def test_the_secrets_digest_is_keyed(tmp_path: Path) -> None:
    resolved: dict[tuple[str | int, ...], str] = {("db", "password"): SECRET}
    one, again, other = (digest_under(tmp_path, k, resolved) for k in ("key-a", "key-a", "key-b"))
    assert one == again and one != other  # stable under one key; without the key it cannot be recomputed
    assert digest_under(tmp_path, "key-a", {("db", "password"): SECRET + "!"}) != one
    written = f'[["[\\"db\\", \\"password\\"]", "{SECRET}"]]'  # what the key held before: sha256 of this
    plain = {hashlib.sha256(text.encode()).hexdigest() for text in (SECRET, written)}
    assert one not in plain


def test_without_secrets_the_digest_does_not_depend_on_the_machine(tmp_path: Path) -> None:
    assert digest_under(tmp_path, "key-a", {}) == digest_under(tmp_path, "key-b", {}) == ""
