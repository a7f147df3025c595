import json

from helmkit.errors import Location, Problem
from helmkit.output.problems import render_problems
from helmkit.output.values_view import show_value

ERROR = Problem("bad: 100% wrong,\nreally", Location("releases/a,b.yaml", 3, 7), "fix it", "/x", "release")
WARNING = Problem("careful", Location("environments/dev.yaml", 1))


def test_text():
    assert render_problems([ERROR], [WARNING], "text") == (
        "error: releases/a,b.yaml:3:7: bad: 100% wrong,\nreally (at /x, release layer)\n  hint: fix it\n"
        "warning: environments/dev.yaml:1: careful"
    )


def test_github_escapes_data_and_properties():
    lines = render_problems([ERROR], [WARNING, Problem("nowhere")], "github").splitlines()
    assert lines == [
        "::error file=releases/a%2Cb.yaml,line=3,col=7::"
        "bad: 100%25 wrong,%0Areally (at /x, release layer)%0Ahint: fix it",
        "::warning file=environments/dev.yaml,line=1::careful",
        "::warning::nowhere",
    ]


def test_json_records():
    records = json.loads(render_problems([ERROR], [WARNING], "json"))
    assert records[0] == {"severity": "error", "message": "bad: 100% wrong,\nreally", "file": "releases/a,b.yaml",
                          "line": 3, "column": 7, "pointer": "/x", "layer": "release", "hint": "fix it"}
    assert records[1]["severity"] == "warning" and records[1]["column"] is None
    assert render_problems([], [], "json") == "[]"
    assert render_problems([], [], "text") == ""


def test_explain_values_are_unambiguous_and_short():
    assert show_value("plain") == "plain"
    assert show_value("") == '""'
    assert show_value(" padded") == '" padded"'
    assert show_value(None) == "null"
    assert show_value([1, "a"]) == '[1, "a"]'
    assert len(show_value("x" * 500)) == 60
