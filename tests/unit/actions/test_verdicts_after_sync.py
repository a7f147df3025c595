"""Which render key a sync's verdict goes under: what helm saw lies between the cluster's API versions
before and after the sync; only CRDs known to be served when helm rendered may explain a difference."""

from __future__ import annotations

from helmkit.actions.verdicts import _rendered_with
from helmkit.adapters.discovery import Capabilities

BEFORE = Capabilities("v1.34.0", ("apps/v1", "v1"))
GATED = frozenset({"gated.example.com/v1"})


def caps(*apis: str, kube: str = "v1.34.0") -> Capabilities:
    return Capabilities(kube, tuple(sorted({"apps/v1", "v1", *apis})))


def test_the_plans_key_when_the_api_versions_the_chart_tests_did_not_change() -> None:
    assert _rendered_with(BEFORE, caps("other.example.com/v1"), GATED, set) == "planned"
    assert _rendered_with(BEFORE, caps(), None, set) == "planned"


def test_the_key_after_the_sync_when_crds_served_before_rendering_explain_the_difference() -> None:
    after = caps("gated.example.com/v1", "gated.example.com/v1/Gizmo")
    assert _rendered_with(BEFORE, after, GATED, lambda: {"gated.example.com/v1"}) == "after"
    assert _rendered_with(BEFORE, after, None, lambda: {"gated.example.com/v1", "gated.example.com/v1/Gizmo"}) \
        == "after"


def test_no_key_when_something_else_changed_what_the_chart_tests() -> None:
    after = caps("gated.example.com/v1")
    assert _rendered_with(BEFORE, after, GATED, set) is None  # another release's CRD: before or after helm?
    assert _rendered_with(BEFORE, caps("gated.example.com/v1", "x.example.com/v1"), None,
                          lambda: {"gated.example.com/v1"}) is None
    vanished = Capabilities("v1.34.0", ("gated.example.com/v1", "v1"))  # apps/v1 is gone
    assert _rendered_with(BEFORE, vanished, GATED, lambda: {"gated.example.com/v1"}) is None
    assert _rendered_with(BEFORE, caps("gated.example.com/v1", kube="v1.35.0"), GATED,
                          lambda: {"gated.example.com/v1"}) is None
    assert _rendered_with(None, after, GATED, lambda: {"gated.example.com/v1"}) is None
