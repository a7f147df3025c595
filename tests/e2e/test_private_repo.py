"""A private https chart repository (basic auth, its own CA), added with `helm repo add`: helmkit
reads the entry helm wrote in repositories.yaml for index.yaml and the package, keeps the password
out of argv, output, the lock and the cache, and says what to do on 401 and on an untrusted CA."""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import secrets
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helmkit.actions.lock import LockOptions, lock
from helmkit.actions.template import TemplateOptions, template
from helmkit.adapters.runner import Runner
from helmkit.sandbox.certificates import generate, server_context
from tests.e2e.conftest import StartClusters
from tests.e2e.test_oci_auth import files_under
from tests.e2e.test_oci_registry import lock_error
from tests.e2e.test_sync_support import chart_fleet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "adapters"))
from chart_server import build_repository

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def private_site(root: Path, user: str, password: str) -> Iterator[tuple[str, Path, list[str]]]:
    """``root`` served over https with basic auth: (URL of /charts, the CA file, request log)."""
    identity = generate(("127.0.0.1", "localhost"), common_name="helmkit-test-charts")
    ca = root.parent / "charts-ca.pem"
    ca.write_text(identity.certificate_pem)
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    log: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=os.fspath(root), **kwargs)  # type: ignore[arg-type]

        def do_GET(self) -> None:
            log.append(self.path)
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="charts"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = server_context(identity)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/charts", ca, log
    finally:
        server.shutdown()
        server.server_close()


def test_private_https_repository_from_helms_repository_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_clusters: StartClusters, helm_bin: Path) -> None:
    password = "pw-" + secrets.token_hex(12)
    site = build_repository(helm_bin, tmp_path, {"web": ["1.0.0", "1.4.0"]}, {
        k: str(tmp_path / "pkg" / k.lower()) for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")})
    with private_site(site, "reader", password) as (url, ca, log):
        settings = ('helm: {version: ">=3.19.0 <5.0.0"}\ndefaults: {wait: false}\nkubeVersion: "1.34.0"\n'
                    f"repositories:\n  - name: private\n    url: {url}\n")
        releases = {"web": {"chart": {"repository": "private", "name": "web", "version": "^1"}, "namespace": "w"}}
        fleet = chart_fleet(tmp_path, monkeypatch, named_clusters, helm_bin, charts=[], releases=releases,
                            clusters=[{"name": "c1"}], env="day1", settings=settings)

        untrusted = lock_error(fleet)  # no repositories.yaml entry: the CA is unknown
        assert "TLS certificate is not trusted" in untrusted and "--ca-file" in untrusted, untrusted

        # helmkit.yaml may give the CA instead: TLS passes, and the repository asks for a login
        (fleet.root / "certs").mkdir()
        (fleet.root / "certs" / "ca.pem").write_bytes(ca.read_bytes())
        (fleet.root / "helmkit.yaml").write_text(settings + "    caFile: certs/ca.pem\n")
        assert "HTTP 401" in lock_error(fleet)
        (fleet.root / "helmkit.yaml").write_text(settings)

        helm = Runner()
        config = Path(os.environ["HELM_CONFIG_HOME"]) / "repositories.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f"apiVersion: v1\nrepositories:\n- name: private\n  url: {url}\n  caFile: {ca}\n")
        needs_login = lock_error(fleet)
        assert "HTTP 401" in needs_login and "helm repo add NAME" in needs_login and "--password-stdin" in needs_login

        config.unlink()
        helm.run([str(helm_bin), "repo", "add", "private", url, "--ca-file", str(ca), "--username", "reader",
                  "--password-stdin"], env=dict(os.environ), stdin=password)
        locked = fleet.run(lock, LockOptions())
        assert locked.code == 0, locked.err
        assert "version: 1.4.0" in (fleet.root / "helmkit.lock").read_text()
        shown = fleet.run(template, TemplateOptions(env="day1"))
        assert shown.code == 0 and 'version: "1.4.0"' in shown.out, shown.err
        assert "/charts/web-1.4.0.tgz" in log

        outputs = locked.out + locked.err + shown.out + shown.err
        encoded = base64.b64encode(f"reader:{password}".encode()).decode()
        for secret in (password, encoded):
            assert secret not in outputs
            assert all(secret not in arg for argv in fleet.argvs for arg in argv)
            assert secret not in (fleet.root / "helmkit.lock").read_text()
            assert secret not in files_under(fleet.root / ".helmkit")

        config.write_text(config.read_text().replace(password, "wrong-password-123"))
        refused = lock_error(fleet)
        assert "were refused" in refused and str(config) in refused and "wrong-password-123" not in refused
