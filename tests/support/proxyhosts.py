"""A proxy.py plugin for the proxy tests: host names under ``proxied.test`` resolve only inside the proxy.

The proxy process (``python -m proxy --plugins tests.support.proxyhosts.ProxiedHosts``) connects
``<anything>.proxied.test`` to 127.0.0.1; nothing else on the machine can resolve those names, so a
client that reaches a server named so went through the proxy. Every upstream connection the proxy
opens is appended to the file ``$PROXIED_HOSTS_LOG`` (``host:port`` a line) before the proxy
answers the client, so the line is there by the time the client's request has succeeded.
"""

from __future__ import annotations

import os

from proxy.http.proxy import HttpProxyBasePlugin

SUFFIX = ".proxied.test"
LOG_ENV = "PROXIED_HOSTS_LOG"


class ProxiedHosts(HttpProxyBasePlugin):  # type: ignore[misc]
    def resolve_dns(self, host: str, port: int) -> tuple[str | None, tuple[str, int] | None]:
        log = os.environ.get(LOG_ENV)
        if log:
            with open(log, "a") as handle:
                handle.write(f"{host}:{port}\n")
        if host.lower().endswith(SUFFIX):
            return "127.0.0.1", None
        return None, None
