"""Golden files of validate / explain / graph / list output.

Refresh with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/unit/cli``.
"""

import json
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3]


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def broken_repo(basic_repo: Path) -> Path:
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespce: web\nneeds: [ingres]\n"
                                           "values:\n  host: ${cluster.zone}\n")
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1, wave: soon}]\n")
    write(basic_repo, "releases/cert-manager.yaml",
          "chart: {repository: jetstack, name: cert-manager, version: ^1.16.0}\nneeds: [ingres]\n")
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/web}\nvalues:\n  host: ${cluster.zone}\n")
    return basic_repo


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_validate_problems(golden, broken_repo: Path, helmkit, fmt: str):
    outcome = helmkit("--repo", str(broken_repo), "validate", "--no-render", "--format", fmt)
    assert outcome.code == 1
    golden(f"validate-broken.{fmt}", outcome.out)
    if fmt == "json":
        records = json.loads(outcome.out)
        assert {r["severity"] for r in records} == {"error"}
        assert outcome.err.startswith("invalid: ")


def test_validate_warnings_only_is_valid(golden, basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render")
    assert outcome.code == 0
    golden("validate-basic.text", outcome.out)


def test_validate_selected_env_with_set(basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "dev", "--set", "replicaCount=x")
    assert outcome.code == 1
    assert "error: --set replicaCount: dev/dev-1/ingress: value /replicaCount does not match" in outcome.out
    assert outcome.out.count("does not match") == 1  # the same problem on web is reported once
    assert helmkit("--repo", str(basic_repo), "validate", "--no-render", "--env", "nope").code == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_explain(golden, basic_repo: Path, helmkit, fmt: str):
    outcome = helmkit("--repo", str(basic_repo), "explain", "web", "--env", "prod", "--cluster", "prod-eu-west-1",
                      "--set", "image.tag=2.0.0", "--format", fmt)
    assert outcome.code == 0, outcome.err
    assert outcome.err == ""
    golden(f"explain-web-prod.{fmt}", outcome.out)


def test_explain_picks_the_first_cluster_and_says_so(basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "explain", "ingress", "--env", "prod")
    assert outcome.code == 0
    assert "cluster prod-us-east-1" in outcome.out.splitlines()[0]
    assert "note: showing cluster prod-us-east-1, the first of 2 in prod; pick another with --cluster" in outcome.err
    single = helmkit("--repo", str(basic_repo), "explain", "ingress", "--env", "dev")
    assert single.code == 0 and single.err == ""


def test_explain_unknown_release(basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "explain", "wbe", "--env", "dev")
    assert outcome.code == 1
    assert "error: RELEASE: unknown release `wbe`\n  hint: did you mean `web`?" in outcome.err


@pytest.mark.parametrize("fmt", ["text", "dot", "mermaid"])
def test_graph(golden, basic_repo: Path, helmkit, fmt: str):
    outcome = helmkit("--repo", str(basic_repo), "graph", "--env", "prod", "--format", fmt)
    assert outcome.code == 0
    golden(f"graph-prod.{fmt}", outcome.out)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_list(golden, basic_repo: Path, helmkit, fmt: str):
    outcome = helmkit("--repo", str(basic_repo), "list", "--env", "prod", "--format", fmt)
    assert outcome.code == 0
    golden(f"list-prod.{fmt}", outcome.out)


def test_list_with_selector(basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "list", "--env", "prod", "-l", "tier=platform,!team",
                      "--cluster", "prod-eu-west-1")
    assert outcome.code == 0
    assert [line.split()[2] for line in outcome.out.splitlines()[1:]] == ["ingress", "cert-manager"]
    bad = helmkit("--repo", str(basic_repo), "list", "--env", "prod", "-l", "a=b=c")
    assert bad.code == 1 and "selector" in bad.err


def test_example_fleet_is_valid(helmkit):
    outcome = helmkit("--repo", str(PROJECT), "validate", "--no-render")
    assert outcome.code == 0, outcome.out
    assert outcome.out.startswith("valid: ")


def test_explain_shows_chart_defaults(golden, basic_repo: Path, helmkit):
    outcome = helmkit("--repo", str(basic_repo), "explain", "ingress", "--env", "dev")
    assert outcome.code == 0
    assert "  image.tag         latest       chart    charts/web/values.yaml:4:3" in outcome.out
    golden("explain-ingress-dev.text", outcome.out)
