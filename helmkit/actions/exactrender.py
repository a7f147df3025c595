"""Charts that ``lookup`` the cluster: the manifest the real ``helm upgrade`` would apply.

``helm template`` answers every ``lookup`` with an empty map, so a chart that keeps a generated
password through ``lookup`` of its existing Secret renders a new one offline, and a chart that
refuses to upgrade without its current password (``PASSWORDS ERROR: You must provide your current
passwords when upgrading``) fails offline although the real upgrade succeeds. For a deployed
release whose chart (or a subchart) calls ``lookup``, and whose offline render failed or still
differs from Helm's record beyond the fields the chart generates, helmkit asks the cluster:
``helm template --dry-run=server`` with the offline render's own flags (capabilities, ``--is-upgrade``
for a chart that reads the release phase) renders with ``lookup`` answered by the cluster's
objects, and applies nothing. Its output replaces the offline render for that release in ``diff``,
``status``, ``drift`` and ``sync``'s decision. (``helm upgrade --dry-run=server`` renders the same
from the same inputs, but also decodes the current record and builds and validates both object
sets: 1.7 vs 0.7 CPU s for kube-prometheus-stack with helm 4.1, 0.40 vs 0.22 s for redis; and it
renders ``.Release.Revision`` as the next revision, where every offline render, and so every other
release's comparison, renders 1.)

Cost: one helm process per such release, only where the cheap offline comparison did not settle
it; a release in sync whose lookup-kept values match the record costs nothing. The values reach
helm on its stdin; the output holds secrets and is never cached. When the dry run fails too, the
offline result (or its error) stands.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from helmkit.actions.charttext import kept_traits
from helmkit.actions.render import RenderResult
from helmkit.adapters.helm import HelmClient, KubeTarget, values_yaml
from helmkit.adapters.helmstorage import HelmRelease
from helmkit.context import Context
from helmkit.errors import HelmkitError, InputError
from helmkit.model.instance import ReleaseInstance
from helmkit.plan.manifests import split_documents
from helmkit.plan.status import manifest_difference

RecordOf = Callable[[ReleaseInstance], HelmRelease | None]


def exact_renders(ctx: Context, helm: HelmClient, rendered: list[RenderResult], *, record_of: RecordOf,
                  target_of: Callable[[ReleaseInstance], KubeTarget]) -> list[RenderResult]:
    """``rendered`` with the results of lookup charts that need the cluster replaced by a server dry run."""
    traits = kept_traits(ctx.state_dir)

    def looks_up(chart: Path) -> bool:
        return traits.of(chart).looks_up

    wanted: list[tuple[int, Path, HelmRelease]] = []
    for index, result in enumerate(rendered):
        if result.settled:
            continue  # a verdict says it is in sync: nothing to render
        chart = result.chart or result.instance.chart.path
        record = record_of(result.instance)
        if chart is None or record is None or record.status != "deployed" or not looks_up(chart):
            continue
        if result.error is None and not record_differs(result, record):
            continue
        wanted.append((index, chart, record))
    if not wanted:
        return rendered

    def one(item: tuple[int, Path, HelmRelease]) -> tuple[int, RenderResult]:
        index, chart, _ = item
        result = rendered[index]
        return index, dry_run(ctx, helm, result, chart, target_of(result.instance)) or result

    exact = list(rendered)
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(wanted))),
                            thread_name_prefix="helmkit-dry-run") as pool:
        for index, result in pool.map(one, wanted):
            exact[index] = result
    return exact


def dry_run(ctx: Context, helm: HelmClient, result: RenderResult, chart: Path,
            target: KubeTarget) -> RenderResult | None:
    """``result`` with the manifest its chart renders now with ``lookup`` answered by the cluster; None when
    that fails (or ``result`` was never given to helm)."""
    instance = result.instance
    if result.request is None:
        return None
    request = replace(result.request, chart=chart, include_crds=False, server=target)
    try:
        text = helm.template(request, values=values_yaml(_values(ctx, instance)))
    except HelmkitError as exc:
        ctx.console.debug(f"{instance.key}: helm template --dry-run=server failed, the offline render stands: "
                          f"{exc.message}")
        return None
    return replace(result, manifest=_with_crds(result.manifest, text), error=None, chart=chart)


def record_differs(result: RenderResult, record: HelmRelease) -> bool:
    """Whether ``result``'s objects differ from ``record``'s (beyond the fields the chart generates)."""
    if result.manifest is None:
        return True
    try:
        return manifest_difference(result.manifest, record.manifest, result.instance.namespace,
                                   result.generated) is not None
    except InputError:
        return False  # unreadable: the decision reports it


def _values(ctx: Context, instance: ReleaseInstance) -> dict[str, object]:
    if not instance.secrets:
        return dict(instance.values)
    from helmkit.model.secrets import apply_secrets, resolve_secrets

    resolved = resolve_secrets(instance, ctx.secret_stores)
    for value in resolved.values():
        ctx.masker.add(value)
    applied: dict[str, object] = apply_secrets(instance.values, resolved)
    return applied


def _with_crds(offline: str | None, server: str) -> str:
    """The server's manifest after the ``crds/`` documents of the offline render (a dry run prints none)."""
    if not offline:
        return server
    crds = [d for d in split_documents(offline) if d.from_crds_folder]
    if not crds:
        return server
    head = "".join(f"---\n# Source: {d.source}\n{_body(d.text)}\n" for d in crds)
    return head + (server if server.startswith("---") else "---\n" + server)


def _body(text: str) -> str:
    """A document's text without its leading ``---`` line."""
    return text.split("\n", 1)[1] if text.startswith("---") else text
