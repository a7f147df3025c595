from pathlib import Path

import pytest

from helmkit.errors import InputError
from helmkit.model.gates import GateSpec, for_cluster, gates_of, parse_duration
from helmkit.model.instance import Cluster
from helmkit.model.repository import load_repository

PROD_GATES = """
gates:
  - workload: {}
    waves: [0]
  - name: canary-soak
    soak: 2m
    waves: [0]
  - http: {url: "https://${cluster.name}.${env.name}.example.com/healthz", status: [200, 204], body: "^ok"}
    interval: 5s
    successThreshold: 2
    releases: [web]
  - prometheus:
      url: http://prometheus.${cluster.region}.example.com
      query: sum(rate(http_errors_total{cluster="${cluster.name}"}[5m]))
      condition: "< 0.01"
  - command: {argv: [./check.sh, "${cluster.name}"]}
    timeout: 1m
onGateFailure: {uninstallInstalled: false}
"""


def add(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.write_text(path.read_text() + text)


def problems_of(root: Path, env: str = "prod") -> list[str]:
    try:
        repo = load_repository(root)
    except InputError as exc:
        return [p.render() for p in exc.problems]
    return [p.render() for p in gates_of(repo, env)[1]]


def test_environment_gates_are_read_with_defaults_and_thresholds(basic_repo: Path) -> None:
    add(basic_repo, "environments/prod.yaml", PROD_GATES)
    policy, problems = gates_of(load_repository(basic_repo), "prod")
    assert problems == []
    assert [(g.name, g.kind) for g in policy.gates] == [
        ("workload", "workload"), ("canary-soak", "soak"), ("http", "http"), ("prometheus", "prometheus"),
        ("command", "command")]
    workload, soak, http, prometheus, command = policy.gates
    assert (workload.success_threshold, workload.failure_threshold, workload.interval) == (1, 3, 10.0)
    assert soak.soak == 120.0 and soak.waves == (0,)
    assert (http.interval, http.success_threshold, http.releases, http.waves) == (5.0, 2, ("web",), None)
    assert (prometheus.timeout, prometheus.request_timeout, prometheus.success_threshold) == (300.0, 10.0, 3)
    assert command.timeout == 60.0
    assert [g.name for g in policy.for_wave(1)] == ["http", "prometheus", "command"]
    assert policy.uninstall_installed is False
    assert str(http.location) == "environments/prod.yaml:24:5"


def test_strings_are_interpolated_per_cluster(basic_repo: Path) -> None:
    add(basic_repo, "environments/prod.yaml", PROD_GATES)
    policy, _ = gates_of(load_repository(basic_repo), "prod")
    cluster = Cluster("prod-eu-west-1", "prod", "prod-eu-west-1", region="eu-west-1", wave=1)
    http, prometheus, command = (for_cluster(g, cluster) for g in policy.gates[2:])
    assert http.config["url"] == "https://prod-eu-west-1.prod.example.com/healthz"
    assert prometheus.config["url"] == "http://prometheus.eu-west-1.example.com"
    assert prometheus.config["query"] == 'sum(rate(http_errors_total{cluster="prod-eu-west-1"}[5m]))'
    assert command.config["argv"] == ["./check.sh", "prod-eu-west-1"]
    assert policy.gates[2].config["url"].startswith("https://${cluster.name}")  # the declared gate is unchanged
    assert http.describe() == "http GET https://prod-eu-west-1.prod.example.com/healthz expects 200 or 204 " \
                              "and body /^ok/ (when web changed)"


def test_settings_gates_apply_everywhere_and_an_environment_gate_of_the_same_name_replaces_one(
        basic_repo: Path) -> None:
    add(basic_repo, "helmkit.yaml", "gates:\n  - soak: 30s\n  - name: smoke\n    command: {argv: ['true']}\n")
    add(basic_repo, "environments/prod.yaml", "gates:\n  - name: smoke\n    command: {argv: [./prod-smoke]}\n")
    repo = load_repository(basic_repo)
    prod, _ = gates_of(repo, "prod")
    dev, _ = gates_of(repo, "dev")
    assert [(g.name, g.config.get("argv")) for g in prod.gates] == [("soak", None), ("smoke", ["./prod-smoke"])]
    assert [(g.name, g.config.get("argv")) for g in dev.gates] == [("soak", None), ("smoke", ["true"])]
    assert prod.uninstall_installed is True


@pytest.mark.parametrize(("text", "expected"), [
    ("  - soak: 2 minutes\n", "environments/prod.yaml:18:5: `soak`: '2 minutes' must be a Go duration"),
    ("  - http: {url: ftp://x}\n", "environments/prod.yaml:18:12: `url`: 'ftp://x' must be an http:// or https:// URL"),
    ("  - prometheus: {url: http://p, query: up, condition: below 1}\n",
     "environments/prod.yaml:18:44: `condition`: 'below 1' must be a comparison and a number"),
    ("  - command: {argv: ./x --y}\n", "environments/prod.yaml:18:15: `argv` must be a list, not './x --y'"),
    ("  - workload: {}\n    succesThreshold: 2\n", "environments/prod.yaml:19:5: unknown key `succesThreshold`"
                                                  " (at /gates/0/succesThreshold, environment layer)\n"
                                                  "  hint: did you mean `successThreshold`?"),
    ("  - workload: {}\n    soak: 1m\n", "environments/prod.yaml:18:5: a gate needs exactly one of workload, soak,"
                                        " http, prometheus, command (found workload, soak)"),
    ("  - interval: 1m\n", "environments/prod.yaml:18:5: a gate needs exactly one of"),
    ("  - http: {url: 'http://x', body: '(['}\n", "environments/prod.yaml:18:29: `body` is not a regular expression"),
    ("  - http: {url: 'http://${cluster.zone}/'}\n",
     "environments/prod.yaml:18:12: unknown variable `${cluster.zone}`"),
    ("  - soak: 1m\n    waves: [3]\n", "environments/prod.yaml:19:5: gate waves name wave 3, which no cluster"),
    ("  - soak: 1m\n    releases: [wbe]\n", "environments/prod.yaml:19:5: gate names unknown release `wbe`\n"
                                           "  hint: did you mean `web`?"),
    ("  - soak: 1m\n  - soak: 2m\n", "environments/prod.yaml:19:5: gate `soak` is declared twice"),
])
def test_each_bad_gate_is_one_problem_at_its_file_and_line(basic_repo: Path, text: str, expected: str) -> None:
    add(basic_repo, "environments/prod.yaml", "gates:\n" + text)
    problems = problems_of(basic_repo)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_a_bad_settings_gate_is_reported_at_helmkit_yaml(basic_repo: Path) -> None:
    add(basic_repo, "helmkit.yaml", "gates:\n  - soak: 30s\n    failureThreshold: 0\n")
    [problem] = problems_of(basic_repo)
    assert problem.startswith("helmkit.yaml:") and "`failureThreshold`: 0 is less than the minimum of 1" in problem


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400.0
    assert parse_duration("500ms") == 0.5
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("5 m")


def test_a_gate_describes_itself_for_plans() -> None:
    from helmkit.errors import Location

    gate = GateSpec("p", "prometheus", {"url": "http://p", "query": "up", "condition": " < 0.5"}, Location("f"))
    assert gate.describe() == "prometheus up < 0.5"


def test_the_format_doc_example_is_valid(basic_repo: Path) -> None:
    import re

    from helmkit.model.schemas import SchemaSet
    from helmkit.model.yamlfile import parse_yaml

    text = (Path(__file__).resolve().parents[3] / "docs" / "repository-format.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", text[text.index("## Rollout gates"):], re.S).group(1)
    assert SchemaSet.load().check("gates", parse_yaml(block, "doc.yaml"), "gates") == []
    env = basic_repo / "environments" / "prod.yaml"
    env.write_text(env.read_text() + block.replace("storefront", "web"))
    policy, problems = gates_of(load_repository(basic_repo), "prod")
    assert problems == [] and len(policy.gates) == 5 and policy.uninstall_installed is True
