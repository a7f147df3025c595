"""HTTP requests of rollout gates: a plain GET of a URL, and a Prometheus instant query.

Only ``http://`` and ``https://`` URLs (the schemas say so; anything else is refused here too).
Each call has a time limit; the body read is capped at :data:`MAX_BODY` bytes. Failures are
answers, not exceptions: a gate counts them as failed checks with the reason as evidence.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_BODY = 64 * 1024
USER_AGENT = "helmkit-gate"


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None  # None: no HTTP answer at all
    body: str = ""
    error: str | None = None


def http_get(url: str, *, timeout: float) -> HttpAnswer:
    """GET ``url``; any status is an answer (4xx and 5xx included), a network failure an error."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return HttpAnswer(None, error=f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return HttpAnswer(int(response.status), _text(response.read(MAX_BODY)))
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpAnswer(int(exc.code), _text(exc.read(MAX_BODY)))
    except TimeoutError:
        return HttpAnswer(None, error=f"no answer within {timeout:g}s")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return HttpAnswer(None, error=f"request failed: {reason}")


def prometheus_query(base_url: str, query: str, *, timeout: float) -> tuple[Any, str | None]:
    """``GET {base_url}/api/v1/query?query=…``: the decoded JSON answer, or None and why not.

    Prometheus answers errors (bad PromQL: 400, a query that cannot run: 422) with a JSON body
    too; that body is returned for the caller to read ``errorType`` and ``error`` from it.
    """
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    answer = http_get(url, timeout=timeout)
    if answer.status is None:
        return None, answer.error
    try:
        document = json.loads(answer.body)
    except ValueError:
        return None, f"HTTP {answer.status} with a body that is not JSON: {answer.body[:120]!r}"
    if answer.status >= 400 and not (isinstance(document, dict) and document.get("status") == "error"):
        return None, f"HTTP {answer.status}"
    return document, None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
