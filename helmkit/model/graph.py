"""The `needs` graph of the enabled releases of one cluster, and its rollout levels.

- A `needs` naming a release that does not exist is an error at the file:line where the
  `needs` list was written (with the closest known name).
- A `needs` naming a release that exists but is disabled on this cluster is a warning and the
  edge is dropped: like a helmfile release with ``installed: false``, a disabled dependency is
  simply not waited for, so an environment can switch off an add-on without rewriting the
  `needs` of every release that uses it.
- A cycle is an error printing its path (``a → b → c → a``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from helmkit.errors import Location, Problem
from helmkit.model.instance import ReleaseInstance


@dataclass
class NeedsGraph:
    cluster: str
    needs: dict[str, list[str]] = field(default_factory=dict)  # release -> releases it needs (kept ones)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def levels(self) -> list[list[str]]:
        """Rollout levels: each level needs only releases of earlier levels (names sorted)."""
        remaining = {name: set(deps) for name, deps in self.needs.items()}
        levels: list[list[str]] = []
        while remaining:
            ready = sorted(name for name, deps in remaining.items() if not deps)
            if not ready:  # a cycle: reported in problems; put the rest last
                levels.append(sorted(remaining))
                break
            levels.append(ready)
            for name in ready:
                del remaining[name]
            for deps in remaining.values():
                deps.difference_update(ready)
        return levels

    def order(self) -> list[str]:
        return [name for level in self.levels() for name in level]

    def edges(self) -> list[tuple[str, str]]:
        """(release, needed release) pairs, sorted."""
        return sorted((name, dep) for name, deps in self.needs.items() for dep in deps)


def needs_location(instance: ReleaseInstance) -> Location | None:
    origin = instance.provenance.get(("$field", "needs"))
    return origin.location if origin else instance.source


def build_graph(cluster: str, instances: list[ReleaseInstance], all_releases: set[str]) -> NeedsGraph:
    """The graph of ``instances`` (one cluster; disabled ones are kept out of the graph)."""
    graph = NeedsGraph(cluster)
    enabled = {i.name: i for i in instances if i.enabled}
    disabled = {i.name for i in instances if not i.enabled}
    for name, instance in sorted(enabled.items()):
        kept: list[str] = []
        for dep in instance.needs:
            where = needs_location(instance)
            if dep == name:
                graph.problems.append(Problem(f"release `{name}` needs itself", where, "remove it from `needs`"))
            elif dep in enabled:
                kept.append(dep)
            elif dep in disabled:
                graph.warnings.append(Problem(
                    f"release `{name}` needs `{dep}`, which is disabled on cluster {cluster}; not waiting for it",
                    where, f"enable `{dep}` or remove it from the `needs` of `{name}`",
                ))
            elif dep not in all_releases:
                match = difflib.get_close_matches(dep, sorted(all_releases), n=1, cutoff=0.6)
                graph.problems.append(Problem(
                    f"release `{name}` needs unknown release `{dep}`", where,
                    f"did you mean `{match[0]}`?" if match else "known: " + ", ".join(sorted(all_releases)),
                ))
        graph.needs[name] = kept
    for cycle in _cycles(graph.needs):
        first = enabled[cycle[0]]
        graph.problems.append(Problem(
            f"`needs` cycle on cluster {cluster}: " + " → ".join([*cycle, cycle[0]]),
            needs_location(first),
            "remove one of these `needs` so the releases can be ordered",
        ))
    return graph


def _cycles(needs: dict[str, list[str]]) -> list[list[str]]:
    """One path for each cycle found by an iterative depth-first search (no recursion)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(needs, white)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(needs):
        if colour[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        colour[start] = grey
        while stack:
            node, index = stack[-1]
            deps = needs[node]
            if index < len(deps):
                stack[-1] = (node, index + 1)
                dep = deps[index]
                if colour[dep] == grey:
                    cycle = path[path.index(dep):]
                    if frozenset(cycle) not in seen:
                        seen.add(frozenset(cycle))
                        cycles.append(cycle)
                elif colour[dep] == white:
                    colour[dep] = grey
                    stack.append((dep, 0))
                    path.append(dep)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return cycles
