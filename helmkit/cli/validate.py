"""`helmkit validate`."""

from __future__ import annotations

import click

from helmkit.actions.premerge import ChangedSinceOptions, run_validate_changed
from helmkit.actions.validate import ValidateOptions, run_validate
from helmkit.cli.options import env_option, format_option, set_option
from helmkit.cli.premerge_options import changed_since_option
from helmkit.context import Context
from helmkit.errors import InputError
from helmkit.output.problems import FORMATS


@click.command("validate")
@env_option(required=False, multiple=True)
@format_option(FORMATS)
@click.option("--no-render", is_flag=True, help="Skip rendering with helm (static checks only).")
@set_option()
@changed_since_option()
@click.pass_obj
def command(
    ctx: Context,
    *,
    env: tuple[str, ...],
    fmt: str,
    no_render: bool,
    set_values: tuple[str, ...],
    changed_since: str | None,
) -> int:
    """Check release files without a cluster: YAML, schemas, references, paths, names, needs, rendering.

    Exit code 0 when everything is valid, 1 otherwise. --format github prints annotations.
    With --changed-since REF only the release instances a change reaches are rendered (pre-merge CI).
    """
    if changed_since:
        if env or set_values:
            raise InputError("--changed-since checks every environment the change reaches; drop --env/--set")
        return run_validate_changed(ctx, ChangedSinceOptions(changed_since, fmt, not no_render))
    return run_validate(ctx, ValidateOptions(list(env), fmt, not no_render, list(set_values)))
