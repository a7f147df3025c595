import re
from pathlib import Path

import jsonschema
import pytest

from helmkit.model.schemas import SCHEMA_FILES, SchemaSet, schema_dir
from helmkit.model.yamlfile import parse_yaml

DOC = Path(__file__).resolve().parents[3] / "docs" / "repository-format.md"


def doc_block(heading: str) -> str:
    text = DOC.read_text()
    section = text[text.index(heading):]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_schemas_are_valid_2020_12_with_descriptions():
    import json

    for name in SCHEMA_FILES:
        schema = json.loads((schema_dir() / f"{name}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["description"]
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("## helmkit.yaml", "helmkit"),
        ("## releases/<name>.yaml", "release"),
        ("## environments/<env>.yaml", "environment"),
        ("## environments/<env>/clusters/<cluster>.yaml", "cluster"),
    ],
)
def test_the_format_doc_examples_are_valid(heading: str, kind: str):
    doc = parse_yaml(doc_block(heading), "doc.yaml")
    assert SchemaSet.load().check(kind, doc, kind) == []


def test_a_ref_outside_our_schemas_is_not_resolvable(tmp_path: Path):
    import json
    import shutil

    for name in SCHEMA_FILES:
        shutil.copy(schema_dir() / f"{name}.schema.json", tmp_path)
    release = json.loads((tmp_path / "release.schema.json").read_text())
    release["properties"]["values"] = {"$ref": "http://127.0.0.1:9/evil.json"}
    (tmp_path / "release.schema.json").write_text(json.dumps(release))
    schemas = SchemaSet.load(tmp_path)
    doc = parse_yaml("chart: {path: x}\nvalues: {a: 1}\n", "r.yaml")
    import referencing.exceptions

    with pytest.raises(referencing.exceptions.Unresolvable):
        schemas.check("release", doc, "release")


def test_type_problem_hints_quoting():
    doc = parse_yaml("kubeVersion: 1.34\nclusters: [{name: a}]\n", "e.yaml")
    [problem] = SchemaSet.load().check("environment", doc, "environment")
    assert problem.message == "`kubeVersion` must be a string, not the number 1.34"
    assert "quote it" in problem.hint
    assert str(problem.location) == "e.yaml:1:1" and problem.pointer == "/kubeVersion"
