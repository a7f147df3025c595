"""`helmkit import helmfile.yaml`: a helmkit repository from a helmfile.

helmfile evaluates its own templates: ``helmfile --environment E build`` gives the state of each
environment (``.Values``, ``.Environment.Name``, ``requiredEnv``, ``bases``, ``---`` documents), and
``helmfile write-values`` renders each ``.gotmpl`` values file for each release instance. The
evaluated releases become instances (:mod:`helmkit.model.helmfile_import.translate`), the instances
layers (:mod:`helmkit.model.helmfile_import.layout`). What cannot be translated is listed with the
helmfile's file:line and what to do; the repository is still written and the exit code is 2.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helmkit.actions.import_files import RepoFiles, check_target, dump, escape_values
from helmkit.actions.import_render import render_templates
from helmkit.adapters.helmfile import Helmfile, find_helmfile, helm_for_helmfile
from helmkit.context import Context
from helmkit.errors import EXIT_CHANGES, EXIT_OK, HelmkitError
from helmkit.model.helmfile_import.envrefs import EnvReferences, env_names
from helmkit.model.helmfile_import.layout import Placed, compose_values, layer_release
from helmkit.model.helmfile_import.notes import NotTranslated, locate
from helmkit.model.helmfile_import.state import HfState, discover_environments, parse_build
from helmkit.model.helmfile_import.translate import (
    Instance,
    helm_fields,
    repositories,
    translate_release,
)

HELMFILE_DEFAULTS: dict[str, Any] = {"wait": False, "atomic": False, "createNamespace": True, "historyMax": 10,
                                     "timeout": "5m"}
HELMFILE_NAMES = ("helmfile.yaml", "helmfile.yaml.gotmpl")
MAX_SCANNED = 4 * 1024 * 1024  # bytes of one file scanned for requiredEnv/env


@dataclass(frozen=True)
class ImportOptions:
    helmfile: Path
    target: Path
    envs: tuple[str, ...] = ()
    force: bool = False
    helmfile_binary: str | None = None


def import_helmfile(ctx: Context, options: ImportOptions) -> int:
    source = _source(options.helmfile)
    root = source.parent  # a helmfile.d folder: the folder holding it
    check_target(options.target, options.force)
    binary = find_helmfile((ctx.repo, options.target), options.helmfile_binary)
    helmfile = Helmfile(ctx.runner, binary, helm_for_helmfile(binary))
    envs = options.envs or _environments(source) or ("default",)
    variables = _env_variables(root)
    for value in variables.values():
        ctx.masker.add(value)  # helmfile's own errors may print them
    states = {env: parse_build(helmfile.build(source, env), env, root) for env in envs}
    notes: list[NotTranslated] = []
    texts: dict[Path, str] = {}

    def text_of(path: Path) -> str:
        if path not in texts:
            texts[path] = path.read_text(encoding="utf-8") if path.is_file() else ""
        return texts[path]

    instances = _instances(states, text_of, notes)
    rendered = render_templates(helmfile, states, instances)
    files = RepoFiles(root)
    refs = EnvReferences(variables)
    placed = [_place(number, instance, files, rendered, notes=notes, refs=refs)
              for number, instance in enumerate(instances)]
    defaults = _defaults(states[envs[0]])
    contexts = {(i.env, i.cluster): i.context for i in instances}
    _write_layers(files, placed, states, defaults=defaults, envs=envs, contexts=contexts)
    files.write(options.target, options.force)
    return _report(ctx, options, placed, _unique(notes), root)


def _source(path: Path) -> Path:
    """The helmfile: a file, or a folder's helmfile.yaml(.gotmpl), or its (or the folder as a) helmfile.d."""
    path = path.resolve()
    if path.is_dir():
        for name in HELMFILE_NAMES:
            if (path / name).is_file():
                return path / name
        if (path / "helmfile.d").is_dir():
            return path / "helmfile.d"
        if any(path.glob("*.yaml")) or any(path.glob("*.yaml.gotmpl")):
            return path
        raise HelmkitError(f"no helmfile.yaml in {path}", hint="name the helmfile: helmkit import path/helmfile.yaml")
    if not path.is_file():
        raise HelmkitError(f"{path} does not exist", hint="name the helmfile: helmkit import path/helmfile.yaml")
    return path


def _environments(source: Path) -> tuple[str, ...]:
    files = sorted([*source.glob("*.yaml"), *source.glob("*.yaml.gotmpl")]) if source.is_dir() else [source]
    found: list[str] = []
    for file in files:
        found += [e for e in discover_environments(file.read_text(encoding="utf-8"), file.parent) if e not in found]
    return tuple(found)


