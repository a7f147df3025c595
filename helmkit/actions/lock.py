"""`helmkit lock`: resolve every repository chart's version constraint and write ``helmkit.lock``.

The lock file is YAML::

    # helmkit.lock: written by `helmkit lock`; do not edit by hand
    charts:
      - repository: https://charts.example.com
        name: web
        constraint: ^1.4.0
        version: 1.4.2
        digest: sha256:<hex of the .tgz>   # an oci:// repository: the manifest digest helm pulled
        generated: "2026-11-26T14:00:00Z"

One entry per (repository URL, chart name, constraint) used by any enabled release instance of
any environment. An entry keeps its ``generated`` time while its resolution does not change, so
re-locking an unchanged repository rewrites the same bytes. The lock is *stale* when writing it
now would change an entry or the set of entries; ``--check`` reports that with exit 1.
Rendering uses the locked version and digest, never the constraint. Charts come from
:mod:`helmkit.adapters.chartsources`: ``index.yaml`` repositories (helm's repositories.yaml for
credentials and TLS) and OCI registries (tags listed with helm's registry login, packages
pulled by helm).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from helmkit.adapters.cache import atomic_write
from helmkit.adapters.chartsources import ChartSources, chart_sources
from helmkit.adapters.helm import HelmClient
from helmkit.adapters.helmconfig import RegistryAccess
from helmkit.context import Context
from helmkit.errors import EXIT_ERROR, EXIT_OK, HelmkitError, InputError, Location, Problem
from helmkit.model.instance import ReleaseInstance

LOCK_FILE = "helmkit.lock"
HEADER = "# helmkit.lock: written by `helmkit lock`; do not edit by hand\n"


@dataclass(frozen=True)
class LockEntry:
    repository: str
    name: str
    constraint: str
    version: str
    digest: str
    generated: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.repository, self.name, self.constraint)

    def same_resolution(self, other: LockEntry) -> bool:
        return (self.key, self.version, self.digest) == (other.key, other.version, other.digest)


@dataclass(frozen=True)
class LockFile:
    entries: tuple[LockEntry, ...]

    def find(self, repository: str, name: str, constraint: str) -> LockEntry | None:
        for entry in self.entries:
            if entry.key == (repository, name, constraint):
                return entry
        return None

    def dump(self) -> str:
        charts = [
            {"repository": e.repository, "name": e.name, "constraint": e.constraint, "version": e.version,
             "digest": e.digest, "generated": e.generated}
            for e in sorted(self.entries, key=lambda e: e.key)
        ]
        return HEADER + yaml.safe_dump({"charts": charts}, sort_keys=False, default_flow_style=False)


@dataclass(frozen=True)
class LockOptions:
    check: bool = False
    include_prerelease: bool = False


def chart_constraint(instance: ReleaseInstance) -> str:
    return instance.chart.version or "*"


def read_lock(repo: Path) -> LockFile | None:
    """The lock file of ``repo``, or None when there is none."""
    path = repo / LOCK_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        document = yaml.safe_load(text) if len(text) < 4 * 1024 * 1024 else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(Problem("helmkit.lock is not valid YAML", Location(LOCK_FILE, line),
                                 hint="run `helmkit lock` to write it again")) from None
    charts = document.get("charts") if isinstance(document, dict) else None
    if not isinstance(charts, list):
        raise InputError(Problem("helmkit.lock has no 'charts' list", Location(LOCK_FILE),
                                 hint="run `helmkit lock` to write it again"))
    return LockFile(tuple(_entry(item, index) for index, item in enumerate(charts)))


def _entry(item: Any, index: int) -> LockEntry:
    fields = ("repository", "name", "constraint", "version", "digest")
    if not isinstance(item, dict) or any(not isinstance(item.get(f), str) for f in fields):
        raise InputError(Problem(f"helmkit.lock: entry {index + 1} needs {', '.join(fields)} as strings",
                                 Location(LOCK_FILE), pointer=f"/charts/{index}",
                                 hint="run `helmkit lock` to write it again"))
    return LockEntry(str(item["repository"]), str(item["name"]), str(item["constraint"]), str(item["version"]),
                     str(item["digest"]), str(item.get("generated", "")))


def repository_charts(instances: list[ReleaseInstance]) -> set[tuple[str, str, str]]:
    """(repository URL, chart name, constraint) of every enabled repository-chart instance."""
    return {
        (i.chart.repository, i.chart.name, chart_constraint(i))
        for i in instances
        if i.enabled and i.chart.repository and i.chart.name
    }


class _Resolved(Protocol):
    @property
    def version(self) -> str: ...
    @property
    def digest(self) -> str: ...


class ChartResolver(Protocol):
    def resolve(self, repository: str, name: str, constraint: str, *, include_prerelease: bool = False
                ) -> _Resolved: ...


def compute_lock(wanted: set[tuple[str, str, str]], client: ChartResolver, previous: LockFile | None, *,
                 now: str, include_prerelease: bool = False) -> LockFile:
    """The lock that resolves ``wanted`` now; entries that did not change keep their time."""
    entries: list[LockEntry] = []
    for repository, name, constraint in sorted(wanted):
        found = client.resolve(repository, name, constraint, include_prerelease=include_prerelease)
        if not found.digest:
            raise HelmkitError(f"chart {name} {found.version} in {repository} has no digest",
                               hint="helmkit only uses packages it can check; regenerate the index with "
                                    "`helm repo index`")
        entry = LockEntry(repository, name, constraint, found.version, _digest(found.digest), now)
        old = previous.find(repository, name, constraint) if previous else None
        if old is not None and old.same_resolution(entry):
            entry = replace(entry, generated=old.generated)
        entries.append(entry)
    return LockFile(tuple(entries))


def all_instances(ctx: Context) -> list[ReleaseInstance]:
    """Every release instance of every environment of the repository."""
    from helmkit.model.repository import load_repository
    from helmkit.model.resolve import resolve_instances

    repo = load_repository(ctx.repo)
    instances: list[ReleaseInstance] = []
    for env in sorted(repo.environments):
        instances.extend(resolve_instances(repo, env))
    return instances


def sources(ctx: Context, instances: list[ReleaseInstance], helm: HelmClient | None = None) -> ChartSources:
    """The chart sources of a run over ``instances``: helm's config and helmkit.yaml's repository settings.

    OCI charts are pulled by ``helm`` (else the run's helm, found only when a pull is needed).
    """
    from helmkit.actions.render import HELM_ENV_KEYS, helm_client

    access: dict[str, RegistryAccess] = {}
    for instance in instances:
        if instance.chart.repository and instance.chart.access is not None:
            access[instance.chart.repository] = instance.chart.access
    made: list[HelmClient] = [helm] if helm is not None else []

    def the_helm() -> HelmClient:
        if not made:
            made.append(helm_client(ctx))
        return made[0]

    env = dict(helm.env) if helm is not None else {k: v for k, v in os.environ.items() if k in HELM_ENV_KEYS}
    return chart_sources(ctx.state_dir / "cache" / "charts", ctx.masker, the_helm, env, access, runner=ctx.runner)


def lock(ctx: Context, options: LockOptions) -> int:
    """Write helmkit.lock (or with ``check``, only say whether it is stale). Return the exit code."""
    instances = all_instances(ctx)
    previous = read_lock(ctx.repo)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh = compute_lock(repository_charts(instances), sources(ctx, instances), previous, now=now,
                         include_prerelease=options.include_prerelease)
    changes = describe_changes(previous, fresh)
    if options.check:
        if not changes:
            ctx.console.info(f"{LOCK_FILE} is up to date ({len(fresh.entries)} charts)")
            return EXIT_OK
        for line in changes:
            ctx.console.info(line)
        ctx.console.info(f"{LOCK_FILE} is stale: run `helmkit lock`")
        return EXIT_ERROR
    text = fresh.dump()
    path = ctx.repo / LOCK_FILE
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, text.encode(), mode=0o644, durable=True)
    for line in changes:
        ctx.console.info(line)
    ctx.console.info(f"wrote {LOCK_FILE} ({len(fresh.entries)} charts)")
    return EXIT_OK


def describe_changes(previous: LockFile | None, fresh: LockFile) -> list[str]:
    old = {e.key: e for e in previous.entries} if previous else {}
    new = {e.key: e for e in fresh.entries}
    lines: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        label = f"{key[1]} {key[2]} from {key[0]}"
        if key not in old:
            lines.append(f"+ {label}: {new[key].version}")
        elif key not in new:
            lines.append(f"- {label}: no longer used")
        elif old[key].version == new[key].version and old[key].digest != new[key].digest:
            lines.append(f"~ {label}: {new[key].version} has other content now (pushed again): "
                         f"{old[key].digest} -> {new[key].digest}")
        elif not old[key].same_resolution(new[key]):
            lines.append(f"~ {label}: {old[key].version} -> {new[key].version}")
    return lines


def _digest(digest: str) -> str:
    digest = digest.lower()
    return digest if digest.startswith("sha256:") else f"sha256:{digest}"
