"""Each evaluated helmfile release becomes one release instance (environment, cluster, release).

The rules, one function each (docs/importing.md lists them for users):

- ``kubeContext`` (the release's, else ``helmDefaults``', else the environment's) names the cluster;
  a release without one gets the cluster ``default`` (helmfile used the current context).
- ``installed: false``, or a ``condition`` whose state value is not true, is ``enabled: false``.
- ``chart: ./path`` is a local chart (copied to ``charts/``); ``repo/name`` with ``version`` a chart
  of a ``repositories`` entry (``oci: true`` becomes an ``oci://`` URL); ``oci://host/path/name`` an
  OCI repository of its own.
- ``needs`` (``name``, ``ns/name``, ``context/ns/name``) keeps the release names of the same cluster.
- ``values`` files and inline maps keep their order; ``set`` entries are values typed as helm
  types ``--set``; ``wait``, ``timeout`` (seconds), ``atomic``, ``createNamespace``, ``historyMax``
  and ``labels`` carry over.
- Everything else a release sets (hooks, secrets, patches, ...) is a :class:`NotTranslated` item.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helmkit.model.helmfile_import.notes import NotTranslated
from helmkit.model.helmfile_import.setvalues import set_entry_values
from helmkit.model.helmfile_import.state import HfRelease, HfState, condition_holds, need_name

TRANSLATED_KEYS = frozenset({
    "name", "namespace", "chart", "chartPath", "version", "labels", "needs", "installed", "condition",
    "values", "set", "setString", "kubeContext", "wait", "timeout", "atomic", "createNamespace", "historyMax",
    "missingFileHandler",
})
# what to do about a release key helmkit does not translate (any other key: DEFAULT_TODO); a key that
# is unset, false, empty or 0 is helmfile's default and needs no word
TODO: dict[str, str] = {
    "hooks": "run the hook's command yourself (a gate `command` after the wave, or a CI step)",
    "secrets": "keep the secret outside the repository and reference it (ref+env://NAME or ref+file:///path)",
    "jsonPatches": "fold the patch into the chart or its values (helmkit renders charts unpatched)",
    "strategicMergePatches": "fold the patch into the chart or its values (helmkit renders charts unpatched)",
    "transformers": "fold the transformation into the chart or its values",
    "postRenderer": "fold the post-renderer's changes into the chart",
    "postRendererArgs": "fold the post-renderer's changes into the chart",
    "dependencies": "add the dependency to the chart's Chart.yaml (a local chart)",
    "forceNamespace": "set the namespace in the chart's templates",
    "adopt": "adopt the resources once by hand (helm's meta.helm.sh annotations)",
    "devel": "write a version constraint that admits the pre-release",
    "kubeVersion": "declare `capabilities.kubeVersion` in the environment or cluster file",
    "apiVersions": "declare `capabilities.apiVersions` in the environment or cluster file",
    "valuesTemplate": "write the values into the release's `values`",
    "setTemplate": "write the values into the release's `values`",
}
DEFAULT_TODO = "helmkit has no equivalent field: check whether the release needs it"
_HELMKIT_FIELD_DEFAULTS = ("wait", "timeout", "atomic", "createNamespace", "historyMax")


@dataclass(frozen=True)
class ValuesFileRef:
    """A values file of a release, as helmfile names it (a path relative to its state file)."""

    path: Path  # absolute
    template: bool  # a .gotmpl file: rendered by helmfile per instance
    position: int  # index in the release's values list


@dataclass
class Instance:
    """One release on one cluster of one environment, in helmkit's terms."""

    env: str
    cluster: str
    context: str
    release: str
    fields: dict[str, Any]
    entries: list[ValuesFileRef | dict[str, Any]] = field(default_factory=list)
    set_values: list[dict[str, Any]] = field(default_factory=list)
    origin: HfRelease | None = None
    state: HfState | None = None
    chart_dir: Path | None = None  # a local chart to copy


def cluster_name(context: str) -> str:
    """A DNS-1123 label for a kube context (``arn:aws:eks:...:cluster/prod`` -> ``arn-aws-eks-...``)."""
    name = re.sub(r"[^a-z0-9-]+", "-", context.lower()).strip("-")[:63].strip("-")
    return name or "default"


