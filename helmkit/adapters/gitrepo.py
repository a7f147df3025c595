"""Reading the git history of the release repository, for pre-merge commands.

Refs given by a person (``--changed-since``, ``--git-base``, ``--git-head``) are checked by
:func:`check_ref` before any git process starts: ``git check-ref-format`` rules (with
``--allow-onelevel`` semantics), an optional ``~N``/``^N`` ancestry suffix, or a hex object name.
Anything that could act as an option (``--output=/tmp/x``), a transport (``ext::sh``), a path
(``../../x``), a reflog or peel expression (``@{``, ``^{``) or a range (``a..b``) is refused.

git runs only through the :class:`~helmkit.adapters.runner.Runner`, with hooks disabled
(``core.hooksPath=/dev/null``), the ``ext`` transport forbidden, no fsmonitor, no external diff
or textconv, no optional locks (the user's index is never rewritten) and no lazy fetch: nothing
is ever fetched from a remote. Once resolved, only full object names reach later git commands.

:meth:`GitRepository.materialize` writes the tree of a revision into a folder from git objects
(read with GitPython, at a version with CVE-2022-24439, CVE-2023-40267 and CVE-2023-41040
fixed); the user's working tree and index are never touched. Symlinks whose target lies outside
the folder are not written.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from helmkit.adapters.runner import Result, Runner
from helmkit.errors import HelmkitError, InputError, Location, Problem, ToolError

MIN_GITPYTHON = (3, 1, 41)
MAX_REF_LENGTH = 256
MAX_MATERIALIZE_BYTES = 1024 * 1024 * 1024
GIT_TIMEOUT = 120.0
SKIPPED_TOP_LEVEL = frozenset({".helmkit", ".git"})

SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "protocol.ext.allow=never",
    "core.fsmonitor=false",
    "core.quotePath=false",
    "diff.noprefix=false",
)
SAFE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_ALLOW_PROTOCOL": "file",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
}
REF_HINT = "give a branch, tag or commit: main, origin/main, v1.2.0, HEAD~2, 3f9c2e1"

_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")
_ANCESTRY = re.compile(r"^(.*?)((?:[~^][0-9]{0,6})*)$")
_FORBIDDEN_IN_REF = set(" ~^:?*[\\")

Status = Literal["A", "M", "D", "R"]


@dataclass(frozen=True)
class Change:
    """One changed path between two revisions; ``old_path`` is set for renames."""

    status: Status
    path: str
    old_path: str | None = None


@dataclass
class Materialized:
    """A revision's tree written into ``root``; what was left out and why."""

    root: Path
    commit: str
    files: int = 0
    skipped: list[str] = field(default_factory=list)


