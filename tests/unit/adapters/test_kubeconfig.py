"""Kubeconfig loading: file selection and merge, credentials, exec plugins, errors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.kubeconfig import load_cluster_config
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.errors import ClusterError, InputError

TOKEN = "canary-token-9f8e7d6c"


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def kubeconfig(clusters: list[dict[str, Any]], users: list[dict[str, Any]],
               contexts: list[dict[str, Any]], current: str = "") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "clusters": clusters, "users": users,
            "contexts": contexts, "current-context": current}


def simple(name: str, server: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
    return kubeconfig(
        [{"name": name, "cluster": {"server": server}}],
        [{"name": name, "user": user or {"token": TOKEN}}],
        [{"name": name, "context": {"cluster": name, "user": name, "namespace": "team"}}],
        current=name,
    )


@pytest.fixture
def runner() -> Runner:
    return Runner(masker=Masker())


def test_explicit_file_wins_over_env(tmp_path: Path, runner: Runner) -> None:
    a = write(tmp_path / "a.yaml", simple("c", "https://a.example:6443"))
    b = write(tmp_path / "b.yaml", simple("c", "https://b.example:6443"))
    env = {"KUBECONFIG": str(b), "HOME": str(tmp_path)}
    config = load_cluster_config("c", runner, kubeconfig=a, env=env)
    assert config.server == "https://a.example:6443"
    assert config.namespace == "team"
    assert config.static.token == TOKEN


def test_kubeconfig_env_merges_first_wins(tmp_path: Path, runner: Runner) -> None:
    a = write(tmp_path / "a.yaml", simple("shared", "https://first:6443"))
    b_doc = simple("shared", "https://second:6443")
    b_doc["contexts"].append({"name": "only-b", "context": {"cluster": "shared", "user": "shared"}})
    b = write(tmp_path / "b.yaml", b_doc)
    env = {"KUBECONFIG": f"{a}:{tmp_path / 'missing.yaml'}:{b}"}
    assert load_cluster_config("shared", runner, env=env).server == "https://first:6443"
    # a context from the second file resolves its cluster from the first (first definition wins)
    only_b = load_cluster_config("only-b", runner, env=env)
    assert only_b.server == "https://first:6443"
    assert only_b.kubeconfig == str(b)


def test_home_default(tmp_path: Path, runner: Runner) -> None:
    write(tmp_path / ".kube" / "config", simple("home", "https://home:6443/"))
    config = load_cluster_config("home", runner, env={"HOME": str(tmp_path)})
    assert config.server == "https://home:6443"


def test_current_context_is_not_used_nor_changed(tmp_path: Path, runner: Runner) -> None:
    doc = simple("one", "https://one:6443")
    doc["contexts"].append({"name": "two", "context": {"cluster": "one", "user": "one"}})
    path = write(tmp_path / "k.yaml", doc)
    before = path.read_bytes()
    config = load_cluster_config("two", runner, kubeconfig=path)
    assert config.context == "two"
    assert config.namespace is None
    assert path.read_bytes() == before
    with pytest.raises(InputError, match="no kube context"):
        load_cluster_config("", runner, kubeconfig=path)


def test_unknown_context_names_file_and_known_contexts(tmp_path: Path, runner: Runner) -> None:
    path = write(tmp_path / "k.yaml", simple("real", "https://x:1"))
    with pytest.raises(ClusterError) as info:
        load_cluster_config("nope", runner, kubeconfig=path)
    assert str(path) in info.value.render()
    assert "real" in info.value.render()


def test_certificates_from_files_and_data(tmp_path: Path, runner: Runner) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(b"CA-PEM")
    (tmp_path / "pki" / "client.key").write_bytes(b"KEY-PEM")
    doc = kubeconfig(
        [{"name": "c", "cluster": {"server": "https://c:6443", "certificate-authority": "pki/ca.crt",
                                   "tls-server-name": "kubernetes"}}],
        [{"name": "u", "user": {"client-certificate-data": base64.b64encode(b"CERT-PEM").decode(),
                                "client-key": "pki/client.key"}}],
        [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
    )
    config = load_cluster_config("ctx", runner, kubeconfig=write(tmp_path / "k.yaml", doc))
    assert config.ca_pem == b"CA-PEM"  # relative to the kubeconfig's folder
    assert config.tls_server_name == "kubernetes"
    creds = config.credentials()
    assert (creds.client_cert_pem, creds.client_key_pem, creds.token) == (b"CERT-PEM", b"KEY-PEM", None)


def test_token_file_basic_auth_and_masking(tmp_path: Path, runner: Runner) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    doc = simple("c", "https://c:1", {"tokenFile": "token"})
    config = load_cluster_config("c", runner, kubeconfig=write(tmp_path / "k.yaml", doc))
    assert config.static.token == TOKEN
    assert runner.masker.mask(f"Bearer {TOKEN}") == "Bearer ***"
    doc = simple("c", "https://c:1", {"username": "admin", "password": "s3cret-pw"})
    config = load_cluster_config("c", runner, kubeconfig=write(tmp_path / "k2.yaml", doc))
    assert (config.static.username, config.static.password) == ("admin", "s3cret-pw")
    assert "s3cret-pw" in runner.masker


@pytest.mark.parametrize(("doc", "message"), [
    ({"clusters": "x"}, "clusters must be a list"),
    ({"contexts": [{"context": {}}]}, "has no name"),
])
def test_invalid_structure_names_file(tmp_path: Path, runner: Runner, doc: dict[str, Any], message: str) -> None:
    path = write(tmp_path / "k.yaml", doc)
    with pytest.raises(InputError, match=message) as info:
        load_cluster_config("c", runner, kubeconfig=path)
    assert str(path) in info.value.render()


def test_invalid_yaml_has_line(tmp_path: Path, runner: Runner) -> None:
    path = tmp_path / "k.yaml"
    path.write_text("clusters:\n  - name: a\n    cluster: [unclosed\n")
    with pytest.raises(InputError) as info:
        load_cluster_config("c", runner, kubeconfig=path)
    assert f"{path}:" in info.value.render()


def test_missing_explicit_file(tmp_path: Path, runner: Runner) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_cluster_config("c", runner, kubeconfig=tmp_path / "nope")
    with pytest.raises(ClusterError, match="no kubeconfig found"):
        load_cluster_config("c", runner, env={"KUBECONFIG": str(tmp_path / "nope")})


def test_dangling_references(tmp_path: Path, runner: Runner) -> None:
    doc = simple("c", "https://c:1")
    doc["contexts"][0]["context"]["user"] = "ghost"
    with pytest.raises(ClusterError, match="user 'ghost' is not defined"):
        load_cluster_config("c", runner, kubeconfig=write(tmp_path / "k.yaml", doc))
    doc["contexts"][0]["context"]["cluster"] = "ghost-cluster"
    with pytest.raises(ClusterError, match="cluster 'ghost-cluster' is not defined"):
        load_cluster_config("c", runner, kubeconfig=write(tmp_path / "k.yaml", doc))


def plugin_script(tmp_path: Path, status: dict[str, Any] | str, api: str = "client.authentication.k8s.io/v1",
                  exit_code: int = 0) -> Path:
    """A real exec plugin: records each run and KUBERNETES_EXEC_INFO, prints an ExecCredential."""
    body = status if isinstance(status, str) else json.dumps(
        {"apiVersion": api, "kind": "ExecCredential", "status": status})
    script = tmp_path / "bin" / "plugin"
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"with open({str(tmp_path / 'runs.log')!r}, 'a') as f:\n"
        "    f.write(os.environ.get('KUBERNETES_EXEC_INFO', '') + '\\t' + os.environ.get('PLUGIN_FLAVOUR', '')"
        " + '\\t' + ' '.join(sys.argv[1:]) + '\\n')\n"
        f"sys.stdout.write({body!r})\n"
        "sys.stderr.write('plugin stderr line\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def exec_config(tmp_path: Path, script: Path, api: str = "client.authentication.k8s.io/v1",
                provide: bool = True) -> Path:
    user = {"exec": {"apiVersion": api, "command": "./bin/plugin", "args": ["--cluster", "c1"],
                     "env": [{"name": "PLUGIN_FLAVOUR", "value": "blue"}], "provideClusterInfo": provide,
                     "interactiveMode": "Never"}}
    doc = simple("c", "https://c1.example:6443", user)
    return write(tmp_path / "k.yaml", doc)


def runs(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "runs.log"
    return [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("api", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_token_cached_until_expiry(tmp_path: Path, runner: Runner, api: str) -> None:
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    script = plugin_script(tmp_path, {"token": TOKEN, "expirationTimestamp": expires}, api)
    config = load_cluster_config("c", runner, kubeconfig=exec_config(tmp_path, script, api))
    assert runs(tmp_path) == []  # nothing runs before a credential is needed
    assert config.credentials().token == TOKEN
    assert config.credentials().token == TOKEN
    recorded = runs(tmp_path)
    assert len(recorded) == 1
    info = json.loads(recorded[0][0])
    assert info["apiVersion"] == api and info["kind"] == "ExecCredential"
    assert info["spec"]["cluster"]["server"] == "https://c1.example:6443"
    assert recorded[0][1:] == ["blue", "--cluster c1"]
    assert runner.masker.mask(TOKEN) == "***"
    assert config.exec_plugin is not None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert config.exec_plugin.credentials(now=later).token == TOKEN
    assert len(runs(tmp_path)) == 2  # expired: ran again


def test_exec_plugin_without_expiry_runs_once_and_invalidate(tmp_path: Path, runner: Runner) -> None:
    script = plugin_script(tmp_path, {"clientCertificateData": "CERT", "clientKeyData": "KEY"})
    config = load_cluster_config("c", runner, kubeconfig=exec_config(tmp_path, script, provide=False))
    creds = config.credentials()
    assert (creds.client_cert_pem, creds.client_key_pem) == (b"CERT", b"KEY")
    config.credentials()
    assert len(runs(tmp_path)) == 1
    assert "cluster" not in json.loads(runs(tmp_path)[0][0])["spec"]
    assert config.exec_plugin is not None
    config.exec_plugin.invalidate()
    config.credentials()
    assert len(runs(tmp_path)) == 2


@pytest.mark.parametrize(("status", "exit_code", "message"), [
    ({"token": TOKEN}, 3, "failed"),
    ("not json", 0, "did not print an ExecCredential"),
    ({}, 0, "neither a token"),
    ({"token": TOKEN, "expirationTimestamp": "tomorrow"}, 0, "invalid expirationTimestamp"),
])
def test_exec_plugin_errors_name_context_without_token(
    tmp_path: Path, runner: Runner, status: dict[str, Any] | str, exit_code: int, message: str
) -> None:
    script = plugin_script(tmp_path, status, exit_code=exit_code)
    path = exec_config(tmp_path, script)
    config = load_cluster_config("c", runner, kubeconfig=path)
    with pytest.raises(ClusterError, match=message) as info:
        config.credentials()
    rendered = info.value.render()
    assert "context 'c'" in rendered and str(path) in rendered
    assert TOKEN not in rendered


def test_exec_plugin_api_version_mismatch(tmp_path: Path, runner: Runner) -> None:
    script = plugin_script(tmp_path, {"token": TOKEN}, api="client.authentication.k8s.io/v1beta1")
    config = load_cluster_config("c", runner, kubeconfig=exec_config(tmp_path, script))
    with pytest.raises(ClusterError, match=r"expected 'client\.authentication\.k8s\.io/v1'"):
        config.credentials()


def test_exec_plugin_unsupported_api(tmp_path: Path, runner: Runner) -> None:
    script = plugin_script(tmp_path, {"token": TOKEN})
    path = exec_config(tmp_path, script, api="client.authentication.k8s.io/v1alpha1")
    with pytest.raises(InputError, match="not supported"):
        load_cluster_config("c", runner, kubeconfig=path)


def test_exec_plugin_missing_command_shows_install_hint(tmp_path: Path, runner: Runner) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "no-such-plugin-xyz",
                     "installHint": "install no-such-plugin-xyz from your cloud's CLI"}}
    config = load_cluster_config("c", runner, kubeconfig=write(tmp_path / "k.yaml", simple("c", "https://c:1", user)))
    with pytest.raises(ClusterError, match="cannot start no-such-plugin-xyz") as info:
        config.credentials()
    assert info.value.hint == "install no-such-plugin-xyz from your cloud's CLI"


def test_a_run_parses_each_kubeconfig_file_once_and_again_when_it_changes(tmp_path: Path) -> None:
    from helmkit.adapters.kubeconfig import KubeconfigFiles

    path = tmp_path / "config"
    doc = {"apiVersion": "v1", "kind": "Config", "clusters": [
        {"name": f"c{i}", "cluster": {"server": f"https://c{i}.example:6443"}} for i in range(3)],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": f"c{i}", "context": {"cluster": f"c{i}", "user": "u"}} for i in range(3)]}
    path.write_text(yaml.safe_dump(doc))
    files = KubeconfigFiles()
    servers = [load_cluster_config(f"c{i}", Runner(), kubeconfig=path, files=files).server for i in range(3)]
    assert servers == [f"https://c{i}.example:6443" for i in range(3)]
    assert len(files._docs) == 1  # three contexts, one parse
    doc["clusters"][0]["cluster"]["server"] = "https://moved.example:6443"
    path.write_text(yaml.safe_dump(doc) + "\n# edited\n")
    assert load_cluster_config("c0", Runner(), kubeconfig=path, files=files).server == "https://moved.example:6443"