def duration(seconds: Any) -> str | None:
    """helmfile's ``timeout`` (seconds) as a Go duration; 0 or unset is None (helm's default)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        return None
    return f"{seconds}s"


def helm_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """wait/timeout/atomic/createNamespace/historyMax set in a release or ``helmDefaults``."""
    result: dict[str, Any] = {}
    for key in _HELMKIT_FIELD_DEFAULTS:
        if key not in spec or spec[key] is None:
            continue
        value = duration(spec[key]) if key == "timeout" else spec[key]
        if value is not None:
            result[key] = value
    return result


def translate_release(state: HfState, release: HfRelease, text: str, notes: list[NotTranslated],
                      locate: Callable[..., int | None]) -> Instance | None:
    """The instance of ``release``; what cannot be translated is appended to ``notes``."""
    occurrence = sum(1 for r in state.releases[:release.index] if r.name == release.name)

    def note(key: str | None, what: str, todo: str, contains: str | None = None) -> None:
        line = locate(text, release.name, key, contains=contains, occurrence=occurrence)
        notes.append(NotTranslated(state.source, line, what, todo))

    spec = release.spec
    for key, value in spec.items():
        if key in ("kubeVersion", "apiVersions") and value == state.data.get(key):
            continue  # helmfile copies the top-level ones into each release: the environment's capabilities
        if key not in TRANSLATED_KEYS and value not in (None, False, "", [], {}, 0):
            note(key, f"release `{release.name}`: `{key}` is not translated", TODO.get(key, DEFAULT_TODO))
    chart, chart_dir = chart_of(state, release)
    if chart is None:
        note("chart", f"release `{release.name}`: chart `{release.chart}` is not a local chart, a repository "
                      "chart or an oci:// chart", "put the chart in charts/ (kustomize folders and plain manifests "
                      "need a chart of their own) and set `chart.path`")
        return None
    if chart_dir is not None and missing_dependencies(chart_dir):
        note("chart", f"release `{release.name}`: chart `{release.chart}` has dependencies that are not in its "
                      "charts/ folder (helmfile runs `helm dependency build`)",
             f"run `helm dependency build charts/{chart_dir.name}` in the new repository and commit charts/*.tgz")
    declared = {str(r.get("name")) for r in state.repositories}
    if "repository" in chart and not release.chart.startswith("oci://") and chart["repository"] not in declared:
        note("chart", f"release `{release.name}`: repository `{chart['repository']}` is not in the helmfile's "
                      "`repositories` (helm's own repository list)",
             f"add `{{name: {chart['repository']}, url: ...}}` to `repositories` in helmkit.yaml")
    installed = release.installed
    condition = spec.get("condition")
    if installed and condition:
        installed = condition_holds(str(condition), state.state_values)
    fields: dict[str, Any] = {"chart": chart, "namespace": release.namespace or "default", "enabled": installed}
    fields.update(helm_fields(spec))
    if release.labels:
        fields["labels"] = release.labels
    needs = []
    for need in spec.get("needs") or []:
        context, name = need_name(str(need))
        if context is not None and context != release.kube_context:
            note("needs", f"release `{release.name}` needs `{need}` on another kube context",
                 "helmkit orders releases within one cluster only: order the clusters with waves", str(need))
            continue
        needs.append(name)
    if needs:
        fields["needs"] = needs
    instance = Instance(state.env, cluster_name(release.kube_context), release.kube_context, release.name,
                        fields, origin=release, state=state, chart_dir=chart_dir)
    for position, entry in enumerate(release.values):
        if isinstance(entry, dict):
            instance.entries.append(entry)
        elif isinstance(entry, str) and "://" not in entry and "::" not in entry:
            path = (state.base_dir / entry).resolve()
            instance.entries.append(ValuesFileRef(path, entry.endswith(".gotmpl"), position))
        else:
            note("values", f"release `{release.name}`: values {entry!r} is not a local file or a map",
                 "copy the values into a file of the repository and list it in `valuesFiles`", str(entry)[:40])
    entries = [(e, False) for e in spec.get("set") or []] + [(e, True) for e in spec.get("setString") or []]
    for entry, as_string in entries:
        values = set_entry_values(entry, as_string=as_string) if isinstance(entry, dict) else None
        if values is not None:
            instance.set_values.append(values)
            continue
        name = str(entry.get("name") if isinstance(entry, dict) else entry)
        why = "from a file (--set-file)" if isinstance(entry, dict) and entry.get("file") else "with a list index"
        note("set", f"release `{release.name}`: `set` of `{name}` {why} is not translated",
             "write the value into the release's `values`", name)
    return instance


def chart_of(state: HfState, release: HfRelease) -> tuple[dict[str, Any] | None, Path | None]:
    """helmkit's ``chart`` for the release and, for a local chart, its folder."""
    chart = release.chart
    version = release.version
    if chart.startswith("oci://"):
        base, _, name = chart[len("oci://"):].rpartition("/")
        return {"repository": repository_name(base), "name": name, "version": version or "*"}, None
    local = (state.base_dir / chart)
    if chart.startswith((".", "/")) or (local / "Chart.yaml").is_file():
        if not (local / "Chart.yaml").is_file():
            return None, None
        result: dict[str, Any] = {"path": ""}
        if version:
            result["version"] = version
        return result, local.resolve()
    repo, _, name = chart.partition("/")
    if name and "/" not in name and not local.exists():
        return {"repository": repo, "name": name, "version": version or "*"}, None
    return None, None


def missing_dependencies(chart_dir: Path) -> bool:
    """A local chart whose Chart.yaml lists dependencies while its charts/ folder holds none."""
    try:
        data = yaml.safe_load((chart_dir / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    vendored = chart_dir / "charts"
    return bool(dependencies) and not (vendored.is_dir() and any(vendored.iterdir()))


def repository_name(oci_base: str) -> str:
    """A repository name for an ``oci://`` chart given in full (``ghcr.io/org/charts`` -> ``ghcr.io-org-charts``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", oci_base).strip("-.") or "oci"


def repositories(states: list[HfState]) -> tuple[list[dict[str, str]], list[NotTranslated]]:
    """helmkit.yaml ``repositories`` for what the releases use (oci ones included)."""
    found: dict[str, str] = {}
    notes: list[NotTranslated] = []
    for state in states:
        for repo in state.repositories:
            name, url = str(repo.get("name") or ""), str(repo.get("url") or "")
            if repo.get("oci") and not url.startswith("oci://"):
                url = "oci://" + url
            found.setdefault(name, url)
            extra = sorted(k for k, v in repo.items() if k not in ("name", "url", "oci") and v)
            if extra:
                notes.append(NotTranslated(state.source, None, f"repository `{name}`: {', '.join(extra)} not "
                                           "translated", "configure it in helm's repository config (helm repo "
                                           "add / helm registry login): helmkit lock uses helm's settings"))
        for release in state.releases:
            if release.chart.startswith("oci://"):
                base = release.chart[len("oci://"):].rpartition("/")[0]
                found.setdefault(repository_name(base), "oci://" + base)
    return [{"name": n, "url": u} for n, u in found.items()], notes
