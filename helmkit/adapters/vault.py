"""HashiCorp Vault (and OpenBao) KV secrets over Vault's HTTP API, with the standard library only.

``read_kv(address, path, token)`` finds the mount of ``path`` (``sys/internal/ui/mounts``, as the
vault CLI does), reads KV v2 (``MOUNT/data/REST``, ``?version=N``) or KV v1 (``PATH``) and returns
the secret's map of keys. The address is ``$VAULT_ADDR`` (or ``?address=``), the token
``$VAULT_TOKEN`` or the ``~/.vault-token`` that ``vault login`` writes, the namespace
``$VAULT_NAMESPACE`` (or ``?namespace=``); ``$VAULT_CACERT`` is the CA of an https address.
No error raised here carries a value or the token.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helmkit.errors import HelmkitError

TIMEOUT = 20.0


def vault_token(environ: Mapping[str, str]) -> str:
    token = environ.get("VAULT_TOKEN", "").strip()
    if token:
        return token
    home = environ.get("HOME")
    file = Path(home) / ".vault-token" if home else None
    if file is not None and file.is_file():
        text = file.read_text(encoding="utf-8").strip()
        if text:
            return text
    raise HelmkitError("no Vault token", hint="set VAULT_TOKEN, or run `vault login` (it writes ~/.vault-token)")


def read_kv(address: str, path: str, *, token: str, namespace: str | None, version: str | None,
            cacert: str | None) -> dict[str, Any]:
    """The key/value map of the KV secret at ``path`` (mount included, e.g. ``secret/app/db``)."""
    mount = _get(address, f"sys/internal/ui/mounts/{path}", token, namespace, cacert)
    data = mount.get("data") or {}
    if data.get("type") not in ("kv", "generic"):
        raise HelmkitError(f"{path!r} is not in a KV secrets engine", hint="ref+vault:// reads KV version 1 or 2")
    mount_path = str(data.get("path") or "").strip("/")
    rest = path.strip("/")[len(mount_path):].strip("/")
    if str((data.get("options") or {}).get("version")) == "2":
        query = f"?version={urllib.parse.quote(version)}" if version else ""
        answer = _get(address, f"{mount_path}/data/{rest}{query}", token, namespace, cacert)
        secret = (answer.get("data") or {}).get("data")
    else:
        secret = _get(address, path.strip("/"), token, namespace, cacert).get("data")
    if not isinstance(secret, dict):
        raise HelmkitError("no such secret in Vault (or it was deleted)", hint="check the path and its mount")
    return secret


def _get(address: str, api_path: str, token: str, namespace: str | None, cacert: str | None) -> dict[str, Any]:
    url = f"{address.rstrip('/')}/v1/{urllib.parse.quote(api_path, safe='/?=&')}"
    if not url.startswith(("http://", "https://")):
        raise HelmkitError("the Vault address must start with http:// or https://", hint="check VAULT_ADDR")
    headers = {"X-Vault-Token": token, "X-Vault-Request": "true"}
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only, checked above
    context = ssl.create_default_context(cafile=cacert) if url.startswith("https://") and cacert else None
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise _http_error(exc.code) from None
    except (urllib.error.URLError, OSError, ssl.SSLError):
        raise HelmkitError(f"cannot reach Vault at {address}",
                           hint="check VAULT_ADDR (or ?address=), the network and VAULT_CACERT") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise HelmkitError("Vault answered something that is not JSON", hint="check VAULT_ADDR") from None
    return answer if isinstance(answer, dict) else {}


def _http_error(code: int) -> HelmkitError:
    if code == 403:
        return HelmkitError("Vault denied access (permission denied)",
                            hint="the token's policies must allow `read` on this path; an expired token "
                                 "needs a new `vault login`")
    if code == 404:
        return HelmkitError("no such secret in Vault (or no such version)", hint="check the path and its mount")
    if code == 503:
        return HelmkitError("Vault is sealed or in standby", hint="unseal it or use the active node's address")
    return HelmkitError(f"Vault answered HTTP {code}")
