"""Rollout gates: what ``helmkit.yaml`` and an environment file declare under ``gates``.

A gate is one check run on every cluster of a wave after the wave deployed; the gates of a
wave decide whether the next wave starts. Kinds (exactly one per gate):

- ``workload``: every Deployment, StatefulSet and DaemonSet of the releases the wave changed is
  rolled out and available, and no container restarts or waits in CrashLoopBackOff;
- ``soak``: a duration to wait;
- ``http``: a URL answers with the expected status (default 200) and a body matching a regex;
- ``prometheus``: a PromQL instant query whose every sample satisfies a condition (``< 0.01``);
- ``command``: an argv (no shell) exits 0.

Every kind but soak is checked every ``interval`` until ``successThreshold`` consecutive checks
passed (the gate passes) or ``failureThreshold`` consecutive checks failed or ``timeout`` ran
out (it fails). Defaults follow helmwave's monitors: interval 10s, timeout 5m, one check at
most 10s, 3 successes (1 for workload), 3 failures.

Which gates apply. The gates of ``helmkit.yaml`` apply to every environment; an environment's
gates are added, and one with the name of a ``helmkit.yaml`` gate replaces it (a gate's name
defaults to its kind). ``waves`` limits a gate to some waves; ``releases`` to the clusters where
one of those releases changed. ``onGateFailure.uninstallInstalled: false`` keeps releases a
failed wave installed (default: uninstalled, as everything else the wave changed is rolled back).

:func:`gates_of` reads and checks them (problems at file:line); :func:`for_cluster` gives a
gate's strings with ``${env.name}``, ``${cluster.name}`` and ``${cluster.region}`` replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from helmkit.errors import Location, Problem
from helmkit.model.instance import Cluster
from helmkit.model.interpolation import interpolate_text
from helmkit.model.repository import Environment, Repository, closest
from helmkit.model.yamlfile import Path_, YamlDocument

KINDS = ("workload", "soak", "http", "prometheus", "command")
DEFAULT_INTERVAL = 10.0
DEFAULT_TIMEOUT = 300.0
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_SUCCESS = 3
DEFAULT_FAILURE = 3
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds of a Go duration (``500ms``, ``30s``, ``1h30m``); ValueError when it is not one."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m or 1h30m")
    return sum(float(n) * _SCALE[u] for n, u in parts)


@dataclass(frozen=True)
class GateSpec:
    """One gate as declared (strings not yet interpolated)."""

    name: str
    kind: str
    config: Mapping[str, Any]  # the kind's own map (workload: empty; soak: {"duration": "2m"})
    location: Location
    waves: tuple[int, ...] | None = None  # None: every wave
    releases: tuple[str, ...] = ()  # empty: any release
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    success_threshold: int = DEFAULT_SUCCESS
    failure_threshold: int = DEFAULT_FAILURE
    soak: float = 0.0  # seconds, soak gates

    def applies_to_wave(self, wave: int) -> bool:
        return self.waves is None or wave in self.waves

    def describe(self) -> str:
        """One line for plans and reports, e.g. ``http GET https://… expects 200``."""
        config = self.config
        if self.kind == "soak":
            text = f"soak {config['duration']}"
        elif self.kind == "workload":
            text = "workload rolled out, available, no restarts"
        elif self.kind == "http":
            text = f"http GET {config['url']} expects {_statuses(config)}"
            if config.get("body"):
                text += f" and body /{config['body']}/"
        elif self.kind == "prometheus":
            text = f"prometheus {config['query']} {config['condition'].strip()}"
        else:
            text = "command " + " ".join(config["argv"])
        if self.releases:
            text += f" (when {', '.join(self.releases)} changed)"
        return text


@dataclass(frozen=True)
class GatePolicy:
    """The gates of one environment and what a failed one does."""

    gates: tuple[GateSpec, ...] = ()
    uninstall_installed: bool = True

    def for_wave(self, wave: int) -> list[GateSpec]:
        return [gate for gate in self.gates if gate.applies_to_wave(wave)]