def _instances(states: dict[str, list[HfState]], text_of: Any, notes: list[NotTranslated]) -> list[Instance]:
    result: list[Instance] = []
    seen: dict[tuple[str, str, str], Instance] = {}
    for env_states in states.values():
        for state in env_states:
            defaults = {**HELMFILE_DEFAULTS, **helm_fields(state.helm_defaults)}
            _helm_defaults_notes(state, text_of(state.source), notes)
            for release in state.releases:
                instance = translate_release(state, release, text_of(state.source), notes, locate)
                if instance is None:
                    continue
                instance.fields = {**defaults, **instance.fields}
                key = (instance.env, instance.cluster, instance.release)
                if key in seen:
                    occurrence = sum(1 for r in state.releases[:release.index] if r.name == release.name)
                    notes.append(NotTranslated(state.source, locate(text_of(state.source), release.name, None,
                                                                    occurrence=occurrence),
                                               f"release `{release.name}` is defined twice for kube context "
                                               f"`{release.kube_context}`; the first one was imported",
                                               "helm release names are unique per cluster in helmkit: rename one"))
                    continue
                seen[key] = instance
                result.append(instance)
    return result


def _helm_defaults_notes(state: HfState, text: str, notes: list[NotTranslated]) -> None:
    handled = {"kubeContext", "wait", "timeout", "atomic", "createNamespace", "historyMax"}
    for key, value in state.helm_defaults.items():
        if key not in handled and value not in (None, False, "", [], {}, 0):
            notes.append(NotTranslated(state.source, locate(text, None, f"helmDefaults.{key}"),
                                       f"helmDefaults `{key}` is not translated",
                                       "helmkit has no equivalent setting: check whether the releases need it"))
    if state.data.get("hooks"):
        notes.append(NotTranslated(state.source, locate(text, None, "hooks"), "top-level `hooks` is not translated",
                                   "run the hook's command yourself (a gate `command` or a CI step)"))


def _env_variables(root: Path) -> dict[str, str]:
    """The environment variables the helmfile's files read (``requiredEnv``/``env``) that are set."""
    texts = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p == "charts" for p in parts[:-1]) or not path.is_file():
            continue
        if path.suffix in (".yaml", ".yml", ".gotmpl") and path.stat().st_size <= MAX_SCANNED:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return {name: os.environ[name] for name in sorted(env_names(texts)) if os.environ.get(name)}


def _place(number: int, instance: Instance, files: RepoFiles, rendered: dict[tuple[int, int], dict[str, Any]], *,
           notes: list[NotTranslated], refs: EnvReferences) -> Placed:
    assert instance.state is not None and instance.origin is not None
    state, release = instance.state, instance.origin
    cut = len(refs.contained)
    entries: list[str | dict[str, Any]] = []
    variants = [instance.env, f"{instance.env}-{instance.release}",
                f"{instance.env}-{instance.cluster}-{instance.release}"]
    for entry in instance.entries:
        if isinstance(entry, dict):
            entries.append(refs.replace(escape_values(entry)))
            continue
        if not entry.path.is_file():
            handler = str(release.spec.get("missingFileHandler") or state.data.get("missingFileHandler") or "Error")
            if handler.lower() == "error":
                line = locate(state.source.read_text(encoding="utf-8"), release.name, "values",
                              contains=entry.path.name)
                shown = _shown(entry.path, state.base_dir)
                notes.append(NotTranslated(state.source, line, f"release `{release.name}`: values file {shown} "
                                           "does not exist",
                                           "helmfile fails on it too: create it or remove it from the release"))
            continue
        if entry.template:
            data = refs.replace(rendered.get((number, entry.position), {}))
            entries.append(files.rendered_values(entry.path, data, variants))
        else:
            path, problem = files.copy_values_file(entry.path)
            entries.append(path)
            if problem is not None:
                notes.append(NotTranslated(entry.path, problem.location.line if problem.location else None,
                                           f"values file {path}: helmkit's YAML loader refuses it: {problem.message}",
                                           "fix the copy in the new repository (helmkit reads values files "
                                           "strictly: one document, no duplicate keys, plain YAML tags)"))

    def as_file(position: int, data: dict[str, Any]) -> str:
        return files.inline_values(instance.release, position, data, variants)

    set_values = [refs.replace(escape_values(v)) for v in instance.set_values]
    values_files, values = compose_values(entries, set_values, as_file)
    for path, name in refs.contained[cut:]:
        notes.append(NotTranslated(state.source, locate(state.source.read_text(encoding="utf-8"), release.name,
                                                        "values", contains=f'"{name}"'),
                                   f"release `{release.name}` ({instance.env}): value `{path}` holds ${name} inside "
                                   "a longer string; a placeholder was written instead",
                                   f"make the variable a value of its own (ref+env://{name}) and build the string "
                                   "in the chart, or keep the whole string in a secret"))
    fields = dict(instance.fields)
    if instance.chart_dir is not None:
        fields["chart"] = {**fields["chart"], "path": files.chart_path(instance.chart_dir)}
    return Placed(instance.env, instance.cluster, instance.release, fields, values_files, values)


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _defaults(states: list[HfState]) -> dict[str, Any]:
    helm_defaults = states[0].helm_defaults if states else {}
    return {"namespace": "default", "enabled": True, **HELMFILE_DEFAULTS, **helm_fields(helm_defaults)}


