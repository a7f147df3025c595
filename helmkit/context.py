"""The one context object passed down from the CLI to actions (no module-level state)."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from helmkit.adapters.cache import ensure_state_dir, private_dir
from helmkit.adapters.masking import Masker
from helmkit.adapters.runner import Runner
from helmkit.adapters.secretstores import SecretStores
from helmkit.model.shards import ClusterFilter
from helmkit.output.console import Console

if TYPE_CHECKING:  # the kubeconfig code loads only in runs that read one
    from helmkit.adapters.kubeconfig import KubeconfigFiles
    from helmkit.adapters.kubeslim import SlimKubeconfigs


@dataclass
class Context:
    """What every action needs: where the repo is, how to start processes, where to print."""

    repo: Path
    masker: Masker = field(default_factory=Masker)
    runner: Runner = field(init=False)
    console: Console = field(init=False)
    secret_stores: SecretStores = field(init=False)  # reads each sops file and cloud secret once per run
    helm_option: str | None = None  # --helm PATH
    kubeconfig: Path | None = None  # --kubeconfig PATH
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 2)
    verbose: bool = False
    allow_no_matching_release: bool = False  # a selector matching nothing is not an error
    cluster_filter: ClusterFilter = field(default_factory=ClusterFilter)  # --shard I/N, sync --wave
    _kubeconfigs: KubeconfigFiles | None = field(default=None, init=False, repr=False)
    _slim: SlimKubeconfigs | None = field(default=None, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.runner = Runner(masker=self.masker, kubeconfig_for=self._one_context)
        self.console = Console(masker=self.masker, verbose=self.verbose)
        self.secret_stores = SecretStores(self.repo, lambda: self.runner)

    @property
    def kubeconfigs(self) -> KubeconfigFiles:
        """The kubeconfig files this run has parsed (each once)."""
        with self._guard:
            if self._kubeconfigs is None:
                from helmkit.adapters.kubeconfig import KubeconfigFiles

                self._kubeconfigs = KubeconfigFiles()
            return self._kubeconfigs

    def _one_context(self, context: str, explicit: str | None) -> bytes | None:
        """The kubeconfig of ``context`` alone, for a helm process (:mod:`helmkit.adapters.kubeslim`)."""
        files = self.kubeconfigs
        with self._guard:
            if self._slim is None:
                from helmkit.adapters.kubeslim import SlimKubeconfigs

                self._slim = SlimKubeconfigs(self.kubeconfig, files)
            slim = self._slim
        return slim(context, explicit)

    @property
    def state_dir(self) -> Path:
        """Ignored folder for caches and tools (``.helmkit/`` at the repo root: 0700, ``.gitignore`` of ``*``)."""
        return ensure_state_dir(self.repo / ".helmkit")

    def cache_dir(self) -> Path:
        """``.helmkit/cache``, made now (0700) if it can be: a command that keeps caches calls this before
        it loads the repository, so its first run keeps the schema checks too."""
        path = self.state_dir / "cache"
        with contextlib.suppress(OSError):
            private_dir(path)
        return path
