import pytest

from helmkit.errors import InputError, Location
from helmkit.model.instance import Origin
from helmkit.model.layering import merge, parse_set, without_nulls


def origins(layer: str):
    return lambda path: Origin(layer, Location(f"{layer}.yaml", len(path)))


def test_maps_merge_lists_replace_null_removes_and_inputs_stay_untouched():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": {"e": 1}, "keep": 1}
    overlay = {"a": {"c": [3]}, "d": None, "new": {"x": "y"}}
    provenance: dict = {}
    merged = merge({}, base, provenance, origins("release"))
    merged = merge(merged, overlay, provenance, origins("environment"))
    assert merged == {"a": {"b": 1, "c": [3]}, "d": None, "keep": 1, "new": {"x": "y"}}
    assert without_nulls(merged) == {"a": {"b": 1, "c": [3]}, "keep": 1, "new": {"x": "y"}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": {"e": 1}, "keep": 1}
    assert provenance[("a", "b")].layer == "release"
    assert provenance[("a", "c")].layer == "environment"
    assert provenance[("d",)].layer == "environment"
    assert ("d", "e") not in provenance
    assert provenance[("new", "x")].layer == "environment"


def test_map_replacing_scalar_and_back():
    provenance: dict = {}
    merged = merge({}, {"a": 1}, provenance, origins("release"))
    merged = merge(merged, {"a": {"b": 2}}, provenance, origins("cluster"))
    assert merged == {"a": {"b": 2}}
    assert set(provenance) == {("a", "b")}
    merged = merge(merged, {"a": "flat"}, provenance, origins("set"))
    assert set(provenance) == {("a",)} and provenance[("a",)].layer == "set"


def test_empty_map_overlay_keeps_lower_keys():
    provenance: dict = {}
    merged = merge({}, {"a": {"b": 1}}, provenance, origins("release"))
    assert merge(merged, {"a": {}}, provenance, origins("environment")) == {"a": {"b": 1}}


def test_origin_paths_are_relative_to_the_overlay():
    seen = []
    merge({}, {"a": {"b": {"c": 1}}}, {}, lambda p: seen.append(p) or Origin("release"))
    assert seen == [("a", "b", "c")]


def test_parse_set_types_and_escapes():
    overlay, written = parse_set(["image.tag=1.4.2", "replicas=3", "debug=true", "a\\.b.c=x", "gone=null", "e="])
    assert overlay == {"image": {"tag": "1.4.2"}, "replicas": 3, "debug": True, "a.b": {"c": "x"}, "gone": None,
                       "e": ""}
    assert written[("a.b", "c")] == "a\\.b.c"


@pytest.mark.parametrize("bad", ["novalue", "=x", "a..b=1"])
def test_parse_set_errors(bad: str):
    with pytest.raises(InputError, match=r"expected key\.path=value"):
        parse_set([bad])
