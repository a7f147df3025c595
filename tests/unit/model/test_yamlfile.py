import resource
import time
from pathlib import Path

import pytest

from helmkit.errors import InputError
from helmkit.model.yamlfile import load_yaml, parse_yaml


def error_of(text: str, **budgets: int) -> InputError:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "f.yaml", **budgets)
    return info.value


def test_plain_data_and_positions():
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: true, d: null}\ne: 1.5\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"c": True, "d": None}], "e": 1.5}
    assert doc.positions[("a",)] == (1, 1)
    assert doc.positions[("b", 1)] == (4, 5)
    assert doc.positions[("b", 1, "d")] == (4, 15)
    assert str(doc.location(("b", 1, "d"))) == "f.yaml:4:15"
    assert str(doc.location(("b", 1, "d", "missing"))) == "f.yaml:4:15"


def test_scalars_follow_yaml_1_1_and_keys_are_strings():
    doc = parse_yaml("1: 0x1f\ntrue: yes\nt: 2001-12-14\nq: '3'\n", "f.yaml")
    assert doc.data == {"1": 31, "true": True, "t": "2001-12-14", "q": "3"}


def test_merge_keys_and_aliases():
    doc = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nsame: *b\n", "f.yaml")
    assert doc.data["other"] == {"x": 1, "y": 3}
    assert doc.data["same"] == {"x": 1, "y": 2}


def test_duplicate_key_names_both_lines():
    error = error_of("a: 1\nb: 2\na: 3\n")
    problem = error.problems[0]
    assert "duplicate key 'a' (first at line 1)" in problem.message
    assert (problem.location.line, problem.location.column) == (3, 1)


def test_alias_bomb_is_rejected_fast_and_small():
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    assert len(text) < 400
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    error = error_of(text)
    assert time.perf_counter() - started < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB
    assert "too many YAML nodes" in error.problems[0].message
    assert error.problems[0].location.line is not None


def test_alias_cycle_and_unknown_alias():
    assert "cycle" in error_of("a: &a [1, *a]\n").problems[0].message
    assert "no anchor &nope" in error_of("a: *nope\n").problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        "".join("  " * i + "k:\n" for i in range(5000)) + "  " * 5000 + "v\n",
        "[" * 5000 + "]" * 5000,
        "- " * 5000 + "x\n",
    ],
    ids=["block", "flow", "sequence"],
)
def test_5000_deep_nesting_is_an_error_not_a_crash(text: str):
    error = error_of(text)
    assert "nesting" in error.problems[0].message
    assert error.problems[0].location.file == "f.yaml"


def test_unsafe_tags_are_refused():
    error = error_of("a: !!python/object/apply:os.system [echo hi]\n")
    assert "tag:yaml.org,2002:python/object/apply:os.system is not allowed" in error.problems[0].message
    assert "is not allowed" in error_of("a: !custom x\n").problems[0].message


def test_explicit_safe_tags_are_fine():
    assert parse_yaml("a: !!str 1\nb: !!int '2'\n", "f.yaml").data == {"a": "1", "b": 2}


def test_multi_document_file_is_an_error():
    error = error_of("a: 1\n---\nb: 2\n")
    assert error.problems[0].location.line == 2
    assert "more than one YAML document" in error.problems[0].message


def test_complex_key_is_an_error():
    assert "cannot be a mapping key" in error_of("? [a]\n: 1\n").problems[0].message


def test_syntax_error_has_position():
    problem = error_of("a: [1, 2\nb: 3\n").problems[0]
    assert problem.message.startswith("invalid YAML")
    assert problem.location.line is not None


def test_node_budget_counts_plain_nodes():
    assert "too many" in error_of("[" + ",".join(["1"] * 50) + "]", max_nodes=20).problems[0].message


def test_file_size_cap_and_encoding(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(InputError, match="too large"):
        load_yaml(big, "big.yaml", max_bytes=100)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml(binary, "bin.yaml")


def test_empty_file_is_none():
    assert parse_yaml("# only a comment\n", "f.yaml").data is None
