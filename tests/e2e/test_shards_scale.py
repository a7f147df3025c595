"""Sharded drift at scale: 200 sandbox clusters in one process, ``helmkit drift`` whole and in 4 shards
(4 processes, as 4 CI jobs), ``helmkit report merge`` of the shards gives exactly the single run's
report in all five formats; without one shard the merge fails and calls its clusters unchecked.

The fleet is :mod:`tests.support.shardfleet`: real helm 4 installs one release, every other release
record (helm's storage format) and live object is a copy made through the API, and a few drifts are
planted. 200 clusters x 1 release here (the CI cost: what grows with clusters is what sharding
splits); benchmarks/shard_bench.py runs 200 x 20.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helmkit.adapters.tools import binary_path
from helmkit.model.shards import assign
from helmkit.sandbox import Sandbox
from helmkit.sandbox.certificates import Identity
from tests.support import shardfleet

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]  # one fleet for the module; slow on a loaded machine
REPO = Path(__file__).resolve().parents[2]
CLUSTERS, RELEASES, SHARDS = 200, 1, 4
FORMATS = ("json", "table", "markdown", "junit", "html")


@dataclass
class Fleet:
    repo: Path
    work: Path
    env: dict[str, str]
    helm: Path
    planted: dict[str, str]

    def helmkit(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "helmkit", "--repo", str(self.repo), "--helm", str(self.helm), *args]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=600, check=False)

    def reports(self, stem: str, *extra: str) -> list[str]:
        args = [*extra]
        for fmt in FORMATS:
            args += ["--report", f"{fmt}={self.work / f'{stem}.{fmt}'}"]
        return args


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, sandbox_identity: Identity) -> Iterator[Fleet]:
    if os.environ.get("HELMKIT_E2E_KUBECONFIG"):
        pytest.skip("200 clusters: sandbox only")
    work = tmp_path_factory.mktemp("shards")
    names = shardfleet.cluster_names(CLUSTERS)
    with Sandbox(names, identity=sandbox_identity, admin=False) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(work / "kubeconfig")
        env = {key: str(work / key.lower()) for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")}
        repo = shardfleet.write_repo(work / "repo", names, RELEASES)
        helm = binary_path(REPO, "helm-v4.1.4")
        template = shardfleet.install_template(repo, helm, kubeconfig, names[0], env)
        shardfleet.seed_fleet(names, RELEASES, template, kubeconfig, installed_on=names[0])
        planted = shardfleet.plant_drifts(names, template, kubeconfig)
        full_env = {**os.environ, **env, "KUBECONFIG": str(kubeconfig), "NO_COLOR": "1"}
        full_env.pop("HELMKIT_HELM", None)
        yield Fleet(repo, work, full_env, helm, planted)


@pytest.fixture(scope="module")
def runs(fleet: Fleet) -> dict[str, subprocess.CompletedProcess[str]]:
    done = {"whole": fleet.helmkit("drift", "--env", shardfleet.ENV, *fleet.reports("whole"))}
    for index in range(1, SHARDS + 1):
        done[f"shard{index}"] = fleet.helmkit("drift", "--env", shardfleet.ENV, "--shard", f"{index}/{SHARDS}",
                                              "--report", f"json={fleet.work / f'shard{index}.json'}")
    return done


def _same(a: str, b: str, generated: tuple[str, str]) -> bool:
    return a.replace(generated[0], "<time>") == b.replace(generated[1], "<time>")


def test_four_shards_merged_equal_the_single_run(fleet: Fleet,
                                                 runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert runs["whole"].returncode == 2, runs["whole"].stderr  # drift found, nothing unreachable
    whole = json.loads((fleet.work / "whole.json").read_text())
    assert len(whole["clusters"]) == CLUSTERS and "shard" not in whole
    kinds = {f["kind"] for f in whole["findings"]}
    assert kinds == {"live-drift", "missing", "orphan", "unhealthy"}, kinds
    assert {f["cluster"] for f in whole["findings"]} == set(fleet.planted)
    expected = assign(((shardfleet.ENV, c) for c in shardfleet.cluster_names(CLUSTERS)), SHARDS)
    for index in range(1, SHARDS + 1):
        shard = json.loads((fleet.work / f"shard{index}.json").read_text())
        assert runs[f"shard{index}"].returncode in (0, 2), runs[f"shard{index}"].stderr
        assert shard["shard"]["covered"] == [f"{e}/{c}" for e, c in expected[index]]
        assert [c["cluster"] for c in shard["clusters"]] == [c for _, c in expected[index]]
    shards = [str(fleet.work / f"shard{index}.json") for index in range(1, SHARDS + 1)]
    merged = fleet.helmkit("report", "merge", *shards, *fleet.reports("merged"))
    assert merged.returncode == 2, merged.stderr
    assert f"merged {SHARDS} of {SHARDS} shard(s)" in merged.stderr
    merged_json = json.loads((fleet.work / "merged.json").read_text())
    times = (whole.pop("generatedAt"), merged_json.pop("generatedAt"))
    assert merged_json == whole
    for fmt in FORMATS[1:]:
        a, b = (fleet.work / f"whole.{fmt}").read_text(), (fleet.work / f"merged.{fmt}").read_text()
        assert _same(a, b, times), fmt


def test_without_one_shard_its_clusters_are_unchecked(fleet: Fleet,
                                                      runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert runs["whole"].returncode == 2
    shards = [str(fleet.work / f"shard{index}.json") for index in (1, 2, 4)]
    merged = fleet.helmkit("report", "merge", *shards, "--baseline", str(fleet.work / "whole.json"),
                           "--report", f"json={fleet.work / 'partial.json'}", "-o", "table")
    assert merged.returncode == 1, merged.stderr
    assert f"missing: 3/{SHARDS}" in merged.stderr
    doc = json.loads((fleet.work / "partial.json").read_text())
    lost = {c for _, c in assign(((shardfleet.ENV, c) for c in shardfleet.cluster_names(CLUSTERS)), SHARDS)[3]}
    assert any(e.startswith(f"shard 3/{SHARDS} is missing: ") for e in doc["errors"])
    assert not {c["cluster"] for c in doc["clusters"]} & lost
    on_lost = [f for f in json.loads((fleet.work / "whole.json").read_text())["findings"] if f["cluster"] in lost]
    assert doc["baseline"]["unchecked"] == len(on_lost) and doc["baseline"]["resolved"] == 0
    assert "is missing" in merged.stdout
