import os
from pathlib import Path

import pytest

from helmkit.errors import InputError
from helmkit.model.repository import load_repository
from helmkit.model.resolve import instance_labels, resolve_environment, resolve_instances
from helmkit.model.selectors import parse_selector

SECRET_CONTENT = "canary-content-of-a-file-outside-9d1"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def resolve_problems(root: Path, env: str = "dev") -> list:
    with pytest.raises(InputError) as info:
        resolve_instances(load_repository(root), env)
    return info.value.problems


def test_layers_in_order_with_provenance(basic_repo: Path):
    repo = load_repository(basic_repo)
    instances = resolve_instances(repo, "prod", cluster="prod-eu-west-1", set_values=["image.tag=9.9.9"],
                                  include_disabled=True)
    web = next(i for i in instances if i.name == "web")
    assert web.values["image"] == {"repository": "nginx", "tag": "9.9.9"}
    assert web.values["replicaCount"] == 4
    assert web.values["resources"] is None
    assert web.values["host"] == "web.prod-eu-west-1.example.com"
    assert web.values["literal"] == "${not.a.variable}"
    assert web.namespace == "web-prod"
    assert web.timeout == "10m"
    assert web.needs == ["ingress"]  # cert-manager is disabled on this cluster
    prov = {k: str(v) for k, v in web.provenance.items()}
    assert prov[("image", "repository")] == "release (values/web/common.yaml:2:3)"
    assert prov[("image", "tag")] == "set (--set image.tag)"
    assert prov[("replicaCount",)] == "environment (environments/prod.yaml:13:7)"
    assert prov[("resources",)] == "environment (environments/prod.yaml:14:7)"
    assert prov[("$field", "timeout")] == "release (releases/web.yaml:6:1)"
    assert prov[("$field", "wait")] == "defaults (helmkit.yaml:6:3)"
    assert [(s.path, s.ref) for s in web.secrets] == [(("database", "password"), "ref+env://WEB_DB_PASSWORD")]
    assert str(web.secrets[0].location) == "releases/web.yaml:14:5"
    cert = next(i for i in instances if i.name == "cert-manager")
    assert not cert.enabled
    assert str(cert.provenance[("$field", "enabled")]) == "cluster (environments/prod/clusters/prod-eu-west-1.yaml:6:5)"
    assert cert.chart.repository == "https://charts.jetstack.io" and cert.chart.version == "^1.16.0"


def test_sorted_by_wave_cluster_then_needs_and_disabled_left_out(basic_repo: Path):
    instances = resolve_instances(load_repository(basic_repo), "prod")
    assert [i.key for i in instances] == [
        "prod/prod-us-east-1/cert-manager", "prod/prod-us-east-1/ingress", "prod/prod-us-east-1/web",
        "prod/prod-eu-west-1/ingress", "prod/prod-eu-west-1/web",
    ]


def test_selector_and_implicit_labels(basic_repo: Path):
    repo = load_repository(basic_repo)
    platform = resolve_instances(repo, "prod", selector=parse_selector("tier=platform,cluster=prod-us-east-1"))
    assert [i.name for i in platform] == ["cert-manager", "ingress"]
    labels = instance_labels(platform[1])
    assert labels == {"tier": "platform", "name": "ingress", "namespace": "ingress", "chart": "web", "env": "prod",
                      "cluster": "prod-us-east-1"}


def test_unknown_env_and_cluster_name_the_known_ones(basic_repo: Path):
    repo = load_repository(basic_repo)
    with pytest.raises(InputError) as info:
        resolve_instances(repo, "prd")
    assert info.value.problems[0].hint == "did you mean `prod`?"
    with pytest.raises(InputError) as info:
        resolve_instances(repo, "prod", cluster="prod-eu-west-2")
    assert "unknown cluster `prod-eu-west-2` in environment `prod`" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("../outside.yaml", "climbs out with '..'"),
        ("/etc/passwd", "is absolute"),
        ("~/values.yaml", "starts with '~'"),
        ("values/link.yaml", "resolves outside the repository"),
    ],
)
def test_values_files_outside_the_repo_are_refused(basic_repo: Path, written: str, why: str):
    outside = basic_repo.parent / "outside.yaml"
    outside.write_text(f"leak: {SECRET_CONTENT}\n")
    (basic_repo / "values" / "link.yaml").symlink_to(outside)
    write(basic_repo, "environments/dev.yaml", f"clusters: [{{name: dev-1}}]\nreleases:\n  web:\n"
                                                f"    valuesFiles: [{written!r}]\n")
    [problem] = resolve_problems(basic_repo)
    assert why in problem.message
    assert str(problem.location) == "environments/dev.yaml:4:19"
    assert "relative to the repository root" in (problem.hint or "")
    assert SECRET_CONTENT not in problem.render()


def test_chart_path_symlinked_out_is_refused(basic_repo: Path):
    outside = basic_repo.parent / "evil-chart"
    outside.mkdir()
    (outside / "Chart.yaml").write_text(f"name: {SECRET_CONTENT}\nversion: 1.0.0\n")
    (basic_repo / "charts" / "evil").symlink_to(outside)
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/evil}\n")
    [problem] = resolve_problems(basic_repo)
    assert "chart path refused" in problem.message and "outside the repository" in problem.message
    assert str(problem.location) == "releases/ingress.yaml:1:9"
    assert SECRET_CONTENT not in problem.render()


