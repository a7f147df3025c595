"""Affected sets from real git changes: each kind of file, renames, removals, additions, the example fleet."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from helmkit.adapters.gitrepo import Change, GitRepository
from helmkit.adapters.runner import Runner
from helmkit.model.affected import Side, affected_set, path_scopes
from helmkit.model.repository import load_repository
from tests.support.gitwork import Work

REPO = Path(__file__).resolve().parents[3]
FLEET_PARTS = ("helmkit.yaml", "charts", "releases", "environments", "values", "schemas")

SMALL_FLEET = {
    "helmkit.yaml": 'kubeVersion: "1.34.0"\ndefaults: {namespace: default}\n',
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "charts/app/values.yaml": "size: 1\n",
    "charts/app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}'}\n",
    "charts/other/Chart.yaml": (
        "apiVersion: v2\nname: other\nversion: 1.0.0\n"
        "dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n"
    ),
    "charts/other/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n",
    "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
    "releases/web.yaml": "chart: {path: charts/app}\nnamespace: web\nvaluesFiles: [values/web.yaml]\n",
    "releases/api.yaml": "chart: {path: charts/app}\nnamespace: api\nvalues: {size: 2}\n",
    "releases/db.yaml": "chart: {path: charts/other}\nnamespace: db\n",
    "values/web.yaml": "size: 3\n",
    "values/api-prod.yaml": "size: 5\n",
    "environments/dev.yaml": "clusters:\n  - name: dev-1\n",
    "environments/prod.yaml": (
        "clusters:\n  - name: prod-a\n    wave: 0\n  - name: prod-b\n    wave: 1\n"
        "releases:\n  api:\n    valuesFiles: [values/api-prod.yaml]\n"
    ),
    "environments/prod/clusters/prod-b.yaml": "releases:\n  web:\n    values: {size: 9}\n",
    "docs/README.md": "# the fleet\n",
}



def compute(work: Work, base: str, tmp_path: Path, *, with_base: bool = True) -> dict[str, str]:
    """Affected keys -> kind between ``base`` and the working tree, both sides loaded from real files."""
    git = GitRepository(work.root, Runner())
    changes = git.changed_paths(base)
    base_repo = None
    if with_base:
        done = git.materialize(base, tmp_path / "base")
        base_repo = load_repository(done.root)
    result = affected_set(changes, load_repository(work.root), base_repo)
    assert result.head is not None and not result.head.problems, result.head.problems
    renamed = {a.key: a.renamed_from for a in result.instances if a.renamed_from}
    return {key: kind + (f"<-{renamed[key]}" if key in renamed else "") for key, kind in result.keys().items()}


@pytest.fixture
def small(tmp_path: Path) -> tuple[Work, str]:
    work = Work(tmp_path / "fleet")
    for rel, text in SMALL_FLEET.items():
        work.write(rel, text)
    return work, work.commit()


def keys(*names: str, kind: str = "changed") -> dict[str, str]:
    return dict.fromkeys(names, kind)


ALL = ("dev/dev-1/api", "dev/dev-1/db", "dev/dev-1/web", "prod/prod-a/api", "prod/prod-a/db", "prod/prod-a/web",
       "prod/prod-b/api", "prod/prod-b/db", "prod/prod-b/web")

CASES: dict[str, tuple[Callable[[Work], None], dict[str, str]]] = {
    "release file": (lambda w: w.append("releases/web.yaml", "labels: {team: a}\n"),
                     keys("dev/dev-1/web", "prod/prod-a/web", "prod/prod-b/web")),
    "environment file": (lambda w: w.append("environments/dev.yaml", "kubeVersion: '1.33.0'\n"),
                         keys("dev/dev-1/api", "dev/dev-1/db", "dev/dev-1/web")),
    "cluster layer": (lambda w: w.append("environments/prod/clusters/prod-b.yaml", "  db:\n    values: {a: 1}\n"),
                      keys("prod/prod-b/api", "prod/prod-b/db", "prod/prod-b/web")),
    "values file of a release": (lambda w: w.write("values/web.yaml", "size: 4\n"),
                                 keys("dev/dev-1/web", "prod/prod-a/web", "prod/prod-b/web")),
    "values file of an environment layer": (lambda w: w.write("values/api-prod.yaml", "size: 6\n"),
                                            keys("prod/prod-a/api", "prod/prod-b/api")),
    "chart template": (lambda w: w.append("charts/app/templates/cm.yaml", "data: {a: b}\n"),
                       keys("dev/dev-1/api", "dev/dev-1/web", "prod/prod-a/api", "prod/prod-a/web",
                            "prod/prod-b/api", "prod/prod-b/web")),
    "file:// dependency of a chart": (lambda w: w.append("charts/lib/Chart.yaml", "description: x\n"),
                                      keys("dev/dev-1/db", "prod/prod-a/db", "prod/prod-b/db")),
    "helmkit.yaml": (lambda w: w.append("helmkit.yaml", "concurrency: 2\n"), keys(*ALL)),
    "schemas": (lambda w: w.write("schemas/extra.schema.json", "{}\n"), keys(*ALL)),
    "helmkit.lock": (lambda w: w.write("helmkit.lock", "charts: []\n"), keys(*ALL)),
    "documentation only": (lambda w: w.append("docs/README.md", "more\n"), {}),
    "new release": (lambda w: w.write("releases/cache.yaml", "chart: {path: charts/app}\nnamespace: cache\n"),
                    keys("dev/dev-1/cache", "prod/prod-a/cache", "prod/prod-b/cache", kind="added")),
    "deleted release": (lambda w: w.git("rm", "-q", "releases/db.yaml"),
                        keys("dev/dev-1/db", "prod/prod-a/db", "prod/prod-b/db", kind="removed")),
    "renamed release": (lambda w: w.git("mv", "releases/db.yaml", "releases/database.yaml"),
                        keys("dev/dev-1/database", "prod/prod-a/database", "prod/prod-b/database",
                             kind="renamed<-db")),
    "release disabled in one environment": (
        lambda w: w.append("environments/prod.yaml", "  web:\n    enabled: false\n"),
        {**keys("prod/prod-a/api", "prod/prod-a/db", "prod/prod-b/api", "prod/prod-b/db"),
         **keys("prod/prod-a/web", "prod/prod-b/web", kind="removed")}),
    "cluster added": (
        lambda w: w.write("environments/prod.yaml", SMALL_FLEET["environments/prod.yaml"].replace(
            "releases:", "  - name: prod-c\n    wave: 2\nreleases:")),
        {**keys(*[k for k in ALL if k.startswith("prod/")]),
         **keys("prod/prod-c/api", "prod/prod-c/db", "prod/prod-c/web", kind="added")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_kind_of_change_gives_the_exact_affected_set(case: str, small: tuple[Work, str], tmp_path: Path) -> None:
    work, base = small
    edit, expected = CASES[case]
    edit(work)
    assert compute(work, base, tmp_path) == expected
    work.commit()  # the same change, committed, compared commit to commit
    assert compute(work, base, tmp_path / "again") == expected


def test_without_the_base_every_affected_head_instance_is_changed(small: tuple[Work, str], tmp_path: Path) -> None:
    work, base = small
    work.git("mv", "releases/db.yaml", "releases/database.yaml")
    work.write("values/api-prod.yaml", "size: 7\n")
    assert compute(work, base, tmp_path, with_base=False) == keys(
        "dev/dev-1/database", "prod/prod-a/api", "prod/prod-a/database", "prod/prod-b/api", "prod/prod-b/database")


def test_reasons_name_the_changed_files(small: tuple[Work, str], tmp_path: Path) -> None:
    work, base = small
    work.write("values/web.yaml", "size: 4\n")
    work.append("environments/prod/clusters/prod-b.yaml", "  db:\n    values: {a: 1}\n")
    changes = GitRepository(work.root, Runner()).changed_paths(base)
    result = affected_set(changes, load_repository(work.root))
    reasons = {a.key: a.reasons for a in result.instances}
    assert reasons["prod/prod-b/web"] == (
        "environments/prod/clusters/prod-b.yaml (cluster layer)",
        "values/web.yaml (values file of releases/web.yaml)",
    )
    assert reasons["dev/dev-1/web"] == ("values/web.yaml (values file of releases/web.yaml)",)


def test_only_the_releases_a_change_can_reach_are_resolved(small: tuple[Work, str]) -> None:
    work, base = small
    work.append("releases/web.yaml", "labels: {team: a}\n")
    changes = GitRepository(work.root, Runner()).changed_paths(base)
    result = affected_set(changes, load_repository(work.root))
    assert result.head is not None and not result.head.complete
    assert {i.key for i in result.head.instances} == {"dev/dev-1/web", "prod/prod-a/web", "prod/prod-b/web"}
    work.append("docs/README.md", "nothing to resolve\n")
    work.git("checkout", "-q", "--", "releases/web.yaml")
    result = affected_set(GitRepository(work.root, Runner()).changed_paths(base), load_repository(work.root))
    assert result.head is not None and result.head.instances == [] and result.instances == []


def test_a_needs_cycle_made_by_one_file_is_found(small: tuple[Work, str]) -> None:
    work, _ = small
    work.append("releases/api.yaml", "needs: [db]\n")
    base = work.commit()
    work.append("releases/db.yaml", "needs: [api]\n")  # only db changes; api (which it needs) is resolved too
    result = affected_set(GitRepository(work.root, Runner()).changed_paths(base), load_repository(work.root))
    assert result.head is not None
    assert any("cycle" in p.message for p in result.head.problems), result.head.problems


def test_path_scopes_of_paths_that_only_look_like_release_files() -> None:
    changes = [Change("M", "releases/notes.txt"), Change("M", "releases/sub/web.yaml"),
               Change("M", "environments/prod/notes.md")]
    assert path_scopes(changes, []) == []
    gone = [Change("D", "charts/removed/Chart.yaml"), Change("M", "docs/x.md")]
    assert [s.path for s in path_scopes(gone, [], base_known=False)] == ["charts/removed/Chart.yaml"]


@pytest.fixture
def example_fleet(tmp_path: Path) -> tuple[Work, str]:
    work = Work(tmp_path / "example")
    for part in FLEET_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, work.root / part)
        elif source.is_file():
            shutil.copy(source, work.root / part)
    if not (work.root / "releases" / "payments.yaml").is_file():
        pytest.fail("the example fleet has no releases/payments.yaml")
    return work, work.commit()


def test_example_fleet_values_file_of_the_prod_layer_affects_prod_payments_only(
        example_fleet: tuple[Work, str], tmp_path: Path) -> None:
    work, base = example_fleet
    work.append("values/payments/prod.yaml", "extraSetting: true\n")
    head = Side.resolve(load_repository(work.root))
    expected = {i.key for i in head.instances if i.name == "payments" and i.env == "prod"}
    assert expected and len(expected) < len({i.key for i in head.instances if i.name == "payments"})
    assert compute(work, base, tmp_path) == dict.fromkeys(expected, "changed")


def test_example_fleet_chart_change_affects_every_release_on_that_chart(
        example_fleet: tuple[Work, str], tmp_path: Path) -> None:
    work, base = example_fleet
    work.append("charts/web-service/templates/service.yaml", "\n# a comment\n")
    head = Side.resolve(load_repository(work.root))
    expected = {i.key for i in head.instances if i.chart.path is not None and i.chart.path.name == "web-service"}
    assert {k.rsplit("/", 1)[1] for k in expected} == {"payments", "storefront"}
    assert compute(work, base, tmp_path) == dict.fromkeys(expected, "changed")
