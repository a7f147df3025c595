"""The HTML drift report in a real browser: a screenshot of a report with a line diff shows its
added lines green and removed lines red (pixels sampled), alike findings grouped."""

from __future__ import annotations

from pathlib import Path

from helmkit.output.drift_html import render_html
from helmkit.plan.drift import ClusterScan, DriftReport, Finding
from tests.e2e.test_drift import check_html_in_chromium


def test_diff_colours_render_in_chromium(tmp_path: Path) -> None:
    diff = '~ v1/ConfigMap web/web\n    ~ data["app.conf"]: (text)\n      @@ -1,2 +1,2 @@\n       [server]\n' \
           "      -port = 80\n      +port = 8080\n"
    clusters = [ClusterScan("prod", f"c{n}", True, 1, 1, release_names=("web",)) for n in range(1, 5)]
    findings = [Finding("live-drift", "prod", f"c{n}", "web", "web", "v1/ConfigMap web/web changed at data",
                        subject="v1/ConfigMap web/web", diff=diff) for n in range(1, 5)]
    page = tmp_path / "drift.html"
    page.write_text(render_html(DriftReport(["prod"], clusters, findings, [], "2026-11-26T02:00:00Z")))
    text = page.read_text()
    assert 'class="add"' in text and 'class="del"' in text and "same on 4 clusters" in text
    check_html_in_chromium(page, tmp_path)  # samples the add, del and chg colours in the screenshot
