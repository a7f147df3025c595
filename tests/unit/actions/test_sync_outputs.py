"""Rendered tables of sync's neighbours (no cluster): the `helmkit status` table against its golden file.

Refresh with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/actions/test_sync_outputs.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from helmkit.actions.status import StatusRow, _short_time, render_status_table


def test_status_table_matches_golden(golden: Callable[[str, str], None]) -> None:
    rows = [
        StatusRow("prod-us-east-1", "cert-manager", "cert-manager", "cert-manager-1.16.2", 3, "deployed",
                  _short_time("2026-11-26T14:03:07.123456789Z"), "in-sync"),
        StatusRow("prod-us-east-1", "payments", "payments", "web-service-2.3.0", 7, "failed",
                  _short_time("2026-11-26T14:05:00Z"), "failed", "last operation failed at revision 7"),
        StatusRow("prod-us-east-1", "storefront", "storefront", "", None, "", "", "not-installed"),
        StatusRow("prod-eu-west-1", "", "", "", None, "", "", "unreachable", "connection refused"),
    ]
    text = render_status_table(rows) + "\n"
    golden("status.txt", text)
    assert "2026-11-26 14:03:07" in text and ".123" not in text
