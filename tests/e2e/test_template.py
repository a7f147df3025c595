"""`helmkit template` of the example fleet with real helm 3 and 4: golden output, cache, secrets.

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/e2e/test_template.py``.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helmkit.actions.template import MASKED_NOTE, TemplateOptions, template
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.output.console import Console

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
CANARY = "canary-Zq9-secret-value"
FLEET_PARTS = ("helmkit.yaml", "charts", "releases", "environments", "values", "schemas")
MAJORS = {"helm3": "helm-v3.19.0", "helm4": "helm-v4.1.4"}


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example fleet (so the render cache starts empty) and a private helm home."""
    root = tmp_path / "fleet"
    root.mkdir()
    for part in FLEET_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        elif source.is_file():
            shutil.copy(source, root / part)
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "helmhome" / key.lower()))
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY)
    monkeypatch.delenv("HELMKIT_HELM", raising=False)
    return root


def run_template(root: Path, folder: str, **options: object) -> tuple[int, str, str, Context]:
    ctx = Context(repo=root, helm_option=str(binary_path(REPO, folder)))
    out, err = io.StringIO(), io.StringIO()
    ctx.console = Console(masker=ctx.masker, out=out, err=err)
    code = template(ctx, TemplateOptions(env="prod", **options))  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue(), ctx


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HELMKIT_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; run with HELMKIT_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"output differs from {path}; refresh with HELMKIT_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("major", sorted(MAJORS))
def test_template_prod_matches_golden_and_warm_run_starts_no_helm(fleet: Path, major: str) -> None:
    code, out, err, ctx = run_template(fleet, MAJORS[major])
    assert code == 0, err
    assert CANARY not in out + err
    assert MASKED_NOTE in out  # the payments Secret, masked with a stable digest
    secrets = [doc for doc in yaml.safe_load_all(out) if doc and doc["kind"] == "Secret"]
    assert secrets and all(base64.b64decode(v, validate=True).startswith(b"<secret hmac:")
                           for doc in secrets for v in doc.get("data", {}).values())  # still valid base64
    assert ctx.runner.started["helm"] > 20
    check_golden(f"template-prod-{major}.yaml", out)

    code2, out2, _, ctx2 = run_template(fleet, MAJORS[major])
    assert (code2, out2) == (0, out)
    # only payments (a resolved secret: its manifest is never cached) renders again: once per distinct set
    # of values (3 for its 4 prod clusters)
    assert dict(ctx2.runner.started) == {"helm": 3}, ctx2.runner.started
    cached = b"".join(p.read_bytes() for p in (fleet / ".helmkit" / "cache").rglob("*") if p.is_file())
    assert CANARY.encode() not in cached and base64.b64encode(CANARY.encode()) not in cached


