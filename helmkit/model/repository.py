"""Loading the release repository: settings, releases, environments and cluster layers.

:func:`load_repository` reads every file with the hardened YAML loader, checks it against its
schema and the references between files (environment overrides of unknown releases, cluster
layers of unknown clusters, names), collects every problem, then raises one
:class:`~helmkit.errors.InputError` listing all of them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from helmkit.adapters.cache import ContentCache
from helmkit.errors import Collected, InputError, Location, Problem
from helmkit.model import names
from helmkit.model.instance import Cluster, Origin
from helmkit.model.schemas import SchemaSet, json_pointer
from helmkit.model.yamlfile import Path_, YamlDocument, load_yaml

SETTINGS_FILE = "helmkit.yaml"
DEFAULT_FIELDS: dict[str, Any] = {
    "namespace": "default",
    "enabled": True,
    "wait": True,
    "timeout": "5m",
    "atomic": True,
    "createNamespace": True,
    "historyMax": 10,
    "crds": "Create",
}


@dataclass
class Layer:
    """One layer's section about one release: its data and where it was written."""

    kind: str  # "defaults", "release", "environment", "cluster", "chart", "set"
    doc: YamlDocument
    prefix: Path_ = ()
    _origins: dict[Path_, Origin] = field(default_factory=dict, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        node: Any = self.doc.data
        for key in self.prefix:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}

    def location(self, path: Path_) -> Location:
        return self.doc.location((*self.prefix, *path))

    def origin(self, path: Path_) -> Origin:
        """The origin of the value at ``path`` inside this layer's section (memoised)."""
        found = self._origins.get(path)
        if found is None:
            found = self._origins[path] = Origin(self.kind, self.location(path))
        return found


@dataclass
class Settings:
    doc: YamlDocument
    helm_version: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    concurrency: int = 4
    kube_version: str | None = None
    repositories: dict[str, str] = field(default_factory=dict)  # name -> url
    ignore_differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def defaults_layer(self) -> Layer:
        return Layer("defaults", self.doc, ("defaults",))


@dataclass
class ReleaseSpec:
    name: str
    layer: Layer  # the base layer (the whole release file)


@dataclass
class ClusterSpec:
    cluster: Cluster
    location: Location
    overrides: dict[str, Layer] = field(default_factory=dict)  # release -> cluster layer
    layer_file: str | None = None


@dataclass
class Environment:
    name: str
    doc: YamlDocument
    clusters: list[ClusterSpec] = field(default_factory=list)
    overrides: dict[str, Layer] = field(default_factory=dict)  # release -> environment layer
    kube_version: str | None = None

    def cluster(self, name: str) -> ClusterSpec | None:
        return next((c for c in self.clusters if c.cluster.name == name), None)


