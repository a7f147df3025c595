"""Secrets from sops files (the real sops binary, age keys) and AWS Secrets Manager (a real moto_server).

Every failure is one error naming the reference or file, where it is written and the fix,
never the value; each sops file is decrypted and each AWS secret fetched once per run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from helmkit.adapters.runner import Runner
from helmkit.adapters.secretstores import SecretStores
from helmkit.errors import InputError, Location
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance, SecretRef
from helmkit.model.secretrefs import sops_values
from helmkit.model.secrets import apply_secrets, find_secret_refs, resolve_secrets
from helmkit.model.yamlfile import load_yaml
from tests.support.secretservers import MotoServer, age_key, clear_aws_env, served, sops_binary, sops_encrypt

CANARY = "CANARY-sops-\"q\\x'9%-é"
PLAIN = f"db:\n  password: {json.dumps(CANARY)}\n  port: 5432\n  tls: true\nhosts: [a1-host, b2-host]\n"


def instance_from_sops(repo: Path, written: str) -> ReleaseInstance:
    doc = load_yaml(repo / written, written)
    values = sops_values(doc.data, written)
    problems: list = []
    refs = find_secret_refs(values, doc.location, problems)
    assert problems == []
    return ReleaseInstance(env="prod", cluster=Cluster("c1", "prod", "c1"), name="web", namespace="web",
                           chart=ChartRef(name="web", repository_name="r"), values=values, secrets=refs)


@pytest.fixture
def sops_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    monkeypatch.setenv("HELMKIT_SOPS", str(sops_binary()))
    repo = tmp_path / "repo"
    key, other = age_key(), age_key()
    sops_encrypt(PLAIN, key.recipient, repo / "secrets" / "prod.sops.yaml")
    return repo, key.write(tmp_path / "key.txt"), other.write(tmp_path / "other.txt")


def test_a_sops_file_decrypts_once_per_run_and_every_leaf_is_a_secret(sops_repo: tuple[Path, Path, Path]):
    repo, key, _ = sops_repo
    runner = Runner(base_env={"SOPS_AGE_KEY_FILE": str(key), "HOME": str(repo), "PATH": "/usr/bin:/bin"})
    stores = SecretStores(repo, runner)
    instance = instance_from_sops(repo, "secrets/prod.sops.yaml")
    resolved = resolve_secrets(instance, stores)
    resolve_secrets(instance, stores)
    assert runner.started["sops"] == 1
    assert resolved == {("db", "password"): CANARY, ("db", "port"): "5432", ("db", "tls"): "true",
                        ("hosts", 0): "a1-host", ("hosts", 1): "b2-host"}
    assert apply_secrets(instance.values, resolved) == {"db": {"password": CANARY, "port": 5432, "tls": True},
                                                        "hosts": ["a1-host", "b2-host"]}
    assert not list(repo.rglob("*.plain*")), "decrypted text went to a file"


def test_sops_with_the_key_itself_in_SOPS_AGE_KEY(sops_repo: tuple[Path, Path, Path],
                                                  monkeypatch: pytest.MonkeyPatch):
    repo, key, _ = sops_repo
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(repo))
    monkeypatch.setenv("SOPS_AGE_KEY", key.read_text().splitlines()[-1])
    resolved = resolve_secrets(instance_from_sops(repo, "secrets/prod.sops.yaml"), SecretStores(repo, Runner()))
    assert resolved[("db", "password")] == CANARY


@pytest.mark.parametrize("case", ["no key", "wrong key", "changed file"])
def test_a_sops_failure_is_one_error_naming_the_file_and_the_fix(sops_repo: tuple[Path, Path, Path], case: str,
                                                                  monkeypatch: pytest.MonkeyPatch):
    repo, key, other = sops_repo
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("HOME", str(repo))  # no ~/.config/sops/age/keys.txt
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    if case == "wrong key":
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other))
    if case == "changed file":
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))
        path = repo / "secrets" / "prod.sops.yaml"
        path.write_text(path.read_text().replace("hosts:", "hosts_unencrypted: added\nhosts:"))
    instance = instance_from_sops(repo, "secrets/prod.sops.yaml")
    with pytest.raises(InputError) as info:
        resolve_secrets(instance, SecretStores(repo, Runner()))
    assert len(info.value.problems) == 1
    text = info.value.render()
    expected = {"no key": "no age key found", "wrong key": "not one it was encrypted for",
                "changed file": "MAC mismatch"}[case]
    assert expected in text
    assert "secrets/prod.sops.yaml:2:" in text and "hint:" in text
    assert CANARY not in text and "Traceback" not in text


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from served(MotoServer)


def aws_instance(refs: list[str]) -> ReleaseInstance:
    values = {"db": {f"s{i}": ref for i, ref in enumerate(refs)}}
    secrets = [SecretRef(("db", f"s{i}"), ref, Location("environments/prod.yaml", 7 + i, 9))
               for i, ref in enumerate(refs)]
    return ReleaseInstance(env="prod", cluster=Cluster("c1", "prod", "c1"), name="web", namespace="web",
                           chart=ChartRef(name="web", repository_name="r"), values=values, secrets=secrets)


def aws_environment(monkeypatch: pytest.MonkeyPatch, settings: dict[str, str]) -> None:
    """boto3 reads the process environment: only ``settings`` of the AWS_* variables are set."""
    for name in clear_aws_env().keys() ^ __import__("os").environ.keys():
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)


def test_aws_secrets_by_key_whole_and_by_stage_one_call_per_secret(moto: MotoServer, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    moto.reset()
    aws_environment(monkeypatch, moto.env())
    client = moto.client()
    client.create_secret(Name="prod/db", SecretString=json.dumps({"password": CANARY, "nested": {"user": "app"}}))
    client.create_secret(Name="prod/token", SecretString=CANARY + "-token")
    client.put_secret_value(SecretId="prod/token", SecretString=CANARY + "-token-v2")
    stores = SecretStores(tmp_path, Runner())
    refs = ["ref+awssecrets://prod/db#password", "ref+awssecrets://prod/db#/nested/user",
            "ref+awssecrets://prod/token", "ref+awssecrets://prod/token?version_stage=AWSPREVIOUS"]
    resolved = resolve_secrets(aws_instance(refs), stores)
    resolve_secrets(aws_instance(refs), stores)
    assert list(resolved.values()) == [CANARY, "app", CANARY + "-token-v2", CANARY + "-token"]
    assert stores.aws_calls == 3  # prod/db once for both keys, the token's two versions


@pytest.mark.parametrize(("ref", "env", "expected"), [
    ("ref+awssecrets://prod/missing#k", {}, "no such secret"),
    ("ref+awssecrets://prod/db#nokey", {}, "no key '/nokey' in the secret's JSON"),
    ("ref+awssecrets://prod/db#k", {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                     "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
                                     "AWS_EC2_METADATA_DISABLED": "true"}, "no AWS credentials found"),
    ("ref+awssecrets://prod/db#k", {"AWS_REGION": "", "AWS_CONFIG_FILE": "/nonexistent"}, "no AWS region"),
    ("ref+awssecrets://prod/db#k", {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:9"},
     "cannot reach Secrets Manager"),
])
def test_aws_failures_are_one_line_naming_the_ref_and_where_it_is_written(  # noqa: PLR0917
        moto: MotoServer, tmp_path: Path, ref: str, env: dict[str, str], expected: str,
        monkeypatch: pytest.MonkeyPatch):
    moto.reset()
    moto.client().create_secret(Name="prod/db", SecretString=json.dumps({"k": CANARY}))
    aws_environment(monkeypatch, {**moto.env(), **env})
    with pytest.raises(InputError) as info:
        resolve_secrets(aws_instance([ref]), SecretStores(tmp_path, Runner()))
    text = info.value.render()
    assert expected in text, text
    assert f"environments/prod.yaml:7:9: secret {ref}" in text
    assert CANARY not in text and "Traceback" not in text