@dataclass
class _Reader:
    repo: Repository
    problems: list[Problem] = field(default_factory=list)

    def problem(self, doc: YamlDocument, path: Path_, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, doc.location(path), hint, None, "gates"))

    def read(self, doc: YamlDocument, waves: set[int] | None) -> list[GateSpec]:
        specs: list[GateSpec] = []
        names: dict[str, int] = {}
        for index, entry in enumerate(doc.data.get("gates") or []):
            spec = self.gate(doc, ("gates", index), entry, waves)
            if spec is None:
                continue
            if spec.name in names:
                self.problem(doc, ("gates", index), f"gate `{spec.name}` is declared twice in {doc.file} "
                             f"(first at line {names[spec.name]})", "give each gate its own `name`")
                continue
            names[spec.name] = spec.location.line or 0
            specs.append(spec)
        return specs

    def gate(self, doc: YamlDocument, path: Path_, entry: Mapping[str, Any], waves: set[int] | None) -> GateSpec | None:
        kinds = [kind for kind in KINDS if kind in entry and entry[kind] is not False]
        if len(kinds) != 1:
            what = "none" if not kinds else ", ".join(kinds)
            self.problem(doc, path, f"a gate needs exactly one of {', '.join(KINDS)} (found {what})",
                         "split it into one gate per check")
            return None
        kind = kinds[0]
        raw = entry[kind]
        config: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        if kind == "soak":
            config = {"duration": raw}
        ok = True
        if kind == "http" and config.get("body"):
            ok &= self.regex(doc, (*path, "http", "body"), config["body"])
        for text, where in _strings(kind, config, path):
            ok &= self.variables(doc, where, text)
        for wave in entry.get("waves") or ():
            if waves is not None and wave not in waves:
                self.problem(doc, (*path, "waves"), f"gate waves name wave {wave}, which no cluster of this "
                             "environment is in", "known waves: " + ", ".join(map(str, sorted(waves))))
                ok = False
        for release in entry.get("releases") or ():
            if release not in self.repo.releases and release not in self.repo.unreadable:
                self.problem(doc, (*path, "releases"), f"gate names unknown release `{release}`",
                             closest(release, list(self.repo.releases)))
                ok = False
        if not ok:
            return None
        success = entry.get("successThreshold", 1 if kind == "workload" else DEFAULT_SUCCESS)
        return GateSpec(
            name=str(entry.get("name") or kind), kind=kind, config=config, location=doc.location(path),
            waves=tuple(entry["waves"]) if entry.get("waves") else None, releases=tuple(entry.get("releases") or ()),
            interval=parse_duration(entry.get("interval", "10s")), timeout=parse_duration(entry.get("timeout", "5m")),
            request_timeout=parse_duration(entry.get("requestTimeout", "10s")),
            success_threshold=int(success), failure_threshold=int(entry.get("failureThreshold", DEFAULT_FAILURE)),
            soak=parse_duration(raw) if kind == "soak" else 0.0,
        )

    def regex(self, doc: YamlDocument, path: Path_, pattern: str) -> bool:
        try:
            re.compile(pattern)
        except re.error as exc:
            self.problem(doc, path, f"`body` is not a regular expression: {exc}", "escape special characters with \\")
            return False
        return True

    def variables(self, doc: YamlDocument, path: Path_, text: str) -> bool:
        found: list[Problem] = []
        interpolate_text(text, _sample_variables(), lambda: doc.location(path), found)
        for problem in found:
            hint = "gates know ${env.name}, ${cluster.name} and ${cluster.region}; write `$${` for a literal `${`"
            self.problems.append(replace(problem, hint=hint, layer="gates"))
        return not found


def gates_of(repo: Repository, env: str) -> tuple[GatePolicy, list[Problem]]:
    """The gates of environment ``env`` (helmkit.yaml's, then the environment's) and their problems."""
    environment = repo.environments[env]
    reader = _Reader(repo)
    waves = {spec.cluster.wave for spec in environment.clusters}
    merged: dict[str, GateSpec] = {gate.name: gate for gate in reader.read(repo.settings.doc, None)}
    for gate in reader.read(environment.doc, waves):
        merged[gate.name] = gate
    return GatePolicy(tuple(merged.values()), _uninstall_installed(repo, environment)), reader.problems


def _uninstall_installed(repo: Repository, environment: Environment) -> bool:
    for doc in (environment.doc, repo.settings.doc):
        value = (doc.data.get("onGateFailure") or {}).get("uninstallInstalled")
        if isinstance(value, bool):
            return value
    return True


def for_cluster(gate: GateSpec, cluster: Cluster) -> GateSpec:
    """``gate`` with ``${env.name}``, ``${cluster.name}`` and ``${cluster.region}`` replaced."""
    variables = {"env.name": cluster.env, "cluster.name": cluster.name, "cluster.region": cluster.region}
    ignored: list[Problem] = []  # reported by gates_of already

    def text(value: str) -> str:
        return interpolate_text(value, variables, lambda: None, ignored)

    config = dict(gate.config)
    for key in ("url", "query"):
        if isinstance(config.get(key), str):
            config[key] = text(config[key])
    if gate.kind == "command":
        config["argv"] = [text(arg) for arg in config["argv"]]
    return replace(gate, config=config)


def _strings(kind: str, config: Mapping[str, Any], path: Path_) -> list[tuple[str, Path_]]:
    if kind in ("http", "prometheus"):
        return [(config[key], (*path, kind, key)) for key in ("url", "query") if isinstance(config.get(key), str)]
    if kind == "command":
        return [(arg, (*path, kind, "argv", i)) for i, arg in enumerate(config.get("argv") or ())]
    return []


def _sample_variables() -> dict[str, str]:
    return {"env.name": "env", "cluster.name": "cluster", "cluster.region": "region"}


def _statuses(config: Mapping[str, Any]) -> str:
    wanted = config.get("status", 200)
    return " or ".join(map(str, wanted)) if isinstance(wanted, list) else str(wanted)
