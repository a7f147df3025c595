"""Rendered manifests read as helm reads them (go-yaml v2 through sigs.k8s.io/yaml, then JSON)."""

from __future__ import annotations

import math

import pytest
import yaml

from helmkit.plan.goyaml import FLOAT, INT, STR, TIMESTAMP, HelmYamlLoader, go_float_key, json_number, resolve_scalar


def load(text: str) -> object:
    return yaml.load(text, Loader=HelmYamlLoader)  # noqa: S506 -- a safe loader


@pytest.mark.parametrize(("text", "value"), [
    ("=", "="), ("<<", "<<"), ("~", None), ("null", None), ("", None), ("NULL", None),
    ("y", True), ("Y", True), ("yes", True), ("on", True), ("ON", True), ("True", True),
    ("n", False), ("N", False), ("no", False), ("off", False), ("Off", False), ("FALSE", False),
    ("0777", 511), ("0o17", 15), ("0x1F", 31), ("0b101", 5), ("-0b101", -5), ("+12", 12), ("1_000", 1000),
    ("09", 9), ("1e3", 1000), ("1E3", 1000), ("3.", 3), ("1.0", 1), (".5", 0.5), ("-1.5e-3", -0.0015),
    ("12345678901234567890", 12345678901234567000), ("1e400", "1e400"),
    ("2001-12-14", "2001-12-14"), ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("1:20", "1:20"), ("12:30:45", "12:30:45"), ("0x", "0x"), ("-x", "-x"), ("+.", "+."), ("._5", "._5"),
    ("yes please", "yes please"), ("tRUE", "tRUE"), ("0o8", "0o8"),
])
def test_plain_scalars_as_json_holds_them(text: str, value: object) -> None:
    loaded = load(f"v: {text}\n")
    assert loaded == {"v": value}
    assert type(loaded["v"]) is type(value)  # type: ignore[index]


def test_infinities_and_nan() -> None:
    loaded = load("a: .inf\nb: -.Inf\nc: .NaN\n")
    assert loaded["a"] == math.inf and loaded["b"] == -math.inf and math.isnan(loaded["c"])  # type: ignore[index]


def test_quoted_and_tagged_scalars() -> None:
    assert load('a: "y"\nb: \'0777\'\nc: !!str 0777\nd: !!float 1\ne: !!int "12"\nf: !thing value\n'
                "g: !!binary aGVsbG8sIGhlbG0=\nh: !!timestamp 2001-12-14\ni: !!binary /w==\n") == {
        "a": "y", "b": "0777", "c": "0777", "d": 1, "e": 12, "f": "value", "g": "hello, helm",
        "h": "2001-12-14", "i": "\ufffd"}
    assert load("s: !!set {a, b}\no: !!omap [{a: 1}]\n") == {"s": {"a": None, "b": None}, "o": [{"a": 1}]}


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!int abc", "cannot decode !!str `abc` as a !!int"),
    ("a: !!bool 1", "cannot decode !!int `1` as a !!bool"),
    ("a: !!timestamp tomorrow", "cannot decode !!str `tomorrow` as a !!timestamp"),
    ("a: !!binary '***'", "!!binary value contains invalid base64 data"),
    ("a: {<<: 1}", "map merge requires map or sequence of maps as the value"),
    ("~: x", "unsupported map key: null"),
    ("? [1]\n: x", "invalid map key"),
])
def test_what_helm_refuses_is_refused(text: str, message: str) -> None:
    with pytest.raises(yaml.YAMLError, match=message.replace("[", r"\[").replace("!", "!")):
        load(text)


def test_merge_keys_as_go_yaml_v2_sets_them() -> None:
    text = """\
base: &base {retries: 3, color: green}
after: {retries: 1, <<: *base}
before: {<<: *base, retries: 1}
listed: {<<: [{retries: 7, size: 1}, *base], color: red}
quoted: {"<<": 1}
tagged: {!!str <<: 2}
"""
    loaded = load(text)
    assert loaded == {
        "base": {"retries": 3, "color": "green"},
        "after": {"retries": 3, "color": "green"},  # a key before << loses to the merged map
        "before": {"retries": 1, "color": "green"},
        "listed": {"retries": 7, "size": 1, "color": "red"},  # earlier maps of the list win
        "quoted": {"<<": 1},
        "tagged": {"<<": 2},
    }


def test_map_keys_become_strings() -> None:
    assert load("{1: a, 0x10: b, 1.5: c, 1e6: d, true: e, y: f, .inf: g, 0.1: h, 100000.0: i}") == {
        "1": "a", "16": "b", "1.5": "c", "1e+06": "d", "true": "f", ".inf": "g", "0.1": "h", "100000": "i"}
    assert go_float_key(-1e-5) == "-1e-05" and go_float_key(float("nan")) == ".nan" and go_float_key(1e40) == ".inf"


def test_resolve_scalar_and_json_numbers() -> None:
    assert resolve_scalar("0777") == (INT, 511)
    assert resolve_scalar("1e3") == (FLOAT, 1000.0)
    assert resolve_scalar("0777", STR) == (STR, "0777")
    assert resolve_scalar("2001-12-14", TIMESTAMP) == (TIMESTAMP, "2001-12-14")
    assert resolve_scalar("2001-12-14") == (STR, "2001-12-14")
    assert json_number(2.0) == 2 and json_number(2.5) == 2.5 and json_number(1e21) == 1e21
    assert json_number(1.2345678901234567e19) == 12345678901234567000


def test_a_crd_enum_item_equals_sign() -> None:
    crd = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            operator: {type: string, enum: [=, "!=", <, ">="]}
"""
    loaded = load(crd)
    assert loaded["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["operator"]["enum"] == [  # type: ignore[index]
        "=", "!=", "<", ">="]
