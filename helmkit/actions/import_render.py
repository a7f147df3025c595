"""Rendering a helmfile's ``.gotmpl`` values files with helmfile itself (``helmkit import``).

For each environment and state file, a state of its own holds, per release, only the release's
k-th ``.gotmpl`` file (``write-values`` merges a release's files, so one run per position keeps
them apart), in the release's context (name, namespace, chart, labels, kube context) with the
state's evaluated ``.Values``. Each run has its own temporary folder, removed right after it: the
rendered values (which may hold secrets until they become references) outlive no helmfile run.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from helmkit.adapters.helmfile import Helmfile
from helmkit.model.helmfile_import.state import HfState
from helmkit.model.helmfile_import.translate import Instance, ValuesFileRef


def render_templates(helmfile: Helmfile, states: dict[str, list[HfState]],
                     instances: list[Instance]) -> dict[tuple[int, int], dict[str, Any]]:
    """(instance index, values position) -> the rendered .gotmpl values, rendered by helmfile."""
    rendered: dict[tuple[int, int], dict[str, Any]] = {}
    by_state: dict[tuple[str, int], list[tuple[int, list[ValuesFileRef]]]] = defaultdict(list)
    for number, instance in enumerate(instances):
        templates = [e for e in instance.entries if isinstance(e, ValuesFileRef) and e.template and e.path.is_file()]
        if templates and instance.state is not None:
            by_state[(instance.env, id(instance.state))].append((number, templates))
    for (env, _), group in by_state.items():
        state = next(s for s in states[env] if any(instances[n].state is s for n, _ in group))
        for slot in range(max(len(t) for _, t in group)):
            rows = [(n, instances[n], t[slot]) for n, t in group if slot < len(t)]
            with tempfile.TemporaryDirectory(prefix="helmkit-import-") as tmp:
                env_values = Path(tmp) / "state-values.yaml"
                env_values.write_text(yaml.safe_dump(state.state_values), encoding="utf-8")
                out = Path(tmp) / "values"
                helmfile.write_values(state.base_dir, env, derived_state(state, env_values, rows), out)
                for number, _, ref in rows:
                    file = out / f"{number}.yaml"
                    data = yaml.safe_load(file.read_text(encoding="utf-8")) if file.is_file() else None
                    rendered[(number, ref.position)] = data if isinstance(data, dict) else {}
    return rendered


def derived_state(state: HfState, env_values: Path, rows: list[tuple[int, Instance, ValuesFileRef]]) -> str:
    """A state of its own for rendering one values template per release, in the release's context."""
    environment: dict[str, Any] = {"values": [str(env_values)]}
    if state.environment.get("kubeContext"):
        environment["kubeContext"] = state.environment["kubeContext"]
    releases = []
    for number, instance, ref in rows:
        release = instance.origin
        assert release is not None
        releases.append({"name": release.name, "namespace": release.namespace, "chart": release.chart,
                         "kubeContext": release.kube_context, "installed": True,
                         "labels": {**release.labels, "hkimport": str(number)}, "values": [str(ref.path)]})
    environments = yaml.safe_dump({"environments": {state.env: environment}})
    return environments + "---\n" + yaml.safe_dump({"releases": releases})


