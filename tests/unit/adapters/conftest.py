"""Lets the tests here (and the e2e chart repository tests) import the ``chart_server`` helper."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
