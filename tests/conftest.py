"""Fixtures of every test: a fixed mask key, so digest masks (and golden files holding them) are
the same on every machine, and no test writes a key file into the home folder."""

from __future__ import annotations

import pytest

TEST_MASK_KEY = "helmkit-test-mask-key-not-a-secret"


@pytest.fixture(autouse=True)
def _fixed_mask_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELMKIT_MASK_KEY", TEST_MASK_KEY)
