"""Pre-merge commands with real git and real helm: `validate --changed-since`, `diff --git-base`.

Refresh the golden files with ``HELMKIT_UPDATE_GOLDEN=1 pytest tests/e2e/test_premerge.py``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

from helmkit.actions.premerge import (
    ChangedSinceOptions,
    GitDiffOptions,
    git_diff,
    run_git_diff,
    run_validate_changed,
)
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.errors import InputError
from helmkit.output.console import Console
from tests.support.gitwork import Work

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
CANARY = "canary-Pm7-secret-value"
SECRET_ENV = "PREMERGE_DB_PASSWORD"
FLEET_PARTS = ("helmkit.yaml", "charts", "releases", "environments", "values", "schemas")
APP_TEMPLATES = {
    "configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  size: {{ .Values.size | quote }}\n  greeting: {{ .Values.greeting | quote }}\n"
    ),
    "secret.yaml": (
        "{{- if .Values.password }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\n"
        "stringData:\n  password: {{ .Values.password | quote }}\n{{- end }}\n"
    ),
    "deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
        "  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n      containers:\n"
        "        - name: app\n          image: {{ .Values.image | quote }}\n"
    ),
}
SMALL_FLEET = {
    "helmkit.yaml": 'helm:\n  version: ">=3.19.0 <5.0.0"\ndefaults: {namespace: default}\nkubeVersion: "1.34.0"\n',
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "charts/app/values.yaml": (
        "size: 1\ngreeting: hello\nreplicas: 1\nimage: registry.example.com/app:1.0\npassword: ''\n"
    ),
    **{f"charts/app/templates/{name}": text for name, text in APP_TEMPLATES.items()},
    "releases/web.yaml": (
        "chart:\n  path: charts/app\nnamespace: web\nvalues:\n  image: registry.example.com/web:1.0\n"
        f"  greeting: hi\n  password: ref+env://{SECRET_ENV}\n"
    ),
    "releases/api.yaml": "chart:\n  path: charts/app\nnamespace: api\nvalues:\n  size: 2\n  replicas: 2\n",
    "releases/jobs.yaml": "chart:\n  path: charts/app\nnamespace: jobs\n",
    "environments/dev.yaml": "clusters:\n  - name: dev-1\n",
    "environments/prod.yaml": (
        "clusters:\n  - name: prod-a\n    wave: 0\n  - name: prod-b\n    wave: 1\n"
        "releases:\n  api:\n    values:\n      replicas: 4\n"
    ),
}



@pytest.fixture(autouse=True)
def helm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "KUBECACHEDIR"):
        monkeypatch.setenv(key, str(tmp_path / "helmhome" / key.lower()))
    monkeypatch.setenv(SECRET_ENV, CANARY)
    monkeypatch.setenv("PAYMENTS_DB_PASSWORD", CANARY)
    monkeypatch.delenv("HELMKIT_HELM", raising=False)


@pytest.fixture
def small(tmp_path: Path) -> Work:
    work = Work(tmp_path / "fleet")
    for rel, text in SMALL_FLEET.items():
        work.write(rel, text)
    work.write(".gitignore", ".helmkit/\n")
    work.commit("first")
    work.git("checkout", "-q", "-b", "feature")
    return work


def context(root: Path, helm: str = "helm-v4.1.4") -> tuple[Context, io.StringIO, io.StringIO]:
    ctx = Context(repo=root, helm_option=str(binary_path(REPO, helm)), concurrency=2)
    out, err = io.StringIO(), io.StringIO()
    ctx.console = Console(masker=ctx.masker, out=out, err=err)
    return ctx, out, err


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HELMKIT_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; run with HELMKIT_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"output differs from {path}; refresh with HELMKIT_UPDATE_GOLDEN=1"


def pull_request(work: Work) -> None:
    """A pull request touching each kind of thing: a value, a secret, a rename, a removal, a reorder."""
    work.write("releases/web.yaml", SMALL_FLEET["releases/web.yaml"].replace("web:1.0", "web:1.1"))
    work.git("mv", "releases/jobs.yaml", "releases/workers.yaml")
    work.write("environments/prod.yaml", SMALL_FLEET["environments/prod.yaml"].replace(
        "releases:\n", "releases:\n  workers:\n    enabled: false\n"))
    # the same data, keys re-ordered and re-formatted: no change
    work.write("releases/api.yaml", "namespace: api\nvalues: {replicas: 2, size: 2}\nchart: {path: charts/app}\n")
    work.commit("pull request")


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "github"])
def test_diff_of_a_pull_request_matches_golden(small: Work, fmt: str) -> None:
    pull_request(small)
    ctx, out, err = context(small.root)
    code = run_git_diff(ctx, GitDiffOptions("main", "feature", fmt=fmt, detailed_exitcode=True))
    assert code == 2, err.getvalue()
    assert CANARY not in out.getvalue() + err.getvalue()
    check_golden(f"premerge-diff.{ {'text': 'txt', 'markdown': 'md', 'json': 'json', 'github': 'github.txt'}[fmt] }",
                 out.getvalue())
    if fmt == "github":  # each changed instance folded in a group of the log and annotated
        lines = out.getvalue().splitlines()
        groups = [line for line in lines if line.startswith("::group::")]
        assert groups and len(groups) == lines.count("::endgroup::")
        assert len([line for line in lines if line.startswith("::notice title=helmkit diff::")]) == len(groups)


def test_diff_statuses_renames_removals_reorders(small: Work) -> None:
    pull_request(small)
    ctx, _, _ = context(small.root)
    report = git_diff(ctx, GitDiffOptions("main", "feature"))
    statuses = {r.key: (r.status, r.renamed_from) for r in report.releases}
    assert statuses == {
        "dev/dev-1/api": ("unchanged", None),
        "prod/prod-a/api": ("unchanged", None),
        "prod/prod-b/api": ("unchanged", None),
        "dev/dev-1/web": ("changed", None),
        "prod/prod-a/web": ("changed", None),
        "prod/prod-b/web": ("changed", None),
        "dev/dev-1/workers": ("renamed", "jobs"),
        "prod/prod-a/jobs": ("removed", None),
        "prod/prod-b/jobs": ("removed", None),
    }
    web = next(r for r in report.releases if r.key == "dev/dev-1/web")
    assert [(c.op, str(c.key), [i.path for i in c.items]) for c in web.changes] == [
        ("change", "apps/Deployment web/web", ["spec.template.spec.containers[name=app].image"]),
    ]


def test_secret_change_is_visible_but_masked(small: Work, monkeypatch: pytest.MonkeyPatch) -> None:
    small.write("releases/web.yaml", SMALL_FLEET["releases/web.yaml"].replace(SECRET_ENV, "PREMERGE_NEW_PASSWORD"))
    small.commit()
    monkeypatch.setenv("PREMERGE_NEW_PASSWORD", CANARY + "-rotated")
    ctx, out, err = context(small.root)
    code = run_git_diff(ctx, GitDiffOptions("main", fmt="text"))
    text = out.getvalue() + err.getvalue()
    assert code == 0, text
    assert CANARY not in text
    assert "v1/Secret web/web-db" in text and "<secret hmac:" in text
    report = git_diff(ctx, GitDiffOptions("main"))
    item = report.releases[0].changes[0].items[0]
    assert item.path == "data.password" and item.old != item.new


def test_head_is_the_working_tree_by_default_and_nothing_is_written_to_it(small: Work) -> None:
    small.write("charts/app/templates/configmap.yaml", APP_TEMPLATES["configmap.yaml"] + "  extra: \"1\"\n")
    status = small.git("status", "--porcelain")
    ctx, _, _ = context(small.root)
    report = git_diff(ctx, GitDiffOptions("main"))
    assert report.head == "the working tree"
    assert {r.key for r in report.releases if r.status == "changed"} == {
        "dev/dev-1/api", "dev/dev-1/jobs", "dev/dev-1/web", "prod/prod-a/api", "prod/prod-a/jobs",
        "prod/prod-a/web", "prod/prod-b/api", "prod/prod-b/jobs", "prod/prod-b/web",
    }
    assert small.git("status", "--porcelain") == status


@pytest.mark.parametrize("helm", ["helm-v3.19.0", "helm-v4.1.4"])
def test_validate_changed_since_renders_only_the_affected_instances(small: Work, helm: str) -> None:
    small.write("releases/api.yaml", SMALL_FLEET["releases/api.yaml"] + "  greeting: hey\n")
    ctx, out, err = context(small.root, helm)
    code = run_validate_changed(ctx, ChangedSinceOptions("main"))
    assert code == 0, err.getvalue()
    assert "valid: 3 release instances affected by 1 changed file" in out.getvalue()
    assert "3 rendered" in out.getvalue()
    assert ctx.runner.started["helm"] <= 3 + 1  # three renders and at most one `helm version`


def test_validate_changed_since_reports_errors_as_github_annotations(small: Work) -> None:
    small.write("charts/app/templates/configmap.yaml", "{{ .Values.broken.deeper }}\n")
    ctx, out, _ = context(small.root)
    code = run_validate_changed(ctx, ChangedSinceOptions("main", fmt="github"))
    assert code == 1
    lines = [line for line in out.getvalue().splitlines() if line.startswith("::error ")]
    assert len(lines) == 9
    assert all("file=releases/" in line and "rendering failed" in line for line in lines)


def test_malicious_refs_start_no_process(small: Work) -> None:
    ctx, _, _ = context(small.root)
    for options in (GitDiffOptions("--output=/tmp/x"), GitDiffOptions("main", "ext::sh -c id")):
        with pytest.raises(InputError):
            git_diff(ctx, options)
    with pytest.raises(InputError):
        run_validate_changed(ctx, ChangedSinceOptions("../../etc"))
    assert sum(ctx.runner.started.values()) == 0


def test_markdown_comment_is_capped_with_a_note(small: Work) -> None:
    small.write("charts/app/templates/configmap.yaml",
                APP_TEMPLATES["configmap.yaml"] + "".join(f"  key{i}: \"{i}\"\n" for i in range(300)))
    small.commit()
    ctx, out, _ = context(small.root)
    run_git_diff(ctx, GitDiffOptions("main", fmt="markdown", max_chars=6000))
    text = out.getvalue()
    assert len(text) <= 6000
    assert "… cut:" in text
    assert text.count("<details>") == text.count("</details>")


def test_example_fleet_pull_request_touching_one_release(tmp_path: Path) -> None:
    work = Work(tmp_path / "example")
    for part in FLEET_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, work.root / part)
        elif source.is_file():
            shutil.copy(source, work.root / part)
    work.commit("fleet")
    release = work.root / "releases" / "payments.yaml"
    release.write_text(release.read_text().replace("PAYMENT_PROVIDER: sandbox", "PAYMENT_PROVIDER: live"))
    ctx, out, err = context(work.root)
    code = run_git_diff(ctx, GitDiffOptions("main", fmt="json", detailed_exitcode=True))
    assert code == 2, err.getvalue()
    data = json.loads(out.getvalue())
    assert data["changedFiles"] == ["releases/payments.yaml"]
    assert {r["release"] for r in data["releases"]} == {"payments"}
    statuses = {r["status"] for r in data["releases"]}
    assert "changed" in statuses and statuses <= {"changed", "unchanged"}  # an env layer may override it
    assert CANARY not in out.getvalue() + err.getvalue()


def test_deleted_release_shows_every_object_removed(small: Work) -> None:
    small.git("rm", "-q", "releases/api.yaml")
    small.write("environments/prod.yaml", SMALL_FLEET["environments/prod.yaml"].split("releases:")[0])
    small.commit()
    ctx, _, _ = context(small.root)
    report = git_diff(ctx, GitDiffOptions("main", "HEAD"))
    assert {r.key: r.status for r in report.releases if r.status != "unchanged"} == {
        "dev/dev-1/api": "removed", "prod/prod-a/api": "removed", "prod/prod-b/api": "removed",
    }
    # the environment file changed too: its other instances were rendered and found unchanged
    assert {r.key for r in report.releases if r.status == "unchanged"} == {
        "prod/prod-a/jobs", "prod/prod-a/web", "prod/prod-b/jobs", "prod/prod-b/web",
    }
    for release in (r for r in report.releases if r.status == "removed"):
        assert [(c.op, str(c.key)) for c in release.changes] == [
            ("remove", "ConfigMap api/api"), ("remove", "apps/Deployment api/api"),
        ]


def test_diff_errors_at_the_head_become_github_annotations(small: Work) -> None:
    small.write("charts/app/templates/configmap.yaml", "{{ .Values.broken.deeper }}\n")
    ctx, out, _ = context(small.root)
    code = run_git_diff(ctx, GitDiffOptions("main", fmt="github", detailed_exitcode=True))
    assert code == 1
    text = out.getvalue()
    annotations = [line for line in text.splitlines() if line.startswith("::error file=releases/")]
    assert len(annotations) == 9 and all("rendering failed" in line for line in annotations)
    assert "::group::! dev/dev-1/api  error" in text
    assert "::error title=helmkit diff::dev/dev-1/api: " in text
