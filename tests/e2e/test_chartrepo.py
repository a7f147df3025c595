"""A real chart repository over HTTP: lock resolves constraints, rendering uses the locked package."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "adapters"))
from chart_server import build_repository, helm_env, serve

from helmkit.actions.lock import LockFile, compute_lock, describe_changes, read_lock, repository_charts
from helmkit.actions.render import helm_client, render_instances
from helmkit.adapters.chartrepo import ChartRepositoryClient
from helmkit.adapters.helm import HelmClient
from helmkit.adapters.tools import binary_path
from helmkit.context import Context
from helmkit.model.instance import ChartRef, Cluster, ReleaseInstance

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def repo_instance(url: str, constraint: str, name: str = "web") -> ReleaseInstance:
    return ReleaseInstance(env="prod", cluster=Cluster("c1", "prod", "c1"), name=name, namespace="apps",
                           chart=ChartRef(repository=url, repository_name="example", name="web", version=constraint),
                           values={"greeting": "from-repo"})


@pytest.mark.parametrize("folder", ["helm-v3.19.0", "helm-v4.1.4"])
def test_lock_then_render_repository_chart(tmp_path: Path, folder: str) -> None:
    env = helm_env(tmp_path)
    helm_path = binary_path(REPO, folder)
    site = build_repository(helm_path, tmp_path, {"web": ["1.0.0", "1.1.0", "2.0.0"]}, env)
    ctx = Context(repo=tmp_path / "fleet", helm_option=str(helm_path))
    ctx.repo.mkdir()
    with serve(site) as served:
        instances = [repo_instance(served.url, "^1")]
        client = ChartRepositoryClient(ctx.state_dir / "cache" / "charts", backoff=0.01)
        lock = compute_lock(repository_charts(instances), client, None, now="2026-01-01T00:00:00Z")
        assert [(e.name, e.constraint, e.version) for e in lock.entries] == [("web", "^1", "1.1.0")]
        assert lock.entries[0].digest.startswith("sha256:")
        (ctx.repo / "helmkit.lock").write_text(lock.dump())
        assert read_lock(ctx.repo) == lock

        helm = HelmClient(ctx.runner, helm_path, env, version_cache=helm_client(ctx).version_cache)
        result = render_instances(ctx, instances, helm=helm)[0]
        assert result.error is None, result.error and result.error.render()
        assert 'version: "1.1.0"' in (result.manifest or "")
        assert 'greeting: "from-repo"' in (result.manifest or "")
        downloads = [r for r in served.requests if r.endswith(".tgz")]
        assert downloads == ["/charts/web-1.1.0.tgz"]

        # A new run (new client, nothing in memory) renders from the caches: no HTTP, no helm.
        requests_before = len(served.requests)
        ctx2 = Context(repo=ctx.repo, helm_option=str(helm_path))
        helm2 = HelmClient(ctx2.runner, helm_path, env, version_cache=helm_client(ctx2).version_cache)
        warm = render_instances(ctx2, instances, helm=helm2)[0]
        assert warm.cached and warm.manifest == result.manifest
        assert sum(ctx2.runner.started.values()) == 0 and len(served.requests) == requests_before


def test_lock_is_stale_when_constraints_or_repository_change(tmp_path: Path) -> None:
    env = helm_env(tmp_path)
    helm_path = binary_path(REPO, "helm-v4.1.4")
    site = build_repository(helm_path, tmp_path, {"web": ["1.0.0", "1.1.0"]}, env)
    with serve(site) as served:
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01)
        wanted = repository_charts([repo_instance(served.url, "~1.0.0")])
        first = compute_lock(wanted, client, None, now="t1")
        again = compute_lock(wanted, ChartRepositoryClient(tmp_path / "charts"), first, now="t2")
        assert again == first and again.dump() == first.dump()  # unchanged entries keep their time
        assert describe_changes(first, again) == []
        widened = compute_lock(repository_charts([repo_instance(served.url, "^1")]), client, first, now="t3")
        changes = describe_changes(first, widened)
        assert any(c.startswith("+ web ^1") for c in changes) and any(c.startswith("- web ~1.0.0") for c in changes)
    assert describe_changes(LockFile(()), first) == [f"+ web ~1.0.0 from {served.url}: 1.0.0"]


def test_locked_digest_mismatch_fails_rendering(tmp_path: Path) -> None:
    env = helm_env(tmp_path)
    helm_path = binary_path(REPO, "helm-v4.1.4")
    site = build_repository(helm_path, tmp_path, {"web": ["1.0.0"]}, env)
    ctx = Context(repo=tmp_path / "fleet", helm_option=str(helm_path))
    ctx.repo.mkdir()
    with serve(site) as served:
        instances = [repo_instance(served.url, "1.0.0")]
        lock = compute_lock(repository_charts(instances), ChartRepositoryClient(tmp_path / "c"), None, now="t")
        (ctx.repo / "helmkit.lock").write_text(lock.dump().replace(lock.entries[0].digest, "sha256:" + "0" * 64))
        result = render_instances(ctx, instances, helm=HelmClient(ctx.runner, helm_path, env))[0]
    assert result.error is not None and "expected " + "0" * 64 in result.error.render()


def write_fleet(root: Path, url: str, constraint: str) -> None:
    (root / "releases").mkdir(parents=True, exist_ok=True)
    (root / "environments").mkdir(exist_ok=True)
    (root / "helmkit.yaml").write_text(
        f'helm: {{version: ">=3.19.0 <5.0.0"}}\ndefaults: {{namespace: default}}\nkubeVersion: "1.34.0"\n'
        "repositories:\n  - name: example\n"
        f"    url: {url}\n")
    (root / "releases" / "web.yaml").write_text(
        f'chart: {{repository: example, name: web, version: "{constraint}"}}\nnamespace: web\n'
        "values:\n  greeting: hi-${cluster.name}\n")
    (root / "environments" / "prod.yaml").write_text("clusters:\n  - name: prod-1\n  - name: prod-2\n")


def test_lock_command_check_and_template_with_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from helmkit.actions.lock import LockOptions, lock
    from helmkit.actions.template import TemplateOptions, template
    from helmkit.output.console import Console

    for key, value in helm_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    helm_path = binary_path(REPO, "helm-v3.19.0")
    site = build_repository(helm_path, tmp_path, {"web": ["1.0.0", "1.4.0", "2.0.0"]}, helm_env(tmp_path))
    root = tmp_path / "fleet"

    def context() -> tuple[Context, io.StringIO, io.StringIO]:
        ctx = Context(repo=root, helm_option=str(helm_path))
        out, err = io.StringIO(), io.StringIO()
        ctx.console = Console(masker=ctx.masker, out=out, err=err)
        return ctx, out, err

    with serve(site) as served:
        write_fleet(root, served.url, "^1")
        ctx, _, err = context()
        assert lock(ctx, LockOptions(check=True)) == 1  # no lock yet
        assert "is stale" in err.getvalue()
        ctx, _, err = context()
        assert lock(ctx, LockOptions()) == 0
        written = (root / "helmkit.lock").read_text()
        assert "version: 1.4.0" in written and f"repository: {served.url}" in written
        ctx, _, _ = context()
        assert lock(ctx, LockOptions(check=True)) == 0
        ctx, _, _ = context()
        assert lock(ctx, LockOptions()) == 0 and (root / "helmkit.lock").read_text() == written  # no churn

        ctx, out, err = context()
        assert template(ctx, TemplateOptions(env="prod")) == 0, err.getvalue()
        text = out.getvalue()
        assert text.count('version: "1.4.0"') == 2 and 'greeting: "hi-prod-2"' in text
        assert "# Source: prod/prod-1/web" in text

        write_fleet(root, served.url, "~1.0")
        ctx, _, err = context()
        assert lock(ctx, LockOptions(check=True)) == 1
        assert "+ web ~1.0" in err.getvalue() and "- web ^1" in err.getvalue()
        ctx, out, err = context()
        assert template(ctx, TemplateOptions(env="prod")) == 1
        assert "is not locked" in err.getvalue() and "helmkit lock" in err.getvalue()
