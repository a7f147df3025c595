"""Problems as text, JSON or GitHub workflow commands (``--format text|json|github``).

- text: ``error: file:line:col: message (at /pointer, layer layer)`` with an indented hint,
  then ``warning: ...`` lines;
- json: a list of objects ``{severity, message, file, line, column, pointer, layer, hint}``;
- github: ``::error file=F,line=L,col=C::message`` (and ``::warning``), which GitHub Actions
  turns into annotations on the pull request. Files are relative to the repository root.
  :func:`github_group` folds a long text (a release's diff) under one line of the job log.
"""

from __future__ import annotations

import json
from typing import Any

from helmkit.errors import Problem

FORMATS = ("text", "json", "github")


def problem_record(problem: Problem, severity: str) -> dict[str, Any]:
    location = problem.location
    return {
        "severity": severity,
        "message": problem.message,
        "file": location.file if location else None,
        "line": location.line if location else None,
        "column": location.column if location else None,
        "pointer": problem.pointer,
        "layer": problem.layer,
        "hint": problem.hint,
    }


def render_problems(errors: list[Problem], warnings: list[Problem], fmt: str) -> str:
    """All ``errors`` then all ``warnings`` in ``fmt``; an empty string when there are none (text, github)."""
    if fmt == "json":
        records = [problem_record(p, "error") for p in errors] + [problem_record(p, "warning") for p in warnings]
        return json.dumps(records, indent=2)
    if fmt == "github":
        return "\n".join(
            [_github("error", p) for p in errors] + [_github("warning", p) for p in warnings]
        )
    lines = [f"error: {p.render()}" for p in errors] + [f"warning: {p.render()}" for p in warnings]
    return "\n".join(lines)


def _github(severity: str, problem: Problem) -> str:
    props = []
    location = problem.location
    if location is not None and not location.file.startswith("-"):
        props.append(f"file={_escape_property(location.file)}")
        if location.line is not None:
            props.append(f"line={location.line}")
        if location.column is not None:
            props.append(f"col={location.column}")
    message = problem.message
    if problem.pointer:
        message += f" (at {problem.pointer}" + (f", {problem.layer} layer)" if problem.layer else ")")
    if problem.hint:
        message += f"\nhint: {problem.hint}"
    head = f"::{severity} {','.join(props)}" if props else f"::{severity}"
    return f"{head}::{_escape_data(message)}"


def github_group(title: str, body: str) -> str:
    """``body`` folded under ``title`` in the GitHub Actions log (``::group::`` ... ``::endgroup::``)."""
    return f"::group::{_escape_data(title)}\n{body.rstrip(chr(10))}\n::endgroup::"


def github_annotation(severity: str, message: str, *, title: str = "") -> str:
    """A ``::notice``/``::warning``/``::error`` annotation without a file (shown on the run's summary)."""
    props = f" title={_escape_property(title)}" if title else ""
    return f"::{severity}{props}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
