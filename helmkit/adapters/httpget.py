"""HTTP(S) GETs for chart repositories and OCI registries: TLS options, size limits, retries, clear errors.

:func:`http_get` returns every HTTP answer (2xx to 5xx) as an :class:`HttpAnswer` and raises only
for transport failures; :func:`with_retries` repeats a call on 5xx answers and dropped connections
with backoff; :func:`transport_error` turns a transport failure into one error that names the
setting to change (an untrusted certificate names the CA setting, a server speaking plain HTTP
names ``plainHttp``). Request headers (which may carry credentials) never appear in any error.
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from helmkit.errors import HelmkitError, ToolError

HTTP_TIMEOUT = 30.0
HTTP_ATTEMPTS = 4


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""


def http_get(url: str, *, headers: Mapping[str, str] | None = None, context: ssl.SSLContext | None = None,
             timeout: float = HTTP_TIMEOUT, max_bytes: int = 64 * 1024 * 1024, data: bytes | None = None,
             ) -> HttpAnswer:
    """One request (GET, or POST with ``data``); raises OSError/URLError for transport failures only."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise HelmkitError(f"{url}: only http and https are supported, not {scheme!r}")
    request = urllib.request.Request(url, data=data, headers={"User-Agent": "helmkit", **(headers or {})})  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirectAuth())
    try:
        with opener.open(request, timeout=timeout) as response:
            body: bytes = response.read(max_bytes + 1)
            return HttpAnswer(response.status, dict(response.headers.items()), body)
    except urllib.error.HTTPError as exc:
        body = exc.read(64 * 1024) if exc.fp is not None else b""
        return HttpAnswer(exc.code, dict(exc.headers.items()) if exc.headers else {}, body)


class _NoRedirectAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects (registries send blobs to storage) but never carry Authorization to another host."""

    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str,  # noqa: PLR0917
                         headers: object, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def with_retries(call: Callable[[], HttpAnswer], *, what: str, attempts: int = HTTP_ATTEMPTS,
                 backoff: float = 0.5, tls_hint: str = "", plain_hint: str = "") -> HttpAnswer:
    """``call()`` until it answers below 500, at most ``attempts`` times (transport errors: :func:`transport_error`)."""
    last = ""
    for attempt in range(attempts):
        try:
            answer = call()
            if answer.status < 500:
                return answer
            last = f"HTTP {answer.status}"
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            definite = transport_error(exc, what, tls_hint=tls_hint, plain_hint=plain_hint)
            if definite is not None:
                raise definite from None
            last = str(getattr(exc, "reason", exc))
        if attempt + 1 < attempts:
            time.sleep(backoff * (2**attempt))
    raise ToolError(f"{what}: failed after {attempts} attempts: {last}", hint="check the URL and the network")


def transport_error(exc: BaseException, what: str, *, tls_hint: str = "", plain_hint: str = "") -> HelmkitError | None:
    """A definite error for TLS failures (retrying cannot help); None for failures worth a retry."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return HelmkitError(f"{what}: the server's TLS certificate is not trusted ({reason.verify_message})",
                            hint=tls_hint or "give the file of the CA that signed it as caFile")
    if isinstance(reason, ssl.SSLError) and speaks_plain_http(reason):
        return HelmkitError(f"{what}: the server answers plain HTTP, not HTTPS",
                            hint=plain_hint or "use an http:// URL")
    if isinstance(reason, ssl.SSLError):
        return HelmkitError(f"{what}: TLS handshake failed ({reason.reason or reason})",
                            hint=tls_hint or "check the TLS settings of this repository")
    return None


def speaks_plain_http(error: ssl.SSLError) -> bool:
    return str(error.reason or "") in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST") or \
        "wrong version number" in str(error)
