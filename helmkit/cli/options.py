"""Shared click options: ``--env``, ``--cluster``, ``-l/--selector``, ``-o/--output``, ``--set``, ``--kubeconfig``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from helmkit.cli.completion import complete_cluster, complete_env, complete_selector
from helmkit.model.shards import parse_shard

F = TypeVar("F", bound=Callable[..., Any])


def env_option(*, required: bool = True, multiple: bool = False) -> Callable[[F], F]:
    help_text = "Environment (environments/<env>.yaml)." + (" Repeat for several; default: all." if multiple else "")
    return click.option("--env", "-e", "env", required=required, multiple=multiple, metavar="ENV", help=help_text,
                        shell_complete=complete_env)


def cluster_option() -> Callable[[F], F]:
    return click.option("--cluster", "-c", "cluster", metavar="CLUSTER", help="Only this cluster of the environment.",
                        shell_complete=complete_cluster)


def selector_option() -> Callable[[F], F]:
    return click.option(
        "-l", "--selector", "selector", metavar="SELECTOR", shell_complete=complete_selector,
        help="Select releases by labels: key=value,key!=value,key,!key (labels name, namespace, chart, env, "
        "cluster are always set).",
    )


def format_option(choices: tuple[str, ...]) -> Callable[[F], F]:
    """``-o/--output FORMAT`` as in kubectl and helm (``--format`` is the same option)."""
    return click.option(
        "-o", "--output", "--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True,
        help="Output format.",
    )


def set_option() -> Callable[[F], F]:
    return click.option(
        "--set", "set_values", multiple=True, metavar="KEY.PATH=VALUE",
        help="Override a value on top of every layer (repeatable; not for secrets: use ref+env://).",
    )


def kubeconfig_option(help_text: str = "kubeconfig file to use.") -> Callable[[F], F]:
    return click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help=help_text)


def _set_shard(click_ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    from dataclasses import replace

    from helmkit.context import Context

    ctx = click_ctx.find_object(Context)
    shard = parse_shard(value)  # an InputError: "error: --shard: '5/4': ..." with a hint
    if ctx is not None:
        ctx.cluster_filter = replace(ctx.cluster_filter, shard=shard)


def shard_option() -> Callable[[F], F]:
    """``--shard I/N``: only the clusters of shard I of N (1-based; see docs/sharding.md)."""
    return click.option(
        "--shard", metavar="I/N", callback=_set_shard, expose_value=False,
        help="Only the clusters of shard I of N (1-based, e.g. 2/4; `helmkit list --shards N` shows them).",
    )
