import pytest

from helmkit.model.versions import parse_constraint


@pytest.mark.parametrize(
    ("constraint", "version", "allowed"),
    [
        ("^1.4.0", "1.9.3", True),
        ("^1.4.0", "2.0.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.3.0", False),
        (">=3.19.0 <5.0.0", "4.1.4", True),
        (">=3.19.0 <5.0.0", "3.15.3", False),
        (">= 1.0, < 2", "1.5.0", True),
        ("1.2.x", "1.2.7", True),
        ("1.2.x", "1.3.0", False),
        ("1.4.2", "1.4.2", True),
        ("v1.4.2", "1.4.3", False),
        ("*", "7.0.0", True),
        ("1.0.0 || ^2", "2.3.0", True),
        ("^1.0.0", "1.5.0-rc.1", False),
    ],
)
def test_allows(constraint: str, version: str, allowed: bool):
    assert parse_constraint(constraint).allows(version) is allowed


def test_exact():
    assert parse_constraint("1.4.2").exact == "1.4.2"
    assert parse_constraint("^1.4.2").exact is None


@pytest.mark.parametrize("bad", ["latest", "", "1.2.3.4", ">=one", "^", "1.0 ||"])
def test_bad_constraints_say_what_is_wrong(bad: str):
    with pytest.raises(ValueError, match=r"version|constraint|alternative"):
        parse_constraint(bad)