@dataclass
class Repository:
    root: Path
    settings: Settings
    releases: dict[str, ReleaseSpec] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    schemas: SchemaSet | None = None
    unreadable: set[str] = field(default_factory=set)  # releases whose file has problems

    def display(self, path: Path) -> str:
        """``path`` relative to the repository root, as shown to people."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def closest(word: str, known: list[str]) -> str | None:
    """A hint naming the closest known word, or listing the known ones."""
    match = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if match:
        return f"did you mean `{match[0]}`?"
    return ("known: " + ", ".join(sorted(known))) if known else None


def load_repository(root: Path, schemas: SchemaSet | None = None) -> Repository:
    """Load and check every file of the repository at ``root``; raise one InputError listing all problems."""
    repo, problems = read_repository(root, schemas)
    if problems:
        raise InputError(problems)
    return repo


def read_repository(root: Path, schemas: SchemaSet | None = None) -> tuple[Repository, list[Problem]]:
    """Load what can be loaded and return it with every problem found (files with problems are left out).

    Raises InputError only when ``root`` is not a helmkit repository at all.
    """
    root = root.resolve()
    found = Collected()
    schemas = schemas or SchemaSet.load()
    state = root / ".helmkit" / "cache"  # made by the first command that kept anything: never created here
    known = ContentCache(state / "schema-checks") if state.is_dir() else None
    settings_path = root / SETTINGS_FILE
    if not settings_path.is_file():
        raise InputError(
            Problem(f"{root} is not a helmkit repository: no {SETTINGS_FILE}", Location(SETTINGS_FILE)),
            hint="run helmkit in the repository root or pass --repo PATH",
        )
    repo = Repository(root, Settings(YamlDocument(SETTINGS_FILE, {})), schemas=schemas)
    doc = _load(root, settings_path, "helmkit", "settings", schemas=schemas, found=found, known=known)
    if doc is not None:
        repo.settings = _settings(doc, found)
    for path in _yaml_files(root / "releases"):
        doc = _load(root, path, "release", "release", schemas=schemas, found=found, known=known)
        if doc is not None:
            _add_release(repo, path, doc, found)
        else:
            repo.unreadable.add(path.stem)
    env_dir = root / "environments"
    for path in _yaml_files(env_dir):
        doc = _load(root, path, "environment", "environment", schemas=schemas, found=found, known=known)
        if doc is not None:
            _add_environment(repo, path, doc, found)
    if env_dir.is_dir():
        for folder in sorted(p for p in env_dir.iterdir() if p.is_dir()):
            env = repo.environments.get(folder.name)
            if env is None and not (env_dir / f"{folder.name}.yaml").exists():
                found.add(Problem(
                    f"folder environments/{folder.name}/ has no environment file environments/{folder.name}.yaml",
                    Location(f"environments/{folder.name}"),
                    closest(folder.name, list(repo.environments)),
                ))
                continue
            for path in _yaml_files(folder / "clusters"):
                doc = _load(root, path, "cluster", "cluster", schemas=schemas, found=found, known=known)
                if doc is not None and env is not None:
                    _add_cluster_layer(repo, env, path, doc, found)
    return repo, found.problems


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _load(
    root: Path, path: Path, kind: str, layer: str, *, schemas: SchemaSet, found: Collected,
    known: ContentCache | None,
) -> YamlDocument | None:
    shown = path.relative_to(root).as_posix()
    try:
        doc = load_yaml(path, shown)
    except InputError as exc:
        for problem in exc.problems:
            found.add(problem)
        return None
    if doc.data is not None and not isinstance(doc.data, dict):
        found.add(Problem("the file must hold a map of keys", doc.location(()), None, "", layer))
        return None
    problems = schemas.check(kind, doc, layer, known=known)
    for problem in problems:
        found.add(problem)
    if doc.data is None:
        doc.data = {}
    return None if problems else doc


def _settings(doc: YamlDocument, found: Collected) -> Settings:
    data = doc.data
    settings = Settings(doc)
    settings.helm_version = (data.get("helm") or {}).get("version")
    if settings.helm_version is not None:
        from helmkit.model.versions import parse_constraint

        try:
            parse_constraint(settings.helm_version)
        except ValueError as exc:
            found.add(Problem(str(exc), doc.location(("helm", "version")), None, "/helm/version", "settings"))
    settings.defaults = dict(data.get("defaults") or {})
    settings.concurrency = int(data.get("concurrency", 4))
    settings.kube_version = data.get("kubeVersion")
    for index, entry in enumerate(data.get("repositories") or []):
        if entry["name"] in settings.repositories:
            found.add(Problem(
                f"repository `{entry['name']}` is defined twice",
                doc.location(("repositories", index)), None, json_pointer(("repositories", index)), "settings",
            ))
        settings.repositories[entry["name"]] = entry["url"]
    settings.ignore_differences = list(data.get("ignoreDifferences") or [])
    namespace = settings.defaults.get("namespace")
    if isinstance(namespace, str) and "${" not in namespace and (why := names.namespace_problem(namespace)):
        found.add(Problem(why, doc.location(("defaults", "namespace")), names.DNS_HINT, "/defaults/namespace",
                          "settings"))
    return settings


def _add_release(repo: Repository, path: Path, doc: YamlDocument, found: Collected) -> None:
    name = path.stem
    written = doc.data.get("name")
    if written is not None and written != name:
        found.add(Problem(
            f"release name `{written}` differs from its file name `{path.name}`",
            doc.location(("name",)), f"rename the file to {written}.yaml or remove `name`", "/name", "release",
        ))
        repo.unreadable.add(name)
        return
    why = names.release_name_problem(name)
    if why:
        found.add(Problem(why, doc.location(()), names.DNS_HINT + f" (at most {names.RELEASE_MAX})", None, "release"))
        repo.unreadable.add(name)
        return
    if name in repo.releases:
        found.add(Problem(
            f"release `{name}` is defined twice ({repo.releases[name].layer.doc.file} and {doc.file})",
            doc.location(()), "keep one file per release", None, "release",
        ))
        return
    repo.releases[name] = ReleaseSpec(name, Layer("release", doc))


def _add_environment(repo: Repository, path: Path, doc: YamlDocument, found: Collected) -> None:
    name = path.stem
    data = doc.data
    written = data.get("name")
    if written is not None and written != name:
        found.add(Problem(
            f"environment name `{written}` differs from its file name `{path.name}`",
            doc.location(("name",)), f"rename the file to {written}.yaml or remove `name`", "/name", "environment",
        ))
        return
    why = names.dns_label_problem("environment", name)
    if why:
        found.add(Problem(why, doc.location(()), names.DNS_HINT, None, "environment"))
        return
    if name in repo.environments:
        found.add(Problem(f"environment `{name}` is defined twice", doc.location(()), None, None, "environment"))
        return
    env = Environment(name, doc, kube_version=data.get("kubeVersion"))
    for index, entry in enumerate(data.get("clusters") or []):
        where = doc.location(("clusters", index))
        if env.cluster(entry["name"]) is not None:
            found.add(Problem(
                f"cluster `{entry['name']}` is listed twice in environment `{name}`", where,
                None, json_pointer(("clusters", index)), "environment",
            ))
            continue
        for other in repo.environments.values():
            if other.cluster(entry["name"]) is not None:
                found.add(Problem(
                    f"cluster `{entry['name']}` is also in environment `{other.name}`", where,
                    "a cluster belongs to one environment", json_pointer(("clusters", index)), "environment",
                ))
        cluster = _declared_capabilities(Cluster(
            name=entry["name"],
            env=name,
            context=entry.get("context") or entry["name"],
            region=entry.get("region", ""),
            wave=entry.get("wave", 0),
            kube_version=entry.get("kubeVersion") or env.kube_version or repo.settings.kube_version,
            labels=dict(entry.get("labels") or {}),
        ), entry.get("capabilities") or data.get("capabilities"))
        env.clusters.append(ClusterSpec(cluster, where))
    env.overrides.update(_override_layers(repo, doc, found, owner=f"environment `{name}`", layer="environment"))
    repo.environments[name] = env


def _declared_capabilities(cluster: Cluster, declared: Any) -> Cluster:
    """The cluster with its declared ``capabilities`` (cluster layer > cluster entry > environment)."""
    if not isinstance(declared, dict):
        return cluster
    kube = declared.get("kubeVersion")
    return replace(cluster, kube_version=str(kube) if kube else cluster.kube_version,
                   api_versions=tuple(str(a) for a in declared.get("apiVersions") or []))


def _add_cluster_layer(repo: Repository, env: Environment, path: Path, doc: YamlDocument, found: Collected) -> None:
    spec = env.cluster(path.stem)
    if spec is None:
        found.add(Problem(
            f"cluster layer for `{path.stem}`, which is not a cluster of environment `{env.name}`",
            doc.location(()), closest(path.stem, [c.cluster.name for c in env.clusters]), None, "cluster",
        ))
        return
    spec.layer_file = doc.file
    spec.cluster = _declared_capabilities(spec.cluster, doc.data.get("capabilities"))
    spec.overrides.update(_override_layers(repo, doc, found, owner=f"cluster `{spec.cluster.name}`", layer="cluster"))


def _override_layers(repo: Repository, doc: YamlDocument, found: Collected, *, owner: str,
                     layer: str) -> dict[str, Layer]:
    """The ``releases:`` overrides of an environment or cluster file; an unknown release is a problem."""
    layers: dict[str, Layer] = {}
    for release in doc.data.get("releases") or {}:
        if release in repo.unreadable:
            continue
        if release not in repo.releases:
            found.add(Problem(
                f"{owner} overrides unknown release `{release}`",
                doc.location(("releases", release)), closest(release, list(repo.releases)),
                json_pointer(("releases", release)), layer,
            ))
            continue
        layers[release] = Layer(layer, doc, ("releases", release))
    return layers
