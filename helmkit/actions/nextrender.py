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

For those, right after the sync deployed them, helmkit renders what the next run compares, as
the next run would (:func:`helmkit.actions.exactrender.exact_renders`): ``helm template
--is-upgrade`` against the API versions the cluster serves after the sync (kept in the render
cache, where the next run finds it; one ``helm template`` serves every cluster with the same
inputs; for a chart that generates values, once: where the sync's own rendering had helm's
inputs, it and the new record, two renderings of one input, tell the generated fields), and where
that differs from the new record beyond the fields the chart generates and the chart looks up,
the same ``helm template`` with ``--dry-run=server`` (``lookup`` answered by the cluster; never
cached). Where the rendering equals the new record, the verdict is kept under
the next run's render key. A chart whose lookups only keep what it generates (grafana's admin
password in kube-prometheus-stack) is settled offline: one ``helm template`` per input (two
where the sync's rendering cannot tell the generated fields), not one dry run per cluster. The
cost is spent by the sync that changed the releases instead of the next run: a sync right after
a sync starts no helm process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from helmkit.actions.capabilities import RenderTarget
from helmkit.actions.exactrender import dry_run, record_differs
from helmkit.actions.render import RenderResult, render_instances
from helmkit.adapters.discovery import Capabilities
from helmkit.adapters.helm import HelmClient, KubeTarget
from helmkit.adapters.helmstorage import HelmRelease
from helmkit.context import Context
from helmkit.errors import HelmkitError
from helmkit.model.instance import ReleaseInstance
from helmkit.plan.generated import volatile_paths


@dataclass(frozen=True)
class Deployed:
    """A release a sync just deployed, with its new record (decoded) and whether its chart looks up."""

    instance: ReleaseInstance
    record: HelmRelease
    looks_up: bool
    install: str | None = None  # the sync's rendering, when helm's install rendered from the same input


def next_run_keys(ctx: Context, helm: HelmClient, deployed: Sequence[Deployed], after: Mapping[str, Capabilities],
                  *, failed: dict[str, HelmkitError] | None = None) -> dict[str, str]:
    """Release key -> the next run's render key, for each of ``deployed`` whose next rendering equals its record.

    ``failed``: offline renderings that failed earlier in the run, by render key (read and filled):
    a chart that fails offline on every cluster (bitnami's ``PASSWORDS ERROR``) is tried once."""
    if not deployed:
        return {}

    installs = {d.instance.key: d.install for d in deployed if d.install is not None}

    def target(instance: ReleaseInstance) -> RenderTarget:
        return RenderTarget(after[instance.cluster.name], is_upgrade=True, compared=instance.key not in installs)

    found: dict[str, str] = {}
    asked: list[tuple[Deployed, RenderResult]] = []  # charts that look up, where the offline rendering says no
    results = render_instances(ctx, [d.instance for d in deployed], helm=helm, targets=target, failed=failed)
    for item, rendered in zip(deployed, results, strict=True):
        result = rendered
        if item.install is not None and rendered.manifest is not None and not rendered.generated:
            result = replace(rendered, generated=volatile_paths(item.install, item.record.manifest,
                                                                item.instance.namespace))
        if result.key is not None and result.error is None and not record_differs(result, item.record):
            found[item.instance.key] = result.key  # the next run's offline comparison settles it, as here
        elif item.looks_up and result.chart is not None:
            asked.append((item, result))

    def exact(pair: tuple[Deployed, RenderResult]) -> RenderResult | None:
        item, result = pair
        assert result.chart is not None
        return dry_run(ctx, helm, result, result.chart, KubeTarget(item.instance.cluster.context, ctx.kubeconfig))

    if asked:
        with ThreadPoolExecutor(max_workers=max(1, min(ctx.concurrency, len(asked))),
                                thread_name_prefix="helmkit-next-render") as pool:
            for (item, _), server in zip(asked, pool.map(exact, asked), strict=True):
                if server is not None and server.key is not None and not record_differs(server, item.record):
                    found[item.instance.key] = server.key
    return found
