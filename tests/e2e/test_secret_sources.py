"""Secrets from a sops-encrypted values file and AWS Secrets Manager, end to end on the sandbox.

- ``validate`` needs no decryption key and no AWS access: each encrypted leaf is a reference
  whose placeholder keeps the type sops recorded (an integer stays an integer for the chart's
  schema).
- Without the key (or without the AWS secret), the release that needs it is blocked with one
  error naming the file:line and the fix; the other releases of the run go on (``template``;
  ``sync`` applies nothing while any release fails to render, as for every render error).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helmkit.actions.sync import SyncOptions, sync
from helmkit.actions.template import TemplateOptions, template
from helmkit.actions.validate import ValidateOptions, run_validate
from tests.e2e import test_sync_support as support
from tests.e2e.test_sync_support import Fleet
from tests.support.secretservers import AgeKey, MotoServer, age_key, served, sops_binary, sops_encrypt

pytestmark = pytest.mark.e2e
stage = support.stage  # fixture

SECRET = "s0ps-secret-7f3a"
SCHEMA = {"type": "object", "properties": {"flushSeconds": {"type": "integer", "minimum": 1}}}
SOPS_FILE = "secrets/stage/log-shipper.sops.yaml"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from served(MotoServer)


def with_sops_values(fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgeKey:
    """log-shipper's flushSeconds (an integer) and token come from a sops file; the chart's schema wants an integer."""
    monkeypatch.setenv("HELMKIT_SOPS", str(sops_binary()))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/sops/age/keys.txt of the machine
    key = age_key()
    sops_encrypt(yaml.safe_dump({"flushSeconds": 7, "token": SECRET}), key.recipient, fleet.root / SOPS_FILE)
    chart = fleet.root / "charts" / "log-shipper"
    (chart / "values.schema.json").write_text(json.dumps(SCHEMA))
    (chart / "templates" / "token.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: token}\ndata:\n  token: {{ .Values.token | quote }}\n"
        "  flushIsInt: {{ kindIs \"float64\" .Values.flushSeconds | ternary \"int\" \"other\" | quote }}\n")
    env_file = fleet.root / "environments" / "stage.yaml"
    doc = yaml.safe_load(env_file.read_text())
    doc["releases"]["log-shipper"]["valuesFiles"] = [SOPS_FILE]
    doc["releases"]["log-shipper"].get("values", {}).pop("flushSeconds", None)
    env_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    return key


def test_validate_needs_no_key_and_a_missing_key_blocks_only_that_release(
        stage: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = with_sops_values(stage, tmp_path, monkeypatch)
    checked = stage.run(run_validate, ValidateOptions(["stage"]))
    assert checked.code == 0, checked.out + checked.err
    assert not any(argv[0].endswith("sops") for argv in stage.argvs)  # nothing was decrypted

    blocked = stage.run(template, TemplateOptions(env="stage", cluster="c1"))
    assert blocked.code == 1
    assert f"stage/c1/log-shipper: {SOPS_FILE}:1:1: secret in {SOPS_FILE}: sops could not decrypt the file: " \
           "no age key found" in blocked.err, blocked.err
    assert "hint: set SOPS_AGE_KEY_FILE" in blocked.err
    assert blocked.err.count("no age key found") == 1 and "Traceback" not in blocked.err
    assert "# Source: stage/c1/cert-manager" in blocked.out  # only that release is blocked
    assert "# Source: stage/c1/log-shipper" not in blocked.out

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.write(tmp_path / "key.txt")))
    done = stage.run(template, TemplateOptions(env="stage", cluster="c1", selector="name=log-shipper"))
    assert done.code == 0, done.err
    assert 'flushIsInt: "int"' in done.out and "Flush         7" in done.out  # the integer went in as one
    assert SECRET not in done.out and "token: " in done.out
    assert all(SECRET.encode() not in p.read_bytes() for p in (stage.root / ".helmkit").rglob("*") if p.is_file())


def test_a_missing_aws_secret_blocks_only_its_release_naming_the_ref_and_line(
        stage: Fleet, moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    moto.reset()
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    env_file = stage.root / "environments" / "stage.yaml"
    doc = yaml.safe_load(env_file.read_text())
    doc["releases"]["log-shipper"].setdefault("values", {})["token"] = "ref+awssecrets://stage/absent#token"
    env_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    line = next(i for i, text in enumerate(env_file.read_text().splitlines(), 1) if "ref+awssecrets" in text)

    blocked = stage.run(template, TemplateOptions(env="stage", cluster="c1"))
    assert blocked.code == 1
    assert f"stage/c1/log-shipper: environments/stage.yaml:{line}:" in blocked.err, blocked.err
    assert "secret ref+awssecrets://stage/absent#token: no such secret" in blocked.err
    assert "Traceback" not in blocked.err and "# Source: stage/c1/cert-manager" in blocked.out

    moto.client().create_secret(Name="stage/absent", SecretString=json.dumps({"token": SECRET}))
    done = stage.run(sync, SyncOptions(env="stage", cluster="c1", yes=True))
    assert done.code == 0, done.out + done.err
    assert SECRET not in done.out + done.err
