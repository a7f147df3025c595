"""A proxy.py plugin for the proxy tests: host names under ``proxied.test`` resolve only inside the proxy.

The proxy process (``python -m proxy --plugins tests.support.proxyhosts.ProxiedHosts``) connects
``<anything>.proxied.test`` to 127.0.0.1; nothing else on the machine can resolve those names, so a
client that reaches a server named so went through the proxy.
"""

from __future__ import annotations

from proxy.http.proxy import HttpProxyBasePlugin

SUFFIX = ".proxied.test"


class ProxiedHosts(HttpProxyBasePlugin):  # type: ignore[misc]
    def resolve_dns(self, host: str, port: int) -> tuple[str | None, tuple[str, int] | None]:
        if host.lower().endswith(SUFFIX):
            return "127.0.0.1", None
        return None, None
