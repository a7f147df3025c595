"""Multi-line strings (config files, scripts) show as block text with a line diff, never as one
escaped line: in the unified diff, the field lines, and live drift (golden files).

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/plan/test_blocktext.py``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import yaml

from helmkit.adapters.masking import MaskKey
from helmkit.plan.diffmodel import diff_objects, render_fields, render_unified, sorted_yaml
from helmkit.plan.drift import release_findings
from helmkit.plan.livediff import LiveField, ObjectDrift, ReleaseLiveDiff
from helmkit.plan.manifests import ObjectKey
from helmkit.plan.status import ReleaseState, Status

CANARY = "canary-multi-s3cret-77"
CONF_OLD = "[SERVICE]\n    Flush 1\n    Log_Level info\n[INPUT]\n    Name cpu\n    Tag cpu.local\n" \
    "[OUTPUT]\n    Name stdout\n    Match *\n"
CONF_NEW = CONF_OLD.replace("Flush 1", "Flush 5").replace("Match *", "Match cpu.*")
SCRIPT = f"#!/bin/sh\nset -e\nexport TOKEN={CANARY}\nexec server --port 8080\n"
CM = ObjectKey("", "ConfigMap", "ops", "fluent-bit")
SECRET = ObjectKey("", "Secret", "ops", "tls")


def config_map(conf: str, script: str | None = None) -> dict[str, object]:
    data = {"fluent-bit.conf": conf, **({"start.sh": script} if script is not None else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fluent-bit", "namespace": "ops"},
            "data": data}


def secret(pem: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "ops"},
            "data": {"tls.key": base64.b64encode(pem.encode()).decode()}, "stringData": {"note": pem}}


def test_config_change_is_a_line_diff(golden: Callable[[str, str], None]) -> None:
    pem_old = f"-----BEGIN KEY-----\n{CANARY}\n-----END KEY-----\n"
    changes = diff_objects({CM: config_map(CONF_NEW, SCRIPT), SECRET: secret(pem_old.replace("77", "78"))},
                           {CM: config_map(CONF_OLD), SECRET: secret(pem_old)},
                           secret_values=[CANARY], digest=MaskKey.from_text("unit-test-key", "test").digest)
    unified, fields = render_unified(changes), render_fields(changes)
    for text in (unified, fields):
        assert "\\n" not in text  # no escaped line anywhere
        assert CANARY not in text and "BEGIN KEY" not in text and "canary" not in text
        lines = [line.strip() for line in text.splitlines()]
        assert any(line.startswith("-") and line.endswith("Flush 1") for line in lines)
        assert any(line.startswith("+") and line.endswith("Flush 5") for line in lines)
    golden("blocktext-unified.txt", unified)
    golden("blocktext-fields.txt", fields)


@pytest.mark.parametrize("text", [
    "a\nb", "a\nb\n", "a\n\n\nb\n\n\n", "x\n  y \nz\n", "  lead\nx\n", "tab\tx\n\ty\n", "end \nspace ",
    "caf\u00e9\n\u2028odd\n", "bell\x07\nx\n", "- item\n# not a comment\nkey: value\n",
])
def test_block_yaml_reads_back_the_same(text: str) -> None:
    data = {"data": {"k": text}, "list": [text]}
    assert yaml.safe_load(sorted_yaml(data)) == data


def test_live_drift_of_a_config_file_is_a_line_diff() -> None:
    live = ReleaseLiveDiff("fluent-bit", "ops", [ObjectDrift(CM, "v1", "modified", (
        LiveField("change", 'data["fluent-bit.conf"]', "/data/fluent-bit.conf", CONF_OLD, CONF_NEW),))])
    state = ReleaseState("prod", "prod-1", "fluent-bit", "ops", Status.IN_SYNC, revision=1, helm_status="deployed")
    (found,) = release_findings(state, live=live)
    assert found.diff.splitlines()[1:5] == [
        '    ~ data["fluent-bit.conf"]: (text)', "      @@ -1,9 +1,9 @@", "       [SERVICE]", "      -    Flush 1"]
    assert "\\n" not in found.diff
