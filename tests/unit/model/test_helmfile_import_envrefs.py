"""Values helmfile read from environment variables become references, never plain text."""

from __future__ import annotations

from helmkit.model.helmfile_import.envrefs import EnvReferences, env_names


def test_the_variables_a_helmfile_reads_are_found() -> None:
    texts = ['password: {{ requiredEnv "DB_PASSWORD" }}', 'x: {{ env "REGION" | default "eu" }}',
             "y: {{ .Values.env }}"]
    assert env_names(texts) == {"DB_PASSWORD", "REGION"}


def test_a_whole_value_becomes_a_reference_and_a_contained_one_a_placeholder() -> None:
    refs = EnvReferences({"DB_PASSWORD": "s3cr3t-value", "REPLICAS": "3"})
    values = {"db": {"password": "s3cr3t-value", "url": "postgres://u:s3cr3t-value@db"},
              "hosts": ["s3cr3t-value", "other"], "replicas": 3, "label": "3", "version": "13"}
    assert refs.replace(values) == {
        "db": {"password": "ref+env://DB_PASSWORD", "url": "<from $DB_PASSWORD: not translated>"},
        "hosts": ["ref+env://DB_PASSWORD", "other"],
        "replicas": 3,  # numbers are not strings read from the environment
        "label": "ref+env://REPLICAS",
        "version": "13",  # a short value is not looked for inside longer strings
    }
    assert refs.contained == [("db.url", "DB_PASSWORD")]
