"""The canary sweep: a secret with quotes, backslashes, a newline, ``%`` and non-ASCII never shows, in any form.

Every command (validate, template, diff in each format, sync, status, drift with each report)
runs with the secret; a chart template prints it through ``toJson``, Go's ``%q``, ``b64enc`` and
a ``fail`` message. Then stdout, stderr, every report, every file under ``.helmkit/``, the temp
folder and the argv of every process helmkit started are searched for every encoding of it
(:func:`helmkit.adapters.secretforms.secret_forms`: raw, base64, JSON, Go-quoted, YAML-quoted,
URL-encoded, and the quoted forms of those).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.drift import DriftOptions, ReportTarget, drift
from helmkit.actions.status import StatusOptions, status
from helmkit.actions.sync import SyncOptions, sync
from helmkit.actions.template import TemplateOptions, template
from helmkit.actions.validate import ValidateOptions, run_validate
from helmkit.adapters.secretforms import secret_forms
from helmkit.context import Context
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import Fleet

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture

CANARIES = {
    "issue": 'CANARY"q\\x-9',
    "every-char": "CANARY-\"q\\x'9%41-é-非\nCANARY-second-line",
}
CANARY_TEMPLATE = """apiVersion: v1
kind: Secret
metadata: {name: canary-secret}
data:
  password: {{ .Values.password | b64enc }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: canary-config}
data:
  config.json: {{ dict "password" .Values.password | toJson | quote }}
  quoted: {{ printf "%q" .Values.password | quote }}
{{- if .Values.failJson }}
{{- fail (printf "json=%s" (.Values.password | toJson)) }}
{{- end }}
{{- if and .Values.failOnUpgrade (lookup "v1" "ConfigMap" .Release.Namespace "canary-config") }}
{{- fail (printf "q=%q json=%s b64=%s" .Values.password (.Values.password | toJson) (.Values.password | b64enc)) }}
{{- end }}
"""
ONE = {"env": "stage", "cluster": "c1", "selector": "name=log-shipper"}


def with_canary_chart(fleet: Fleet) -> None:
    env_file = fleet.root / "environments" / "stage.yaml"
    doc = yaml.safe_load(env_file.read_text())
    doc["releases"]["log-shipper"].setdefault("values", {})["password"] = "ref+env://PAYMENTS_DB_PASSWORD"
    env_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    (fleet.root / "charts" / "log-shipper" / "templates" / "canary.yaml").write_text(CANARY_TEMPLATE)


@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_no_command_shows_the_secret_in_any_form(stage: Fleet, canary: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    secret = CANARIES[canary]
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", secret)
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with_canary_chart(stage)
    reports = tmp_path / "reports"
    reports.mkdir()
    texts: dict[str, str] = {}

    def run(name: str, action: Callable[[Context, Any], int], options: Any, *, code: int | None = None) -> None:
        outcome = stage.run(action, options)
        texts[f"{name} stdout"], texts[f"{name} stderr"] = outcome.out, outcome.err
        if code is not None:
            assert outcome.code == code, (name, outcome.out, outcome.err)

    run("validate", run_validate, ValidateOptions(["stage"]), code=0)
    run("template", template, TemplateOptions(**ONE), code=0)
    assert "canary-secret" in texts["template stdout"]  # the Secret was rendered, masked
    run("template failing", template, TemplateOptions(**ONE, set_values=("failJson=true",)), code=1)
    assert "json=" in texts["template failing stderr"]  # helm's error is shown, its secret masked
    for fmt in ("text", "json", "markdown"):
        run(f"diff {fmt}", diff, DiffOptions(**ONE, fmt=fmt))
    run("sync", sync, SyncOptions(**ONE, yes=True), code=0)
    run("sync failing", sync, SyncOptions(**ONE, yes=True, set_values=("failOnUpgrade=true",)), code=1)
    assert "q=" in texts["sync failing stdout"] + texts["sync failing stderr"]
    run("diff json failing", diff, DiffOptions(**ONE, fmt="json", set_values=("failJson=true",)))
    assert "json=" in texts["diff json failing stdout"]
    for fmt in ("text", "json"):
        run(f"status {fmt}", status, StatusOptions(env="stage", fmt=fmt))
    targets = tuple(ReportTarget(fmt, reports / f"drift.{fmt}") for fmt in ("json", "html", "junit", "markdown"))
    run("drift", drift, DriftOptions(envs=("stage",), reports=(*targets, ReportTarget("table"))))

    forms = secret_forms(secret)
    leaks = {name: [f for f in forms if f in text] for name, text in texts.items()}
    files = [p for root in (reports, stage.root / ".helmkit", temp) for p in root.rglob("*") if p.is_file()]
    assert any("render" in p.parts for p in files), files  # the cache was written (without the secret)
    for path in files:
        data = path.read_bytes().decode("utf-8", errors="replace")
        leaks[str(path)] = [f for f in forms if f in data]
    assert stage.argvs, "no process was recorded"
    for argv in stage.argvs:
        leaks[" ".join(argv)[:120]] = [f for f in forms if any(f in arg for arg in argv)]
    assert {where: found for where, found in leaks.items() if found} == {}
    assert list(temp.iterdir()) == []  # nothing left in the temp folder either
