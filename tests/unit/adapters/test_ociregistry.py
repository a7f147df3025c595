"""OCI tag listing through the token flow, helm's registry config and the pure helpers.

The distribution registry of the end-to-end tests answers htpasswd logins with basic auth; the
token flow (``WWW-Authenticate: Bearer realm=…``), identity tokens and ``Link`` pagination of
hosted registries are served here by a small hand-written registry at the outer door.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helmkit.adapters.chartsources import access_for
from helmkit.adapters.helm import HelmClient
from helmkit.adapters.helmconfig import RegistryAccess, TlsOptions, registry_credentials, repository_entry
from helmkit.adapters.masking import Masker
from helmkit.adapters.ociregistry import OciReference, OciRegistryClient, exact_version, nearest
from helmkit.adapters.runner import Runner
from helmkit.errors import HelmkitError

TAGS = ["0.9.0", "1.0.0", "1.1.0_build.2", "latest", "1.2.0-rc.1", "2.0.0"]


@contextlib.contextmanager
def token_registry(user: str, password: str, refresh: str) -> Iterator[dict[str, Any]]:
    """Tags of charts/web behind a bearer token; the token service takes basic auth or a refresh token."""
    state: dict[str, Any] = {"token": "tok-" + "x" * 20, "token_requests": [], "listings": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/token":
                state["token_requests"].append(("GET", query))
                basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if self.headers.get("Authorization") != basic:
                    return self._send(401)
                return self._send(200, {"token": state["token"]})
            if url.path != "/v2/charts/web/tags/list":
                return self._send(404, {"errors": [{"code": "NAME_UNKNOWN"}]})
            if self.headers.get("Authorization") != f"Bearer {state['token']}":
                realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
                return self._send(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="fake",'
                                                                    'scope="repository:charts/web:pull"'})
            state["listings"] += 1
            start = TAGS.index(query["last"]) + 1 if "last" in query else 0
            page = TAGS[start:start + 2]
            more = start + 2 < len(TAGS)
            link = {"Link": f'</v2/charts/web/tags/list?n=2&last={page[-1]}>; rel="next"'} if more else {}
            return self._send(200, {"name": "charts/web", "tags": page}, link)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            state["token_requests"].append(("POST", form))
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != refresh:
                return self._send(401)
            return self._send(200, {"access_token": state["token"]})

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["host"] = f"127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def client(tmp_path: Path, config: dict[str, Any] | None) -> tuple[OciRegistryClient, Masker]:
    path = tmp_path / "registry.json"
    if config is not None:
        path.write_text(json.dumps(config))
    masker = Masker()

    def no_helm() -> HelmClient:
        raise AssertionError("listing tags needs no helm")

    return OciRegistryClient(no_helm, tmp_path / "cache", masker, {"HELM_REGISTRY_CONFIG": str(path)},
                             access=lambda _url: RegistryAccess(plain_http=True), backoff=0.01), masker


def test_token_flow_with_the_login_helm_stored_and_pages_of_tags(tmp_path: Path) -> None:
    with token_registry("ci", "pw-secret-123", "refresh-never") as registry:
        auth = base64.b64encode(b"ci:pw-secret-123").decode()
        oci, masker = client(tmp_path, {"auths": {f"https://{registry['host']}": {"auth": auth}}})
        versions = oci.versions(f"oci://{registry['host']}/charts", "web")
        assert versions == ["0.9.0", "1.0.0", "1.1.0+build.2", "1.2.0-rc.1", "2.0.0"]  # `_` read as `+`
        assert registry["listings"] == 3  # three pages, one token
        assert registry["token_requests"] == [("GET", {"service": "fake", "scope": "repository:charts/web:pull"})]
        assert masker.mask(f"x {registry['token']} pw-secret-123 {auth}") == "x *** *** ***"


def test_identity_token_is_exchanged_as_a_refresh_token(tmp_path: Path) -> None:
    with token_registry("ci", "pw-secret-123", "refresh-token-abc") as registry:
        oci, _ = client(tmp_path, {"auths": {registry["host"]: {"identitytoken": "refresh-token-abc"}}})
        assert "2.0.0" in oci.versions(f"oci://{registry['host']}/charts", "web")
        method, form = registry["token_requests"][0]
        assert method == "POST" and form["grant_type"] == "refresh_token" and form["service"] == "fake"


@pytest.mark.parametrize("config", [None, {"auths": {}}])
def test_no_login_names_the_command(tmp_path: Path, config: dict[str, Any] | None) -> None:
    with token_registry("ci", "pw-secret-123", "r") as registry:
        oci, _ = client(tmp_path, config)
        with pytest.raises(HelmkitError) as info:
            oci.versions(f"oci://{registry['host']}/charts", "web")
        assert f"run `helm registry login {registry['host']}`" in info.value.render()


def test_refused_login_names_the_config_file(tmp_path: Path) -> None:
    with token_registry("ci", "pw-secret-123", "r") as registry:
        auth = base64.b64encode(b"ci:wrong-password").decode()
        oci, _ = client(tmp_path, {"auths": {registry["host"]: {"auth": auth}}})
        with pytest.raises(HelmkitError, match="refused the login helm keeps in") as info:
            oci.versions(f"oci://{registry['host']}/charts", "web")
        assert "wrong-password" not in info.value.render() and auth not in info.value.render()


def test_unknown_chart(tmp_path: Path) -> None:
    with token_registry("ci", "pw", "r") as registry:
        oci, _ = client(tmp_path, None)
        with pytest.raises(HelmkitError, match="chart nope is not in the registry"):
            oci.versions(f"oci://{registry['host']}/charts", "nope")


def test_helm_config_files(tmp_path: Path) -> None:
    repositories = tmp_path / "repositories.yaml"
    repositories.write_text("apiVersion: v1\nrepositories:\n- name: corp\n  url: https://charts.corp.example/stable/\n"
                            "  username: u\n  password: p4ssw0rd-long\n  caFile: /etc/corp-ca.pem\n"
                            "  insecure_skip_tls_verify: false\n  pass_credentials_all: true\n")
    masker = Masker()
    entry = repository_entry("https://charts.corp.example/stable", {"HELM_REPOSITORY_CONFIG": str(repositories)},
                             masker)
    assert entry is not None and entry.name == "corp" and entry.pass_credentials_all
    assert entry.credentials is not None and entry.credentials.username == "u"
    assert entry.tls == TlsOptions(ca_file=Path("/etc/corp-ca.pem"))
    assert "p4ssw0rd-long" not in repr(entry) and masker.mask("p4ssw0rd-long") == "***"
    assert repository_entry("https://other.example", {"HELM_REPOSITORY_CONFIG": str(repositories)}, masker) is None
    registry = tmp_path / "config.json"
    registry.write_text(json.dumps({"auths": {"reg.example:5000": {"username": "a", "password": "pw-plain-123"}}}))
    found = registry_credentials("reg.example:5000", {"HELM_REGISTRY_CONFIG": str(registry)}, masker)
    assert found is not None and found.username == "a" and found.source == str(registry)
    assert registry_credentials("reg.example", {"HELM_REGISTRY_CONFIG": str(registry)}, masker) is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(HelmkitError, match="is not valid"):
        registry_credentials("x", {"HELM_REGISTRY_CONFIG": str(broken)}, masker)


def test_pure_helpers() -> None:
    assert exact_version("1.2.3") == "1.2.3" and exact_version("=1.2.3+b.1") == "1.2.3+b.1"
    assert exact_version("^1.2.3") is None and exact_version("1.2") is None and exact_version("*") is None
    assert nearest(["0.1.0", "1.0.0", "1.0.5", "1.1.0", "2.0.0", "3.0.0", "4.0.0", "x"], "1.0.3", 4) == [
        "0.1.0", "1.0.0", "1.0.5", "1.1.0"]  # two below, two above
    ref = OciReference.of("oci://reg.example:5000/team/charts/", "web")
    assert (ref.host, ref.path, ref.hostname, ref.url) == (
        "reg.example:5000", "team/charts/web", "reg.example", "oci://reg.example:5000/team/charts/web")
    plain = RegistryAccess(plain_http=True)
    table = {"oci://reg.example/team": plain}
    assert access_for("oci://reg.example/team", table) is plain
    assert access_for("oci://reg.example", table) is plain  # the host, as the tag listing asks
    assert access_for("oci://reg.example/other", table) == RegistryAccess()


def test_a_registry_speaking_plain_http_names_the_setting(tmp_path: Path) -> None:
    with token_registry("ci", "pw", "r") as registry:
        oci, _ = client(tmp_path, None)
        oci.access = lambda _url: RegistryAccess(plain_http=False)  # as for a host that is not loopback
        with pytest.raises(HelmkitError) as info:
            oci.versions(f"oci://{registry['host']}/charts", "web")
        assert "answers plain HTTP" in info.value.render() and "plainHttp: true" in info.value.render()
        oci.access = lambda _url: RegistryAccess()  # unset, on loopback: found out, as helm 3 does
        with pytest.raises(HelmkitError, match="needs a login"):
            oci.versions(f"oci://{registry['host']}/charts", "web")


HELPER = """#!/bin/sh
# a docker credential helper: `get` reads the server on stdin, answers JSON
read server
[ "$1" = get ] && [ "$server" = "{host}" ] || exit 1
echo '{{"ServerURL": "{host}", "Username": "ci", "Secret": "{secret}"}}'
"""


@pytest.mark.parametrize("config_of", [lambda host: {"credsStore": "fake"},
                                       lambda host: {"auths": {}, "credHelpers": {host: "fake"}}])
def test_docker_credential_helper_named_in_the_registry_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               config_of: Any) -> None:
    with token_registry("ci", "pw-from-helper-1", "r") as registry:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        helper = bin_dir / "docker-credential-fake"
        helper.write_text(HELPER.format(host=registry["host"], secret="pw-from-helper-1"))
        helper.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        oci, masker = client(tmp_path, config_of(registry["host"]))
        oci.env = {**os.environ, **oci.env}
        oci.runner = Runner(masker=masker)
        assert "2.0.0" in oci.versions(f"oci://{registry['host']}/charts", "web")
        assert masker.mask("pw-from-helper-1") == "***"
        assert oci.runner.started["docker-credential-fake"] == 1
