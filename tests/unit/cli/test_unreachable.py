"""An unreachable cluster: one error per cluster, with a hint; nothing said once per release.

The clusters are real addresses that refuse connections (a port bound, then closed): what a
kubeconfig written by ``helmkit sandbox up`` points at once the sandbox is down.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from helmkit.adapters.tools import binary_path

PROJECT = Path(__file__).resolve().parents[3]
CLUSTERS = ("prod-us-east-1", "prod-eu-west-1")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def write_kubeconfig(path: Path) -> Path:
    port = closed_port()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    lines += [f"- name: {c}\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}"
              for c in CLUSTERS]
    lines += ["users:", "- name: u\n  user: {token: t}", "contexts:"]
    lines += [f"- name: {c}\n  context: {{cluster: {c}, user: u}}" for c in CLUSTERS]
    path.write_text("\n".join(lines) + "\n")
    return path


def normalized(text: str) -> str:
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


COMMANDS = {
    "diff": ("diff", "-e", "prod"),
    "sync": ("sync", "-e", "prod", "--yes"),
    "status": ("status", "-e", "prod"),
    "drift": ("drift", "-e", "prod"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_stopped_sandbox_gives_one_error_per_cluster_and_the_command_to_start_it(
        golden, basic_repo: Path, helmkit, name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_DB_PASSWORD", "not-a-real-password")
    kubeconfig = write_kubeconfig(basic_repo / ".helmkit" / "sandbox" / "kubeconfig")
    helm = binary_path(PROJECT, "helm-v4.1.4")
    outcome = helmkit("--repo", str(basic_repo), "--helm", str(helm), *COMMANDS[name], "-l", "name=web",
                      "--kubeconfig", str(kubeconfig))
    assert outcome.code == 1
    text = normalized(outcome.out + outcome.err)
    for cluster in CLUSTERS:
        assert text.count(f"error: cluster {cluster}: unreachable at") == 1, text
    assert text.count("hint: the sandbox is not running: helmkit sandbox up --env prod") == len(CLUSTERS)
    assert "no releases selected" not in text
    # drift's report also carries the reason in each cluster's unreachable finding
    assert text.count("Connection refused") == len(CLUSTERS) * (2 if name == "drift" else 1)
    golden(f"unreachable-{name}.txt", f"--- stdout\n{normalized(outcome.out)}--- stderr\n{normalized(outcome.err)}")


def test_another_kubeconfig_keeps_the_network_hint(basic_repo: Path, helmkit, tmp_path: Path):
    kubeconfig = write_kubeconfig(tmp_path / "elsewhere" / "config")
    helm = binary_path(PROJECT, "helm-v4.1.4")
    outcome = helmkit("--repo", str(basic_repo), "--helm", str(helm), "status", "-e", "prod", "--kubeconfig",
                      str(kubeconfig))
    assert outcome.code == 1
    assert outcome.err.count("hint: check the server of context") == len(CLUSTERS)
    assert "sandbox" not in outcome.err


@pytest.mark.parametrize(("args", "env", "coloured"), [
    ((), {}, False),  # captured: not a terminal
    (("--color", "always"), {}, True),
    (("--colour", "always"), {"NO_COLOR": "1"}, True),  # asked for explicitly
    ((), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    (("--color", "never"), {"FORCE_COLOR": "1"}, False),
])
def test_color_option_and_environment(*, basic_repo: Path, helmkit, monkeypatch: pytest.MonkeyPatch,
                                      args: tuple[str, ...], env: dict[str, str], coloured: bool):
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WEB_DB_PASSWORD", "not-a-real-password")
    kubeconfig = write_kubeconfig(basic_repo / "kubeconfig")
    outcome = helmkit("--repo", str(basic_repo), "--helm", str(binary_path(PROJECT, "helm-v4.1.4")), "diff",
                      "-e", "prod", "-c", "prod-eu-west-1", "-l", "name=web", "--kubeconfig", str(kubeconfig), *args)
    assert outcome.code == 1
    assert ("\033[31merror: cluster prod-eu-west-1" in outcome.out) is coloured
    assert ("\033[" in outcome.out) is coloured