def _write_layers(files: RepoFiles, placed: list[Placed], states: dict[str, list[HfState]], *,
                  defaults: dict[str, Any], envs: tuple[str, ...], contexts: dict[tuple[str, str], str]) -> None:
    clusters: dict[str, dict[str, str]] = {env: {} for env in envs}
    for p in placed:
        clusters[p.env].setdefault(p.cluster, contexts.get((p.env, p.cluster), ""))
    env_layers: dict[str, dict[str, Any]] = {env: {} for env in envs}
    cluster_layers: dict[tuple[str, str], dict[str, Any]] = {}
    by_release: dict[str, list[Placed]] = defaultdict(list)
    for p in placed:
        by_release[p.release].append(p)
    names = {env: sorted(c) for env, c in clusters.items()}
    for release, group in sorted(by_release.items()):
        base, env_overrides, cluster_overrides = layer_release(group, names, defaults)
        files.texts[f"releases/{release}.yaml"] = dump(base, "../schemas/release.schema.json")
        for env, override in env_overrides.items():
            env_layers[env][release] = override
        for key, override in cluster_overrides.items():
            cluster_layers.setdefault(key, {})[release] = override
    settings: dict[str, Any] = {"defaults": {k: v for k, v in defaults.items() if k != "enabled"}}
    all_states = [s for env_states in states.values() for s in env_states]
    repos, _ = repositories(all_states)
    if repos:
        settings["repositories"] = repos
    files.texts["helmkit.yaml"] = dump(settings, "schemas/helmkit.schema.json")
    for env in envs:
        doc: dict[str, Any] = {"capabilities": _capabilities(states[env]),
                               "clusters": [_cluster_entry(name, ctx) for name, ctx in sorted(clusters[env].items())]
                               or [{"name": "default"}]}
        if env_layers[env]:
            doc["releases"] = env_layers[env]
        files.texts[f"environments/{env}.yaml"] = dump(doc, "../schemas/environment.schema.json")
    for (env, cluster), releases in cluster_layers.items():
        files.texts[f"environments/{env}/clusters/{cluster}.yaml"] = dump(
            {"releases": releases}, "../../../schemas/cluster.schema.json")


def _capabilities(states: list[HfState]) -> dict[str, Any]:
    """helmfile's top-level ``kubeVersion``/``apiVersions`` (helm's --kube-version/--api-versions); else helm's
    built-in API versions only, as ``helmfile template`` renders."""
    first = states[0].data if states else {}
    capabilities: dict[str, Any] = {}
    if first.get("kubeVersion"):
        capabilities["kubeVersion"] = str(first["kubeVersion"])
    capabilities["apiVersions"] = [str(v) for v in first.get("apiVersions") or []]
    return capabilities


def _cluster_entry(name: str, context: str) -> dict[str, str]:
    return {"name": name, "context": context} if context and context != name else {"name": name}


def _unique(notes: list[NotTranslated]) -> list[NotTranslated]:
    """Each item once (environments repeat them), in file and line order."""
    return sorted(dict.fromkeys(notes), key=lambda n: (str(n.file), n.line or 0))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _report(ctx: Context, options: ImportOptions, placed: list[Placed], notes: list[NotTranslated],
            base: Path) -> int:
    envs = sorted({p.env for p in placed})
    releases = len({p.release for p in placed})
    ctx.console.print(f"imported {_count(releases, 'release')}, {_count(len(placed), 'instance')} in "
                      f"{_count(len(envs), 'environment')} into {options.target}")
    defaulted = sorted({p.env for p in placed if p.cluster == "default"})
    if defaulted:
        ctx.console.print(f"note: helmfile used the current kube context in {', '.join(defaulted)}: set `context:` "
                          "of the cluster `default` in environments/<env>.yaml before syncing")
    if any("repository" in p.fields["chart"] for p in placed):
        ctx.console.print("next: `helmkit lock` pins the repository charts' versions (helmkit.lock)")
    if not notes:
        return EXIT_OK
    ctx.console.print(f"{_count(len(notes), 'item')} not translated (the repository is written without them):")
    for note in notes:
        ctx.console.print(note.render(base))
    return EXIT_CHANGES

