"""``--shard I/N`` and ``sync --wave N`` end to end with real helm 3.19 / 4.1 on six sandbox clusters in two
waves: a rollout as the example CI workflow runs it (one job per wave and shard, the canary gate of
wave 0 in the wave-0 jobs), its sync reports merged, and status, diff and drift of one shard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from helmkit.model.shards import shard_of
from tests.e2e.conftest import StartClusters
from tests.support import shardfleet

pytestmark = pytest.mark.e2e
NAMES = shardfleet.cluster_names(6)
SHARDS = 3


@dataclass
class Small:
    repo: Path
    work: Path
    env: dict[str, str]
    helm: Path

    def helmkit(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "helmkit", "--repo", str(self.repo), "--helm", str(self.helm), *args]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=600, check=False)


@pytest.fixture
def small(tmp_path: Path, named_clusters: StartClusters, helm_bin: Path) -> Small:
    repo = shardfleet.write_repo(tmp_path / "repo", NAMES, 1, waves=2)
    env_file = repo / "environments" / f"{shardfleet.ENV}.yaml"
    doc = yaml.safe_load(env_file.read_text())
    doc["gates"] = [{"name": "canary-soak", "soak": "1s", "waves": [0]}]
    env_file.write_text(yaml.safe_dump(doc))
    clusters = named_clusters(*NAMES)
    clusters.pin_contexts(env_file)
    env = {**os.environ, "KUBECONFIG": str(clusters.kubeconfig), "NO_COLOR": "1"}
    env.update({key: str(tmp_path / key.lower()) for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME",
                                                             "HELM_DATA_HOME", "KUBECACHEDIR")})
    env.pop("HELMKIT_HELM", None)
    return Small(repo, tmp_path, env, helm_bin)


def wave_of(name: str) -> int:
    return min(NAMES.index(name) * 2 // len(NAMES), 1)


def test_sharded_wave_rollout_then_one_shard(small: Small) -> None:
    listed = small.helmkit("list", "--env", shardfleet.ENV, "--shards", str(SHARDS), "-o", "json")
    assert listed.returncode == 0, listed.stderr
    members = {item["index"]: item["clusters"] for item in json.loads(listed.stdout)}
    assert members == {i: [c for c in NAMES if shard_of(shardfleet.ENV, c, SHARDS) == i] for i in range(1, 4)}
    reports = []
    empty_seen = False
    for wave in (0, 1):
        for index in range(1, SHARDS + 1):
            report = small.work / f"sync-wave{wave}-shard{index}.json"
            done = small.helmkit("sync", "--env", shardfleet.ENV, "--wave", str(wave), "--shard", f"{index}/{SHARDS}",
                                 "--yes", "--report", str(report))
            assert done.returncode == 0, done.stdout + done.stderr
            mine = [c for c in members[index] if wave_of(c) == wave]
            if not mine:
                empty_seen = True
                assert f"shard {index}/{SHARDS}, wave {wave} has no clusters: nothing to do" in done.stderr
            doc = json.loads(report.read_text())
            assert [c["cluster"] for c in doc["summary"]["clusters"]] == sorted(mine)
            if wave == 0 and mine:  # the canary gate of wave 0 ran in this job
                assert [(w["wave"], w["result"]) for w in doc["gates"]["waves"]] == [(0, "passed")]
            reports.append(str(report))
        if wave == 0:  # wave 1 is untouched until its jobs run
            status = small.helmkit("status", "--env", shardfleet.ENV, "-o", "json")
            rows = json.loads(status.stdout)
            assert {r["cluster"] for r in rows if r["status"] == "in-sync"} == {c for c in NAMES if wave_of(c) == 0}
    assert empty_seen  # this fleet has a shard with no cluster in some wave
    merged = small.helmkit("report", "merge", *reports, "-o", "json")
    assert merged.returncode == 0, merged.stderr
    summary = json.loads(merged.stdout)
    assert summary["total"]["deployed"] == len(NAMES) and not summary["failed"]
    assert [w["wave"] for w in summary["waves"]] == [0, 0]
    table = small.helmkit("report", "merge", *reports, "-o", "markdown")
    assert "| total | 6 |" in table.stdout

    status = small.helmkit("status", "--env", shardfleet.ENV, "--shard", f"1/{SHARDS}", "-o", "json")
    assert status.returncode == 0, status.stderr
    assert {r["cluster"] for r in json.loads(status.stdout)} == set(members[1])
    diff = small.helmkit("diff", "--env", shardfleet.ENV, "--shard", f"2/{SHARDS}", "--detailed-exitcode")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    drift = small.helmkit("drift", "--env", shardfleet.ENV, "--shard", f"3/{SHARDS}", "-o", "json")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert json.loads(drift.stdout)["shard"]["covered"] == [f"{shardfleet.ENV}/{c}" for c in members[3]]


def test_empty_shard_and_bad_shard(small: Small) -> None:
    count = 50
    empty = next(i for i in range(1, count + 1) if all(shard_of(shardfleet.ENV, c, count) != i for c in NAMES))
    for command in ("status", "diff", "drift"):
        done = small.helmkit(command, "--env", shardfleet.ENV, "--shard", f"{empty}/{count}")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"shard {empty}/{count} has no clusters: nothing to do" in done.stderr
    bad = small.helmkit("status", "--env", shardfleet.ENV, "--shard", "4/3")
    assert bad.returncode == 1 and "error: --shard: '4/3': shard 4 does not exist among 3 shards" in bad.stderr
    assert "Traceback" not in bad.stderr
    wave = small.helmkit("sync", "--env", shardfleet.ENV, "--wave", "5", "--dry-run")
    assert wave.returncode == 1 and "no cluster of environment `fleet` is in wave 5" in wave.stderr