def gitpython_version() -> tuple[int, ...]:
    try:
        text = metadata.version("gitpython")
    except metadata.PackageNotFoundError:
        return ()
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` is refused (None when it is a plain ref name, object name or ancestry of one)."""
    if not ref:
        return "the ref is empty"
    if len(ref) > MAX_REF_LENGTH:
        return f"the ref is longer than {MAX_REF_LENGTH} characters"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in ref) or not ref.isprintable():
        return "the ref has control or non-printable characters"
    if ref.startswith("-"):
        return "the ref starts with '-' (it would be read as an option)"
    if "::" in ref or "://" in ref:
        return "the ref looks like a transport or URL; helmkit reads local refs only and never fetches"
    if "@{" in ref:
        return "reflog expressions (@{...}) are not accepted"
    if ".." in ref:
        return "the ref has '..' (ranges and path escapes are not accepted)"
    match = _ANCESTRY.match(ref)
    name = match.group(1) if match else ref
    if not name:
        return "the ref has no name before its ~ or ^ suffix"
    if _HEX.match(name) or name in ("HEAD", "@"):
        return None
    return _ref_name_problem(name)


def _ref_name_problem(name: str) -> str | None:
    """``git check-ref-format --allow-onelevel`` rules."""
    bad = sorted(_FORBIDDEN_IN_REF.intersection(name))
    if bad:
        return f"the ref has characters git does not allow in ref names: {' '.join(repr(c) for c in bad)}"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "the ref has an empty path component ('/' at an end, or '//')"
    if name.endswith("."):
        return "the ref ends with '.'"
    for part in name.split("/"):
        if part.startswith("."):
            return "a component of the ref starts with '.'"
        if part.endswith(".lock"):
            return "a component of the ref ends with '.lock'"
    return None


def check_ref(ref: str, option: str) -> str:
    """Return ``ref`` if it is acceptable; raise InputError naming ``option`` otherwise."""
    why = ref_problem(ref)
    if why:
        shown = ref.encode("unicode_escape", "backslashreplace").decode()[:80]
        raise InputError(Problem(f"{option} {shown!r} is refused: {why}", Location(option), REF_HINT))
    return ref


class GitRepository:
    """The git repository holding the release repository at ``root`` (possibly a subfolder of it)."""

    def __init__(self, root: Path, runner: Runner, *, git: str | None = None) -> None:
        self.root = root
        self.runner = runner
        self._git = git
        self._prefix: str | None = None

    # -- plumbing ------------------------------------------------------------------------------

    def _binary(self) -> str:
        if self._git is None:
            found = shutil.which("git")
            if found is None:
                raise HelmkitError("git is not installed", hint="install git; pre-merge commands read its history")
            self._git = found
        return self._git

    def _run(self, *args: str, check: bool = True, what: str | None = None) -> Result:
        argv = [self._binary(), "-C", str(self.root)]
        for setting in SAFE_CONFIG:
            argv += ["-c", setting]
        argv += list(args)
        return self.runner.run(argv, env=SAFE_ENV, check=check, timeout=GIT_TIMEOUT, what=what or f"git {args[0]}")

    def prefix(self) -> str:
        """The release repository's folder inside the git work tree ("" at the top, else "a/b/")."""
        if self._prefix is None:
            result = self._run("rev-parse", "--show-prefix", check=False)
            if not result.ok:
                raise HelmkitError(
                    f"{self.root} is not inside a git repository",
                    hint="pre-merge commands compare git revisions; run them in a clone of the repository",
                )
            self._prefix = result.stdout.strip()
        return self._prefix

    # -- reading -------------------------------------------------------------------------------

    def resolve(self, ref: str, option: str = "ref") -> str:
        """The full commit name of ``ref`` (checked before git runs)."""
        check_ref(ref, option)
        self.prefix()
        result = self._run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
                           check=False, what="git rev-parse")
        sha = result.stdout.strip()
        if not result.ok or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            raise InputError(Problem(
                f"{option} {ref!r}: no such commit in this clone", Location(option),
                "helmkit never fetches: fetch it first (e.g. `git fetch origin main`; in CI use a full clone, "
                "fetch-depth: 0)",
            ))
        return sha

    def merge_base(self, base: str, head: str | None = None, *, base_option: str = "--git-base",
                   head_option: str = "--git-head") -> str:
        """The best common ancestor of ``base`` and ``head`` (default HEAD): what a pull request compares with."""
        check_ref(base, base_option)
        if head is not None:
            check_ref(head, head_option)
        base_sha = self.resolve(base, base_option)
        head_sha = self.resolve(head or "HEAD", head_option)
        result = self._run("merge-base", base_sha, head_sha, check=False)
        sha = result.stdout.strip().splitlines()[0] if result.ok and result.stdout.strip() else ""
        if not sha:
            raise InputError(Problem(
                f"{base_option} {base!r} and {head or 'HEAD'} have no common ancestor in this clone",
                Location(base_option), "a shallow clone lacks history: fetch more (in CI, fetch-depth: 0)",
            ))
        return sha

    def changed_paths(self, base: str, head: str | None = None) -> list[Change]:
        """Paths changed from ``base`` to ``head`` (None: the working tree, untracked files included).

        Paths are relative to the release repository root; renames are detected (``R``), copies
        count as additions, type changes and unmerged paths as modifications.
        """
        base_sha = self.resolve(base, "base")
        head_sha = self.resolve(head, "head") if head is not None else None
        args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", "--relative", base_sha]
        if head_sha is not None:
            args.append(head_sha)
        args += ["--", ".", ":(exclude).helmkit"]
        changes = parse_name_status(self._run(*args, what="git diff").stdout)
        if head_sha is None:
            untracked = self._run("ls-files", "-z", "--others", "--exclude-standard", "--", ".",
                                  ":(exclude).helmkit", what="git ls-files").stdout
            known = {c.path for c in changes}
            changes += [Change("A", p) for p in untracked.split("\0") if p and p not in known]
        changes = [c for c in changes if not _is_state(c.path)]
        return sorted(changes, key=lambda c: (c.path, c.old_path or ""))

    def materialize(self, rev: str, dest: Path, *, max_bytes: int = MAX_MATERIALIZE_BYTES) -> Materialized:
        """Write the release repository's files at ``rev`` into the empty folder ``dest``."""
        sha = self.resolve(rev, "revision")
        prefix = self.prefix()
        _require_gitpython()
        import git  # imported here: importing GitPython runs `git version`

        dest.mkdir(parents=True, exist_ok=True)
        real_dest = dest.resolve()
        done = Materialized(real_dest, sha)
        repo = git.Repo(self.root, search_parent_directories=True)
        try:
            tree = repo.commit(sha).tree
            if prefix:
                try:
                    tree = tree / prefix.rstrip("/")
                except KeyError:
                    return done
            _TreeWriter(real_dest, len(prefix), max_bytes, done).write(tree)
        finally:
            repo.close()
        return done


def parse_name_status(text: str) -> list[Change]:
    """Parse ``git diff --name-status -z`` output."""
    tokens = text.split("\0")
    changes: list[Change] = []
    index = 0
    while index < len(tokens) and tokens[index]:
        code = tokens[index][:1]
        if code in ("R", "C"):
            old, new = tokens[index + 1], tokens[index + 2]
            changes.append(Change("R", new, old) if code == "R" else Change("A", new))
            index += 3
            continue
        path = tokens[index + 1]
        status: Status = "A" if code == "A" else "D" if code == "D" else "M"
        changes.append(Change(status, path))
        index += 2
    return changes


def _is_state(path: str) -> bool:
    """helmkit's own state folder (caches, tools) is never part of a change."""
    return path == ".helmkit" or path.startswith(".helmkit/")


def _require_gitpython() -> None:
    version = gitpython_version()
    if version < MIN_GITPYTHON:
        shown = ".".join(map(str, version)) or "not installed"
        raise HelmkitError(
            f"GitPython {shown} is too old: 3.1.41 or later is required",
            hint="GitPython before 3.1.41 has known code execution and path escape flaws; upgrade it",
        )


class _TreeWriter:
    """Writes a git tree into a folder: files first (never through a link), symlinks last, checked."""

    def __init__(self, dest: Path, strip: int, max_bytes: int, done: Materialized) -> None:
        self.dest = dest
        self.strip = strip
        self.budget = max_bytes
        self.done = done
        self.links: list[tuple[Path, str, str]] = []

    def write(self, tree: Any) -> None:
        for item in tree.traverse():
            rel = str(item.path)[self.strip:]
            parts = PurePosixPath(rel).parts
            if not parts or any(p in ("", ".", "..", ".git") or "\0" in p for p in parts):
                self.done.skipped.append(f"{rel}: unsafe path")
                continue
            if parts[0] in SKIPPED_TOP_LEVEL:
                continue
            target = self.dest.joinpath(*parts)
            if item.type == "tree":
                target.mkdir(parents=True, exist_ok=True)
            elif item.type == "blob":
                self._blob(item, rel, target)
            else:
                self.done.skipped.append(f"{rel}: submodule")
        for path, rel, link in self.links:
            self._link(path, rel, link)
        self._drop_escaping_links()

    def _blob(self, item: Any, rel: str, target: Path) -> None:
        mode = int(item.mode)
        self.budget -= int(item.size)
        if self.budget < 0:
            raise ToolError(f"the revision's files exceed {MAX_MATERIALIZE_BYTES // (1024 * 1024)} MB",
                            hint="the release repository is too large to compare revisions")
        if mode & 0o170000 == 0o120000:
            self.links.append((target, rel, item.data_stream.read().decode("utf-8", "surrogateescape")))
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(target, flags, 0o755 if mode & 0o111 else 0o644)
        except FileExistsError:
            self.done.skipped.append(f"{rel}: listed twice in the tree")
            return
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(item.data_stream, handle)
        self.done.files += 1

    def _link(self, path: Path, rel: str, link: str) -> None:
        lexical = os.path.normpath(os.path.join(os.path.dirname(rel), link))
        if not link or "\0" in link or os.path.isabs(link) or lexical == ".." or lexical.startswith("../"):
            self.done.skipped.append(f"{rel}: symlink to outside the repository")
            return
        try:
            path.symlink_to(link)
        except OSError:
            self.done.skipped.append(f"{rel}: symlink could not be written")

    def _drop_escaping_links(self) -> None:
        """A chain of links can escape even if each stays inside on its own: check the real paths."""
        changed = True
        while changed:
            changed = False
            for path, rel, _ in self.links:
                if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(self.dest):
                    path.unlink()
                    self.done.skipped.append(f"{rel}: symlink to outside the repository")
                    changed = True
