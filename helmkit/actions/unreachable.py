"""What to tell a person when a cluster cannot be reached: one error per cluster, with a hint.

A kubeconfig written by ``helmkit sandbox up`` points at local ports that only answer while the
sandbox runs; when such a cluster refuses the connection, the hint is the command that starts it
(``helmkit sandbox up --env ENV``) rather than "check the network".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from helmkit.adapters.kubeconfig import kubeconfig_paths
from helmkit.context import Context
from helmkit.errors import ClusterError, HelmkitError
from helmkit.model.instance import Cluster

UNREACHABLE_MARK = ": unreachable at "  # helmkit.adapters.kube: a connection that failed, not an API error


def explain_unreachable(ctx: Context, cluster: Cluster, error: HelmkitError) -> HelmkitError:
    """``error`` with the sandbox's command as its hint when the kubeconfig is the sandbox's."""
    if not isinstance(error, ClusterError) or UNREACHABLE_MARK not in f": {error.message}":
        return error
    if not uses_sandbox_kubeconfig(ctx):
        return error
    explained = ClusterError(error.message, hint=f"the sandbox is not running: helmkit sandbox up --env {cluster.env}")
    explained.cluster = error.cluster
    return explained


def cluster_error_text(cluster: str, error: HelmkitError) -> str:
    """``error: cluster NAME: what happened`` and its hint: the one message of an unreachable cluster."""
    text = error.render().removeprefix("error: ").removeprefix(f"cluster {cluster}: ")
    return f"error: cluster {cluster}: {text}"


def report_unreachable(ctx: Context, errors: Mapping[str, HelmkitError]) -> None:
    """One error per cluster on stderr, sorted by cluster."""
    for cluster, error in sorted(errors.items()):
        ctx.console.info(cluster_error_text(cluster, error))


def uses_sandbox_kubeconfig(ctx: Context) -> bool:
    sandbox = _resolved(ctx.state_dir / "sandbox" / "kubeconfig")
    return any(_resolved(path) == sandbox for path in kubeconfig_paths(ctx.kubeconfig))


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
