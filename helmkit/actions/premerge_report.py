"""The pre-merge diff (``helmkit diff --git-base``) as text, JSON, Markdown or GitHub annotations.

Per release instance (``env/cluster/release``) a status: ``added``, ``removed``, ``renamed``,
``changed``, ``unchanged`` or ``error``, with the object changes of the diff model
(:mod:`helmkit.plan.diffmodel`, secrets already masked).

- text: a header line, then per instance ``<symbol> env/cluster/release  status  +A ~C -R`` and its
  unified diff (base -> head); unchanged instances are counted on one line; a summary line last.
- json: ``{base, head, changedFiles, summary, releases: [{env, cluster, release, status, renamedFrom,
  reasons, objects, error}], errors}``.
- markdown (a pull-request comment): a heading, a summary line, a table of the instances that change,
  then one collapsible ``<details>`` block per distinct diff (instances with the same diff share one
  block). The whole comment stays under ``max_chars``: a diff that does not fit is cut with a note.
- github: the text output with each release instance's diff folded in a ``::group::`` of the job
  log, then a ``::notice`` annotation per instance that changes (``::error`` for one that could not
  be rendered) and ``::error`` annotations of the problems (see :mod:`helmkit.output.problems`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from helmkit.errors import Problem
from helmkit.output.problems import github_annotation, github_group, problem_record, render_problems
from helmkit.plan.diffmodel import ObjectChange, render_summary, render_unified, to_json

FORMATS = ("text", "json", "markdown", "github")
STATUSES = ("added", "removed", "renamed", "changed", "unchanged", "error")
SYMBOLS = {"added": "+", "removed": "-", "renamed": ">", "changed": "~", "unchanged": "=", "error": "!"}
MARKDOWN_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters


@dataclass
class ReleaseDiff:
    env: str
    cluster: str
    release: str
    status: str  # one of STATUSES
    changes: list[ObjectChange] = field(default_factory=list)
    renamed_from: str | None = None
    reasons: tuple[str, ...] = ()
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.env}/{self.cluster}/{self.release}"

    @property
    def title(self) -> str:
        text = f"{self.key}  {self.status}"
        if self.renamed_from:
            text += f" (from {self.renamed_from})"
        if self.status not in ("unchanged", "error"):
            text += f"  {render_summary(self.changes)}"
        return text


@dataclass
class PremergeDiff:
    base: str  # what the base is, e.g. "1a2b3c4d5e6f (merge base of main)"
    head: str  # "the working tree" or a commit
    changed_files: list[str] = field(default_factory=list)
    releases: list[ReleaseDiff] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    context: int = 3

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for release in self.releases:
            counts[release.status] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(r.status not in ("unchanged", "error") for r in self.releases)

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s] or s in ("added", "removed", "changed")]
        return (f"{len(self.changed_files)} changed file{'s' if len(self.changed_files) != 1 else ''}, "
                f"{len(self.releases)} release instance{'s' if len(self.releases) != 1 else ''} affected: "
                + ", ".join(parts))

    def diff_text(self, release: ReleaseDiff) -> str:
        if release.error:
            return f"error: {release.error}\n"
        return render_unified(release.changes, context=self.context, old_label="base", new_label="head")


def render_report(report: PremergeDiff, fmt: str, *, max_chars: int = MARKDOWN_LIMIT) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report, max_chars=max_chars)
    if fmt == "github":
        notes = [github_annotation("error" if r.status == "error" else "notice",
                                   f"{r.key}: {r.error}" if r.error else r.title, title="helmkit diff")
                 for r in report.releases if r.status != "unchanged"]
        annotations = "\n".join([*notes, render_problems(report.errors, report.warnings, "github")]).strip("\n")
        return render_text(report, problems=False, groups=True) + ("\n" + annotations if annotations else "")
    return render_text(report)


def render_text(report: PremergeDiff, *, problems: bool = True, groups: bool = False) -> str:
    lines = [f"base {report.base} -> head {report.head}"]
    unchanged = 0
    for release in report.releases:
        if release.status == "unchanged":
            unchanged += 1
            continue
        lines.append("")
        title = f"{SYMBOLS[release.status]} {release.title}"
        body = report.diff_text(release)
        if groups:  # GitHub Actions: the diff folded under its title
            lines.append(github_group(title, body or "(no object changes)"))
            continue
        lines.append(title)
        if body:
            lines.append(body.rstrip("\n"))
    if unchanged:
        lines.append("")
        lines.append(f"= {unchanged} release instance{'s' if unchanged != 1 else ''} unchanged")
    lines.append("")
    lines.append(report.summary())
    listed = render_problems(report.errors, report.warnings, "text") if problems else ""
    if listed:
        lines.append(listed)
    return "\n".join(lines)


def render_json(report: PremergeDiff) -> str:
    data: dict[str, Any] = {
        "base": report.base,
        "head": report.head,
        "changedFiles": report.changed_files,
        "summary": report.counts(),
        "releases": [
            {
                "env": r.env, "cluster": r.cluster, "release": r.release, "status": r.status,
                "renamedFrom": r.renamed_from, "reasons": list(r.reasons), "objects": to_json(r.changes),
                "error": r.error,
            }
            for r in report.releases
        ],
        "errors": [problem_record(p, "error") for p in report.errors],
        "warnings": [problem_record(p, "warning") for p in report.warnings],
    }
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def render_markdown(report: PremergeDiff, *, max_chars: int = MARKDOWN_LIMIT) -> str:
    head = [f"### helmkit diff: `{_cell(report.base)}` → `{_cell(report.head)}`", "", report.summary(), ""]
    if report.errors:
        head.append(f"**{len(report.errors)} error{'s' if len(report.errors) != 1 else ''}:**")
        head.append("")
        head.extend(f"- {_cell(p.render().splitlines()[0])}" for p in report.errors[:20])
        head.append("")
    shown = [r for r in report.releases if r.status != "unchanged"]
    if shown:
        head += ["| Environment | Cluster | Release | Change | Objects |", "|---|---|---|---|---|"]
        for r in shown:
            change = r.status + (f" (from `{_cell(r.renamed_from)}`)" if r.renamed_from else "")
            objects = "" if r.status == "error" else render_summary(r.changes)
            head.append(f"| {_cell(r.env)} | {_cell(r.cluster)} | `{_cell(r.release)}` | {change} | {objects} |")
        head.append("")
    elif not report.errors:
        head += ["_No rendered object changes._", ""]
    text = "\n".join(head)
    if len(text) > max_chars:
        return text[: max_chars - 80].rsplit("\n", 1)[0] + "\n\n_… the table is cut: too many release instances._\n"
    budget = max_chars - len(text) - 200
    blocks: list[str] = []
    groups = _grouped(report, shown)
    for index, (full, members) in enumerate(groups):
        body = full
        summary = ", ".join(f"<code>{_html(m.key)}</code>" for m in members[:6])
        if len(members) > 6:
            summary += f" and {len(members) - 6} more"
        first = members[0]
        summary += f" {first.status}"
        if first.status != "error":
            summary += f" ({render_summary(first.changes)})"
        fence = "`" * max(3, _longest_backticks(body) + 1)
        opening = f"<details><summary>{summary}</summary>\n\n{fence}diff\n"
        closing = f"{fence}\n\n</details>\n"
        room = budget - len(opening) - len(closing)
        if room < 200:
            left = sum(len(m) for _, m in groups[index:])
            blocks.append(f"_… the diffs of {left} more release instances are not shown: the comment would "
                          "exceed GitHub's size limit; run `helmkit diff --git-base` locally._\n")
            break
        if len(body) > room:
            cut = body[:room].rsplit("\n", 1)[0] + "\n"
            dropped = body.count("\n") - cut.count("\n")
            body = cut + f"… cut: {dropped} more lines\n"
        block = opening + body + closing
        budget -= len(block)
        blocks.append(block)
    return text + ("\n" + "\n".join(blocks) if blocks else "")


def _grouped(report: PremergeDiff, shown: list[ReleaseDiff]) -> list[tuple[str, list[ReleaseDiff]]]:
    groups: dict[tuple[str, str, str], tuple[str, list[ReleaseDiff]]] = {}
    for release in shown:
        body = report.diff_text(release)
        key = (release.status, release.renamed_from or "", body)
        groups.setdefault(key, (body, []))[1].append(release)
    return list(groups.values())


def _longest_backticks(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace("\n", " ")
