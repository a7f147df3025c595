"""Chart repositories: constraints, a real repository over HTTP, retries, digests, the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import semver
from chart_server import build_repository, helm_env, serve

from helmkit.adapters.chartrepo import ChartRepositoryClient
from helmkit.adapters.semverrange import VersionConstraint
from helmkit.adapters.tools import binary_path
from helmkit.errors import HelmkitError, ToolError

REPO = Path(__file__).resolve().parents[3]
VERSIONS = ["0.9.0", "1.0.0", "1.2.0", "1.2.7", "1.3.0", "1.10.1", "2.0.0-rc.1", "2.0.0", "2.1.0"]


@pytest.mark.parametrize(("constraint", "expected"), [
    ("1.2.0", "1.2.0"),
    ("=1.2.0", "1.2.0"),
    ("^1.2", "1.10.1"),
    ("^1.2.7", "1.10.1"),
    ("~1.2.3", "1.2.7"),
    ("~1.2", "1.2.7"),
    ("~1", "1.10.1"),
    (">=1.0 <2", "1.10.1"),
    (">= 1.0, < 1.3", "1.2.7"),
    ("1.2.x", "1.2.7"),
    ("1.2", "1.2.7"),
    ("1.x", "1.10.1"),
    ("*", "2.1.0"),
    ("<1", "0.9.0"),
    (">1.2", "2.1.0"),
    ("<=1.2", "1.2.7"),
    ("^0.9", "0.9.0"),
    ("1.0.0 - 1.2.0", "1.2.0"),
    ("^3 || ~1.3.0", "1.3.0"),
    (">=1.0.0 !=1.10.1 <2", "1.3.0"),
    ("2.0.0-rc.1", "2.0.0-rc.1"),
    (">=2.0.0-rc.0 <2.0.0", "2.0.0-rc.1"),
    ("^4", None),
])
def test_constraints_pick_the_newest_allowed(constraint: str, expected: str | None) -> None:
    assert VersionConstraint.parse(constraint).best(VERSIONS) == expected


def test_prereleases_ignored_unless_asked() -> None:
    versions = ["1.0.0", "1.1.0-beta.1"]
    assert VersionConstraint.parse("^1").best(versions) == "1.0.0"
    assert VersionConstraint.parse("^1").best(versions, include_prerelease=True) == "1.1.0-beta.1"
    assert VersionConstraint.parse(">=3.19.0 <5.0.0").allows(semver.Version.parse("4.1.4"))


@pytest.mark.parametrize("bad", ["", "abc", ">=", "1.2.3.4", "!=1.x", "^v"])
def test_invalid_constraints(bad: str) -> None:
    with pytest.raises(ValueError):
        VersionConstraint.parse(bad)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chartrepo")
    helm = binary_path(REPO, "helm-v4.1.4")
    return build_repository(helm, root, {"web": ["1.0.0", "1.2.0", "2.0.0"], "api": ["0.1.0"]}, helm_env(root))


def test_resolve_and_download_checks_digest_and_caches(site: Path, tmp_path: Path) -> None:
    with serve(site) as served:
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01)
        entry = client.resolve(served.url, "web", "^1")
        assert entry.version == "1.2.0"
        path = client.package(entry)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.digest
        assert (path.stat().st_mode & 0o777) == 0o600
        again = ChartRepositoryClient(tmp_path / "charts").package_by_digest(entry.digest, lambda: pytest.fail("no"))
        assert again == path
        assert served.requests == ["/charts/index.yaml", "/charts/web-1.2.0.tgz"]


def test_retries_on_5xx(site: Path, tmp_path: Path) -> None:
    with serve(site) as served:
        served.failures["/charts/index.yaml"] = 2
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01)
        assert client.resolve(served.url, "api", "*").version == "0.1.0"
        assert served.requests.count("/charts/index.yaml") == 3


def test_gives_up_after_attempts(site: Path, tmp_path: Path) -> None:
    with serve(site) as served:
        served.failures["/charts/index.yaml"] = 10
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01, attempts=3)
        with pytest.raises(ToolError, match="failed after 3 attempts: HTTP 503"):
            client.index(served.url)


def test_404_is_not_retried(site: Path, tmp_path: Path) -> None:
    with serve(site) as served:
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01)
        with pytest.raises(ToolError, match="HTTP 404"):
            client.index(served.url + "/missing")
        assert len(served.requests) == 1


def test_digest_mismatch_is_refused(site: Path, tmp_path: Path) -> None:
    with serve(site) as served:
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01)
        entry = client.resolve(served.url, "web", "1.0.0")
        with pytest.raises(ToolError, match="expected " + "0" * 64):
            client.package_by_digest("0" * 64, lambda: entry)
        assert not list((tmp_path / "charts").glob("*.tgz"))


def test_unknown_chart_and_unsatisfiable_constraint(site: Path, tmp_path: Path) -> None:
    with serve(site) as served:
        client = ChartRepositoryClient(tmp_path / "charts", backoff=0.01)
        with pytest.raises(HelmkitError, match="not in the repository"):
            client.resolve(served.url, "nope", "*")
        with pytest.raises(HelmkitError, match="satisfies '\\^3'") as info:
            client.resolve(served.url, "web", "^3")
        assert "2.0.0" in (info.value.hint or "")


def test_only_http_urls(tmp_path: Path) -> None:
    with pytest.raises(HelmkitError, match="only http and https"):
        ChartRepositoryClient(tmp_path).index("file:///etc")
