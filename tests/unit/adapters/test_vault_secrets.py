"""ref+vault:// against a real Vault-API server (OpenBao ``bao server -dev``, KV v2 at ``secret/``).

A key of a secret, a nested key, an older version; one read per secret per run; every
failure (no address, no token, denied, missing, unreachable) is one error naming the
reference and where it is written, never the value or the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helmkit.adapters.runner import Runner
from helmkit.adapters.secretstores import SecretStores
from helmkit.errors import InputError, Location
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance, SecretRef
from helmkit.model.secrets import resolve_secrets
from tests.support.secretservers import BaoServer, free_port

CANARY = "CANARY-vault-\"q\\x'9%-é"


@pytest.fixture(scope="module")
def bao() -> Iterator[BaoServer]:
    server = BaoServer()
    try:
        server.put("app/db", {"password": CANARY + "-v1"})
        server.put("app/db", {"password": CANARY, "nested": {"user": "app"}, "port": 5432})
        yield server
    finally:
        server.stop()


def vault_instance(refs: list[str]) -> ReleaseInstance:
    values = {"db": {f"s{i}": ref for i, ref in enumerate(refs)}}
    secrets = [SecretRef(("db", f"s{i}"), ref, Location("environments/prod.yaml", 3 + i, 7))
               for i, ref in enumerate(refs)]
    return ReleaseInstance(env="prod", cluster=Cluster("c1", "prod", "c1"), name="web", namespace="web",
                           chart=ChartRef(name="web", repository_name="r"), values=values, secrets=secrets)


def test_kv2_keys_nested_keys_and_versions_one_read_per_secret(bao: BaoServer, tmp_path: Path):
    stores = SecretStores(tmp_path, Runner(), environ=bao.env())
    refs = ["ref+vault://secret/app/db#password", "ref+vault://secret/app/db#/nested/user",
            "ref+vault://secret/app/db#port", "ref+vault://secret/app/db?version=1#password"]
    resolved = resolve_secrets(vault_instance(refs), stores)
    resolve_secrets(vault_instance(refs), stores)
    assert list(resolved.values()) == [CANARY, "app", "5432", CANARY + "-v1"]
    assert stores.vault_reads == 2  # the latest version once, version 1 once


@pytest.mark.parametrize(("ref", "env", "expected"), [
    ("ref+vault://secret/app/none#password", {}, "no such secret in Vault"),
    ("ref+vault://secret/app/db#nokey", {}, "no key '/nokey' in the Vault secret"),
    ("ref+vault://secret/app/db#password", {"VAULT_TOKEN": "not-a-token"}, "Vault denied access"),
    ("ref+vault://secret/app/db#password", {"VAULT_TOKEN": "", "HOME": "/nonexistent"}, "no Vault token"),
    ("ref+vault://secret/app/db#password", {"VAULT_ADDR": ""}, "no Vault address"),
    ("ref+vault://secret/app/db#password", {"VAULT_ADDR": "http://127.0.0.1:PORT"}, "cannot reach Vault"),
])
def test_vault_failures_are_one_line_naming_the_ref_and_where_it_is_written(
        bao: BaoServer, tmp_path: Path, ref: str, env: dict[str, str], expected: str):
    environ = {**bao.env(), **env}
    environ["VAULT_ADDR"] = environ["VAULT_ADDR"].replace("PORT", str(free_port()))
    with pytest.raises(InputError) as info:
        resolve_secrets(vault_instance([ref]), SecretStores(tmp_path, Runner(), environ=environ))
    text = info.value.render()
    assert expected in text, text
    assert f"environments/prod.yaml:3:7: secret {ref}" in text
    assert CANARY not in text and BaoServer.TOKEN not in text and "Traceback" not in text
