"""The files ``helmkit import`` writes: values files, local charts and the layer files.

Values files keep their path relative to the helmfile under ``values/`` (``..`` becomes ``_up``); a rendered ``.gotmpl``
file drops the suffix and, when instances render it differently, is written once per variant
(``<stem>-<release>-<env>[-<cluster>].yaml``). helmkit reads ``${...}`` in values as its own
variables, so every ``${`` helmfile passed through literally is written ``$${``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from helmkit.errors import HelmkitError, InputError, Problem
from helmkit.model.schemas import schema_dir
from helmkit.model.yamlfile import parse_yaml

REPO_ENTRIES = ("helmkit.yaml", "releases", "environments", "values", "charts", "schemas")


def escape_text(text: str) -> str:
    """helmkit's literal ``${`` is ``$${``."""
    return text.replace("${", "$${")


def escape_values(value: Any) -> Any:
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {k: escape_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_values(v) for v in value]
    return value


def dump(data: Any, schema: str | None = None) -> str:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
    return (f"# yaml-language-server: $schema={schema}\n" if schema else "") + text


@dataclass
class RepoFiles:
    """What the import writes, collected first and written at the end (nothing half-written on error)."""

    root: Path  # the helmfile's folder: values files keep their path relative to it
    texts: dict[str, str] = field(default_factory=dict)  # repository path -> text
    charts: dict[Path, str] = field(default_factory=dict)  # local chart folder -> repository path
    _variants: dict[str, dict[str, str]] = field(default_factory=dict)  # base path -> text -> path

    def values_path(self, source: Path) -> str:
        """``values/<path relative to the helmfile>``; each ``..`` of a file outside its folder is ``_up``."""
        relative = Path(os.path.relpath(source.resolve(), self.root.resolve()))
        parts = ["_up" if part == ".." else part for part in relative.parts]
        if parts[0] == "values":
            return PurePosixPath(*parts).as_posix()
        return PurePosixPath("values", *parts).as_posix()

    def copy_values_file(self, source: Path) -> tuple[str, Problem | None]:
        """The file's repository path, and why helmkit's strict YAML loader refuses it (if it does)."""
        path = self.values_path(source)
        text = source.read_text(encoding="utf-8")
        self.texts[path] = escape_text(text)
        try:
            parse_yaml(text, str(source))
        except InputError as exc:
            return path, exc.problems[0] if exc.problems else Problem("invalid YAML")
        return path, None

    def rendered_values(self, source: Path, data: dict[str, Any], variants: list[str]) -> str:
        """A rendered ``.gotmpl`` values file: one path when every instance renders the same text."""
        base = self.values_path(source).removesuffix(".gotmpl")
        return self.variant(base, dump(escape_values(data)) if data else "{}\n", variants)

    def inline_values(self, release: str, position: int, data: dict[str, Any], variants: list[str]) -> str:
        """An inline values map that must come before a file: ``values/<release>/inline-<n>.yaml``."""
        return self.variant(f"values/{release}/inline-{position}.yaml", dump(data), variants)

    def variant(self, base: str, text: str, variants: list[str]) -> str:
        """``base`` for the first text written there, ``<stem>-<variant>.yaml`` for each other text."""
        known = self._variants.setdefault(base, {})
        if text in known:
            return known[text]
        stem, dot, suffix = base.rpartition(".")
        candidates = [base] if not known else [f"{stem}-{v}.{suffix}" if dot else f"{base}-{v}" for v in variants]
        path = next((c for c in candidates if c not in known.values()), candidates[-1])
        known[text] = path
        self.texts[path] = text
        return path

    def chart_path(self, folder: Path) -> str:
        if folder not in self.charts:
            taken = set(self.charts.values())
            path, n = f"charts/{folder.name}", 2
            while path in taken:
                path, n = f"charts/{folder.name}-{n}", n + 1
            self.charts[folder] = path
        return self.charts[folder]

    def write(self, target: Path, force: bool) -> None:
        check_target(target, force)
        target.mkdir(parents=True, exist_ok=True)
        if force:
            for entry in REPO_ENTRIES:
                old = target / entry
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old)
                elif old.exists() or old.is_symlink():
                    old.unlink()
        (target / "schemas").mkdir()
        for schema in sorted(schema_dir().glob("*.schema.json")):
            shutil.copyfile(schema, target / "schemas" / schema.name)
        for folder, path in self.charts.items():
            shutil.copytree(folder, target / path, ignore=shutil.ignore_patterns(".git"))
        for path, text in self.texts.items():
            file = target / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")


def check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise HelmkitError(f"{target} exists and is not a folder", hint="name a new folder to import into")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise HelmkitError(f"{target} is not empty; the import would overwrite it",
                           hint="name an empty or new folder, or pass --force to replace helmkit.yaml, "
                                "releases/, environments/, values/, charts/ and schemas/ in it")
