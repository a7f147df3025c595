"""Charts in a real OCI registry (the distribution registry), pushed by helm 3.19 / 4.1:
`helmkit lock` resolves constraints against the registry's tags and records manifest digests,
`template` and `sync` use the locked package helm pulled, a re-pushed tag is refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.actions.lock import LockOptions, lock
from helmkit.actions.sync import SyncOptions, sync
from helmkit.actions.template import TemplateOptions, template
from helmkit.adapters.runner import Result
from helmkit.errors import HelmkitError
from tests.e2e.conftest import StartClusters
from tests.e2e.test_sync_support import Fleet, chart_fleet
from tests.support.registry import Registry, push_chart, start_registry

pytestmark = pytest.mark.e2e


def lock_error(fleet: Fleet) -> str:
    """What `helmkit lock` says when it fails (the CLI prints exactly this)."""
    with pytest.raises(HelmkitError) as info:
        fleet.run(lock, LockOptions())
    return info.value.render()


def pushed_digest(result: Result) -> str:
    match = re.search(r"Digest: (sha256:[0-9a-f]{64})", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    return match.group(1)


def helm_env(fleet_home: Path) -> dict[str, str]:
    return {k: str(fleet_home / k.lower()) for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")}


def oci_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path, *,
              registry: Registry, releases: dict[str, Any], repository_extra: str = "") -> Fleet:
    settings = ('helm: {version: ">=3.19.0 <5.0.0"}\ndefaults: {wait: false}\nkubeVersion: "1.34.0"\n'
                f"repositories:\n  - name: team\n    url: {registry.url()}\n{repository_extra}")
    return chart_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, charts=[], releases=releases,
                       clusters=[{"name": "c1"}], env="day1", settings=settings)


def test_lock_template_sync_and_a_repushed_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               named_clusters: StartClusters, helm_bin: Path) -> None:
    with start_registry(tmp_path / "registry") as registry:
        env = helm_env(tmp_path / "pusher")
        digests = {v: pushed_digest(push_chart(helm_bin, env, registry, tmp_path / "src", ("web", v)))
                   for v in ("1.0.0", "1.2.0", "1.2.5", "1.3.0-rc.1", "2.0.0+build.5")}
        releases = {
            "web": {"chart": {"repository": "team", "name": "web", "version": "~1.2"}, "namespace": "web",
                    "values": {"greeting": "hi-${cluster.name}"}},
            # a URL in place of a repository name; `+` comes back from the `_` of the tag
            "edge": {"chart": {"repository": registry.url(), "name": "web", "version": ">=1.0 <3"},
                     "namespace": "edge"},
        }
        fleet = oci_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, registry=registry, releases=releases)

        locked = fleet.run(lock, LockOptions())
        assert locked.code == 0, locked.err
        entries = {e["constraint"]: e for e in yaml.safe_load((fleet.root / "helmkit.lock").read_text())["charts"]}
        assert entries["~1.2"]["version"] == "1.2.5" and entries["~1.2"]["digest"] == digests["1.2.5"]
        assert entries[">=1.0 <3"]["version"] == "2.0.0+build.5"
        assert entries[">=1.0 <3"]["digest"] == digests["2.0.0+build.5"]
        assert entries["~1.2"]["repository"] == registry.url()
        pulls = [a for a in fleet.argvs if a[1:2] == ["pull"]]
        assert pulls and all("--version" in a for a in pulls)

        shown = fleet.run(template, TemplateOptions(env="day1"))
        assert shown.code == 0, shown.err
        assert 'version: "1.2.5"' in shown.out and 'version: "2.0.0+build.5"' in shown.out
        assert 'greeting: "hi-c1"' in shown.out
        assert not [a for a in fleet.argvs[len(pulls):] if a[1:2] == ["pull"]]  # lock left them in the cache

        synced = fleet.run(sync, SyncOptions(env="day1", yes=True))
        assert synced.code == 0, synced.out + synced.err
        status = fleet.helm("list", "-A", "-o", "yaml", context="c1")
        charts = {r["name"]: r["chart"] for r in yaml.safe_load(status.stdout)}
        assert charts == {"web": "web-1.2.5", "edge": "web-2.0.0+build.5"}

        # The tag 1.2.5 is pushed again with other content: a machine without the package in its
        # cache (a CI runner) refuses it, and `lock --check` says what changed.
        repushed = pushed_digest(push_chart(helm_bin, env, registry, tmp_path / "src", ("web", "1.2.5"),
                                            flavour="second"))
        assert repushed != digests["1.2.5"]
        shutil.rmtree(fleet.root / ".helmkit" / "cache")
        refused = fleet.run(template, TemplateOptions(env="day1"))
        assert refused.code == 1
        assert "pushed again" in refused.err and digests["1.2.5"] in refused.err and repushed in refused.err
        assert "Traceback" not in refused.err
        check = fleet.run(lock, LockOptions(check=True))
        assert check.code == 1 and "has other content now" in check.err, check.err


def test_exact_versions_need_no_tag_listing_and_unknown_ones_name_the_nearest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> None:
    with start_registry(tmp_path / "registry") as registry:
        env = helm_env(tmp_path / "pusher")
        for version in ("0.9.0", "1.0.0", "1.1.0", "3.0.0"):
            push_chart(helm_bin, env, registry, tmp_path / "src", ("api", version))
        releases = {"api": {"chart": {"repository": "team", "name": "api", "version": "1.1.0"}, "namespace": "api"}}
        fleet = oci_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, registry=registry, releases=releases)
        assert fleet.run(lock, LockOptions()).code == 0
        assert "version: 1.1.0" in (fleet.root / "helmkit.lock").read_text()
        assert "/manifests/1.1.0" in registry.requests() and "/tags/list" not in registry.requests()

        (fleet.root / "releases" / "api.yaml").write_text(
            yaml.safe_dump({"chart": {"repository": "team", "name": "api", "version": "1.0.7"}, "namespace": "a"}))
        missing = lock_error(fleet)
        assert "chart api 1.0.7 is not in the registry" in missing
        assert "nearest available versions: 0.9.0, 1.0.0, 1.1.0, 3.0.0" in missing

        (fleet.root / "releases" / "api.yaml").write_text(
            yaml.safe_dump({"chart": {"repository": "team", "name": "api", "version": "^2"}, "namespace": "a"}))
        unsatisfied = lock_error(fleet)
        assert "satisfies '^2'" in unsatisfied and "available: 3.0.0, 1.1.0, 1.0.0, 0.9.0" in unsatisfied

        (fleet.root / "releases" / "api.yaml").write_text(
            yaml.safe_dump({"chart": {"repository": "team", "name": "nope", "version": "^1"}, "namespace": "a"}))
        assert "chart nope is not in the registry" in lock_error(fleet)