def test_chart_reference_problems(basic_repo: Path):
    write(basic_repo, "releases/cert-manager.yaml", "chart: {repository: jetstak, name: cert-manager, version: '1'}\n")
    write(basic_repo, "releases/ingress.yaml", "chart: {repository: jetstack, name: x, version: latest}\n")
    write(basic_repo, "releases/extra.yaml", "chart: {path: charts/missing}\n")
    write(basic_repo, "releases/pinned.yaml", "chart: {path: charts/web, version: '^2.0.0'}\n")
    messages = {p.message: p for p in resolve_problems(basic_repo)}
    assert messages["release `cert-manager`: unknown chart repository `jetstak`"].hint == "did you mean `jetstack`?"
    assert any("'latest'" in m and "not a version comparison" in m for m in messages)
    assert any("charts/missing has no Chart.yaml" in m for m in messages)
    assert any("has version 0.1.0, which does not satisfy '^2.0.0'" in m for m in messages)


def test_names_that_could_be_options_are_refused(basic_repo: Path):
    write(basic_repo, "releases/ingress.yaml", "chart: {path: charts/web}\nnamespace: --post-renderer=x\n")
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespace: $(touch x)\n")
    messages = [p.render() for p in resolve_problems(basic_repo)]
    assert any("namespace '--post-renderer=x' is not a DNS-1123 label" in m and "releases/ingress.yaml:2:1" in m
               for m in messages)
    assert any("namespace '$(touch x)' is not a DNS-1123 label" in m for m in messages)


def test_interpolation_errors_point_at_the_value(basic_repo: Path):
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}]\nreleases:\n  web:\n    values:\n"
                                                "      host: ${cluster.zone}.example.com\n")
    [problem] = resolve_problems(basic_repo)
    assert "unknown variable `${cluster.zone}`" in problem.message
    assert str(problem.location) == "environments/dev.yaml:5:7"


def test_needs_cycle_across_layers(basic_repo: Path):
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}]\nreleases:\n  ingress:\n    needs: [web]\n")
    [problem] = resolve_problems(basic_repo)
    assert "ingress → web → ingress" in problem.message
    assert str(problem.location) == "environments/dev.yaml:4:5"


def test_problems_repeated_on_every_cluster_are_reported_once(basic_repo: Path):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nvaluesFiles: [nope.yaml]\n")
    assert len(resolve_problems(basic_repo, "prod")) == 1


def test_resolution_keeps_warnings(basic_repo: Path):
    resolution = resolve_environment(load_repository(basic_repo), "prod")
    assert resolution.problems == []
    assert [w.location.file for w in resolution.warnings] == ["releases/web.yaml"]
    assert resolution.graphs["prod-eu-west-1"].levels() == [["ingress"], ["web"]]


def test_unreadable_files_do_not_cascade(basic_repo: Path):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nvalues: [1]\n")
    with pytest.raises(InputError) as info:
        load_repository(basic_repo)
    assert len(info.value.problems) == 1  # not also "overrides unknown release `web`"
    assert os.fspath(info.value.problems[0].location.file) == "releases/web.yaml"


def test_chart_holding_a_symlink_out_is_refused(basic_repo: Path):
    outside = basic_repo.parent / "secret.txt"
    outside.write_text(SECRET_CONTENT)
    (basic_repo / "charts" / "web" / "templates" / "leak.yaml").symlink_to(outside)
    problems = resolve_problems(basic_repo)
    assert len(problems) == 1
    assert "chart charts/web holds a symlink that leads out of the repository: templates/leak.yaml" in (
        problems[0].message)
    assert str(problems[0].location) == "releases/ingress.yaml:2:3"
    assert SECRET_CONTENT not in problems[0].render()


def test_crds_policy_is_layered_with_provenance_and_validated(basic_repo: Path):
    helmkit_yaml = basic_repo / "helmkit.yaml"
    helmkit_yaml.write_text(helmkit_yaml.read_text().replace("  historyMax: 10\n", "  historyMax: 10\n  crds: Skip\n"))
    env = basic_repo / "environments" / "prod.yaml"
    env.write_text(env.read_text().replace("  web:\n    values:", "  web:\n    crds: CreateReplace\n    values:"))
    instances = resolve_instances(load_repository(basic_repo), "prod", cluster="prod-eu-west-1")
    by_name = {i.name: i for i in instances}
    assert by_name["web"].crds == "CreateReplace" and by_name["ingress"].crds == "Skip"
    assert str(by_name["web"].provenance[("$field", "crds")]) == "environment (environments/prod.yaml:12:5)"

    env.write_text(env.read_text().replace("crds: CreateReplace", "crds: Replace"))
    with pytest.raises(InputError) as info:
        load_repository(basic_repo)
    rendered = [p.render() for p in info.value.problems]
    assert any("environments/prod.yaml:12" in r and "'Replace' is not one of ['Skip', 'Create', 'CreateReplace']" in r
               for r in rendered), rendered
