"""From the repository to release instances: one per release x cluster of an environment.

:func:`resolve_environment` layers fields and values (see :mod:`helmkit.model.layering`),
interpolates, finds secret references, resolves chart references and values files (inside the
repository only), checks names, builds each cluster's `needs` graph, and returns everything
with all problems and warnings. :func:`resolve_instances` raises one InputError if any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helmkit.errors import InputError, Location, Problem
from helmkit.model import names
from helmkit.model.chartref import ChartResolver
from helmkit.model.graph import NeedsGraph, build_graph
from helmkit.model.instance import Origin, ReleaseInstance
from helmkit.model.interpolation import interpolate_text, interpolate_values
from helmkit.model.layering import merge, parse_set
from helmkit.model.paths import CONTAINMENT_HINT, contained_path
from helmkit.model.repository import DEFAULT_FIELDS, ClusterSpec, Environment, Layer, Repository, closest
from helmkit.model.secrets import find_secret_refs, is_sops_document, sops_values
from helmkit.model.selectors import Selector, no_match_error
from helmkit.model.yamlfile import Path_, load_yaml

FIELDS = ("chart", "namespace", "enabled", "needs", "labels", "wait", "timeout", "atomic", "createNamespace",
          "historyMax", "ignoreDifferences", "crds")
LAYER_ORDER = ("chart", "defaults", "release", "environment", "cluster", "set")


@dataclass
class Resolution:
    """Instances of one environment (sorted for rollout) with their graphs, problems and warnings."""

    env: str
    instances: list[ReleaseInstance] = field(default_factory=list)
    graphs: dict[str, NeedsGraph] = field(default_factory=dict)  # cluster -> graph
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def resolve_instances(
    repo: Repository,
    env: str,
    *,
    cluster: str | None = None,
    selector: Selector | None = None,
    set_values: list[str] | None = None,
    include_disabled: bool = False,
) -> list[ReleaseInstance]:
    """The release instances of ``env`` (sorted by wave, cluster, needs order); raise InputError on problems."""
    resolution = resolve_environment(
        repo, env, cluster=cluster, selector=selector, set_values=set_values, include_disabled=include_disabled
    )
    if resolution.problems:
        raise InputError(resolution.problems)
    return resolution.instances


def environment_of(repo: Repository, env: str) -> Environment:
    found = repo.environments.get(env)
    if found is None:
        known = sorted(repo.environments)
        raise InputError(Problem(
            f"unknown environment `{env}`", Location("--env"),
            closest(env, known) or "no environments: add environments/<env>.yaml",
        ))
    return found


def resolve_environment(
    repo: Repository,
    env: str,
    *,
    cluster: str | None = None,
    selector: Selector | None = None,
    set_values: list[str] | None = None,
    include_disabled: bool = False,
) -> Resolution:
    environment = environment_of(repo, env)
    clusters = environment.clusters
    if cluster is not None:
        spec = environment.cluster(cluster)
        if spec is None:
            known = [c.cluster.name for c in clusters]
            raise InputError(Problem(
                f"unknown cluster `{cluster}` in environment `{env}`", Location("--cluster"),
                closest(cluster, known),
            ))
        clusters = [spec]
    set_layer = _set_layer(set_values or [])
    resolver = _Resolver(repo)
    resolution = Resolution(env)
    problems: list[Problem] = []
    ranked: list[tuple[tuple[int, str, int], ReleaseInstance]] = []
    seen: list[dict[str, str]] = []
    matched = 0
    for spec in sorted(clusters, key=lambda c: (c.cluster.wave, c.cluster.name)):
        built = [
            resolver.instance(environment, spec, name, set_layer, problems) for name in sorted(repo.releases)
        ]
        instances = [i for i in built if i is not None]
        graph = build_graph(spec.cluster.name, instances, set(repo.releases) | repo.unreadable)
        resolution.graphs[spec.cluster.name] = graph
        problems.extend(graph.problems)
        resolution.warnings.extend(graph.warnings)
        position = {name: index for index, name in enumerate(graph.order())}
        for instance in instances:
            instance.needs = list(graph.needs.get(instance.name, instance.needs))
            if selector is not None:
                labels = instance_labels(instance)
                seen.append(labels)
                if not selector.matches(labels):
                    continue
                matched += 1
            if not instance.enabled and not include_disabled:
                continue
            rank = position.get(instance.name, len(position))
            ranked.append(((spec.cluster.wave, spec.cluster.name, rank), instance))
    ranked.sort(key=lambda item: (item[0], item[1].name))
    resolution.instances = [instance for _, instance in ranked]
    resolution.problems = unique_problems(problems)
    resolution.warnings = unique_problems(resolution.warnings)
    if selector is not None and not matched and not selector.allow_empty and not resolution.problems:
        raise no_match_error(selector, seen, f"environment `{env}`" + (f", cluster `{cluster}`" if cluster else ""))
    return resolution


def instance_labels(instance: ReleaseInstance) -> dict[str, str]:
    """The labels selectors see: the release's own plus name, namespace, chart, env, cluster."""
    chart = instance.chart.path.name if instance.chart.path is not None else (instance.chart.name or "")
    return {
        **instance.labels,
        "name": instance.name,
        "namespace": instance.namespace,
        "chart": chart,
        "env": instance.env,
        "cluster": instance.cluster.name,
    }


