"""``helmkit graph`` output: the `needs` DAG of each cluster and its rollout levels.

Clusters whose graphs are identical are shown together. Formats: ``text`` (waves, clusters,
levels), ``dot`` (Graphviz) and ``mermaid`` (a flowchart, renders in GitHub markdown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMATS = ("text", "dot", "mermaid")


@dataclass(frozen=True)
class ClusterGraph:
    clusters: tuple[str, ...]  # clusters sharing this graph, in rollout order
    waves: tuple[int, ...]
    edges: tuple[tuple[str, str], ...]  # (release, needed release)
    levels: tuple[tuple[str, ...], ...]


def render_graph(env: str, graphs: list[ClusterGraph], fmt: str) -> str:
    if fmt == "dot":
        return _dot(env, graphs)
    if fmt == "mermaid":
        return _mermaid(graphs)
    return _text(env, graphs)


def _text(env: str, graphs: list[ClusterGraph]) -> str:
    lines = [f"environment {env}"]
    for graph in graphs:
        waves = sorted(set(graph.waves))
        wave_text = f"wave {waves[0]}" if len(waves) == 1 else "waves " + ", ".join(map(str, waves))
        lines.append("")
        noun = "cluster" if len(graph.clusters) == 1 else "clusters"
        lines.append(f"{noun} {', '.join(graph.clusters)} ({wave_text})")
        needs: dict[str, list[str]] = {}
        for release, dep in graph.edges:
            needs.setdefault(release, []).append(dep)
        for index, level in enumerate(graph.levels, start=1):
            lines.append(f"  level {index}")
            for release in level:
                after = f"  ← {', '.join(needs[release])}" if release in needs else ""
                lines.append(f"    {release}{after}")
        if not graph.levels:
            lines.append("  (no enabled releases)")
    return "\n".join(lines)


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _dot(env: str, graphs: list[ClusterGraph]) -> str:
    lines = [f'digraph "{env}" {{', "  rankdir=LR;", "  node [shape=box];"]
    for index, graph in enumerate(graphs):
        prefix = f"g{index}"
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label="{", ".join(graph.clusters)}";')
        for level in graph.levels:
            for release in level:
                lines.append(f'    {prefix}_{_ident(release)} [label="{release}"];')
        for release, dep in graph.edges:
            lines.append(f"    {prefix}_{_ident(dep)} -> {prefix}_{_ident(release)};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _mermaid(graphs: list[ClusterGraph]) -> str:
    lines = ["flowchart LR"]
    for index, graph in enumerate(graphs):
        prefix = f"g{index}"
        lines.append(f'  subgraph {prefix}["{", ".join(graph.clusters)}"]')
        for level in graph.levels:
            for release in level:
                lines.append(f'    {prefix}_{_ident(release)}["{release}"]')
        for release, dep in graph.edges:
            lines.append(f"    {prefix}_{_ident(dep)} --> {prefix}_{_ident(release)}")
        lines.append("  end")
    return "\n".join(lines)
