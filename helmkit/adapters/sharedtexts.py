"""Equal texts kept once per run.

A release deployed with the same chart and values on twenty clusters has the same manifest text
twenty times (kube-prometheus-stack: about a megabyte each); each record decoded is a new string.
:class:`SharedTexts` hands back the first string of each equal text, so the copies are freed as
they are decoded and what a run keeps grows with the distinct releases, not with the fleet.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

SHARED_MIN_LENGTH = 4096  # shorter texts cost less than the lookup is worth


@dataclass
class SharedTexts:
    """Thread-safe; one per run (the texts live as long as it does)."""

    _texts: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def share(self, text: str) -> str:
        """``text``, or the equal text seen first."""
        if len(text) < SHARED_MIN_LENGTH:
            return text
        with self._lock:
            return self._texts.setdefault(text, text)
