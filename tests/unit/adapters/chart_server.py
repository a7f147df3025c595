"""A real Helm chart repository for tests: charts packaged with `helm package`, served over HTTP."""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.adapters.runner import Runner

CHART_YAML = "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{version}\"\n"
TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  version: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
"""


def write_chart(folder: Path, name: str, version: str) -> Path:
    chart = folder / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(CHART_YAML.format(name=name, version=version))
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(TEMPLATE)
    return chart


def build_repository(helm: Path, root: Path, charts: dict[str, list[str]], env: dict[str, str]) -> Path:
    """Package each chart version into ``root/site/charts`` with its index.yaml; return ``root/site``."""
    repo = root / "site" / "charts"
    repo.mkdir(parents=True, exist_ok=True)
    runner = Runner()
    for name, versions in charts.items():
        for version in versions:
            src = write_chart(root / "src" / version, name, version)
            runner.run([str(helm), "package", str(src), "--destination", str(repo)], env=env)
    runner.run([str(helm), "repo", "index", str(repo)], env=env)
    return repo.parent


@dataclass
class ServedRepository:
    url: str
    root: Path
    requests: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # path -> number of 503 answers still to give


@contextlib.contextmanager
def serve(root: Path) -> Iterator[ServedRepository]:
    state = ServedRepository(url="", root=root)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=os.fspath(root), **kwargs)  # type: ignore[arg-type]

        def do_GET(self) -> None:
            state.requests.append(self.path)
            left = state.failures.get(self.path, 0)
            if left:
                state.failures[self.path] = left - 1
                self.send_error(503, "try again")
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/charts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def helm_env(tmp_path: Path) -> dict[str, str]:
    return {k: str(tmp_path / "helm" / k.lower()) for k in
            ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR")}
