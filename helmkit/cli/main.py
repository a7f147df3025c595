"""helmkit's command line entry.

Commands live one per module in ``helmkit/cli/`` and are imported only when invoked, so
``helmkit --help`` stays fast. Each command binds flags to an options object and calls one
action; :func:`main` is the single place where errors become messages and exit codes.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from helmkit import __version__
from helmkit.adapters.masking import Masker
from helmkit.cli.global_options import group_options, with_global_options
from helmkit.errors import EXIT_ERROR, EXIT_INTERRUPTED, HelmkitError
from helmkit.output.console import Console

# name -> (module, one-line help). The help is here so `--help` imports no command module.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("helmkit.cli.validate", "Check release files without a cluster: schema, references, rendering."),
    "template": ("helmkit.cli.template", "Render the manifests of release instances with helm."),
    "explain": ("helmkit.cli.explain", "Show a release's merged values and fields with their origin."),
    "graph": ("helmkit.cli.graph", "Show the `needs` graph of an environment and its rollout levels."),
    "list": ("helmkit.cli.list_cmd", "List releases x clusters of an environment."),
    "lock": ("helmkit.cli.lock", "Resolve chart version constraints and write helmkit.lock."),
    "diff": ("helmkit.cli.diff", "Show what sync would change in each cluster."),
    "sync": ("helmkit.cli.sync", "Roll releases out: dependency order in a cluster, wave by wave across clusters."),
    "status": ("helmkit.cli.status", "Show clusters x releases as Helm has them."),
    "drift": ("helmkit.cli.drift", "Report drift between git, Helm and the live cluster."),
    "report": ("helmkit.cli.report", "Merge the JSON reports of a sharded run (`helmkit report merge`)."),
    "sandbox": ("helmkit.cli.sandbox", "Run the built-in sandbox Kubernetes API server."),
    "cache": ("helmkit.cli.cache", "Trim helmkit's caches (`helmkit cache prune`)."),
    "import": ("helmkit.cli.import_cmd", "Write a helmkit repository from a helmfile."),
    "bootstrap": ("helmkit.cli.bootstrap", "Install the pinned helm binaries into .helmkit/tools."),
    "version": ("helmkit.cli.version", "Print helmkit's version and the helm it will use."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _) in COMMANDS.items() if _available(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _available(entry[0]):
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = module.command
        return with_global_options(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(module: str) -> bool:
    path = Path(__file__).parent / (module.rsplit(".", 1)[1] + ".py")
    return path.exists()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="helmkit", message="%(prog)s %(version)s")
@group_options
@click.pass_context
def cli(ctx: click.Context, *, repo: Path, helm: str | None, kubeconfig: Path | None, verbose: bool, color: str,
        install_helm: bool, allow_no_matching_release: bool) -> None:
    """helmkit manages Helm releases for a fleet of Kubernetes clusters from one git repository.

    Global options may also follow the subcommand: helmkit status -e prod -v.
    Exit codes: 0 success, 1 error, 2 changes or drift found, 130 interrupted.
    """
    from helmkit.context import Context

    masker = ctx.obj if isinstance(ctx.obj, Masker) else Masker()  # main() passes the run's masker
    ctx.obj = Context(repo=repo.resolve(), masker=masker, helm_option=helm, kubeconfig=kubeconfig, verbose=verbose,
                      allow_no_matching_release=allow_no_matching_release)
    ctx.obj.console.set_color(color)
    if install_helm:
        from helmkit.actions.bootstrap import ensure_helm

        ensure_helm(ctx.obj)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn every helmkit error into one message and its exit code."""
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    masker = Masker()
    console = Console(masker=masker)  # the run's masker: secrets read during the run are masked here too
    try:
        code = cli.main(args=argv, prog_name="helmkit", standalone_mode=False, obj=masker)
    except HelmkitError as exc:
        console.info(exc.render())
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        console.info("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR if exc.exit_code == 2 else exc.exit_code)  # usage errors are errors (1)
    except KeyboardInterrupt:
        console.info("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # the one place that reports bugs
        console.info(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in helmkit; please report it with the command you ran "
            "(run with HELMKIT_TRACEBACK=1 for details)."
        )
        if os.environ.get("HELMKIT_TRACEBACK"):
            raise
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


def _sigterm_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
