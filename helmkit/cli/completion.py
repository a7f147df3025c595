"""Shell completion (click's) of environments, clusters, release names and selector labels.

Enable it with ``eval "$(_HELMKIT_COMPLETE=bash_source helmkit)"`` (``zsh_source``, ``fish_source``).
Candidates come from the release repository named by ``--repo`` (before or after the subcommand;
default the current folder). A repository with problems still completes what can be read, and
completion never prints an error: a shell prompt is no place for one.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem

from helmkit.errors import HelmkitError
from helmkit.model.repository import Repository, read_repository

REPO_META = "helmkit.repo"  # --repo given after the subcommand, seen while completing


def complete_env(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    repo = _repository(ctx)
    names = sorted(repo.environments) if repo is not None else []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_cluster(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    repo = _repository(ctx)
    if repo is None:
        return []
    wanted = _envs(ctx, repo)
    names = sorted({spec.cluster.name for env in wanted for spec in repo.environments[env].clusters})
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_release(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    repo = _repository(ctx)
    names = sorted(repo.releases) if repo is not None else []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_selector(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``-l``: label keys (``tier=``), then that key's values; after a comma, the next requirement."""
    repo = _repository(ctx)
    if repo is None:
        return []
    done, _, current = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    negated = current.startswith("!")
    labels = _labels(ctx, repo)
    key, sep, value = current.lstrip("!").partition("!=") if "!=" in current else current.lstrip("!").partition("=")
    if sep and not negated:
        return [CompletionItem(f"{prefix}{key}{sep}{v}") for v in sorted(labels.get(key, ())) if v.startswith(value)]
    keys = sorted(k for k in labels if k.startswith(key))
    if negated:
        return [CompletionItem(f"{prefix}!{k}") for k in keys]
    return [CompletionItem(f"{prefix}{k}=", type="nospace") for k in keys]


def _repository(ctx: click.Context) -> Repository | None:
    root = ctx.meta.get(REPO_META) or ctx.find_root().params.get("repo") or Path(".")
    try:
        repo, _problems = read_repository(Path(root).resolve())
    except (HelmkitError, OSError):  # not a release repository: nothing to complete
        return None
    return repo


def _envs(ctx: click.Context, repo: Repository) -> list[str]:
    given = ctx.params.get("env") or ctx.params.get("envs")
    chosen = [given] if isinstance(given, str) else list(given or ())
    return [env for env in chosen if env in repo.environments] or sorted(repo.environments)


def _labels(ctx: click.Context, repo: Repository) -> dict[str, set[str]]:
    from helmkit.model.resolve import instance_labels, resolve_environment

    labels: dict[str, set[str]] = {}
    for env in _envs(ctx, repo):
        try:
            resolution = resolve_environment(repo, env, include_disabled=True)
        except HelmkitError:  # an environment that does not resolve completes nothing
            continue
        for instance in resolution.instances:
            for key, value in instance_labels(instance).items():
                labels.setdefault(key, set()).add(value)
    return labels
