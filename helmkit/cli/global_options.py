"""Global options, accepted before or after the subcommand (``helmkit -v status`` = ``helmkit status -v``).

The group declares them with their defaults and builds the run's :class:`~helmkit.context.Context`
from them. Every subcommand gets a copy of each one it does not declare itself (as kubectl and
helm do): given after the subcommand, an option updates that context before the command runs,
so the later spelling wins.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from helmkit.output.console import COLOR_MODES

if TYPE_CHECKING:  # imported when an option is given: `helmkit --help` stays fast
    from helmkit.context import Context

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class GlobalOption:
    decls: tuple[str, ...]
    name: str
    help: str
    apply: Callable[[Context, Any], None]
    is_flag: bool = False
    metavar: str | None = None
    type: Any = None
    default: Any = None
    show_default: bool = False

    def for_group(self) -> click.Option:
        default = False if self.is_flag else self.default
        return click.Option([*self.decls, self.name], is_flag=self.is_flag, metavar=self.metavar, type=self.type,
                            default=default, show_default=self.show_default, help=self.help)

    def for_command(self) -> click.Option:
        def given(ctx: click.Context, param: click.Parameter, value: Any) -> None:
            from helmkit.context import Context

            if value is None or value is False:
                return
            if not isinstance(ctx.obj, Context):  # completing: no context was built
                ctx.meta[f"helmkit.{self.name}"] = value
                return
            self.apply(ctx.obj, value)

        return click.Option([*self.decls, self.name], is_flag=self.is_flag, metavar=self.metavar,
                            type=self.type, default=None, expose_value=False, callback=given,
                            help=self.help + " (global option)")


def _repo(ctx: Context, value: Path) -> None:
    ctx.repo = value.resolve()


def _helm(ctx: Context, value: str) -> None:
    ctx.helm_option = value


def _verbose(ctx: Context, value: bool) -> None:
    ctx.verbose = ctx.console.verbose = bool(value)


def _kubeconfig(ctx: Context, value: Path) -> None:
    ctx.kubeconfig = value


def _allow_empty(ctx: Context, value: bool) -> None:
    ctx.allow_no_matching_release = bool(value)


def _install_helm(ctx: Context, value: bool) -> None:
    if value:
        from helmkit.actions.bootstrap import ensure_helm

        ensure_helm(ctx)


def _color(ctx: Context, value: str) -> None:
    ctx.console.set_color(value)


GLOBAL_OPTIONS = (
    GlobalOption(("--repo",), "repo", "Root of the release repository.", _repo,
                 type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True),
    GlobalOption(("--helm",), "helm", "helm binary to use (else $HELMKIT_HELM, .helmkit/tools, PATH).", _helm,
                 metavar="PATH"),
    GlobalOption(("--kubeconfig",), "kubeconfig", "kubeconfig file to use.", _kubeconfig,
                 type=click.Path(dir_okay=False, path_type=Path)),
    GlobalOption(("-v", "--verbose"), "verbose", "Print more about what happens.", _verbose, is_flag=True),
    GlobalOption(("--color", "--colour"), "color",
                 "Colour: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it), always, never.", _color,
                 type=click.Choice(COLOR_MODES), default="auto", show_default=True),
    GlobalOption(("--install-helm",), "install_helm",
                 "When no helm is found, install the pinned helm into ~/.cache/helmkit/tools first (pre-commit, CI).",
                 _install_helm, is_flag=True),
    GlobalOption(("--allow-no-matching-release",), "allow_no_matching_release",
                 "Accept a -l/--selector that matches no release (else an error naming the closest labels).",
                 _allow_empty, is_flag=True),
)


def group_options(func: F) -> F:
    """Declare every global option on the group."""
    for option in reversed(GLOBAL_OPTIONS):
        func = _attach(func, option.for_group())
    return func


def with_global_options(command: click.Command) -> click.Command:
    """A copy of ``command`` that also takes the global options it does not declare itself."""
    taken = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    extra = [option.for_command() for option in GLOBAL_OPTIONS if not taken.intersection(option.decls)]
    if not extra:
        return command
    widened = copy.copy(command)
    widened.params = [*command.params, *extra]
    if isinstance(command, click.Group):
        assert isinstance(widened, click.Group)
        widened.commands = {name: with_global_options(sub) for name, sub in command.commands.items()}
    return widened


def _attach(func: F, option: click.Option) -> F:
    params: list[click.Parameter] = func.__dict__.setdefault("__click_params__", [])
    params.append(option)
    return func
