"""The pure release-status decision (desired vs deployed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from helmkit.adapters.helm import HelmClient, TemplateRequest
from helmkit.adapters.helmstorage import HelmRelease
from helmkit.adapters.runner import Runner
from helmkit.adapters.tools import binary_path
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance, SecretRef
from helmkit.plan.status import (
    CLUSTER_LABEL,
    ENV_LABEL,
    MANAGED_LABEL,
    Marker,
    Status,
    decide,
    format_age,
    pair_releases,
)

CANARY = "canary-Secret-Value-9f3e"
NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
MARKER = Marker("prod", "prod-eu")
CLUSTER = Cluster(name="prod-eu", env="prod", context="prod-eu")

DESIRED = """\
---
# Source: web/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  level: info
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: web:1.4.2
"""

# The same objects as helm stores them: other key order, other formatting, no comments.
DEPLOYED_SAME = """\
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{image: "web:1.4.2", name: web}]
  replicas: 2
---
kind: ConfigMap
apiVersion: v1
data: {level: info}
metadata: {name: web}
"""


def instance(*, enabled: bool = True, values: dict[str, Any] | None = None,
             secrets: list[SecretRef] | None = None, namespace: str = "web") -> ReleaseInstance:
    return ReleaseInstance(
        env="prod", cluster=CLUSTER, name="web", namespace=namespace,
        chart=ChartRef(path=Path("/repo/charts/web")),
        values=values if values is not None else {"replicaCount": 2, "image": {"tag": "1.4.2"}},
        secrets=secrets or [], enabled=enabled,
    )


def record(*, status: str = "deployed", revision: int = 3, manifest: str = DEPLOYED_SAME,
           values: dict[str, Any] | None = None, labels: dict[str, str] | None = None,
           chart_version: str = "1.4.2", last_deployed: str = "2026-11-26T11:00:00.123456789Z",
           namespace: str = "web", name: str = "web") -> HelmRelease:
    return HelmRelease(
        name=name, namespace=namespace, revision=revision, status=status, chart_name="web",
        chart_version=chart_version, app_version="1.4.2",
        values=values if values is not None else {"replicaCount": 2, "image": {"tag": "1.4.2"}},
        manifest=manifest, hooks=(), first_deployed="2026-11-01T00:00:00Z", last_deployed=last_deployed,
        description="", labels=MARKER.labels() if labels is None else labels,
    )


def test_marker_labels_are_passed_to_helm_upgrade() -> None:
    assert MARKER.labels() == {MANAGED_LABEL: "true", ENV_LABEL: "prod", CLUSTER_LABEL: "prod-eu"}
    assert MARKER.helm_argv() == [
        "--labels", "helmkit.dev/managed=true,helmkit.dev/env=prod,helmkit.dev/cluster=prod-eu"]
    assert MARKER.owns({**MARKER.labels(), "team": "x"})
    assert not MARKER.owns({MANAGED_LABEL: "true", ENV_LABEL: "staging", CLUSTER_LABEL: "prod-eu"})
    assert not MARKER.owns({})


def test_nothing_deployed_is_not_installed_or_disabled() -> None:
    assert decide(instance(), DESIRED, None, marker=MARKER).status is Status.NOT_INSTALLED
    assert decide(instance(enabled=False), None, None, marker=MARKER).status is Status.DISABLED
    kept = record(status="uninstalled")
    assert decide(instance(), DESIRED, kept, marker=MARKER).status is Status.NOT_INSTALLED


def test_same_objects_in_other_formatting_are_in_sync() -> None:
    state = decide(instance(), DESIRED, record(), marker=MARKER, chart_version="1.4.2")
    assert state.status is Status.IN_SYNC, state.reasons
    assert state.reasons == ()
    assert (state.revision, state.helm_status, state.key) == (3, "deployed", "prod/prod-eu/web")


def test_changed_manifest_is_out_of_sync_with_a_summary() -> None:
    deployed = record(manifest=DEPLOYED_SAME.replace("replicas: 2", "replicas: 1"))
    state = decide(instance(), DESIRED, deployed, marker=MARKER)
    assert state.status is Status.OUT_OF_SYNC
    assert state.reasons == ("rendered manifest differs (+0 ~1 -0)",)


def test_added_and_removed_objects_are_counted() -> None:
    deployed = record(manifest=DEPLOYED_SAME.split("---\nkind: ConfigMap", maxsplit=1)[0]
                      + "---\napiVersion: v1\nkind: Service\nmetadata: {name: old}\n")
    state = decide(instance(), DESIRED, deployed, marker=MARKER)
    assert state.reasons == ("rendered manifest differs (+1 ~0 -1)",)


def test_chart_version_and_values_are_reasons() -> None:
    deployed = record(chart_version="1.4.1", values={"replicaCount": 1, "image": {"tag": "1.4.2"}, "old": True})
    state = decide(instance(), DESIRED, deployed, marker=MARKER, chart_version="1.4.2")
    assert state.status is Status.OUT_OF_SYNC
    assert state.reasons == ("chart version 1.4.1 -> 1.4.2", "values changed at old, replicaCount")


def test_numbers_compare_as_json_numbers() -> None:
    deployed = record(values={"replicaCount": 2.0, "image": {"tag": "1.4.2"}})
    assert decide(instance(), DESIRED, deployed, marker=MARKER).status is Status.IN_SYNC
    flag = record(values={"replicaCount": True, "image": {"tag": "1.4.2"}})
    assert decide(instance(values={"replicaCount": 1, "image": {"tag": "1.4.2"}}), DESIRED, flag,
                  marker=MARKER).reasons == ("values changed at replicaCount",)


def test_secret_references_are_not_compared_and_never_shown() -> None:
    ref = SecretRef(path=("db", "password"), ref="ref+env://WEB_DB_PASSWORD")
    wanted = instance(values={"replicaCount": 2, "image": {"tag": "1.4.2"}, "db": {"password": ref.ref}},
                      secrets=[ref])
    deployed = record(values={"replicaCount": 2, "image": {"tag": "1.4.2"}, "db": {"password": CANARY}})
    state = decide(wanted, DESIRED, deployed, marker=MARKER)
    assert state.status is Status.IN_SYNC
    # a changed value next to it is named by path only
    deployed = record(values={"replicaCount": 2, "image": {"tag": CANARY}, "db": {"password": CANARY}})
    state = decide(wanted, DESIRED, deployed, marker=MARKER)
    assert state.reasons == ("values changed at image.tag",)
    assert CANARY not in repr(state)


def test_many_changed_values_are_counted_not_listed() -> None:
    deployed = record(values={f"k{i}": i for i in range(8)})
    state = decide(instance(values={}), DESIRED, deployed, marker=MARKER)
    assert state.reasons == ("values changed at k0, k1, k2, k3, k4 and 3 more",)


def test_failed_release_with_empty_diff_is_not_in_sync() -> None:
    state = decide(instance(), DESIRED, record(status="failed", revision=4), marker=MARKER)
    assert state.status is Status.FAILED
    assert state.reasons == ("last operation failed at revision 4",)


def test_pending_release_has_revision_age_and_rollback_target() -> None:
    history = [record(revision=5, status="superseded"), record(revision=6, status="failed"),
               record(revision=7, status="pending-upgrade")]
    state = decide(instance(), DESIRED, history[-1], marker=MARKER, history=history, now=NOW)
    assert state.status is Status.PENDING
    assert state.age == timedelta(hours=1) - timedelta(microseconds=123456)
    assert state.reasons == ("pending-upgrade at revision 7 for 59m59s",)
    assert state.rollback_revision == 5


def test_pending_without_history_or_time() -> None:
    pending = record(status="pending-install", revision=1, last_deployed="")
    state = decide(instance(), DESIRED, pending, marker=MARKER, now=NOW)
    assert state.status is Status.PENDING
    assert (state.age, state.rollback_revision) == (None, None)
    assert state.reasons == ("pending-install at revision 1",)


def test_release_not_installed_by_helmkit_is_foreign() -> None:
    for labels in ({}, {MANAGED_LABEL: "true", ENV_LABEL: "staging", CLUSTER_LABEL: "prod-eu"}):
        deployed = record(labels=labels)
        assert decide(instance(), DESIRED, deployed, marker=MARKER).status is Status.FOREIGN
        assert decide(None, None, deployed, marker=MARKER).status is Status.FOREIGN
        assert decide(instance(enabled=False), None, deployed, marker=MARKER).status is Status.FOREIGN


def test_orphan_and_disabled_installed() -> None:
    orphan = decide(None, None, record(), marker=MARKER)
    assert (orphan.status, orphan.name, orphan.namespace, orphan.instance) == (Status.ORPHAN, "web", "web", None)
    assert decide(instance(enabled=False), None, record(), marker=MARKER).status is Status.DISABLED_INSTALLED


def test_hooks_and_crds_folder_are_not_part_of_the_release_manifest() -> None:
    extra = """\
