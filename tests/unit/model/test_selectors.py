import pytest

from helmkit.errors import InputError
from helmkit.model.selectors import parse_selector

LABELS = {"tier": "platform", "name": "web", "env": "prod"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("tier=platform", True),
        ("tier==platform", True),
        ("tier!=platform", False),
        ("tier=platform,name=web", True),
        ("tier=platform,name=api", False),
        ("tier", True),
        ("!tier", False),
        ("!team", True),
        ("team!=x", True),
    ],
)
def test_matches(text: str, matches: bool):
    assert parse_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("bad", ["", "a=b=c", "=x", ",", "a b=c"])
def test_malformed(bad: str):
    with pytest.raises(InputError):
        parse_selector(bad)
