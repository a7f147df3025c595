"""The canary sweep: a secret with quotes, backslashes, a newline, ``%`` and non-ASCII never shows, in any form.

The secret comes from each source at once, each with its own canary: an environment variable
(``ref+env://``), a sops-encrypted values file (the real sops binary, an age key) and AWS
Secrets Manager (``ref+awssecrets://``, a real ``moto_server``) and Vault KV (``ref+vault://``, a real
OpenBao dev server).

Every command (validate, template, diff in each format, sync, status, drift with each report)
runs with the secret; a chart template prints it through ``toJson``, Go's ``%q``, ``b64enc`` and
a ``fail`` message. Then stdout, stderr, every report, every file under ``.helmkit/``, the temp
folder and the argv of every process helmkit started are searched for every encoding of it
(:func:`helmkit.adapters.secretforms.secret_forms`: raw, base64, JSON, Go-quoted, YAML-quoted,
URL-encoded, and the quoted forms of those).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
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
from tests.support.secretservers import BaoServer, MotoServer, age_key, served, sops_binary, sops_encrypt

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture

CANARIES = {
    "issue": 'CANARY"q\\x-9',
    "every-char": "CANARY-\"q\\x'9%41-é-非\nCANARY-second-line",
}
# each source's canary has its own prefix, so masking one never hides another
SOURCES = {"env": "CANARY", "sops": "SOPSCANARY", "aws": "AWSCANARY", "vault": "VAULTCANARY"}
CANARY_TEMPLATE = """{{- $v := .Values }}
{{- $all := list $v.password $v.fromSops.password $v.aws.password $v.vault.password }}
apiVersion: v1
kind: Secret
metadata: {name: canary-secret}
data:
{{- range $i, $p := $all }}
  password{{ $i }}: {{ $p | b64enc }}
{{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: canary-config}
data:
{{- range $i, $p := $all }}
  config{{ $i }}.json: {{ dict "password" $p | toJson | quote }}
  quoted{{ $i }}: {{ printf "%q" $p | quote }}
{{- end }}
{{- if .Values.failJson }}
{{- fail (printf "json=%s" ($all | toJson)) }}
{{- end }}
{{- if and .Values.failOnUpgrade (lookup "v1" "ConfigMap" .Release.Namespace "canary-config") }}
{{- fail (printf "q=%q json=%s b64=%s" $all ($all | toJson) (join "," $all | b64enc)) }}
{{- end }}
"""
ONE = {"env": "stage", "cluster": "c1", "selector": "name=log-shipper"}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from served(MotoServer)


@pytest.fixture(scope="module")
def bao() -> Iterator[BaoServer]:
    yield from served(BaoServer)


def with_canary_chart(fleet: Fleet, secrets: dict[str, str], servers: tuple[MotoServer, BaoServer], tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """log-shipper's password from the environment, its fromSops.password from a sops file, aws.password from AWS."""
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", secrets["env"])
    key = age_key()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.write(tmp_path / "age-key.txt")))
    monkeypatch.setenv("HELMKIT_SOPS", str(sops_binary()))
    sops_encrypt(yaml.safe_dump({"fromSops": {"password": secrets["sops"]}}), key.recipient,
                 fleet.root / "secrets" / "stage" / "log-shipper.sops.yaml")
    moto, bao = servers
    moto.reset()
    moto.client().create_secret(Name="stage/log-shipper", SecretString=json.dumps({"password": secrets["aws"]}))
    bao.put("stage/log-shipper", {"password": secrets["vault"]})
    for name, value in {**moto.env(), **bao.env()}.items():
        monkeypatch.setenv(name, value)
    env_file = fleet.root / "environments" / "stage.yaml"
    doc = yaml.safe_load(env_file.read_text())
    release = doc["releases"]["log-shipper"]
    release.setdefault("values", {})["password"] = "ref+env://PAYMENTS_DB_PASSWORD"
    release["values"]["aws"] = {"password": "ref+awssecrets://stage/log-shipper#password"}
    release["values"]["vault"] = {"password": "ref+vault://secret/stage/log-shipper#password"}
    release["valuesFiles"] = ["secrets/stage/log-shipper.sops.yaml"]
    env_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    (fleet.root / "charts" / "log-shipper" / "templates" / "canary.yaml").write_text(CANARY_TEMPLATE)


@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_no_command_shows_the_secret_in_any_form(  # noqa: PLR0917 - fixtures
        stage: Fleet, canary: str, tmp_path: Path, moto: MotoServer, bao: BaoServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {source: CANARIES[canary].replace("CANARY", prefix) for source, prefix in SOURCES.items()}
    with_canary_chart(stage, secrets, (moto, bao), tmp_path, monkeypatch)
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
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
    got = stage.helm("get", "values", "log-shipper", "-n", "logging", "-o", "json", context="c1")
    deployed = json.loads(got.stdout)
    assert [deployed["password"], deployed["fromSops"]["password"], deployed["aws"]["password"],
            deployed["vault"]["password"]] == list(secrets.values())  # each source's value reached helm
    run("sync failing", sync, SyncOptions(**ONE, yes=True, set_values=("failOnUpgrade=true",)), code=1)
    assert "q=" in texts["sync failing stdout"] + texts["sync failing stderr"]
    run("diff json failing", diff, DiffOptions(**ONE, fmt="json", set_values=("failJson=true",)))
    assert "json=" in texts["diff json failing stdout"]
    for fmt in ("text", "json"):
        run(f"status {fmt}", status, StatusOptions(env="stage", fmt=fmt))
    targets = tuple(ReportTarget(fmt, reports / f"drift.{fmt}") for fmt in ("json", "html", "junit", "markdown"))
    run("drift", drift, DriftOptions(envs=("stage",), reports=(*targets, ReportTarget("table"))))

    forms = [form for secret in secrets.values() for form in secret_forms(secret)]
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
    sops_runs = [argv for argv in stage.argvs if argv[0].endswith("sops")]
    assert sops_runs and all(argv[1:2] == ["--decrypt"] for argv in sops_runs)  # the sops file was decrypted
