from pathlib import Path

import pytest

from helmkit.errors import InputError, Location
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance, SecretRef
from helmkit.model.secrets import apply_secrets, find_secret_refs, resolve_secrets

CANARY = "canary-s3cr3t-value-7f3a"


def instance_with(refs: list[str]) -> ReleaseInstance:
    values = {"db": {f"s{i}": ref for i, ref in enumerate(refs)}}
    secrets = [SecretRef(("db", f"s{i}"), ref, Location("releases/web.yaml", 10 + i, 5)) for i, ref in enumerate(refs)]
    return ReleaseInstance(env="prod", cluster=Cluster("c1", "prod", "c1"), name="web", namespace="web",
                           chart=ChartRef(name="web", repository_name="r"), values=values, secrets=secrets)


def test_find_refs_and_malformed_refs():
    problems: list = []
    values = {"a": "ref+env://DB_PASS", "b": ["ref+file:///etc/x", "plain"], "c": "ref+gcpsecrets://x",
              "d": "ref+env://1bad", "e": "ref+file://relative/x"}
    refs = find_secret_refs(values, lambda p: Location("f.yaml", len(p)), problems)
    assert [(r.path, r.ref) for r in refs] == [(("a",), "ref+env://DB_PASS"), (("b", 0), "ref+file:///etc/x")]
    assert len(problems) == 3
    assert "unknown kind `gcpsecrets`" in problems[0].message


def test_resolve_env_and_file_and_apply(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    secret_file = tmp_path / "ca.pem"
    secret_file.write_text(CANARY + "-file")
    instance = instance_with(["ref+env://DB_PASS", f"ref+file://{secret_file}"])
    resolved = resolve_secrets(instance, repo_root=repo, environ={"DB_PASS": CANARY})
    assert resolved == {("db", "s0"): CANARY, ("db", "s1"): CANARY + "-file"}
    applied = apply_secrets(instance.values, resolved)
    assert applied["db"] == {"s0": CANARY, "s1": CANARY + "-file"}
    assert instance.values["db"]["s0"] == "ref+env://DB_PASS"


def test_missing_env_and_file_inside_repo_never_echo_secrets(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    inside = repo / "secret.txt"
    inside.write_text(CANARY)
    instance = instance_with(["ref+env://NOT_SET", f"ref+file://{inside}", "ref+file:///nonexistent/helmkit/x"])
    with pytest.raises(InputError) as info:
        resolve_secrets(instance, repo_root=repo, environ={"OTHER": CANARY})
    text = info.value.render()
    assert CANARY not in text
    assert "releases/web.yaml:10:5" in text and "NOT_SET is not set" in text
    assert "releases/web.yaml:11:5" in text and "inside the repository" in text
    assert "releases/web.yaml:12:5" in text and "cannot read the file" in text
