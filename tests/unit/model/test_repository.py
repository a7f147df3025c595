from pathlib import Path

import pytest

from helmkit.errors import InputError
from helmkit.model.repository import load_repository


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def problems_of(root: Path) -> list:
    with pytest.raises(InputError) as info:
        load_repository(root)
    return info.value.problems


def test_loads_the_basic_fixture(basic_repo: Path):
    repo = load_repository(basic_repo)
    assert sorted(repo.releases) == ["cert-manager", "ingress", "web"]
    assert sorted(repo.environments) == ["dev", "prod"]
    prod = repo.environments["prod"]
    assert [c.cluster.name for c in prod.clusters] == ["prod-us-east-1", "prod-eu-west-1"]
    assert prod.clusters[0].cluster.context == "prod-us-east-1"
    assert prod.clusters[0].cluster.kube_version == "1.34.0"
    assert set(prod.clusters[1].overrides) == {"web", "cert-manager"}
    assert repo.settings.repositories == {"jetstack": "https://charts.jetstack.io"}


def test_unknown_key_suggests_the_closest(basic_repo: Path):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\nnamespaec: web\n")
    [problem] = problems_of(basic_repo)
    assert problem.message == "unknown key `namespaec`"
    assert problem.hint == "did you mean `namespace`?"
    assert str(problem.location) == "releases/web.yaml:2:1"
    assert problem.pointer == "/namespaec"
    assert problem.layer == "release"


def test_all_problems_of_all_files_are_collected(basic_repo: Path):
    write(basic_repo, "releases/web.yaml", "chart: {path: charts/web}\ntimeout: 10 minutes\nwait: maybe\n")
    write(basic_repo, "environments/dev.yaml", "kubeVersion: 1.34\nclusters:\n  - name: Dev_1\n")
    write(basic_repo, "environments/prod/clusters/prod-eu-west-1.yaml", "releases:\n  web:\n    valuse: {}\n")
    problems = problems_of(basic_repo)
    rendered = [p.render() for p in problems]
    files = {p.location.file for p in problems}
    assert files == {"releases/web.yaml", "environments/dev.yaml", "environments/prod/clusters/prod-eu-west-1.yaml"}
    assert any("`timeout`: '10 minutes' must be a Go duration" in r for r in rendered)
    assert any("`wait` must be true or false, not 'maybe'" in r for r in rendered)
    kube = next(p for p in problems if "kubeVersion" in p.message)
    assert kube.hint is not None and "quote it" in kube.hint
    assert any("Dev_1" in r and "DNS-1123" in r for r in rendered)
    cluster = next(p for p in problems if p.layer == "cluster")
    assert cluster.pointer == "/releases/web/valuse" and cluster.hint == "did you mean `values`?"
    assert str(cluster.location) == "environments/prod/clusters/prod-eu-west-1.yaml:3:5"


def test_reference_problems(basic_repo: Path):
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}]\nreleases:\n  wbe: {enabled: false}\n")
    write(basic_repo, "environments/dev/clusters/dev-2.yaml", "releases: {}\n")
    write(basic_repo, "environments/qa/clusters/qa-1.yaml", "releases: {}\n")
    write(basic_repo, "releases/Bad_Name.yaml", "chart: {path: charts/web}\n")
    write(basic_repo, "releases/other.yaml", "name: another\nchart: {path: charts/web}\n")
    messages = {p.message: p for p in problems_of(basic_repo)}
    assert messages["environment `dev` overrides unknown release `wbe`"].hint == "did you mean `web`?"
    assert "cluster layer for `dev-2`, which is not a cluster of environment `dev`" in messages
    assert "folder environments/qa/ has no environment file environments/qa.yaml" in messages
    assert "release name 'Bad_Name' is not a DNS-1123 name" in messages
    assert "release name `another` differs from its file name `other.yaml`" in messages


def test_missing_settings_file(tmp_path: Path):
    [problem] = problems_of(tmp_path)
    assert "no helmkit.yaml" in problem.message


def test_duplicate_clusters(basic_repo: Path):
    write(basic_repo, "environments/dev.yaml", "clusters: [{name: dev-1}, {name: dev-1}, {name: prod-eu-west-1}]\n")
    messages = [p.message for p in problems_of(basic_repo)]
    assert "cluster `dev-1` is listed twice in environment `dev`" in messages
    assert "cluster `prod-eu-west-1` is also in environment `dev`" in messages


def test_same_release_in_two_files(basic_repo: Path):
    write(basic_repo, "releases/web.yml", "chart: {path: charts/web}\n")
    [problem] = problems_of(basic_repo)
    assert problem.message == "release `web` is defined twice (releases/web.yaml and releases/web.yml)"
