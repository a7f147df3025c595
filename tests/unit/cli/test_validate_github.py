"""`validate --format github`: each error once (not once per environment that has the release),
and every kind of error in one run (values-schema errors with reference errors, not after a fix)."""

import json
from pathlib import Path


def test_each_error_once_and_all_kinds_in_one_run(basic_repo: Path, helmkit) -> None:
    web = basic_repo / "releases/web.yaml"
    web.write_text(web.read_text().replace("needs: [cert-manager, ingress]", "needs: [cert-manager, ingres]")
                   .replace('tag: "1.4.2"', "tag: 142"))
    schema_file = basic_repo / "charts/web/values.schema.json"
    schema = json.loads(schema_file.read_text())
    schema["properties"]["image"] = {"type": "object", "properties": {"tag": {"type": "string"}}}
    schema_file.write_text(json.dumps(schema))
    (basic_repo / "releases/ingress.yaml").write_text("chart: {path: charts/web}\nnamespce: ingress\n")
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--format", "github")
    assert outcome.code == 1
    errors = [line for line in outcome.out.splitlines() if line.startswith("::error")]
    assert len(errors) == len(set(errors)) == 3, errors  # web is in dev and prod: still one annotation each
    assert [e.split("::")[1].split(",")[0] for e in errors] == [
        "error file=releases/ingress.yaml", "error file=releases/web.yaml", "error file=releases/web.yaml"]
    assert "unknown key `namespce`" in errors[0] and "unknown release `ingres`" in errors[1]
    assert "/image/tag does not match the chart's values schema" in errors[2]
