"""The sandbox's replies carry the Date of the second they are sent, formatted as HTTP wants it."""

from __future__ import annotations

import email.utils

import pytest

from helmkit.sandbox import httpreq
from helmkit.sandbox.httpreq import FastRequestParsing


def test_the_date_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = FastRequestParsing.__new__(FastRequestParsing)  # no socket: only the date is asked
    clock = [1_800_000_000.2]
    monkeypatch.setattr(httpreq.time, "time", lambda: clock[0])
    first = handler.date_time_string()
    assert first == email.utils.formatdate(1_800_000_000, usegmt=True)
    clock[0] += 0.5
    assert handler.date_time_string() == first
    clock[0] += 1.0
    assert handler.date_time_string() == email.utils.formatdate(1_800_000_001, usegmt=True)
    assert handler.date_time_string(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
