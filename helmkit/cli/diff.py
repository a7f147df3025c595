"""`helmkit diff`."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from helmkit.actions.diff import DiffOptions, diff
from helmkit.actions.premerge import GitDiffOptions, run_git_diff
from helmkit.cli.options import (
    cluster_option,
    env_option,
    format_option,
    kubeconfig_option,
    selector_option,
    set_option,
    shard_option,
)
from helmkit.cli.premerge_options import git_base_options
from helmkit.context import Context
from helmkit.errors import InputError


@click.command("diff")
@env_option(required=False)
@cluster_option()
@selector_option()
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when anything differs (1 stays an error).")
@format_option(("text", "json", "markdown", "github"))
@click.option("--context", "context_lines", type=click.IntRange(min=0), default=3, show_default=True,
              help="Lines of context around each change.")
@click.option("--no-repair", is_flag=True,
              help="Do not read live objects: leave out the live drift that sync repairs (as sync --no-repair).")
@click.option("--show-secrets", is_flag=True,
              help="Show Secret data and secret values unmasked (text format on a terminal only; refused in CI).")
@kubeconfig_option()
@click.option("--concurrency", type=click.IntRange(min=1), help="helm template processes in parallel.")
@set_option()
@git_base_options()
@shard_option()
@click.pass_obj
def command(ctx: Context, *, env: str | None, cluster: str | None, selector: str | None, detailed_exitcode: bool,
            fmt: str, context_lines: int, no_repair: bool, show_secrets: bool, kubeconfig: Path | None,
            concurrency: int | None, set_values: tuple[str, ...], git_base: str | None, git_head: str | None,
            max_comment_chars: int) -> int:
    """Show what sync would change in each cluster: objects, hooks, chart and values (secrets masked),
    and live drift that sync repairs (what each field is restored to).

    With --git-base REF, compare two git revisions instead of a cluster (pre-merge review): every
    release instance the change reaches, in every environment, rendered at both revisions.
    """
    if git_base:
        if env or cluster or selector or set_values or show_secrets:
            raise InputError("--git-base compares every instance a change reaches; drop --env/--cluster/-l/--set/"
                             "--show-secrets")
        return run_git_diff(ctx, GitDiffOptions(git_base, git_head, fmt, context_lines, detailed_exitcode,
                                                max_comment_chars))
    if git_head:
        raise InputError("--git-head needs --git-base")
    if env is None:
        raise InputError("diff needs --env ENV (or --git-base REF to compare git revisions)")
    if show_secrets:
        refusal = show_secrets_refusal(fmt, os.environ, sys.stdout.isatty() and sys.stdin.isatty())
        if refusal:
            raise InputError(f"--show-secrets refused: {refusal}",
                             hint="run it yourself on a terminal, with --format text, outside CI")
    if kubeconfig is not None:
        ctx.kubeconfig = kubeconfig
    return diff(ctx, DiffOptions(env=env, cluster=cluster, selector=selector, detailed_exitcode=detailed_exitcode,
                                 fmt=fmt, context=context_lines, show_secrets=show_secrets, set_values=set_values,
                                 concurrency=concurrency, repair=not no_repair))


CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "TRAVIS", "JENKINS_URL", "TF_BUILD",
                "TEAMCITY_VERSION", "BITBUCKET_BUILD_NUMBER", "CODEBUILD_BUILD_ID", "DRONE", "ARGO_WORKFLOW")


def show_secrets_refusal(fmt: str, environ: Mapping[str, str], terminal: bool) -> str | None:
    """Why ``--show-secrets`` must not run here (None: it may): it is for a person at a terminal.

    Refused for machine and PR formats (their output is made to be stored or posted), in CI (any
    of :data:`CI_VARIABLES` set to something other than ``false``/``0``), and when standard input
    or output is not a terminal (a pipe or a file would keep the secrets).
    """
    if fmt != "text":
        return f"--format {fmt} output is meant to be stored or posted"
    found = [name for name in CI_VARIABLES if environ.get(name, "").strip().lower() not in ("", "false", "0")]
    if found:
        return f"this looks like CI (${found[0]} is set)"
    if not terminal:
        return "standard input and output must be a terminal (the output would be kept in a pipe or file)"
    return None