def test_selector_cluster_and_output_dir(fleet: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "rendered"
    code, out, err, _ = run_template(fleet, "helm-v4.1.4", cluster="prod-eu-west-1", selector="name=payments",
                                     output_dir=out_dir)
    assert code == 0, err
    assert out == ""
    files = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.yaml"))
    assert files == ["prod/prod-eu-west-1/payments.yaml"]
    text = (out_dir / files[0]).read_text()
    assert text.startswith("# Source: prod/prod-eu-west-1/payments\n")
    assert CANARY not in text and MASKED_NOTE in text


def test_output_dir_keeps_files_written_for_the_same_inputs(fleet: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "rendered"
    code, _, err, _ = run_template(fleet, "helm-v4.1.4", output_dir=out_dir)
    assert code == 0, err
    files = {p: (p.read_bytes(), p.stat().st_ino) for p in out_dir.rglob("*.yaml")}
    assert len(files) > 20
    assert any((fleet / ".helmkit" / "cache" / "schema-checks").rglob("*"))  # kept from the first run on

    code, _, err, ctx = run_template(fleet, "helm-v4.1.4", output_dir=out_dir)
    assert code == 0, err
    assert dict(ctx.runner.started) == {}  # not even the instances with resolved secrets render again
    assert {p: (p.read_bytes(), p.stat().st_ino) for p in out_dir.rglob("*.yaml")} == files  # not rewritten

    payments = out_dir / "prod" / "prod-eu-west-1" / "payments.yaml"
    edited = sorted(p for p in files if p.name != "payments.yaml")[0]
    edited.write_text("edited by hand\n")
    payments.unlink()
    code, _, err, ctx = run_template(fleet, "helm-v4.1.4", output_dir=out_dir)
    assert code == 0, err
    assert edited.read_bytes() == files[edited][0] and payments.read_bytes() == files[payments][0]
    assert all(p.stat().st_ino == files[p][1] for p in files if p not in (edited, payments))
    assert dict(ctx.runner.started) == {"helm": 1}  # payments on that cluster: its secret is never cached

    # A chart changed: the files of its releases are written again, with the new rendering
    (fleet / "charts" / "cluster-issuer" / "templates" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added-by-the-test\n")
    code, _, err, ctx = run_template(fleet, "helm-v4.1.4", output_dir=out_dir)
    assert code == 0, err
    issuers = {p for p in files if "added-by-the-test" in p.read_text()}
    assert issuers and all(p.stat().st_ino != files[p][1] for p in issuers)
    assert all(p.stat().st_ino == files[p][1] for p in files if p not in issuers | {edited, payments})

    # A new secret value changes its masks; every file is written again (the masking of all changed)
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY + "-rotated")
    code, _, err, ctx = run_template(fleet, "helm-v4.1.4", output_dir=out_dir)
    assert code == 0, err
    assert payments.read_bytes() != files[payments][0]
    assert CANARY not in payments.read_text()
    assert all(p.stat().st_ino != files[p][1] for p in files if p not in issuers)
    index = b"".join(p.read_bytes() for p in (fleet / ".helmkit" / "cache" / "template-outputs").iterdir())
    assert CANARY.encode() not in index and base64.b64encode(CANARY.encode()) not in index


def test_set_value_changes_the_rendering(fleet: Path) -> None:
    _, before, _, _ = run_template(fleet, "helm-v3.19.0", cluster="prod-us-east-1", selector="name=payments")
    code, after, err, ctx = run_template(fleet, "helm-v3.19.0", cluster="prod-us-east-1", selector="name=payments",
                                         set_values=("replicaCount=7",))
    assert code == 0, err
    assert "replicas: 7" in after and "replicas: 7" not in before
    assert ctx.runner.started["helm"] == 1


def test_cli_missing_secret_is_one_clear_error(fleet: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PAYMENTS_DB_PASSWORD"}
    proc = subprocess.run(
        [sys.executable, "-m", "helmkit", "--repo", str(fleet), "--helm", "4", "template", "--env", "prod",
         "-l", "name=payments"],
        capture_output=True, text=True, env=env | {"HELMKIT_TOOLS_DIR": str(REPO / ".helmkit" / "tools")},
        check=False, timeout=120,
    )
    assert proc.returncode == 1
    assert "PAYMENTS_DB_PASSWORD is not set" in proc.stderr and "releases/payments.yaml:" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize(("how", "source", "version"), [
    (["--helm", "3"], "--helm", "v3.19.0"),
    ([], "tools folder", "v4.1.4"),
])
def test_version_says_which_helm_from_where(tmp_path: Path, how: list[str], source: str, version: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HELMKIT_HELM"}
    env |= {"HELMKIT_TOOLS_DIR": str(REPO / ".helmkit" / "tools"), "HELM_CACHE_HOME": str(tmp_path / "c"),
            "HELM_CONFIG_HOME": str(tmp_path / "g"), "HELM_DATA_HOME": str(tmp_path / "d")}
    proc = subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(tmp_path), *how, "version"],
                          capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "helmkit 0.1.0"
    assert lines[1].startswith("helm: ") and lines[1].endswith(f"(from {source})")
    assert lines[2] == f"helm version: {version}"


def test_version_with_helm_from_environment(tmp_path: Path) -> None:
    env = os.environ | {"HELMKIT_HELM": str(binary_path(REPO, "helm-v3.19.0"))}
    proc = subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(tmp_path), "version"],
                          capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "(from HELMKIT_HELM)" in proc.stdout and "helm version: v3.19.0" in proc.stdout


FAKE_SLOW_HELM = """#!/bin/sh
# A helm that hangs in `template`: an interrupt mid-render cannot be timed reliably with the real one.
if [ "$1" = "version" ]; then echo v3.19.0; exit 0; fi
echo "$@" >> "{log}"
echo $$ >> "{pids}"
exec sleep 60
"""


def test_interrupt_stops_helm_and_leaves_no_values_file(fleet: Path, tmp_path: Path) -> None:
    import signal
    import time

    fake = tmp_path / "slow-helm"
    log, pids = tmp_path / "values.log", tmp_path / "pids.log"
    fake.write_text(FAKE_SLOW_HELM.format(log=log, pids=pids))
    fake.chmod(0o755)
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "helmkit", "--repo", str(fleet), "--helm", str(fake), "template", "--env", "prod",
         "--concurrency", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, TMPDIR=str(temp)),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(pids.read_text().split() if pids.exists() else []) < 2:
        time.sleep(0.05)
    assert pids.exists(), "helm was never started"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    for pid in pids.read_text().split():  # no orphan helm left running
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    calls = log.read_text().splitlines()
    assert calls and all(call.endswith("-f -") for call in calls if " template " in f" {call} ")  # values on stdin
    assert list(temp.iterdir()) == []
    assert CANARY not in stderr