def unique_problems(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    result = []
    for problem in problems:
        key = (problem.message, str(problem.location))
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def _set_layer(assignments: list[str]) -> tuple[dict[str, Any], Callable[[Path_], Origin]] | None:
    if not assignments:
        return None
    overlay, written = parse_set(assignments)

    def origin_of(path: Path_) -> Origin:
        for size in range(len(path), 0, -1):
            if path[:size] in written:
                return Origin("set", Location(f"--set {written[path[:size]]}"))
        return Origin("set", Location("--set"))

    return overlay, origin_of


class _Resolver:
    """Resolves instances of one run, reading each values file and chart once."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.values_files: dict[tuple[str, str], Layer | Problem] = {}
        self.charts = ChartResolver(repo)
        self.builtin = Origin("defaults")

    def layers(self, env: Environment, spec: ClusterSpec, name: str) -> list[Layer]:
        layers = [self.repo.releases[name].layer]
        if name in env.overrides:
            layers.append(env.overrides[name])
        if name in spec.overrides:
            layers.append(spec.overrides[name])
        return layers

    def instance(
        self,
        env: Environment,
        spec: ClusterSpec,
        name: str,
        set_layer: tuple[dict[str, Any], Callable[[Path_], Origin]] | None,
        problems: list[Problem],
    ) -> ReleaseInstance | None:
        cluster = spec.cluster
        layers = self.layers(env, spec, name)
        field_prov: dict[Path_, Origin] = {}
        fields: dict[str, Any] = {}
        for key, value in DEFAULT_FIELDS.items():
            fields[key] = value
            field_prov[(key,)] = self.builtin
        defaults = self.repo.settings.defaults_layer
        for layer in [defaults, *layers]:
            overlay = {k: v for k, v in layer.data.items() if k in FIELDS}
            fields = merge(fields, overlay, field_prov, layer.origin)
        values: dict[str, Any] = {}
        value_prov: dict[Path_, Origin] = {}
        for layer in layers:
            for index, written in enumerate(layer.data.get("valuesFiles") or []):
                loaded = self.values_file(written, layer, index)
                if isinstance(loaded, Problem):
                    problems.append(loaded)
                    continue
                values = merge(values, loaded.data, value_prov, loaded.origin)
            inline = layer.data.get("values") or {}
            values = merge(values, inline, value_prov, _values_origin(layer))
        if set_layer is not None:
            values = merge(values, set_layer[0], value_prov, set_layer[1])

        def field_at(*path: str | int) -> Location | None:
            return _closest(field_prov, tuple(path))

        variables = {"env.name": env.name, "cluster.name": cluster.name, "cluster.region": cluster.region,
                     "release.name": name}
        namespace_raw = fields.get("namespace") or DEFAULT_FIELDS["namespace"]
        namespace = interpolate_text(str(namespace_raw), variables, lambda: field_at("namespace"), problems)
        why = names.namespace_problem(namespace)
        if why:
            problems.append(Problem(f"release `{name}`: {why}", field_at("namespace"), names.DNS_HINT))
        variables["release.namespace"] = namespace
        values = interpolate_values(values, variables, lambda p: _closest(value_prov, p), problems)
        labels: dict[str, str] = {}
        for key, value in (fields.get("labels") or {}).items():
            if value is None:
                continue
            text = interpolate_text(str(value), variables, _label_where(field_prov, key), problems)
            why = names.label_problem(str(key), text)
            if why:
                problems.append(Problem(f"release `{name}`: {why}", field_at("labels", key)))
            labels[str(key)] = text
        secrets = find_secret_refs(values, lambda p: _closest(value_prov, p), problems)
        chart = self.charts.chart_ref(fields.get("chart") or {}, name, _field_locator(field_prov), problems)
        if chart is None:
            return None
        provenance: dict[tuple[str | int, ...], Origin] = dict(value_prov)
        for path, origin in field_prov.items():
            provenance[("$field", ".".join(map(str, path)))] = origin
        for key in FIELDS:
            if ("$field", key) not in provenance:
                below = [o for p, o in field_prov.items() if p[0] == key]
                if below:
                    provenance[("$field", key)] = max(below, key=lambda o: LAYER_ORDER.index(o.layer))
        return ReleaseInstance(
            env=env.name,
            cluster=cluster,
            name=name,
            namespace=namespace,
            chart=chart,
            values=values,
            secrets=secrets,
            needs=[str(n) for n in fields.get("needs") or []],
            labels=labels,
            enabled=_flag(fields, "enabled"),
            wait=_flag(fields, "wait"),
            timeout=str(fields.get("timeout") or DEFAULT_FIELDS["timeout"]),
            atomic=_flag(fields, "atomic"),
            create_namespace=_flag(fields, "createNamespace"),
            history_max=int(fields.get("historyMax") or 0) if fields.get("historyMax") is not None else 10,
            crds=str(fields.get("crds") or DEFAULT_FIELDS["crds"]),
            ignore_differences=[dict(rule) for rule in fields.get("ignoreDifferences") or [] if isinstance(rule, dict)],
            provenance=provenance,
            source=self.repo.releases[name].layer.location(()),
        )

    def values_file(self, written: str, layer: Layer, index: int) -> Layer | Problem:
        """The values file ``written`` (index ``index`` of ``layer``'s valuesFiles) as a layer of the same kind."""
        key = (layer.kind, written)
        cached = self.values_files.get(key)
        if cached is None:
            cached = self.values_files[key] = self._read_values_file(written, layer.kind, layer.location(
                ("valuesFiles", index)))
        return cached

    def _read_values_file(self, written: str, kind: str, where: Location) -> Layer | Problem:
        path, why = contained_path(self.repo.root, written)
        if path is None:
            return Problem(f"values file refused: {why}", where, CONTAINMENT_HINT)
        if not path.is_file():
            return Problem(
                f"values file {written!r} does not exist", where, "paths are relative to the repository root"
            )
        try:
            doc = load_yaml(path, self.repo.display(path))
        except InputError as exc:
            return exc.problems[0]
        if doc.data is None:
            doc.data = {}
        if not isinstance(doc.data, dict):
            return Problem("a values file must hold a map of keys", doc.location(()))
        if is_sops_document(doc.data):
            doc.data = sops_values(doc.data, written)  # each encrypted leaf: a ref+sops:// secret
        return Layer(kind, doc)


def _field_locator(field_prov: dict[Path_, Origin]) -> Callable[[Path_], Location | None]:
    def locate(path: Path_) -> Location | None:
        return _closest(field_prov, path)

    return locate


def _values_origin(layer: Layer) -> Callable[[Path_], Origin]:
    def origin_of(path: Path_) -> Origin:
        return layer.origin(("values", *path))

    return origin_of


def _label_where(field_prov: dict[Path_, Origin], key: str) -> Callable[[], Location | None]:
    def where() -> Location | None:
        return _closest(field_prov, ("labels", key))

    return where


def _flag(fields: dict[str, Any], key: str) -> bool:
    value = fields.get(key)
    return bool(DEFAULT_FIELDS[key] if value is None else value)


def _closest(provenance: dict[Path_, Origin], path: Path_) -> Location | None:
    probe = tuple(path)
    while probe:
        origin = provenance.get(probe)
        if origin is not None:
            return origin.location
        probe = probe[:-1]
    return None
