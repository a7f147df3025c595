"""One table style for status, list, drift and the sync summary; drift's summary column is whole when
piped and fits the terminal's width on one."""

from __future__ import annotations

import re

from helmkit.actions.status import StatusRow, render_status_table
from helmkit.output.drift_table import render_table as render_drift_table
from helmkit.output.release_table import ReleaseRow, render_release_table
from helmkit.output.table import render_table
from helmkit.plan.drift import ClusterScan, DriftReport, Finding
from helmkit.plan.summary import ClusterCounts, ListedRelease, Summary

LONG = "apps/v1/Deployment web/web changed at spec.template.spec.containers[0].env[3].value: " + "x" * 150


def tables() -> dict[str, str]:
    status = render_status_table([StatusRow("prod-1", "web", "web", "web-1.0.0", 12, "deployed", "2026-11-26 14:03",
                                            "in-sync")])
    listing = render_release_table([ReleaseRow("prod-1", 0, "web", "web", "charts/web", "1.0.0", True)], "text")
    drift = render_drift_table(DriftReport(["prod"], [ClusterScan("prod", "prod-1", True)],
                                           [Finding("live-drift", "prod", "prod-1", "web", "web", LONG)]))
    summary = Summary([ClusterCounts("prod-1", deployed=2)],
                      failed=[ListedRelease("prod", "prod-1", "api", "upgrade", "helm upgrade failed")]).render_text()
    return {"status": status, "list": listing, "drift": drift, "summary": summary}


def test_every_table_has_uppercase_headers_no_rules_and_no_trailing_blanks():
    for name, text in tables().items():
        lines = text.splitlines()
        headers = [line for line in lines if line.startswith("CLUSTER") or line.startswith("ENV ")]
        assert headers, f"{name}: no header row\n{text}"
        for header in headers:
            assert header == header.upper(), f"{name}: {header!r}"
        assert not any(re.fullmatch(r"[- ]{3,}", line) for line in lines), f"{name} has a rule line\n{text}"
        assert not any(line != line.rstrip() for line in lines), f"{name} has trailing blanks"


def test_numbers_align_left_like_text():
    status = tables()["status"].splitlines()
    assert status[0].index("REVISION") == status[1].index("12")


def test_drift_summary_is_whole_when_piped_and_fits_a_terminal():
    report = DriftReport(["prod"], [ClusterScan("prod", "prod-1", True)],
                         [Finding("live-drift", "prod", "prod-1", "web", "web", LONG)])
    assert LONG in render_drift_table(report)
    narrow = render_drift_table(report, width=100).splitlines()
    row = next(line for line in narrow if line.startswith("prod "))
    assert len(row) == 100 and row.endswith("…")


def test_a_narrow_terminal_still_shows_some_of_the_last_column():
    text = render_table(["a", "b"], [["x" * 90, "y" * 50]], width=40)
    assert text.splitlines()[1].endswith("y" * 19 + "…")
