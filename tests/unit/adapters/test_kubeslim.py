"""Each helm process that talks to one cluster reads a kubeconfig of that context alone, from memory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from helmkit.adapters.kubeslim import one_context
from helmkit.adapters.runner import Runner


def fleet_kubeconfig(folder: Path) -> Path:
    (folder / "certs").mkdir(parents=True)
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c2",
        "clusters": [{"name": f"k{i}", "cluster": {"server": f"https://10.0.0.{i}:6443",
                                                   "certificate-authority": f"certs/ca{i}.pem"}} for i in range(3)],
        "users": [{"name": "u0", "user": {"client-certificate": "certs/u0.pem", "client-key": "/abs/u0.key"}},
                  {"name": "u1", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                                   "command": "bin/login", "args": ["x"]}}},
                  {"name": "u2", "user": {"auth-provider": {"name": "oidc"}}}],
        "contexts": [{"name": f"c{i}", "context": {"cluster": f"k{i}", "user": f"u{i}", "namespace": "ns"}}
                     for i in range(3)],
    }
    path = folder / "config"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_one_context_keeps_its_entries_with_absolute_paths_and_nothing_else(tmp_path: Path) -> None:
    path = fleet_kubeconfig(tmp_path)
    made = one_context("c0", kubeconfig=path)
    assert made is not None
    doc = json.loads(made)
    assert doc["current-context"] == "c0" and [c["name"] for c in doc["contexts"]] == ["c0"]
    assert doc["clusters"] == [{"name": "k0", "cluster": {"server": "https://10.0.0.0:6443",
                                                          "certificate-authority": str(tmp_path / "certs/ca0.pem")}}]
    assert doc["users"] == [{"name": "u0", "user": {"client-certificate": str(tmp_path / "certs/u0.pem"),
                                                    "client-key": "/abs/u0.key"}}]
    exec_user = json.loads(one_context("c1", kubeconfig=path) or b"{}")["users"][0]["user"]["exec"]
    assert exec_user["command"] == str(tmp_path / "bin/login") and exec_user["args"] == ["x"]
    assert one_context("c2", kubeconfig=path) is None  # auth-provider writes tokens back: helm reads the file
    assert one_context("nope", kubeconfig=path) is None
    assert yaml.safe_load(path.read_text())["users"][1]["user"]["exec"]["command"] == "bin/login"


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memory files are Linux's")
def test_a_helm_process_reads_the_one_context_kubeconfig_from_memory(tmp_path: Path) -> None:
    path = fleet_kubeconfig(tmp_path / "kube")
    tool = tmp_path / "bin" / "helm"
    tool.parent.mkdir()
    tool.write_text('#!/bin/sh\necho "$KUBECONFIG"\necho "$@"\ncat "$KUBECONFIG"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    asked: list[tuple[str, str | None]] = []

    def slim(context: str, explicit: str | None) -> bytes | None:
        asked.append((context, explicit))
        return one_context(context, kubeconfig=Path(explicit) if explicit else path)

    before = set(tmp_path.rglob("*"))
    out = Runner(kubeconfig_for=slim).run([str(tool), "list", "--kube-context", "c0", "--kubeconfig", str(path)])
    where, argv, content = out.stdout.split("\n", 2)
    assert where.startswith("/proc/self/fd/") and argv == "list --kube-context c0"
    assert json.loads(content)["current-context"] == "c0" and "k1" not in content
    assert asked == [("c0", str(path))] and set(tmp_path.rglob("*")) == before  # nothing written to disk
    other = tmp_path / "bin" / "kubectl"
    other.write_text(tool.read_text())
    other.chmod(tool.stat().st_mode)
    plain = Runner(kubeconfig_for=slim, base_env={"KUBECONFIG": str(path), "PATH": os.environ["PATH"]}).run(
        [str(other), "get", "--kube-context", "c0"])
    assert plain.stdout.startswith(str(path))  # only helm processes
