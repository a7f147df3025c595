from __future__ import annotations

import pytest

from helmkit.sandbox.selectors import matcher, parse_label_selector
from helmkit.sandbox.status import ApiError


def obj(labels: dict[str, str], **fields: str) -> dict[str, object]:
    return {"metadata": {"name": fields.get("name", "x"), "namespace": "ns", "labels": labels},
            "type": fields.get("type", "Opaque")}


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ("a=1", {"a": "1"}, True),
    ("a==1", {"a": "2"}, False),
    ("a!=1", {}, True),
    ("a!=1", {"a": "1"}, False),
    ("a in (1, 2)", {"a": "2"}, True),
    ("a in (1,2)", {}, False),
    ("a notin (1,2)", {"a": "3"}, True),
    ("a notin (1,2)", {}, True),
    ("a", {"a": ""}, True),
    ("!a", {"a": "1"}, False),
    ("!a", {"b": "1"}, True),
    ("name=web,owner=helm", {"name": "web", "owner": "helm", "status": "deployed"}, True),
    ("name=web,owner=helm", {"name": "webx", "owner": "helm"}, False),
    ("a in (1,2),b", {"a": "1"}, False),
])
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    match = matcher(selector, None)
    assert match is not None
    assert match(obj(labels)) is expected


def test_field_selectors_and_empty_selector() -> None:
    assert matcher("", "") is None
    by_name = matcher(None, "metadata.name=web,metadata.namespace=ns")
    assert by_name is not None
    assert by_name(obj({}, name="web"))
    assert not by_name(obj({}, name="api"))
    by_type = matcher(None, "type!=kubernetes.io/tls")
    assert by_type is not None
    assert by_type(obj({}))
    assert not by_type(obj({}, type="kubernetes.io/tls"))


def test_bad_selector_is_a_400() -> None:
    with pytest.raises(ApiError) as caught:
        parse_label_selector("a in 1,2")
    assert caught.value.code == 400
