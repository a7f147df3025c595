"""Which release instances a set of changed files affects, and how (added, removed, renamed, changed).

From each changed path (both sides of a rename) a :class:`Scope` is derived:

===================================================  =============================================
changed path                                         affected instances
===================================================  =============================================
``helmkit.yaml``, ``helmkit.lock``, ``schemas/...``  all of them
``releases/<name>.yaml``                             release ``<name>`` on every env and cluster
``environments/<env>.yaml``                          every instance of ``<env>``
``environments/<env>/clusters/<cluster>.yaml``       every instance of that cluster
a values file (``valuesFiles`` of any layer)         the releases whose layer references it (that
                                                     layer's env/cluster only)
a file in a local chart (or a ``file://`` dep)       the instances using that chart
anything else (docs, code)                           none
===================================================  =============================================

Instances are matched on both revisions: an instance only at the head is ``added``, one only at
the base is ``removed`` (a release deleted, disabled, or a cluster dropped), a release file renamed
gives ``renamed`` instances (old name at the base, new name at the head), and the rest ``changed``
(rendering decides whether anything really changed).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from helmkit.adapters.gitrepo import Change
from helmkit.errors import InputError, Problem
from helmkit.model.instance import ReleaseInstance
from helmkit.model.repository import Layer, Repository
from helmkit.model.resolve import resolve_environment
from helmkit.model.yamlfile import load_yaml

Kind = Literal["added", "removed", "renamed", "changed"]
GLOBAL_FILES = ("helmkit.yaml", "helmkit.yml", "helmkit.lock")
GLOBAL_FOLDERS = ("schemas/",)
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Scope:
    """A set of instances named by a changed file (None: any)."""

    reason: str
    env: str | None = None
    cluster: str | None = None
    release: str | None = None
    path: str | None = None  # a changed file: instances whose local chart folders hold it
    everything: bool = False

    def matches(self, instance: ReleaseInstance, chart_dirs: Iterable[str]) -> bool:
        if self.everything:
            return True
        if self.path is not None:
            return any(self.path == d or self.path.startswith(d + "/") for d in chart_dirs)
        return (
            (self.env is None or self.env == instance.env)
            and (self.cluster is None or self.cluster == instance.cluster.name)
            and (self.release is None or self.release == instance.name)
        )


@dataclass
class Side:
    """One revision of the release repository and its (enabled) instances over all environments."""

    repo: Repository
    instances: list[ReleaseInstance] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    complete: bool = True  # every instance resolved (else only candidates of some scopes)

    @classmethod
    def resolve(cls, repo: Repository, *, envs: set[str] | None = None, releases: set[str] | None = None) -> Side:
        """Resolve every environment, or only ``envs`` and ``releases`` (the others count as known names)."""
        side = cls(repo, complete=envs is None and releases is None)
        view = repo
        if releases is not None:
            view = replace(repo, releases={n: s for n, s in repo.releases.items() if n in releases},
                           unreadable=repo.unreadable | (set(repo.releases) - releases))
        for env in sorted(repo.environments):
            if envs is not None and env not in envs:
                continue
            try:
                resolution = resolve_environment(view, env)
            except InputError as exc:
                side.problems.extend(exc.problems)
                continue
            side.instances.extend(resolution.instances)
            side.problems.extend(resolution.problems)
            side.warnings.extend(resolution.warnings)
        return side


@dataclass
class AffectedInstance:
    env: str
    cluster: str
    release: str
    kind: Kind
    base: ReleaseInstance | None
    head: ReleaseInstance | None
    reasons: tuple[str, ...] = ()
    renamed_from: str | None = None

    @property
    def key(self) -> str:
        return f"{self.env}/{self.cluster}/{self.release}"


@dataclass
class AffectedSet:
    instances: list[AffectedInstance] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    head: Side | None = None
    base: Side | None = None

    @property
    def everything(self) -> bool:
        return any(s.everything for s in self.scopes)

    def head_instances(self) -> list[ReleaseInstance]:
        return [a.head for a in self.instances if a.head is not None]

    def base_instances(self) -> list[ReleaseInstance]:
        return [a.base for a in self.instances if a.base is not None]

    def keys(self) -> dict[str, Kind]:
        return {a.key: a.kind for a in self.instances}


def path_scopes(changes: Iterable[Change], repos: Iterable[Repository], *, base_known: bool = True) -> list[Scope]:
    """The scopes named by ``changes`` (both paths of a rename); values files and charts looked up in ``repos``.

    A file of no chart, values file or layer affects nothing. Without the base revision
    (``base_known`` false), a file that is gone may have been part of a chart: it then counts as one.
    """
    repos = list(repos)
    scopes: list[Scope] = []
    for change in changes:
        for path, gone in ((change.path, change.status == "D"), (change.old_path, True)):
            if path:
                scopes.extend(_scopes_of(posixpath.normpath(path), repos, gone and not base_known))
    unique: dict[Scope, None] = dict.fromkeys(scopes)
    return list(unique)


def _scopes_of(path: str, repos: list[Repository], unknown: bool) -> Iterator[Scope]:
    parts = path.split("/")
    if path in GLOBAL_FILES or path.startswith(GLOBAL_FOLDERS):
        yield Scope(f"{path} (repository-wide)", everything=True)
        return
    stem, suffix = posixpath.splitext(parts[-1])
    is_yaml = suffix in YAML_SUFFIXES
    if len(parts) == 2 and parts[0] == "releases" and is_yaml:
        yield Scope(f"{path} (release)", release=stem)
        return
    if len(parts) == 2 and parts[0] == "environments" and is_yaml:
        yield Scope(f"{path} (environment)", env=stem)
        return
    if len(parts) == 4 and parts[0] == "environments" and parts[2] == "clusters" and is_yaml:
        yield Scope(f"{path} (cluster layer)", env=parts[1], cluster=stem)
        return
    for repo in repos:
        for layer, env, cluster, release in _layers(repo):
            for written in layer.data.get("valuesFiles") or []:
                if isinstance(written, str) and posixpath.normpath(written) == path:
                    yield Scope(f"{path} (values file of {layer.doc.file})", env=env, cluster=cluster, release=release)
    if unknown or _in_a_chart(path, repos):
        yield Scope(f"{path} (chart file)", path=path)


def _in_a_chart(path: str, repos: list[Repository]) -> bool:
    """Whether a folder holding ``path`` is a chart (has a Chart.yaml) in one of the revisions."""
    for parent in PurePosixPath(path).parents:
        if parent.parts and any((repo.root / parent / "Chart.yaml").is_file() for repo in repos):
            return True
    return False


def _layers(repo: Repository) -> Iterator[tuple[Layer, str | None, str | None, str]]:
    for name, spec in repo.releases.items():
        yield spec.layer, None, None, name
    for env in repo.environments.values():
        for name, layer in env.overrides.items():
            yield layer, env.name, None, name
        for cluster in env.clusters:
            for name, layer in cluster.overrides.items():
                yield layer, env.name, cluster.cluster.name, name


def candidates(scopes: list[Scope], repos: Iterable[Repository]) -> tuple[set[str] | None, set[str] | None]:
    """(environments, releases) that ``scopes`` can reach, None meaning all; releases include what they need.

    Resolving only these is enough to find the affected instances and to check their `needs`
    (cycles through them included): the releases they need, transitively, are resolved too.
    """
    if not scopes:
        return set(), set()
    if any(s.everything or s.path is not None for s in scopes):
        return None, None
    envs = None if any(s.env is None for s in scopes) else {s.env for s in scopes if s.env is not None}
    if any(s.release is None for s in scopes):
        return envs, None
    named = {s.release for s in scopes if s.release is not None}
    needs: dict[str, set[str]] = {}
    for repo in repos:
        for layer, _, _, release in _layers(repo):
            written = layer.data.get("needs")
            if isinstance(written, list):
                needs.setdefault(release, set()).update(str(n) for n in written)
    todo = list(named)
    while todo:
        for dep in needs.get(todo.pop(), ()):
            if dep not in named:
                named.add(dep)
                todo.append(dep)
    return envs, named


class ChartFolders:
    """The folders (relative to the repo root) whose files decide a local chart's output."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, tuple[str, ...]] = {}

    def of(self, instance: ReleaseInstance) -> tuple[str, ...]:
        path = instance.chart.path
        if path is None:
            return ()
        found = self._cache.get(path)
        if found is None:
            folders: list[str] = []
            self._walk(path.resolve(), folders, set())
            found = self._cache[path] = tuple(folders)
        return found

    def _walk(self, path: Path, folders: list[str], seen: set[Path]) -> None:
        if path in seen or not path.is_relative_to(self.root):
            return
        seen.add(path)
        folders.append(path.relative_to(self.root).as_posix())
        chart_file = path / "Chart.yaml"
        if not chart_file.is_file():
            return
        try:
            data = load_yaml(chart_file).data
        except InputError:
            return
        dependencies = data.get("dependencies") if isinstance(data, dict) else None
        for dependency in dependencies if isinstance(dependencies, list) else []:
            repository = dependency.get("repository") if isinstance(dependency, dict) else None
            if isinstance(repository, str) and repository.startswith("file://"):
                self._walk((path / repository[len("file://"):]).resolve(), folders, seen)


