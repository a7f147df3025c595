"""A kubeconfig holding one context, for each helm process that talks to one cluster.

client-go reads and decodes the whole kubeconfig again and again in one helm process (each
client it builds loads it anew): with a fleet's kubeconfig of twenty clusters that is about a
third of a small chart's install (ingress-nginx on a sandbox cluster, helm 3.19: 1.04 -> 0.72
CPU s; helm 4.1: 1.31 -> 0.94 CPU s). :func:`one_context` builds the kubeconfig of one context
of the merged kubeconfig -- its context, cluster and user entries as written, relative file
paths made absolute, the context made current -- and :class:`SlimKubeconfigs` keeps each for a
run. The runner hands it to helm through a memory file (``memfd``), never through a file on
disk: a kubeconfig holds credentials. Where that is not possible (no ``memfd``, a user with a
legacy ``auth-provider``, which writes refreshed tokens back into its kubeconfig), helm reads
the kubeconfig as before.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmkit.adapters.kubeconfig import KubeconfigFiles, kubeconfig_paths, merge_kubeconfigs, relative_to_file
from helmkit.errors import HelmkitError

CLUSTER_FILES = ("certificate-authority",)
USER_FILES = ("client-certificate", "client-key", "tokenFile")


def one_context(context: str, *, kubeconfig: Path | None, env: Mapping[str, str] | None = None,
                files: KubeconfigFiles | None = None) -> bytes | None:
    """The kubeconfig of ``context`` alone (JSON, which is YAML); None when helm should read the whole."""
    try:
        merged = merge_kubeconfigs(kubeconfig_paths(kubeconfig, env), explicit=kubeconfig is not None,
                        read=files.read if files is not None else KubeconfigFiles().read)
    except HelmkitError:
        return None  # helm says what is wrong with it, as it would have
    ctx = merged.contexts.get(context)
    body = ctx.body.get("context") if ctx is not None else None
    if ctx is None or not isinstance(body, dict):
        return None
    cluster = merged.clusters.get(str(body.get("cluster") or ""))
    user = merged.users.get(str(body.get("user") or "")) if body.get("user") else None
    if cluster is None or (body.get("user") and user is None):
        return None
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": context,
                           "contexts": [ctx.body], "clusters": [_absolute(cluster.body, "cluster", CLUSTER_FILES,
                                                                           cluster.file)], "users": []}
    if user is not None:
        user_body = user.body.get("user")
        if not isinstance(user_body, dict) or user_body.get("auth-provider"):
            return None
        entry = _absolute(user.body, "user", USER_FILES, user.file)  # a new mapping where it changes
        exec_body = user_body.get("exec")
        command = str(exec_body.get("command") or "") if isinstance(exec_body, dict) else ""
        if isinstance(exec_body, dict) and os.sep in command and not Path(command).is_absolute():
            # kubectl's rule: a relative command with a separator is relative to the kubeconfig
            entry = {**entry, "user": {**entry["user"], "exec": {
                **exec_body, "command": str(relative_to_file(user.file, command))}}}
        doc["users"] = [entry]
    return json.dumps(doc).encode()


def _absolute(entry: dict[str, Any], section: str, keys: tuple[str, ...], file: Path) -> dict[str, Any]:
    body = entry.get(section)
    if not isinstance(body, dict):
        return entry
    fixed = {key: str(relative_to_file(file, str(body[key]))) for key in keys if body.get(key)}
    return {**entry, section: {**body, **fixed}} if fixed else entry


@dataclass
class SlimKubeconfigs:
    """One run's one-context kubeconfigs, by (context, kubeconfig) (thread-safe)."""

    kubeconfig: Path | None
    files: KubeconfigFiles
    _made: dict[tuple[str, str | None], bytes | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, context: str, explicit: str | None) -> bytes | None:
        key = (context, explicit)
        with self._lock:
            if key in self._made:
                return self._made[key]
        path = Path(explicit) if explicit else self.kubeconfig
        made = one_context(context, kubeconfig=path, files=self.files)
        with self._lock:
            self._made[key] = made
        return made
