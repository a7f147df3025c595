"""The helm client: argv shapes for both majors, values on stdin, version check (real helm)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from helmkit.adapters.cache import ContentCache
from helmkit.adapters.helm import (
    VALUES_STDIN,
    HelmClient,
    KubeTarget,
    TemplateRequest,
    UpgradeRequest,
    parse_helm_version,
    values_yaml,
)
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path
from helmkit.errors import HelmkitError

REPO = Path(__file__).resolve().parents[3]
TARGET = KubeTarget("prod-eu", Path("/k/config"))


def client(tmp_path: Path, folder: str = "helm-v4.1.4", cache: bool = False) -> HelmClient:
    env = {k: str(tmp_path / k.lower()) for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME",
                                                  "KUBECACHEDIR")}
    return HelmClient(Runner(masker=Masker()), binary_path(REPO, folder), env,
                      version_cache=ContentCache(tmp_path / "vcache") if cache else None)


def upgrade(**over: object) -> UpgradeRequest:
    fields: dict[str, object] = {"release": "web", "chart": Path("/c/web"), "namespace": "web", "target": TARGET,
                                 "values_files": (Path("/t/v0.yaml"),), "timeout": "10m", "history_max": 5}
    fields.update(over)
    return UpgradeRequest(**fields)  # type: ignore[arg-type]


def test_upgrade_install_helm3_uses_atomic_and_plain_wait(tmp_path: Path) -> None:
    argv = client(tmp_path).upgrade_install_argv(upgrade(), 3)
    assert argv[1:] == ["upgrade", "--install", "web", "/c/web", "--namespace", "web",
                        "--kube-context", "prod-eu", "--kubeconfig", "/k/config", "--atomic", "--wait",
                        "--timeout", "10m", "--history-max", "5", "--create-namespace", "-f", "/t/v0.yaml"]


def test_upgrade_install_helm4_uses_rollback_on_failure_and_watcher(tmp_path: Path) -> None:
    argv = client(tmp_path).upgrade_install_argv(upgrade(), 4)
    assert "--rollback-on-failure" in argv and "--atomic" not in argv
    assert "--wait=watcher" in argv and "--wait" not in argv


def test_upgrade_install_without_atomic_wait_or_namespace_creation(tmp_path: Path) -> None:
    for major in (3, 4):
        argv = client(tmp_path).upgrade_install_argv(upgrade(atomic=False, wait=False, create_namespace=False), major)
        assert not {"--atomic", "--rollback-on-failure", "--wait", "--wait=watcher", "--create-namespace"} & set(argv)
        assert "--set" not in argv


def test_every_cluster_call_names_its_context(tmp_path: Path) -> None:
    helm = client(tmp_path)
    target = KubeTarget("staging")
    argvs = [
        helm.upgrade_install_argv(upgrade(target=target), 4),
        helm.uninstall_argv("web", "web", target),
        helm.rollback_argv("web", "web", target, 3),
        helm.get_manifest_argv("web", "web", target, 2),
        helm.status_argv("web", "web", target),
    ]
    for argv in argvs:
        assert argv[argv.index("--kube-context") + 1] == "staging"
        assert "--kubeconfig" not in argv


def test_uninstall_rollback_manifest_status_shapes(tmp_path: Path) -> None:
    helm = client(tmp_path)
    assert helm.uninstall_argv("web", "ns", TARGET, major=3)[1:] == [
        "uninstall", "web", "--namespace", "ns", "--kube-context", "prod-eu", "--kubeconfig", "/k/config",
        "--timeout", "5m", "--wait"]
    assert helm.uninstall_argv("web", "ns", TARGET, major=4)[-1] == "--wait=watcher"
    assert helm.rollback_argv("web", "ns", TARGET, 7, major=3)[1:4] == ["rollback", "web", "7"]
    assert helm.rollback_argv("web", "ns", TARGET, None, major=4)[1:3] == ["rollback", "web"]
    assert helm.get_manifest_argv("web", "ns", TARGET, 2)[-2:] == ["--revision", "2"]
    assert helm.status_argv("web", "ns", TARGET)[-2:] == ["--output", "json"]


def test_template_argv(tmp_path: Path) -> None:
    req = TemplateRequest("web", Path("/c/web"), "web", "1.34.0", (Path("/t/a.yaml"), Path("/t/b.yaml")),
                          api_versions=("monitoring.coreos.com/v1",))
    assert client(tmp_path).template_argv(req)[1:] == [
        "template", "web", "/c/web", "--namespace", "web", "--kube-version", "1.34.0", "--include-crds",
        "--api-versions", "monitoring.coreos.com/v1", "-f", "/t/a.yaml", "-f", "/t/b.yaml"]
    looked_up = replace(req, include_crds=False, is_upgrade=True, server=TARGET)  # lookup answered by the cluster
    assert client(tmp_path).template_argv(looked_up)[1:] == [
        "template", "web", "/c/web", "--namespace", "web", "--kube-version", "1.34.0", "--is-upgrade",
        "--api-versions", "monitoring.coreos.com/v1", "-f", "/t/a.yaml", "-f", "/t/b.yaml",
        "--dry-run=server", "--kube-context", "prod-eu", "--kubeconfig", "/k/config"]


@pytest.mark.parametrize("folder", ["helm-v3.19.0", "helm-v4.1.4"])
def test_real_helm_reads_the_values_from_stdin_and_nothing_is_written(tmp_path: Path, folder: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text("v: {{ .Values.db.password | quote }}\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    helm = client(tmp_path, folder)
    req = TemplateRequest("r", chart, "ns", values_files=(VALUES_STDIN,))
    assert helm.template_argv(req)[-2:] == ["-f", "-"]
    out = helm.template(req, values=values_yaml({"db": {"password": "hunter22-stdin"}}))
    assert 'v: "hunter22-stdin"' in out
    assert list(temp.iterdir()) == []


def test_parse_helm_version() -> None:
    assert parse_helm_version("v3.19.0").major == 3
    assert str(parse_helm_version("v4.1.4+g05fa379")) == "v4.1.4+g05fa379"
    with pytest.raises(HelmkitError):
        parse_helm_version("garbage")


@pytest.mark.parametrize(("folder", "major"), [("helm-v3.19.0", 3), ("helm-v4.1.4", 4)])
def test_version_of_real_binaries_and_range_check(tmp_path: Path, folder: str, major: int) -> None:
    helm = client(tmp_path, folder)
    assert helm.version().major == major
    assert helm.check_version(">=3.19.0 <5.0.0").major == major
    with pytest.raises(HelmkitError, match="does not satisfy"):
        helm.check_version(">=5.0.0")
    assert helm.runner.started["helm"] == 1  # asked once per client


def test_version_is_cached_per_binary(tmp_path: Path) -> None:
    first = client(tmp_path, cache=True)
    first.version()
    second = client(tmp_path, cache=True)
    assert second.version() == first.version()
    assert first.runner.started["helm"] == 1 and second.runner.started["helm"] == 0


def test_template_error_masks_secrets_in_stderr(tmp_path: Path) -> None:
    helm = client(tmp_path)
    helm.runner.masker.add("s3cr3t-value")
    chart = tmp_path / "s3cr3t-value"
    with pytest.raises(HelmkitError) as info:
        helm.template(TemplateRequest("web", chart, "web"))
    text = info.value.render() + " ".join(getattr(info.value, "argv", []))
    assert "s3cr3t-value" not in text and "***" in text
    assert os.environ.get("HELM_DATA_HOME") != helm.env["HELM_DATA_HOME"]
