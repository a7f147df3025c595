"""Fixtures shared by every unit test area."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

Golden = Callable[[str, str], None]


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """Compare a rendered text with ``golden/NAME`` next to the test file.

    ``HELMKIT_UPDATE_GOLDEN=1`` (re)writes the file first, so the comparison passes and the diff
    shows in git.
    """
    folder = request.path.parent / "golden"

    def check(name: str, text: str) -> None:
        path = folder / name
        if os.environ.get("HELMKIT_UPDATE_GOLDEN", "") not in ("", "0"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert path.is_file(), f"missing golden file {path}; run with HELMKIT_UPDATE_GOLDEN=1"
        assert text == path.read_text(), f"output differs from {path}; refresh with HELMKIT_UPDATE_GOLDEN=1"

    return check
