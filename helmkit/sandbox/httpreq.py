"""Request parsing for the sandbox's API handler without the ``email`` package.

:class:`http.server.BaseHTTPRequestHandler` reads each request's headers through
``email.parser``, which took a quarter of the sandbox's CPU under the request rates of helm (a
watch, a discovery read or a GET of every object it waits for). :class:`FastRequestParsing`
reads the request line and the headers itself, with the checks the standard library makes:
HTTP/1.x only, at most :data:`MAX_HEADERS` headers of at most :data:`MAX_LINE` bytes,
``Connection`` and ``Expect: 100-continue`` honoured. Header names are case-insensitive; the
first of repeated headers wins, as ``email.message.Message.get`` answers. The ``Date`` of the
replies is formatted once a second per connection (``email.utils.formatdate`` on every reply
was 3% of the sandbox's CPU).
"""

from __future__ import annotations

import email.message
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

MAX_LINE = 65536
MAX_HEADERS = 100


class RequestHeaders(email.message.Message):
    """Headers by lower-case name; only :meth:`get` is served from them."""

    def __init__(self, by_name: dict[str, str]) -> None:
        super().__init__()
        self._by_name = by_name

    def get(self, name: str, failobj: Any = None) -> Any:
        return self._by_name.get(name.lower(), failobj)


class FastRequestParsing(BaseHTTPRequestHandler):
    raw_requestline: bytes  # set by handle_one_request before it calls parse_request
    _date: tuple[int, str] = (-1, "")  # (second, its Date header) of this connection's last reply

    def date_time_string(self, timestamp: float | None = None) -> str:
        if timestamp is not None:
            return super().date_time_string(timestamp)
        second = int(time.time())
        if self._date[0] != second:
            self._date = (second, super().date_time_string(second))
        return self._date[1]

    def parse_request(self) -> bool:
        self.command = ""
        self.request_version = self.default_request_version
        self.close_connection = True
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = line
        words = line.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({line!r})")
            return False
        self.command, self.path, self.request_version = words
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")
        if self.request_version >= "HTTP/1.1" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        found: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if len(raw) > MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, colon, value = raw.decode("iso-8859-1").partition(":")
            if colon:
                found.setdefault(name.strip().lower(), value.strip())
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.headers = RequestHeaders(found)
        connection = found.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        if found.get("expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True
