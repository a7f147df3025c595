"""Where each release stands: the pure decision that ``diff`` and ``sync`` build on.

:func:`decide` compares three things for one release on one cluster -- what git wants (the
instance and its rendered manifest), and what Helm deployed (the current release record) --
and returns a :class:`ReleaseState`. It starts no process and reads no file; the caller reads
the cluster and renders first. Nothing here acts: :mod:`helmkit.plan.rollout` turns states into
steps.

Ownership. helmkit marks what it installs with Helm release labels (``helm upgrade --labels``,
supported by helm 3.19 and 4.1 alike): ``helmkit.dev/managed=true`` plus ``helmkit.dev/env`` and
``helmkit.dev/cluster``. A release whose labels match this environment and cluster (the
:class:`Marker`) is helmkit's; any other release of the same name is FOREIGN and is never
uninstalled by prune. A release that is helmkit's and is gone from the specs is an ORPHAN.

The rules, in order (``deployed`` is the current record as ``latest_releases`` picks it):

- nothing deployed (or an ``uninstalled`` record kept with ``--keep-history``): NOT_INSTALLED,
  or DISABLED when the instance is disabled;
- deployed but not marked for this env and cluster: FOREIGN;
- ``pending-*`` or ``uninstalling``: PENDING, with revision and age (another helm process may
  still run; only an explicit recover option touches it);
- no instance: ORPHAN; a disabled instance: DISABLED_INSTALLED;
- ``failed`` (or ``unknown``): FAILED -- whatever the rendered diff says, so a release whose
  last upgrade failed is never reported in sync;
- a rendered or deployed manifest with a document that cannot be read (even as helm reads YAML,
  :mod:`helmkit.plan.goyaml`): ERROR, the problems (template and line) as reasons -- a problem
  of that release alone;
- otherwise OUT_OF_SYNC when the chart name or version, the user values or the rendered
  manifest (compared as parsed objects by :mod:`helmkit.plan.diffmodel`, leaving out the fields
  the chart generates on every render: :mod:`helmkit.plan.generated`) differ, else IN_SYNC.

Pairing: Helm release names are per namespace, so the caller pairs an instance with the
record of the same name *and namespace* (:func:`pair_releases`). A release moved to another
namespace is then NOT_INSTALLED in the new one and ORPHAN in the old one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from helmkit.adapters.helmstorage import PENDING_STATUSES, HelmRelease
from helmkit.errors import InputError
from helmkit.plan.diffmodel import diff_objects, render_summary
from helmkit.plan.generated import Volatile
from helmkit.plan.manifests import Manifest, differing_documents, parse_documents

MANAGED_LABEL = "helmkit.dev/managed"
ENV_LABEL = "helmkit.dev/env"
CLUSTER_LABEL = "helmkit.dev/cluster"
MAX_VALUE_PATHS = 5  # changed value paths named in a reason; the rest are counted


class ChartSource(Protocol):
    @property
    def path(self) -> Path | None: ...
    @property
    def display(self) -> str: ...


class SecretPath(Protocol):
    @property
    def path(self) -> tuple[str | int, ...]: ...


class DesiredRelease(Protocol):
    """What the plan reads of a release instance (``helmkit.model.instance.DesiredRelease``;
    the plan layer may not import the model layer, so it names the shape it needs)."""

    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def chart(self) -> ChartSource: ...
    @property
    def values(self) -> Mapping[str, Any]: ...
    @property
    def secrets(self) -> Sequence[SecretPath]: ...
    @property
    def needs(self) -> Sequence[str]: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def wait(self) -> bool: ...
    @property
    def timeout(self) -> str: ...
    @property
    def atomic(self) -> bool: ...
    @property
    def create_namespace(self) -> bool: ...
    @property
    def history_max(self) -> int: ...
    @property
    def crds(self) -> str: ...


class TargetCluster(Protocol):
    """What the plan reads of a cluster (``helmkit.model.instance.Cluster``)."""

    @property
    def name(self) -> str: ...
    @property
    def env(self) -> str: ...
    @property
    def context(self) -> str: ...
    @property
    def wave(self) -> int: ...


class Status(enum.Enum):
    NOT_INSTALLED = "not-installed"
    IN_SYNC = "in-sync"
    OUT_OF_SYNC = "out-of-sync"
    FAILED = "failed"
    PENDING = "pending"
    ORPHAN = "orphan"
    DISABLED = "disabled"  # disabled in the specs and not installed: nothing to do
    DISABLED_INSTALLED = "disabled-installed"
    FOREIGN = "foreign"
    ERROR = "error"  # a manifest of the release cannot be read: that release is not decided
    LIVE_DRIFT = "live-drift"  # in sync with Helm's record, but the live objects differ: sync repairs them


@dataclass(frozen=True)
class Marker:
    """The release labels by which helmkit recognises its own releases on one cluster."""

    env: str
    cluster: str

    def labels(self) -> dict[str, str]:
        return {MANAGED_LABEL: "true", ENV_LABEL: self.env, CLUSTER_LABEL: self.cluster}

    def helm_argv(self) -> list[str]:
        """``--labels`` for ``helm upgrade --install`` (helm merges them with existing labels)."""
        return ["--labels", ",".join(f"{k}={v}" for k, v in self.labels().items())]

    def owns(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.labels().items())


@dataclass(frozen=True)
class ReleaseState:
    """The decision for one release on one cluster. Holds no values and no manifest."""

    env: str
    cluster: str
    name: str
    namespace: str
    status: Status
    instance: DesiredRelease | None = None
    reasons: tuple[str, ...] = ()
    revision: int | None = None  # current Helm revision, if deployed
    helm_status: str | None = None  # Helm's status of that revision
    chart_version: str | None = None  # deployed chart version
    age: timedelta | None = None  # since the last operation (pending releases)
    rollback_revision: int | None = None  # newest good revision before a pending one

    @property
    def key(self) -> str:
        return f"{self.env}/{self.cluster}/{self.name}"

    def describe(self) -> str:
        """One line for a person: the status and why."""
        text = self.status.value
        if self.reasons:
            text += ": " + "; ".join(self.reasons)
        return text


def settled_state(instance: DesiredRelease, deployed: HelmRelease, *, marker: Marker) -> ReleaseState:
    """``in-sync``, known without comparing (a verdict: the same inputs and the same record as before)."""
    return ReleaseState(env=marker.env, cluster=marker.cluster, name=instance.name, namespace=instance.namespace,
                        status=Status.IN_SYNC, instance=instance, revision=deployed.revision,
                        helm_status=deployed.status, chart_version=deployed.chart_version)


def decide(
    instance: DesiredRelease | None,
    desired_manifest: str | None,
    deployed: HelmRelease | None,
    *,
    marker: Marker,
    chart_name: str | None = None,
    chart_version: str | None = None,
    history: Sequence[HelmRelease] = (),
    now: datetime | None = None,
    generated: Volatile | None = None,
) -> ReleaseState:
    """The status of one release. ``desired_manifest`` is required for an enabled instance.

    ``chart_name``/``chart_version`` are the exact chart the specs want (a local chart's
    ``Chart.yaml``, or the locked version); left out, they are not compared. ``history`` (all
    revisions, oldest first) lets a pending release name the revision a recovery rolls back to.
    """
    if instance is None and deployed is None:
        raise ValueError("decide needs an instance, a deployed release, or both")
    if instance is not None:
        name, namespace = instance.name, instance.namespace
    else:
        assert deployed is not None
        name, namespace = deployed.name, deployed.namespace

    def state(status: Status, *reasons: str, age: timedelta | None = None, rollback: int | None = None) -> ReleaseState:
        return ReleaseState(
            env=marker.env, cluster=marker.cluster, name=name, namespace=namespace, status=status,
            instance=instance, reasons=reasons,
            revision=deployed.revision if deployed else None,
            helm_status=deployed.status if deployed else None,
            chart_version=deployed.chart_version if deployed else None,
            age=age, rollback_revision=rollback,
        )

    enabled = instance is not None and instance.enabled
    if deployed is None or deployed.status == "uninstalled":
        deployed = None
        return state(Status.NOT_INSTALLED if enabled else Status.DISABLED)
    if not marker.owns(deployed.labels):
        return state(Status.FOREIGN, f"release {name} in namespace {namespace} was not installed by helmkit "
                                     f"for {marker.env}/{marker.cluster}")
    if deployed.status in PENDING_STATUSES or deployed.status == "uninstalling":
        age = _age(deployed.last_deployed, now)
        reason = f"{deployed.status} at revision {deployed.revision}"
        if age is not None:
            reason += f" for {format_age(age)}"
        return state(Status.PENDING, reason, age=age, rollback=_rollback_revision(deployed, history))
    if instance is None:
        return state(Status.ORPHAN, "installed by helmkit, gone from the specs")
    if not instance.enabled:
        return state(Status.DISABLED_INSTALLED, "disabled in the specs, still installed")
    if deployed.status != "deployed":
        return state(Status.FAILED, f"last operation {deployed.status} at revision {deployed.revision}")
    if desired_manifest is None:
        raise ValueError(f"{instance.key}: an enabled release needs its rendered manifest to be decided")
    try:
        reasons = _differences(instance, desired_manifest, deployed, chart_name, chart_version, generated=generated)
    except InputError as exc:
        return state(Status.ERROR, *(f"{p.location}: {p.message}" if p.location else p.message
                                     for p in exc.problems))
    return state(Status.OUT_OF_SYNC if reasons else Status.IN_SYNC, *reasons)


def pair_releases(
    instances: Iterable[DesiredRelease], deployed: Iterable[HelmRelease]
) -> list[tuple[DesiredRelease | None, HelmRelease | None]]:
    """Pair instances of one cluster with current records by (namespace, name); sorted by name."""
    by_key = {(r.namespace, r.name): r for r in deployed}
    pairs: list[tuple[DesiredRelease | None, HelmRelease | None]] = []
    for instance in instances:
        pairs.append((instance, by_key.pop((instance.namespace, instance.name), None)))
    pairs.extend((None, record) for record in by_key.values())
    return sorted(pairs, key=lambda p: _pair_sort_key(p[0], p[1]))


def format_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def manifest_difference(desired: str, deployed: str, namespace: str, generated: Volatile | None = None) -> str | None:
    """None when the release's objects are equal as parsed data, else a summary like ``+1 ~2 -0``.

    Only the documents whose text differs are parsed (:func:`~helmkit.plan.manifests.differing_documents`).
    Hooks are not part of a release's manifest, and neither are the CRDs of a chart's ``crds/``
    folder (helm installs them apart), so both are left out. Raises InputError naming the
    template and line of a document that cannot be read.
    """
    if desired == deployed:
        return None
    wanted_docs, have_docs = differing_documents(desired, deployed)
    if not wanted_docs and not have_docs:
        return None
    wanted = _release_objects(parse_documents(wanted_docs, namespace, origin="rendered manifest"))
    have = _release_objects(parse_documents(have_docs, namespace, origin="deployed manifest"))
    changes = diff_objects(wanted, have, generated=generated)
    return render_summary(changes) if changes else None


def _release_objects(manifest: Manifest) -> dict[Any, dict[str, Any]]:
    return {key: obj.body for key, obj in manifest.objects.items()}


def _differences(instance: DesiredRelease, desired_manifest: str, deployed: HelmRelease,
                 chart_name: str | None, chart_version: str | None, *, generated: Volatile | None = None) -> list[str]:
    reasons: list[str] = []
    if chart_name is not None and chart_name != deployed.chart_name:
        reasons.append(f"chart {deployed.chart_name} -> {chart_name}")
    if chart_version is not None and chart_version != deployed.chart_version:
        reasons.append(f"chart version {deployed.chart_version} -> {chart_version}")
    secret_paths = {tuple(ref.path) for ref in instance.secrets}
    paths = sorted(_value_paths(instance.values, deployed.values, (), secret_paths))
    if paths:
        shown = ", ".join(paths[:MAX_VALUE_PATHS])
        more = f" and {len(paths) - MAX_VALUE_PATHS} more" if len(paths) > MAX_VALUE_PATHS else ""
        reasons.append(f"values changed at {shown}{more}")
    summary = manifest_difference(desired_manifest, deployed.manifest, instance.namespace, generated)
    if summary is not None:
        reasons.append(f"rendered manifest differs ({summary})")
    return reasons


def _value_paths(desired: Any, deployed: Any, path: tuple[str | int, ...],
                 secret_paths: set[tuple[str | int, ...]]) -> list[str]:
    """Paths (never values) where the desired values differ; secret references are skipped,
    since the deployed side holds their resolved values (the manifest comparison sees them)."""
    if path in secret_paths:
        return []
    if isinstance(desired, dict) and isinstance(deployed, dict):
        found: list[str] = []
        for key in sorted(set(desired) | set(deployed), key=str):
            if key not in desired or key not in deployed:
                if not _holds_secret((*path, key), secret_paths):
                    found.append(_dotted((*path, key)))
                continue
            found += _value_paths(desired[key], deployed[key], (*path, key), secret_paths)
        return found
    if isinstance(desired, list) and isinstance(deployed, list) and len(desired) == len(deployed):
        found = []
        for index, (a, b) in enumerate(zip(desired, deployed, strict=True)):
            found += _value_paths(a, b, (*path, index), secret_paths)
        return found
    return [] if _same_leaf(desired, deployed) else [_dotted(path)]


def _holds_secret(path: tuple[str | int, ...], secret_paths: set[tuple[str | int, ...]]) -> bool:
    return any(secret[: len(path)] == path for secret in secret_paths)


def _same_leaf(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b  # helm keeps values as JSON: 2 and 2.0 are the same number
    return type(a) is type(b) and bool(a == b)


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(all values)"


def _age(last_deployed: str, now: datetime | None) -> timedelta | None:
    if not last_deployed:
        return None
    try:
        when = datetime.fromisoformat(last_deployed)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) - when


def _rollback_revision(current: HelmRelease, history: Sequence[HelmRelease]) -> int | None:
    good = [r.revision for r in history if r.revision < current.revision and r.status in ("deployed", "superseded")]
    return max(good) if good else None


def _pair_sort_key(instance: DesiredRelease | None, record: HelmRelease | None) -> tuple[str, str]:
    if instance is not None:
        return (instance.name, instance.namespace)
    assert record is not None
    return (record.name, record.namespace)
