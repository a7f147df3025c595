"""The diff of one release (no cluster, no helm): masking, hooks, CRDs, values, and the three formats.

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/actions/test_diff.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helmkit.actions.diff import release_diff, values_diff
from helmkit.actions.livestate import AssessedRelease
from helmkit.adapters.helmstorage import HelmHook, HelmRelease
from helmkit.adapters.masking import MaskKey
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance, SecretRef
from helmkit.output.diff_view import DiffReport, render_github, render_json, render_markdown, render_text
from helmkit.plan.status import Marker, decide

SECRET = "canary-unit-secret-1"
OLD_SECRET = "canary-unit-secret-0"
CLUSTER = Cluster("c1", "prod", "c1")


def _manifest(replicas: int, password: str, *, hook_image: str = "migrate:1", extra: bool = False) -> str:
    docs = [
        "# Source: web/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-db\n"
        f"data:\n  password: {base64.b64encode(password.encode()).decode()}\n",
        "# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        f"spec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      - name: web\n"
        "        image: web:1\n",
        "# Source: web/crds/widgets.yaml\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: widgets.example.com\n",
    ]
    if extra:
        docs.append("# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-extra\n")
    hook = ("# Source: web/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: web-migrate\n"
            f"  annotations:\n    helm.sh/hook: pre-upgrade\nspec:\n  template:\n    spec:\n      containers:\n"
            f"      - name: migrate\n        image: {hook_image}\n")
    return "---\n".join([*docs, hook])


def _hook_of(manifest: str) -> HelmHook:
    text = manifest.rsplit("---\n", maxsplit=1)[-1]
    return HelmHook("web-migrate", "Job", "web/templates/job.yaml", ("pre-upgrade",), text)


def _instance(values: dict[str, Any]) -> ReleaseInstance:
    return ReleaseInstance("prod", CLUSTER, "web", "web", ChartRef(path=Path("/charts/web")), values,
                           secrets=[SecretRef(("db", "password"), "ref+env://WEB_DB")], labels={})


def _deployed(manifest: str, values: dict[str, Any]) -> HelmRelease:
    body = "---\n".join(manifest.split("---\n")[:-1])  # helm keeps hooks apart from the manifest
    return HelmRelease("web", "web", 3, "deployed", "web", "1.0.0", "1", values, body, (_hook_of(manifest),),
                       "", "2026-11-26T10:00:00Z", "", labels=Marker("prod", "c1").labels())


def _assessed() -> AssessedRelease:
    desired = _manifest(3, SECRET, hook_image="migrate:2", extra=True)
    deployed_manifest = _manifest(2, OLD_SECRET)
    instance = _instance({"replicas": 3, "db": {"password": "ref+env://WEB_DB"}})
    deployed = _deployed(deployed_manifest, {"replicas": 2, "db": {"password": OLD_SECRET}})
    state = decide(instance, desired, deployed, marker=Marker("prod", "c1"), chart_name="web", chart_version="1.1.0")
    return AssessedRelease(state, instance, desired, deployed, {("db", "password"): SECRET}, "web", "1.1.0")


def test_release_diff_counts_objects_and_lists_hooks_and_chart_apart_without_crds_folder() -> None:
    diff = release_diff(_assessed())
    assert diff.status == "out-of-sync" and diff.differs
    assert diff.summary == "+1 ~2 -0"  # ConfigMap added; Deployment and Secret changed; the crds/ CRD left out
    assert [str(c.key) for c in diff.hook_changes] == ["batch/Job web/web-migrate"]
    assert diff.chart == ("web 1.0.0", "web 1.1.0")


def test_secrets_are_masked_with_different_masks_before_and_after() -> None:
    report = DiffReport("prod", [release_diff(_assessed())])
    for text in (render_text(report), render_json(report), render_markdown(report), render_github(report)):
        assert SECRET not in text and OLD_SECRET not in text
        assert base64.b64encode(SECRET.encode()).decode() not in text
    text = render_text(report)
    masks = {line.strip()[0]: line.split("password: ")[1] for line in text.splitlines() if "password: <secret" in line}
    assert set(masks) == {"-", "+"} and masks["-"] != masks["+"]


def test_show_secrets_shows_them() -> None:
    text = render_text(DiffReport("prod", [release_diff(_assessed(), show_secrets=True)]))
    assert SECRET in text


def test_text_markdown_and_json_match_golden(golden: Callable[[str, str], None]) -> None:
    digest = MaskKey.from_text("unit-test-key", "test").digest
    report = DiffReport("prod", [release_diff(_assessed(), digest=digest)],
                        unreachable={"c9": "cluster c9: connection refused"})
    golden("diff.txt", render_text(report))
    golden("diff.md", render_markdown(report))
    golden("diff.github.txt", render_github(report))
    markdown = render_markdown(report)
    assert markdown.count("<details><summary>") == markdown.count("</details>") == 1  # the release's diff, folded
    github = render_github(report).splitlines()
    assert github[0] == "::group::~ c1 web (namespace web): out-of-sync +1 ~2 -0" and "::endgroup::" in github
    assert "::notice title=helmkit diff prod::c1 web (namespace web): out-of-sync +1 ~2 -0" in github
    assert "::error title=helmkit diff prod::cluster c9: connection refused" in github
    data = json.loads(render_json(report))
    assert data["differs"] is True and data["unreachable"] == [{"cluster": "c9", "message":
                                                                "cluster c9: connection refused"}]
    assert [o["op"] for o in data["releases"][0]["objects"]] == ["add", "change", "change"]


def test_in_sync_release_shows_nothing_but_the_count() -> None:
    manifest = _manifest(2, OLD_SECRET)
    instance = _instance({"replicas": 2, "db": {"password": "ref+env://WEB_DB"}})
    deployed = _deployed(manifest, {"replicas": 2, "db": {"password": OLD_SECRET}})
    state = decide(instance, manifest, deployed, marker=Marker("prod", "c1"))
    item = AssessedRelease(state, instance, manifest, deployed, {("db", "password"): OLD_SECRET})
    report = DiffReport("prod", [release_diff(item)])
    assert not report.differs
    assert render_text(report) == "prod: 1 releases: 1 in-sync\n"


def test_values_diff_masks_secret_paths_on_both_sides() -> None:
    text = values_diff({"a": 1, "db": {"password": OLD_SECRET}}, {"a": 2, "db": {"password": "ref+env://X"}},
                       {("db", "password"): SECRET})
    assert "-a: 1\n+a: 2\n" in text
    assert SECRET not in text and OLD_SECRET not in text and "ref+env" not in text
    assert values_diff({"db": {"password": SECRET}}, {"db": {"password": "ref+env://X"}},
                       {("db", "password"): SECRET}) == ""