def affected_set(changes: list[Change], head_repo: Repository, base_repo: Repository | None = None) -> AffectedSet:
    """The instances of ``head_repo`` (and ``base_repo``) that ``changes`` affect, with kind and reasons.

    Only the environments and releases the changes can reach are resolved (see :func:`candidates`);
    the resolved sides, with their problems, are in the result.
    """
    repos = [head_repo] + ([base_repo] if base_repo is not None else [])
    scopes = path_scopes(changes, repos, base_known=base_repo is not None)
    envs, releases = candidates(scopes, repos)
    head = Side.resolve(head_repo, envs=envs, releases=releases)
    base = Side.resolve(base_repo, envs=envs, releases=releases) if base_repo is not None else None
    result = AffectedSet(scopes=scopes, head=head, base=base)
    if not scopes:
        return result
    head_hits = _matching(head, scopes)
    base_hits = _matching(base, scopes) if base is not None else {}
    renames = {
        posixpath.splitext(posixpath.basename(c.old_path))[0]: posixpath.splitext(posixpath.basename(c.path))[0]
        for c in changes
        if c.status == "R" and c.old_path and _is_release_file(c.old_path) and _is_release_file(c.path)
    }
    renamed_to = {new: old for old, new in renames.items()}
    consumed: set[tuple[str, str, str]] = set()
    entries: list[AffectedInstance] = []
    for key, (instance, reasons) in head_hits.items():
        env, cluster, release = key
        if base is None:
            entries.append(AffectedInstance(env, cluster, release, "changed", None, instance, reasons))
            continue
        old_key = (env, cluster, renamed_to.get(release, ""))
        if key in base_hits:
            before, more = base_hits[key]
            consumed.add(key)
            entries.append(AffectedInstance(env, cluster, release, "changed", before, instance,
                                            _merge(reasons, more)))
        elif old_key in base_hits and old_key not in head_hits:
            before, more = base_hits[old_key]
            consumed.add(old_key)
            entries.append(AffectedInstance(env, cluster, release, "renamed", before, instance,
                                            _merge(reasons, more), renamed_from=old_key[2]))
        else:
            base_instance = _find(base, key)
            if base_instance is not None:  # present at the base but no scope matched it there
                entries.append(AffectedInstance(env, cluster, release, "changed", base_instance, instance, reasons))
            else:
                entries.append(AffectedInstance(env, cluster, release, "added", None, instance, reasons))
    for key, (instance, reasons) in base_hits.items():
        if key in consumed:
            continue
        head_instance = _find(head, key)
        kind: Kind = "changed" if head_instance is not None else "removed"
        if head_instance is not None and key in head_hits:
            continue
        entries.append(AffectedInstance(*key, kind, instance, head_instance, reasons))
    order = {(i.env, i.cluster.name): (i.cluster.wave, i.cluster.name) for i in head.instances}
    if base is not None:
        for i in base.instances:
            order.setdefault((i.env, i.cluster.name), (i.cluster.wave, i.cluster.name))
    entries.sort(key=lambda a: (a.env, order.get((a.env, a.cluster), (0, a.cluster)), a.release))
    result.instances = entries
    return result


def _matching(side: Side, scopes: list[Scope]) -> dict[tuple[str, str, str], tuple[ReleaseInstance, tuple[str, ...]]]:
    folders = ChartFolders(side.repo.root)
    hits: dict[tuple[str, str, str], tuple[ReleaseInstance, tuple[str, ...]]] = {}
    for instance in side.instances:
        dirs = folders.of(instance) if any(s.path is not None for s in scopes) else ()
        reasons = tuple(s.reason for s in scopes if s.matches(instance, dirs))
        if reasons:
            hits[(instance.env, instance.cluster.name, instance.name)] = (instance, reasons)
    return hits


def _find(side: Side, key: tuple[str, str, str]) -> ReleaseInstance | None:
    return next((i for i in side.instances if (i.env, i.cluster.name, i.name) == key), None)


def _merge(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(first + second))


def _is_release_file(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and parts[0] == "releases" and posixpath.splitext(parts[1])[1] in YAML_SUFFIXES