---
# Source: web/crds/widgets.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
# Source: web/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {helm.sh/hook: pre-upgrade}
"""
    state = decide(instance(), DESIRED + extra, record(), marker=MARKER)
    assert state.status is Status.IN_SYNC, state.reasons


def test_enabled_release_needs_its_manifest() -> None:
    with pytest.raises(ValueError, match="rendered manifest"):
        decide(instance(), None, record(), marker=MARKER)
    with pytest.raises(ValueError):
        decide(None, None, None, marker=MARKER)


def test_pairing_is_by_namespace_and_name() -> None:
    moved = instance(namespace="web2")
    old = record(namespace="web")
    other = record(name="api")
    pairs = pair_releases([moved], [old, other])
    assert pairs == [(None, other), (None, old), (moved, None)]  # by name, then namespace
    states = [decide(i, DESIRED if i else None, r, marker=MARKER) for i, r in pairs]
    assert [s.status for s in states] == [Status.ORPHAN, Status.ORPHAN, Status.NOT_INSTALLED]


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (125, "2m5s"), (7260, "2h1m"), (90000, "1d1h"), (-3, "0s")])
def test_format_age(seconds: int, text: str) -> None:
    assert format_age(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("helm", ["helm-v3.19.0", "helm-v4.1.4"])
def test_real_helm_output_compares_as_objects(helm: str, tmp_path: Path) -> None:
    """helm template's output of a chart of this repository, against itself re-serialized
    (as helm stores it) and against a render with other values."""
    repo = Path(__file__).resolve().parents[3]
    env = {name: str(tmp_path / name.lower()) for name in
           ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR")}
    client = HelmClient(Runner(), binary_path(repo, helm), env)

    def render(replicas: int) -> str:
        values = tmp_path / f"values-{replicas}.yaml"
        values.write_text(f"replicaCount: {replicas}\nautoscaling: {{enabled: false}}\n")
        return client.template(TemplateRequest("web", repo / "charts" / "web-service", "web",
                                               values_files=(values,)))

    desired = render(3)
    restored = "\n---\n".join(yaml.safe_dump(doc, sort_keys=True) for doc in yaml.safe_load_all(desired) if doc)
    wanted = instance(values={"replicaCount": 3, "autoscaling": {"enabled": False}})
    same = record(manifest=restored, values={"replicaCount": 3, "autoscaling": {"enabled": False}})
    assert decide(wanted, desired, same, marker=MARKER).status is Status.IN_SYNC
    older = record(manifest=render(2), values={"replicaCount": 2, "autoscaling": {"enabled": False}})
    state = decide(wanted, desired, older, marker=MARKER)
    assert state.reasons == ("values changed at replicaCount", "rendered manifest differs (+0 ~1 -0)")


def test_crds_of_a_file_opening_with_a_comment_are_not_part_of_the_release_manifest() -> None:
    crds = """\
