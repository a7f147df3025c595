"""The masker: every printed form of a secret is masked; digest masks are keyed and cannot confirm a guess."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml

from helmkit.adapters.masking import MASK_KEY_ENV, Masker, MaskKey, key_file
from helmkit.adapters.secretforms import go_json_body, go_quote, secret_forms

CANARIES = ['CANARY"q\\x-9', "CANARY'quote-sq", "CANARY\nsecond-line", "CANARY%41-pct", "CANARY-é-ü-€-非",
            'CANARY<&>"\\\'\n%é\t-all']
GO = r"""package main
import ("encoding/json"; "fmt"; "os")
func main() { b, _ := json.Marshal(os.Args[1]); fmt.Printf("%s %q %+q", b, os.Args[1], os.Args[1]) }
"""


def printed_forms(value: str) -> list[str]:
    """What helm, Go and our reports print for ``value``: computed by the real encoders where Python has them."""
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    dumped_json = json.dumps(value)
    return [
        value, b64, base64.urlsafe_b64encode(raw).decode(), b64.rstrip("="),
        base64.encodebytes(raw).decode(),  # wrapped at 76
        dumped_json, json.dumps(value, ensure_ascii=False), json.dumps(dumped_json),  # JSON, and JSON of JSON
        yaml.safe_dump(value), yaml.safe_dump(value, default_style='"'), yaml.safe_dump(value, default_style="'"),
        yaml.safe_dump(value, allow_unicode=True), yaml.safe_dump({"k": value}, default_flow_style=True),
        urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
        go_quote(value), go_quote(value, ascii_only=True), f'json="{go_json_body(value)}"',
        go_quote(f'json="{go_json_body(value)}"'),  # helm 4 logs a message holding toJson output with %q
    ]


@pytest.mark.parametrize("value", CANARIES)
def test_every_printed_form_is_masked(value: str) -> None:
    masker = Masker([value])
    for form in printed_forms(value):
        masked = masker.mask(f"error: at (x.yaml:1:4): {form} end")
        assert "CANARY" not in masked, (form, masked)
        assert base64.b64encode(value.encode()).decode()[:12] not in masked, (form, masked)
        assert form not in masked


def test_base64_wrapped_at_64_and_76_is_masked_line_by_line() -> None:
    value = "CANARY-" + "x" * 120
    b64 = base64.b64encode(value.encode()).decode()
    masker = Masker([value])
    for width in (64, 76):
        block = "\n    ".join(b64[i:i + width] for i in range(0, len(b64), width))
        assert b64[:width] not in masker.mask(f"data:\n    {block}\n")


def test_go_quote_and_json_match_go_where_a_go_compiler_exists(tmp_path: Path) -> None:
    go = next((Path(p) / "go" for p in os.environ.get("PATH", "").split(os.pathsep) if (Path(p) / "go").is_file()),
              None)
    if go is None:
        pytest.skip("no Go toolchain on PATH: the Go forms are checked against their specification only")
    (tmp_path / "main.go").write_text(GO)
    for value in CANARIES:
        env = dict(os.environ, HOME=str(tmp_path), GOCACHE=str(tmp_path / "gocache"), GOPATH=str(tmp_path / "gopath"),
                   GOTOOLCHAIN="local", GOFLAGS="", CGO_ENABLED="0")
        out = subprocess.run([str(go), "run", str(tmp_path / "main.go"), value], capture_output=True, text=True,
                             check=True, timeout=300, env=env, cwd=tmp_path).stdout
        assert out == f'"{go_json_body(value)}" {go_quote(value)} {go_quote(value, ascii_only=True)}'


def test_short_forms_are_left_out() -> None:
    assert all(len(form) >= 4 for form in secret_forms("ab\ncd"))
    assert Masker(["ab\ncd"]).mask("a cd b") == "a cd b"  # its two-letter lines alone are not masked


def test_digest_masks_are_keyed_and_do_not_confirm_a_guess() -> None:
    key, other = MaskKey.from_text("key-one", "test"), MaskKey.from_text("key-two", "test")
    assert key.digest("hunter2") == key.digest("hunter2") != key.digest("hunter3")
    assert key.digest("hunter2") != other.digest("hunter2")
    unsalted = hashlib.sha256(b"hunter2").hexdigest()
    assert unsalted[:8] not in key.digest("hunter2") and "hunter2" not in key.digest("hunter2")
    assert "key-one" not in repr(key)


def test_the_key_comes_from_the_environment_else_a_private_key_file(tmp_path: Path) -> None:
    from_env = MaskKey.load({MASK_KEY_ENV: "from-ci-secret-store", "HOME": str(tmp_path)})
    assert from_env.origin == f"${MASK_KEY_ENV}" and not (tmp_path / ".config").exists()
    first = MaskKey.load({"HOME": str(tmp_path)})
    second = MaskKey.load({"HOME": str(tmp_path)})
    path = key_file({"HOME": str(tmp_path)})
    assert path is not None and first.origin == str(path)
    assert first.digest("v") == second.digest("v")  # stable run to run on one machine
    assert path.stat().st_mode & 0o777 == 0o600
    assert MaskKey.load({}).digest("v") != MaskKey.load({}).digest("v")  # no home: a key of this run only


def test_a_masker_digests_with_its_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MASK_KEY_ENV, "some-key")
    assert Masker().digest("v") == MaskKey.from_text("some-key", "x").digest("v")
    assert Masker().digest("v").startswith("<secret hmac:")
