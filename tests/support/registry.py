"""A real OCI registry for tests: the CNCF distribution registry (Debian's ``docker-registry``).

:func:`start_registry` runs it on a free loopback port with its own storage folder and config
file, optionally with htpasswd basic auth (bcrypt) and TLS (a self-signed certificate), and stops
it (only the process it started) when the context ends. :func:`registry_binary` finds the binary,
installing the Debian package when it is missing and this is root with apt-get (as the
Makefile's ``registry`` target does); elsewhere tests skip -- except in CI, where a missing
registry is a failure.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helmkit.adapters.runner import Result, Runner
from helmkit.sandbox.certificates import generate
from tests.support.processes import stop_process

BINARIES = ("docker-registry", "registry")
INSTALL = "apt-get install -y docker-registry"


def registry_binary() -> Path:
    """The registry binary; installed when missing and possible; else a skip (a failure in CI)."""
    found = _which()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        lock = Path(tempfile.gettempdir()) / "helmkit-tests-apt.lock"
        with lock.open("w") as handle:  # one installer at a time across test workers
            fcntl.flock(handle, fcntl.LOCK_EX)
            found = _which()
            if found is None:
                env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
                subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
                subprocess.run(["apt-get", "install", "-y", "-qq", "docker-registry"], env=env, check=False,
                               capture_output=True)
                found = _which()
    if found is None:
        message = f"the OCI registry tests need the distribution registry: {INSTALL} (or `make registry` as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _which() -> Path | None:
    for name in BINARIES:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None)
        if found:
            return Path(found)
    return None


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    root: Path
    ca_file: Path | None = None  # the certificate, when it serves TLS
    user: str = ""
    password: str = ""

    def requests(self) -> str:
        """The registry's access log so far (one line per request)."""
        return (self.root / "registry.log").read_text()

    @property
    def tls(self) -> bool:
        return self.ca_file is not None

    def url(self, path: str = "charts") -> str:
        return f"oci://{self.host}/{path}"

    def connection_flags(self) -> list[str]:
        """How helm push/login reach it: the CA of its certificate for TLS, else plain HTTP."""
        return ["--ca-file", str(self.ca_file)] if self.ca_file is not None else ["--plain-http"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def start_registry(root: Path, *, user: str = "", password: str = "", tls: bool = False) -> Iterator[Registry]:
    binary = registry_binary()
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    registry = Registry(f"127.0.0.1:{port}", root, user=user, password=password)
    config = [
        "version: 0.1", "log:", "  level: error", "  accesslog:", "    disabled: false",
        "storage:", "  filesystem:", f"    rootdirectory: {root / 'data'}", "  delete:", "    enabled: true",
        "http:", f"  addr: 127.0.0.1:{port}", "  secret: helmkit-tests",
    ]
    if tls:
        identity = generate(("127.0.0.1", "localhost"), common_name="helmkit-test-registry")
        cert, key = root / "registry.crt", root / "registry.key"
        cert.write_text(identity.certificate_pem)
        key.write_text(identity.key_pem)
        key.chmod(0o600)
        registry.ca_file = cert
        config += ["  tls:", f"    certificate: {cert}", f"    key: {key}"]
    if user:
        import bcrypt

        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{user}:{hashed}\n")
        config += ["auth:", "  htpasswd:", "    realm: helmkit-tests", f"    path: {root / 'htpasswd'}"]
    (root / "config.yml").write_text("\n".join(config) + "\n")
    log = (root / "registry.log").open("w")
    process = subprocess.Popen([str(binary), "serve", str(root / "config.yml")], stdout=log, stderr=log,
                               start_new_session=True)
    try:
        _wait_ready(registry, process)
        yield registry
    finally:
        stop_process(process)
        log.close()


def _wait_ready(registry: Registry, process: subprocess.Popen[bytes]) -> None:
    scheme = "https" if registry.tls else "http"
    context = ssl.create_default_context(cafile=str(registry.ca_file)) if registry.ca_file else None
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError("the registry exited: " + (registry.root / "registry.log").read_text()[-2000:])
        try:
            urllib.request.urlopen(f"{scheme}://{registry.host}/v2/", timeout=2, context=context)
            return
        except urllib.error.HTTPError:
            return  # 401: it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the registry did not answer within 10 s")


CHART_YAML = "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{version}\"\n"
TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  version: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
  flavour: {{ .Values.flavour | quote }}
"""


def push_chart(helm: Path, env: dict[str, str], registry: Registry, work: Path, chart: tuple[str, str], *,
               flavour: str = "first", path: str = "charts") -> Result:
    """``helm package`` a small chart of our own, ``chart`` = (name, version), and ``helm push`` it
    (``flavour`` changes its content)."""
    name, version = chart
    chart = work / f"{name}-{version}-{flavour}" / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(CHART_YAML.format(name=name, version=version))
    (chart / "values.yaml").write_text(f"greeting: hello\nflavour: {flavour}\n")
    (chart / "templates" / "configmap.yaml").write_text(TEMPLATE)
    runner = Runner()
    runner.run([str(helm), "package", str(chart), "--destination", str(chart.parent)], env=env)
    package = next(chart.parent.glob("*.tgz"))
    return runner.run([str(helm), "push", str(package), registry.url(path),
                       *registry.connection_flags()], env=env)


def login(helm: Path, env: dict[str, str], registry: Registry) -> Result:
    """``helm registry login`` with the password on stdin (never in argv)."""
    return Runner().run([str(helm), "registry", "login", registry.host, "--username", registry.user,
                         "--password-stdin", *registry.connection_flags()],
                        env=env, stdin=registry.password)
