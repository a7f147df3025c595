"""Chart references of release instances: a local chart inside the repository, or a chart
in a repository named in ``helmkit.yaml`` with a semver constraint.

Local paths pass the real-path containment check; a local chart's ``version``, if given, must
be satisfied by its Chart.yaml. Results are memoised per run (the same chart field is shared
by every cluster).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helmkit.adapters.chartsources import access_for
from helmkit.adapters.helmconfig import RegistryAccess, TlsOptions
from helmkit.errors import InputError, Location, Problem
from helmkit.model.charts import LocalChart, read_local_chart
from helmkit.model.instance import ChartRef
from helmkit.model.paths import CONTAINMENT_HINT, contained_path
from helmkit.model.repository import Repository, closest
from helmkit.model.versions import parse_constraint
from helmkit.model.yamlfile import Path_

Locate = Callable[[Path_], Location | None]


class ChartResolver:
    """Resolves the ``chart`` field of release instances, reading each local chart once."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.charts: dict[tuple[Any, ...], tuple[ChartRef | None, list[Problem]]] = {}
        self.local_charts: dict[Path, LocalChart | InputError] = {}
        self._access: dict[str, RegistryAccess] | None = None

    def chart_ref(
        self, chart: dict[str, Any], release: str, locate: Locate, problems: list[Problem]
    ) -> ChartRef | None:
        """The chart of ``release``; problems are appended (``locate`` places a field path)."""
        key = tuple(sorted((k, str(v)) for k, v in chart.items() if v is not None))
        cached = self.charts.get(key)
        if cached is None:
            cached = self.charts[key] = self._chart_ref(chart, release, locate)
        problems.extend(cached[1])
        return cached[0]

    def _chart_ref(
        self, chart: dict[str, Any], release: str, locate: Locate
    ) -> tuple[ChartRef | None, list[Problem]]:
        def at(*path: str) -> Location | None:
            return locate(("chart", *path))

        path_written = chart.get("path")
        repository = chart.get("repository")
        version = chart.get("version")
        if path_written and (repository or chart.get("name")):
            return None, [Problem(
                f"release `{release}`: chart has both `path` and `repository`/`name`", at("path"),
                "a chart is either local (path) or from a repository (repository + name + version)",
            )]
        if path_written:
            path, why = contained_path(self.repo.root, str(path_written))
            if path is None:
                return None, [Problem(f"release `{release}`: chart path refused: {why}", at("path"), CONTAINMENT_HINT)]
            local = self.local_chart(path)
            if isinstance(local, InputError):
                return None, [Problem(f"release `{release}`: {p.message}", at("path"), p.hint) for p in local.problems]
            if version is not None and local.version is not None:
                try:
                    allowed = parse_constraint(str(version)).allows(local.version)
                except ValueError as exc:
                    return None, [Problem(f"release `{release}`: {exc}", at("version"))]
                if not allowed:
                    return None, [Problem(
                        f"release `{release}`: local chart {local.display} has version {local.version}, "
                        f"which does not satisfy {version!r}", at("version"), f"update {local.display}/Chart.yaml",
                    )]
            return ChartRef(
                path=path, version=str(version) if version is not None else None, local_version=local.version
            ), []
        if not repository or not chart.get("name"):
            return None, [Problem(
                f"release `{release}`: chart needs `path`, or `repository` + `name` + `version`", at(),
                "for example chart: {repository: example, name: web, version: \"^1.4.0\"}",
            )]
        url, problem = self._repository_url(str(repository), release, at)
        if url is None:
            return None, [problem] if problem else []
        if version is None:
            return None, [Problem(
                f"release `{release}`: chart {repository}/{chart['name']} has no `version`", at(),
                "pin a semver constraint such as \"^1.4.0\"; `helmkit lock` resolves it",
            )]
        try:
            parse_constraint(str(version))
        except ValueError as exc:
            return None, [Problem(f"release `{release}`: {exc}", at("version"), "for example \"^1.4.0\" or \"1.4.2\"")]
        name = str(chart["name"])
        if name.startswith("-") or "/" in name:
            return None, [Problem(f"release `{release}`: chart name {name!r} is not valid", at("name"))]
        label = url if "://" in str(repository) else str(repository)
        return ChartRef(repository=url, repository_name=label, name=name, version=str(version),
                        access=self.access(url)), []

    def _repository_url(self, repository: str, release: str, at: Callable[..., Location | None]
                        ) -> tuple[str | None, Problem | None]:
        """The URL of ``repository``: a name from helmkit.yaml, or a URL written in place (oci://, https://)."""
        if "://" in repository:
            if not re.fullmatch(r"(https?|oci)://[^\s/]+(/\S*)?", repository):
                return None, Problem(f"release `{release}`: chart repository {repository!r} is not an https://, "
                                     "http:// or oci:// URL", at("repository"))
            return repository.rstrip("/"), None
        url = self.repo.settings.repositories.get(repository)
        if url is None:
            known = sorted(self.repo.settings.repositories)
            return None, Problem(
                f"release `{release}`: unknown chart repository `{repository}`", at("repository"),
                closest(repository, known) or "add it to `repositories` in helmkit.yaml, or write its URL "
                "(oci://registry/path or https://…)",
            )
        return url.rstrip("/"), None

    def access(self, url: str) -> RegistryAccess:
        """plainHttp and TLS files for ``url`` from helmkit.yaml `repositories` (paths from the repository root)."""
        if self._access is None:
            self._access = {}
            data = self.repo.settings.doc.data
            for entry in (data.get("repositories") if isinstance(data, dict) else None) or []:
                if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                    self._access[entry["url"].rstrip("/")] = self._entry_access(entry)
        return access_for(url, self._access)

    def _entry_access(self, entry: dict[str, Any]) -> RegistryAccess:
        def path(key: str) -> Path | None:
            value = entry.get(key)
            return self.repo.root / Path(os.path.expanduser(str(value))) if value else None

        plain = entry.get("plainHttp")
        return RegistryAccess(plain if isinstance(plain, bool) else None,
                              TlsOptions(path("caFile"), path("certFile"), path("keyFile"),
                                         bool(entry.get("skipTLSVerify"))))

    def local_chart(self, path: Path) -> LocalChart | InputError:
        cached = self.local_charts.get(path)
        if cached is None:
            try:
                self._check_links(path)
                cached = read_local_chart(path, self.repo.display(path), defaults=False)
            except InputError as exc:
                cached = exc
            self.local_charts[path] = cached
        return cached

    def _check_links(self, chart: Path) -> None:
        """Refuse a chart holding a symlink that leads out of the repository (helm would follow it)."""
        root = self.repo.root.resolve()
        pending = [str(chart)]
        while pending:  # as os.walk, top-down without following links to folders, one scandir per folder
            try:
                with os.scandir(pending.pop(0)) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError:
                continue  # a chart that cannot be listed is reported when it is read
            for entry in entries:
                if entry.is_symlink():
                    if not Path(entry.path).resolve().is_relative_to(root):
                        raise InputError(Problem(
                            f"chart {self.repo.display(chart)} holds a symlink that leads out of the repository: "
                            f"{Path(entry.path).relative_to(chart).as_posix()}",
                            Location(self.repo.display(chart)),
                            "replace the symlink by the file itself, or point it inside the repository",
                        ))
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
