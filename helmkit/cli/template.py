"""`helmkit template`."""

from __future__ import annotations

from pathlib import Path

import click

from helmkit.actions.template import TemplateOptions, template
from helmkit.cli.options import cluster_option, env_option, selector_option
from helmkit.context import Context
from helmkit.errors import InputError


@click.command("template")
@env_option()
@cluster_option()
@selector_option()
@click.option("-o", "--output", "fmt", type=click.Choice(("yaml", "json")), default="yaml", show_default=True,
              help="Output format: the manifests, or one JSON v1/List of every object.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write DIR/<env>/<cluster>/<release>.yaml instead of printing.")
@click.option("--concurrency", type=click.IntRange(min=1), help="helm processes in parallel (default: CPU cores).")
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE", help="Override a value (highest layer).")
@click.pass_obj
def command(ctx: Context, *, env: str, cluster: str | None, selector: str | None, fmt: str,
            output_dir: Path | None, concurrency: int | None, set_values: tuple[str, ...]) -> int:
    """Render the manifests of release instances with helm (cached by content).

    Secret values are masked and the output stays valid: a data value is the base64 of a mask
    text (<secret hmac:...>), a stringData value the mask text, so the manifests can be applied,
    linted or committed; the real secrets never appear.
    """
    if output_dir is not None and fmt != "yaml":
        raise InputError("--output-dir writes YAML files; drop -o/--output or --output-dir")
    return template(ctx, TemplateOptions(env=env, cluster=cluster, selector=selector, output_dir=output_dir,
                                         concurrency=concurrency, set_values=set_values, fmt=fmt))
