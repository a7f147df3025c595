"""Resource quantities stored in the canonical form of a Kubernetes API server."""

from __future__ import annotations

from typing import Any

import pytest

from helmkit.sandbox.quantity import canonical


@pytest.mark.parametrize(("given", "stored"), [
    ("0.5", "500m"), (1, "1"), (0.25, "250m"), ("1000m", "1"), ("1500", "1500"), ("2000", "2k"), ("100M", "100M"),
    ("1024Mi", "1Gi"), ("1536Mi", "1536Mi"), ("0.5Gi", "512Mi"), ("512", "512"), ("1073741824", "1073741824"),
    ("1e3", "1e3"), ("0.0001", "1m"), ("1n", "1m"), ("0.1Ki", "102400m"),
])
def test_canonical_forms(given: Any, stored: str) -> None:
    assert canonical(given) == stored


@pytest.mark.parametrize("given", ["abc", True, None, "1x"])
def test_values_that_are_not_quantities_are_kept(given: Any) -> None:
    assert canonical(given) == given
