"""Real proxy processes for the proxy tests: proxy.py (HTTP CONNECT, basic auth) and pproxy (SOCKS5).

:class:`HttpProxy` runs ``python -m proxy`` (the PyPI package proxy.py, a dev dependency) on a free
port of 127.0.0.1 with the :mod:`tests.support.proxyhosts` plugin, so host names under
``proxied.test`` resolve inside the proxy only. The plugin writes one line per upstream connection
(``host:port``, before the proxy answers the client), so :meth:`HttpProxy.tunnels` counts them.
:class:`SocksProxy` runs pproxy as a SOCKS5 server; its verbose log has one
``socks5 client -> host:port`` line per stream.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import stop_process
from tests.support.proxyhosts import LOG_ENV

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
PROXIED_DOMAIN = "proxied.test"


@dataclass
class ProxyProcess:
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def url(self, user: str | None = None, password: str | None = None, scheme: str = "http") -> str:
        auth = f"{user}:{password}@" if user is not None else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class HttpProxy(ProxyProcess):
    upstreams: Path

    def tunnels(self, target: str) -> int:
        """How many connections to ``target`` (``host:port``) the proxy opened so far."""
        if not self.upstreams.exists():
            return 0
        return self.upstreams.read_text().splitlines().count(target)


@dataclass
class SocksProxy(ProxyProcess):
    def streams(self, target: str) -> int:
        return len(re.findall(rf"socks5 \S+ -> {re.escape(target)}\b", self.log_text()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"  # the logs are read while the proxies run
    env.update(extra)
    return env


@contextmanager
def http_proxy(folder: Path, *, basic_auth: str | None = None,
               tls: tuple[str, str] | None = None) -> Iterator[HttpProxy]:
    """proxy.py on 127.0.0.1; ``tls``: (certificate PEM, key PEM) to speak TLS to clients (an https:// proxy)."""
    folder.mkdir(parents=True, exist_ok=True)
    port_file, log = folder / "proxy.port", folder / "proxy.log"
    argv = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
            "--num-workers", "1", "--num-acceptors", "1", "--log-file", str(log),
            "--plugins", "tests.support.proxyhosts.ProxiedHosts"]
    if basic_auth:
        argv += ["--basic-auth", basic_auth]
    if tls:
        (folder / "tls.crt").write_text(tls[0])
        (folder / "tls.key").write_text(tls[1])
        (folder / "tls.key").chmod(0o600)
        argv += ["--cert-file", str(folder / "tls.crt"), "--key-file", str(folder / "tls.key")]
    with (folder / "proxy.out").open("wb") as out:
        process = subprocess.Popen(argv, cwd=REPO, env=_env(**{LOG_ENV: str(folder / "upstreams")}), stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("proxy.py did not start: " + (folder / "proxy.out").read_text())
            time.sleep(0.05)
        yield HttpProxy(int(port_file.read_text().split()[0]), log, process, folder / "upstreams")
    finally:
        stop_process(process)


@contextmanager
def socks_proxy(folder: Path) -> Iterator[SocksProxy]:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "socks.log"
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "pproxy", "-l", f"socks5://127.0.0.1:{port}", "-v"],
                                   cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pproxy did not start: " + log.read_text()) from None
                time.sleep(0.05)
        yield SocksProxy(port, log, process)
    finally:
        stop_process(process)
