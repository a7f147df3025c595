"""The order in which the steps of a wave are offered a free slot.

A step starts when its needs have succeeded and a slot is free; when several are ready, the
first in this order gets it. Two rules shorten a rollout on CPU-bound machines (helm processes
are CPU-hungry, so the executor runs only a few at once):

- **Steps that others need go first, in every cluster.** A release that others need (cert-manager
  before the charts whose certificates it issues) otherwise starts only when its cluster's turn
  comes: the last cluster's chain (the needed release, then its dependents) ran alone at the end
  of a 20-cluster sync, with CPUs idle.
- **Then cluster by cluster, heavier releases first** (``weight``: e.g. the size of the rendered
  manifest). A cluster is done, and its after-work starts, while the next ones still sync; its
  last steps are its light ones, which fill the slots at the end of the rollout.

Without weights the plan's order decides after the first rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from helmkit.plan.rollout import Step


def start_order(steps: Sequence[Step], weight: Mapping[str, float] | None = None) -> list[Step]:
    """``steps`` in the order they are offered a slot (see the module's rules)."""
    ids = {step.id for step in steps}
    needed = {need for step in steps for need in step.needs if need in ids}
    clusters: dict[str, int] = {}
    for step in steps:
        clusters.setdefault(step.cluster, len(clusters))
    weights = weight or {}
    index = {step.id: n for n, step in enumerate(steps)}

    def rank(step: Step) -> tuple[bool, int, float, int]:
        head = step.id in needed
        return (not head, 0 if head else clusters[step.cluster], -weights.get(step.id, 0.0), index[step.id])

    return sorted(steps, key=rank)
