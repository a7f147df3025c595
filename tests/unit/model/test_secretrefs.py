"""Reference syntax (ref+awssecrets://, ref+sops://) and sops-encrypted values files as references."""

from __future__ import annotations

from helmkit.errors import Location
from helmkit.model.secretrefs import ParsedRef, is_sops_document, parse_ref, sops_values
from helmkit.model.secrets import apply_secrets, find_secret_refs, placeholder_secrets
from tests.unit.model.test_secrets import instance_with

ENC = "ENC[AES256_GCM,data:3pmZ=,iv:M6+HE=,tag:ZrF3==,type:{}]"
ENCRYPTED = {
    "db": {"password": ENC.format("str"), "port": ENC.format("int"), "tls": ENC.format("bool")},
    "hosts": [ENC.format("str"), "clear"],
    "name_unencrypted": "visible",
    "a/b": {"c~d": ENC.format("float")},
    "sops": {"mac": ENC.format("str"), "version": "3.11.0", "age": []},
}


def test_awssecrets_refs_parse_as_vals_writes_them():
    assert parse_ref("ref+awssecrets://prod/db#password") == ParsedRef("awssecrets", "prod/db", ("password",))
    assert parse_ref("ref+awssecrets://prod/db?region=eu-west-1&version_stage=AWSPREVIOUS#/a/b") == ParsedRef(
        "awssecrets", "prod/db", ("a", "b"), (("region", "eu-west-1"), ("version_stage", "AWSPREVIOUS")))
    assert parse_ref("ref+awssecrets://arn:aws:secretsmanager:eu-west-1:1:secret:x-AbC") == ParsedRef(
        "awssecrets", "arn:aws:secretsmanager:eu-west-1:1:secret:x-AbC")
    assert "unknown parameter `profile`" in str(parse_ref("ref+awssecrets://x?profile=p"))
    assert "not a Secrets Manager secret name" in str(parse_ref("ref+awssecrets://bad name#k"))
    assert "unknown kind `gcpsecrets`" in str(parse_ref("ref+gcpsecrets://x#k"))
    assert parse_ref("ref+vault://secret/app/db?version=2#password") == ParsedRef(
        "vault", "secret/app/db", ("password",), (("version", "2"),))
    assert "name the key after #" in str(parse_ref("ref+vault://secret/app/db"))
    assert "not a Vault path" in str(parse_ref("ref+vault://db#k"))


def test_sops_refs_need_a_repository_path_and_a_leaf():
    assert parse_ref("ref+sops://secrets/a.yaml?type=int#/db/port") == ParsedRef(
        "sops", "secrets/a.yaml", ("db", "port"), (("type", "int"),))
    assert "relative to the repository root" in str(parse_ref("ref+sops:///etc/a.yaml#/x"))
    assert "relative to the repository root" in str(parse_ref("ref+sops://../a.yaml#/x"))
    assert "name the leaf" in str(parse_ref("ref+sops://a.yaml"))
    assert "type must be one of" in str(parse_ref("ref+sops://a.yaml?type=list#/x"))


def test_an_encrypted_values_file_becomes_a_reference_at_each_encrypted_leaf():
    assert is_sops_document(ENCRYPTED) and not is_sops_document({"sops": {"enabled": True}})
    values = sops_values(ENCRYPTED, "secrets/prod db.sops.yaml")
    f = "ref+sops://secrets/prod%20db.sops.yaml"
    assert values == {
        "db": {"password": f"{f}#/db/password", "port": f"{f}?type=int#/db/port", "tls": f"{f}?type=bool#/db/tls"},
        "hosts": [f"{f}#/hosts/0", "clear"],
        "name_unencrypted": "visible",
        "a/b": {"c~d": f"{f}?type=float#/a~1b/c~0d"},
    }
    problems: list = []
    refs = find_secret_refs(values, lambda p: Location("secrets/prod db.sops.yaml", len(p)), problems)
    assert problems == []
    assert [parse_ref(r.ref) for r in refs][-1] == ParsedRef("sops", "secrets/prod db.sops.yaml", ("a/b", "c~d"),
                                                             (("type", "float"),))
    assert len(refs) == 5


def test_typed_leaves_go_to_helm_typed_and_placeholders_keep_the_type():
    f = "ref+sops://s.yaml"
    instance = instance_with([f"{f}?type=int#/p", f"{f}?type=bool#/t", f"{f}#/s", "ref+env://X"])
    resolved = {("db", "s0"): "5432", ("db", "s1"): "true", ("db", "s2"): "5432", ("db", "s3"): "x"}
    assert apply_secrets(instance.values, resolved)["db"] == {"s0": 5432, "s1": True, "s2": "5432", "s3": "x"}
    placeholders = placeholder_secrets(instance)
    assert apply_secrets(instance.values, placeholders)["db"]["s0"] == 1
    assert placeholders[("db", "s2")].startswith("secret-ref-")
