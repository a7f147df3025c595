"""The example CI workflows of docs/sharding.md: valid YAML whose jobs follow the example fleet's waves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "ci"


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((EXAMPLES / name).read_text())
    assert isinstance(doc, dict) and isinstance(doc.get("jobs"), dict)
    return doc


def waves_of(env: str) -> list[int]:
    doc = yaml.safe_load((ROOT / "environments" / f"{env}.yaml").read_text())
    return sorted({int(c.get("wave", 0)) for c in doc["clusters"]})


def test_sync_workflow_chains_one_job_per_wave() -> None:
    doc = load("helmkit-sync-sharded.yml")
    jobs = doc["jobs"]
    shards = int(doc["env"]["SHARDS"])
    waves = waves_of("prod")
    wave_jobs = [name for name in jobs if name.startswith("wave-")]
    assert wave_jobs == [f"wave-{w}" for w in waves]
    for previous, wave in zip([None, *waves], waves, strict=False):
        job = jobs[f"wave-{wave}"]
        assert job.get("needs") == ([f"wave-{previous}"] if previous is not None else None)
        assert job["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
        assert job["strategy"]["fail-fast"] is False
        run = " ".join(step.get("run", "") for step in job["steps"])
        assert f"helmkit sync --env prod --wave {wave} --shard ${{{{ matrix.shard }}}}/$SHARDS" in run
        assert "--report" in run
    summary = jobs["summary"]
    assert summary["needs"] == wave_jobs and summary["if"] == "always()"
    assert any("helmkit report merge" in step.get("run", "") for step in summary["steps"])


def test_drift_workflow_merges_every_shard() -> None:
    jobs = load("helmkit-drift-sharded.yml")["jobs"]
    shards = jobs["drift"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    run = " ".join(step.get("run", "") for step in jobs["drift"]["steps"])
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in run
    merge = jobs["merge"]
    assert merge["needs"] == ["drift"] and merge["if"] == "always()"
    assert any("helmkit report merge" in step.get("run", "") and "--baseline" in step.get("run", "")
               for step in merge["steps"])