---
# Source: web/crds/widgets.yaml
# Licensed under the Apache License, Version 2.0
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {names: {kind: Widget}, enum: [=]}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
---
# Source: web/charts/sub/crds/things.yaml
# comment
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
"""
    state = decide(instance(), crds + DESIRED, record(), marker=MARKER)
    assert state.status is Status.IN_SYNC, state.reasons


def test_an_unreadable_manifest_is_an_error_of_that_release_naming_template_and_line() -> None:
    broken = DESIRED.replace("  level: info", "  level: !!int info")
    state = decide(instance(), broken, record(), marker=MARKER)
    assert state.status is Status.ERROR
    assert state.reasons == ("web/templates/configmap.yaml:8: invalid YAML in rendered manifest: "
                             "cannot decode !!str `info` as a !!int",)
    deployed = record(manifest=DEPLOYED_SAME.replace("metadata: {name: web}\n", "metadata: {}\n", 1))
    state = decide(instance(), DESIRED, deployed, marker=MARKER)
    assert (state.status, state.reasons) == (Status.ERROR, (
        "deployed manifest:2: a Deployment of deployed manifest has no metadata.name",))


def test_identical_documents_are_not_parsed() -> None:
    """A document helm recorded as it renders now is the same objects: not even read again (a
    reader's limits never apply to it)."""
    odd = "---\n# Source: web/templates/odd.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"
    state = decide(instance(), DESIRED + odd, record(manifest=DESIRED + odd), marker=MARKER)
    assert state.status is Status.IN_SYNC
