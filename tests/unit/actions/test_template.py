"""Masking of Secret data in `helmkit template` output."""

from __future__ import annotations

import base64

import pytest
import yaml

from helmkit.actions.template import _SECRET_KIND, MASKED_NOTE, _has_secret_kind, mask_secret_data
from helmkit.adapters.masking import MaskKey

digest_mask = MaskKey.from_text("unit-test-key", "test").digest

MANIFEST = """---
# Source: web/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: web
type: Opaque
data:
  password: {b64}
stringData:
  token: "plain-token-value"
---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  password: visible-on-purpose
"""


def test_secret_values_become_stable_digest_masks() -> None:
    b64 = base64.b64encode(b"hunter2-password").decode()
    out = mask_secret_data(MANIFEST.format(b64=b64), digest_mask)
    assert b64 not in out and "plain-token-value" not in out
    assert digest_mask("plain-token-value") in out
    assert "# Source: web/templates/secret.yaml" in out
    assert "visible-on-purpose" in out  # ConfigMaps are left as rendered
    assert out.endswith(MANIFEST.split("---")[2])


def test_changed_secret_shows_a_changed_mask() -> None:
    one = mask_secret_data(MANIFEST.format(b64=base64.b64encode(b"one-value").decode()), digest_mask)
    two = mask_secret_data(MANIFEST.format(b64=base64.b64encode(b"two-value").decode()), digest_mask)
    assert one != two
    same = MANIFEST.format(b64="c2FtZQ==")
    assert mask_secret_data(same, digest_mask) == mask_secret_data(same, digest_mask)


def test_manifest_without_secrets_is_unchanged() -> None:
    text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    assert mask_secret_data(text, digest_mask) == text
    assert mask_secret_data("", digest_mask) == ""


def test_masked_secret_is_still_a_valid_manifest() -> None:
    b64 = base64.b64encode(b"hunter2-password").decode()
    out = mask_secret_data(MANIFEST.format(b64=b64), digest_mask)
    secret = next(doc for doc in yaml.safe_load_all(out) if doc and doc["kind"] == "Secret")
    password = secret["data"]["password"]
    assert base64.b64decode(password, validate=True).decode() == digest_mask(b64)  # base64, as the API requires
    assert secret["stringData"] == {"token": digest_mask("plain-token-value")}
    assert MASKED_NOTE in out


@pytest.mark.parametrize("text", [
    "kind: Secret\nx: 1", "a: 1\nkind: Secret", "a: 1\nkind: 'Secret'\r\n", "kind: Secrets\n", "a:\n  kind: Secret\n",
    "kind: ConfigMap\nkind: Secret\n", "", "Secret", "kind: Secret", "x\nkind:Secret", "kind: Secrets\nSecret",
    "kind: A\nkind: B\nkind: \"Secret\"  \n", "# kind: Secret\n", "kind: SecretList\nkind: Secret-ish\n",
])
def test_secret_documents_are_found_as_the_line_rule_says(text: str) -> None:
    assert _has_secret_kind(text) is bool(_SECRET_KIND.search(text))
