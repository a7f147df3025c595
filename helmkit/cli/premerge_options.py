"""Click options of the pre-merge modes of ``helmkit validate`` and ``helmkit diff``.

``validate --changed-since REF``::

    @changed_since_option()
    def command(ctx, ..., changed_since: str | None):
        if changed_since:
            return run_validate_changed(ctx, ChangedSinceOptions(changed_since, fmt, not no_render))

``diff --git-base REF [--git-head REF] [--max-comment-chars N]`` (``--env`` is then not needed:
every environment the change reaches is compared)::

    @git_base_options()
    def command(ctx, ..., git_base: str | None, git_head: str | None, max_comment_chars: int):
        if git_base:
            return run_git_diff(ctx, GitDiffOptions(git_base, git_head, fmt, context_lines,
                                                    detailed_exitcode, max_comment_chars))

Refs are checked (:func:`helmkit.adapters.gitrepo.check_ref`) before any git process starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def changed_since_option() -> Callable[[F], F]:
    return click.option(
        "--changed-since", "changed_since", metavar="REF",
        help="Validate only the release instances affected by the changes since the merge base of REF and "
        "HEAD (working tree included). Nothing is fetched: REF must be in the clone.",
    )


def git_base_options() -> Callable[[F], F]:
    def decorate(func: F) -> F:
        func = click.option(
            "--max-comment-chars", "max_comment_chars", type=click.IntRange(min=1000), default=60_000,
            show_default=True, help="Markdown output: cut diffs so the comment stays under this size.",
        )(func)
        func = click.option(
            "--git-head", "git_head", metavar="REF",
            help="With --git-base: the head revision (default: the working tree).",
        )(func)
        return click.option(
            "--git-base", "git_base", metavar="REF",
            help="Compare git revisions instead of a cluster: render the instances the changes since the merge "
            "base of REF affect, at both revisions, and diff them (no cluster needed, nothing fetched).",
        )(func)

    return decorate
