"""docs/reliability.md maps every reliability case to tests: the map must name real tests, cover
every case, list every test of tests/e2e/test_reliability.py, and mark exactly its strict xfails
as known gaps."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAP = REPO / "docs" / "reliability.md"
RELIABILITY_TESTS = "tests/e2e/test_reliability.py"
ROW = re.compile(r"^\| (\d+) [^|]*\| (.*?) \| .* \|$")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
GAP_REF = re.compile(r"\*\*known gap\*\*: `(tests/[\w/]+\.py)::(\w+)`")


def rows() -> dict[int, str]:
    found: dict[int, str] = {}
    for line in MAP.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert int(match.group(1)) not in found, f"case {match.group(1)} has two rows"
            found[int(match.group(1))] = match.group(2)
    return found


def functions_of(path: str) -> dict[str, ast.FunctionDef]:
    tree = ast.parse((REPO / path).read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


def is_strict_xfail(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.xfail":
            return any(k.arg == "strict" and isinstance(k.value, ast.Constant) and k.value.value is True
                       for k in decorator.keywords)
    return False


def test_every_case_has_a_row_with_at_least_one_test() -> None:
    table = rows()
    assert sorted(table) == list(range(1, 19))
    for case, cell in table.items():
        assert TEST_REF.search(cell), f"case {case} names no test"


@pytest.mark.parametrize("case", range(1, 19))
def test_every_named_test_exists(case: int) -> None:
    for path, name in TEST_REF.findall(rows()[case]):
        assert (REPO / path).is_file(), f"case {case}: no file {path}"
        assert name in functions_of(path), f"case {case}: no test {name} in {path}"


def test_every_reliability_test_is_mapped_and_gaps_are_exactly_its_strict_xfails() -> None:
    text = MAP.read_text()
    named = {name for path, name in TEST_REF.findall(text) if path == RELIABILITY_TESTS}
    gaps = {name for path, name in GAP_REF.findall(text) if path == RELIABILITY_TESTS}
    functions = functions_of(RELIABILITY_TESTS)
    assert set(functions) - named == set(), "tests missing from docs/reliability.md"
    assert gaps == {name for name, node in functions.items() if is_strict_xfail(node)}
