"""``helmkit graph --env E``: the `needs` graph of each cluster and its rollout levels."""

from __future__ import annotations

from dataclasses import dataclass

from helmkit.context import Context
from helmkit.errors import InputError
from helmkit.model.gates import gates_of
from helmkit.model.repository import load_repository
from helmkit.model.resolve import resolve_environment
from helmkit.output.gates_view import render_wave_gates
from helmkit.output.graph_view import ClusterGraph, render_graph


@dataclass
class GraphOptions:
    env: str
    cluster: str | None = None
    fmt: str = "text"


def cluster_graphs(ctx: Context, options: GraphOptions) -> list[ClusterGraph]:
    """One entry per distinct graph; clusters with the same graph share it (in rollout order)."""
    repo = load_repository(ctx.repo)
    resolution = resolve_environment(repo, options.env, cluster=options.cluster)
    if resolution.problems:
        raise InputError(resolution.problems)
    environment = repo.environments[options.env]
    waves = {c.cluster.name: c.cluster.wave for c in environment.clusters}
    Shape = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, ...], ...]]
    grouped: dict[Shape, list[str]] = {}
    for name, graph in resolution.graphs.items():
        shape: Shape = (tuple(graph.edges()), tuple(tuple(level) for level in graph.levels()))
        grouped.setdefault(shape, []).append(name)
    result = []
    for (edges, levels), clusters in grouped.items():
        result.append(ClusterGraph(tuple(clusters), tuple(waves[c] for c in clusters), edges, levels))
    return result


def run_graph(ctx: Context, options: GraphOptions) -> int:
    ctx.console.print(render_graph(options.env, cluster_graphs(ctx, options), options.fmt))
    if options.fmt == "text" and (gates := _gates_text(ctx, options.env)):
        ctx.console.print("\n" + gates)
    return 0


def _gates_text(ctx: Context, env: str) -> str:
    """The rollout gates after each wave (problems with them are validate's and sync's to report)."""
    repo = load_repository(ctx.repo)
    policy, _ = gates_of(repo, env)
    waves: dict[int, list[str]] = {}
    for spec in sorted(repo.environments[env].clusters, key=lambda c: (c.cluster.wave, c.cluster.name)):
        waves.setdefault(spec.cluster.wave, []).append(spec.cluster.name)
    return render_wave_gates(policy, sorted(waves.items()))
