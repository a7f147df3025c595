"""After a sync: the rendering the next run compares, for charts whose install rendering says nothing of it.

A sync keeps each deployed release's verdict under the render key of what helm rendered
(:func:`helmkit.actions.verdicts.keep_after_sync`), so the next run starts no helm process. Two
kinds of chart make the next run's rendering another one than the sync's:

- a chart whose templates read ``.Release.IsInstall`` / ``.Release.IsUpgrade`` was rendered as an
  install; the next run renders it as an upgrade (another render key; kube-prometheus-stack's
  webhook ``failurePolicy: IgnoreOnInstallOnly`` is ``Ignore`` on install, ``Fail`` after);
- a chart that ``lookup``s the cluster rendered against the cluster before the sync (its own
  Secret not there yet); the next run asks the cluster what an upgrade renders now
  (:mod:`helmkit.actions.exactrender`).

For those, right after the sync deployed them, helmkit renders what the next run compares: ``helm
template --is-upgrade`` against the API versions the cluster serves after the sync (kept in the
render cache, where the next run finds it), or, for a chart that looks up, the same ``helm template``
with ``--dry-run=server`` (``lookup`` answered by the cluster; never cached). Where that rendering
equals the new record, the verdict is kept under the next run's render key. At most one helm
process per such release deployed (one ``helm template`` serves every cluster with the same
inputs), spent by the sync that changed it instead of the next run: a sync right after a sync
starts none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helmkit.actions.capabilities import RenderTarget
from helmkit.actions.exactrender import dry_run, record_differs
from helmkit.actions.render import RenderResult, render_instances
from helmkit.adapters.discovery import Capabilities
from helmkit.adapters.helm import HelmClient, KubeTarget
from helmkit.adapters.helmstorage import HelmRelease
from helmkit.context import Context
from helmkit.model.instance import ReleaseInstance


@dataclass(frozen=True)
class Deployed:
    """A release a sync just deployed, with its new record (decoded) and whether its chart looks up."""

    instance: ReleaseInstance
    record: HelmRelease
    looks_up: bool


def next_run_keys(ctx: Context, helm: HelmClient, deployed: Sequence[Deployed],
                  after: Mapping[str, Capabilities]) -> dict[str, str]:
    """Release key -> the next run's render key, for each of ``deployed`` whose next rendering equals its record."""
    if not deployed:
        return {}

    def target(instance: ReleaseInstance) -> RenderTarget:
        return RenderTarget(after[instance.cluster.name], is_upgrade=True)

    offline = [d for d in deployed if not d.looks_up]
    online = [d for d in deployed if d.looks_up]
    found: dict[str, str] = {}
    if offline:
        results = render_instances(ctx, [d.instance for d in offline], helm=helm, targets=target)
        for item, result in zip(offline, results, strict=True):
            if result.key is not None and result.error is None and not record_differs(result, item.record):
                found[item.instance.key] = result.key
    if online:
        results = render_instances(ctx, [d.instance for d in online], helm=helm, targets=target,
                                   settle=lambda _: True)  # the render key and chart of each; no helm runs

        def exact(pair: tuple[Deployed, RenderResult]) -> RenderResult | None:
            item, result = pair
            if result.chart is None:
                return None
            kube = KubeTarget(item.instance.cluster.context, ctx.kubeconfig)
            return dry_run(ctx, helm, result, result.chart, kube)

        with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(online))),
                                thread_name_prefix="helmkit-next-render") as pool:
            for item, server in zip(online, pool.map(exact, zip(online, results, strict=True)), strict=True):
                if server is not None and server.key is not None and not record_differs(server, item.record):
                    found[item.instance.key] = server.key
    return found
