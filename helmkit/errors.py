"""The one error root of helmkit.

Every failure a person can act on is a :class:`HelmkitError` (or a subclass). The CLI entry
catches them once, prints :meth:`HelmkitError.render` and exits with :attr:`exit_code`.
Anything else that escapes is a bug and is reported as such.

Messages never carry secret values: code that raises with foreign text (helm's stderr, argv)
passes it through a :class:`helmkit.adapters.masking.Masker` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Location:
    """A place in a file of the release repository (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class HelmkitError(Exception):
    """Root of all errors helmkit reports to a person."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(frozen=True)
class Problem:
    """One finding about the input: where, what, and what to do."""

    message: str
    location: Location | None = None
    hint: str | None = None
    pointer: str | None = None  # JSON pointer inside the document, e.g. /releases/web/values
    layer: str | None = None  # "release", "environment", "cluster", "settings"

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.message}"
        if self.pointer:
            text += f" (at {self.pointer}"
            text += f", {self.layer} layer)" if self.layer else ")"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(HelmkitError):
    """Invalid input: one or more problems in the release repository or the command line."""

    def __init__(self, problems: list[Problem] | Problem | str, *, hint: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, hint=hint)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        first = self.problems[0].render() if self.problems else "invalid input"
        super().__init__(first)

    def render(self) -> str:
        lines = [f"error: {p.render()}" for p in self.problems]
        if len(self.problems) > 1:
            lines.append(f"{len(self.problems)} errors")
        return "\n".join(lines)


class ToolError(HelmkitError):
    """A helm/kubectl/git process failed. ``stderr`` and ``argv`` are already masked."""

    def __init__(
        self,
        message: str,
        *,
        argv: list[str] | None = None,
        stderr: str = "",
        returncode: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.argv = argv or []
        self.stderr = stderr
        self.returncode = returncode

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.stderr.strip():
            text += "\n" + "\n".join("  | " + line for line in self.stderr.strip().splitlines()[-20:])
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ClusterError(HelmkitError):
    """A cluster could not be reached or answered with an error."""

    def __init__(self, message: str, *, cluster: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"cluster {cluster}: {message}" if cluster else message, hint=hint)
        self.cluster = cluster


class LockedError(HelmkitError):
    """Another helmkit operation holds the lock of an environment or cluster."""


class Interrupted(HelmkitError):
    """SIGINT/SIGTERM: work stopped in a known state."""

    exit_code = EXIT_INTERRUPTED


@dataclass
class Collected:
    """Collects problems so a command can report all of them, not just the first."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)
