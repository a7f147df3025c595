"""Real local HTTP servers for gate tests: a service whose health answer the test scripts, and a
small server speaking the Prometheus HTTP API's ``/api/v1/query`` response format."""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """Answers given in order; the last one repeats. Each: (status, body)."""

    answers: list[tuple[int, str]] = field(default_factory=lambda: [(200, "ok")])
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, path: str) -> tuple[int, str]:
        with self.lock:
            self.requests.append(path)
            return self.answers[min(len(self.requests) - 1, len(self.answers) - 1)]


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def health_server(script: Script) -> Iterator[str]:
    """A service answering every GET from ``script``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = script.next(self.path)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with _serve(Handler) as url:
        yield url


@dataclass
class Prometheus:
    """Metric values by query: a list of answers per query (the last repeats). An answer is a
    float (one vector sample), a list of (labels, float) samples, ``"scalar:<v>"``, or ``None``
    (an empty vector). A query containing ``(((`` is bad PromQL (HTTP 400, errorType bad_data)."""

    series: dict[str, list[Any]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, query: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.queries.append(query)
            if "(((" in query:
                return 400, {"status": "error", "errorType": "bad_data",
                             "error": '1:4: parse error: unexpected "(" in paren expression'}
            answers = self.series.get(query, [None])
            value = answers[min(self.queries.count(query) - 1, len(answers) - 1)]
        now = round(time.time(), 3)
        if isinstance(value, str) and value.startswith("scalar:"):
            return 200, {"status": "success", "data": {"resultType": "scalar", "result": [now, value[7:]]}}
        samples = [] if value is None else [({}, value)] if isinstance(value, int | float) else value
        result = [{"metric": {"__name__": "x", **labels}, "value": [now, _number(v)]} for labels, v in samples]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


def _number(value: float) -> str:
    return "NaN" if math.isnan(value) else repr(float(value))


@contextmanager
def prometheus_server(prometheus: Prometheus) -> Iterator[str]:
    """``GET /api/v1/query?query=…`` (and POST with a form body) as Prometheus answers it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            if parts.path != "/api/v1/query":
                self._send(404, {"status": "error", "errorType": "not_found", "error": "not found"})
                return
            query = urllib.parse.parse_qs(parts.query).get("query", [""])[0]
            self._send(*prometheus.answer(query))

        def _send(self, status: int, document: dict[str, Any]) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with _serve(Handler) as url:
        yield url
