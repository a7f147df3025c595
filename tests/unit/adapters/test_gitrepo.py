"""The git adapter against real git repositories in temp folders: refs, merge base, changes, materialize."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helmkit.adapters.gitrepo import (
    Change,
    GitRepository,
    check_ref,
    gitpython_version,
    parse_name_status,
    ref_problem,
)
from helmkit.adapters.runner import Runner
from helmkit.errors import HelmkitError, InputError
from tests.support.gitwork import GIT_ENV, Work


@pytest.fixture
def work(tmp_path: Path) -> Work:
    w = Work(tmp_path / "repo")
    w.write("releases/web.yaml", "chart: {path: charts/web}\nvalues:\n  replicas: 1\n" + "# padding\n" * 20)
    w.write("releases/api.yaml", "chart: {path: charts/web}\n")
    w.write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
    w.write("charts/web/templates/run.sh", "#!/bin/sh\necho hi\n", executable=True)
    w.commit("first")
    return w


GOOD_REFS = ["main", "origin/main", "HEAD", "HEAD~2", "HEAD^", "HEAD^2", "main~1^2", "v1.2.0", "3f9c2e1",
             "0123456789abcdef0123456789abcdef01234567", "feature/x-y_z", "refs/heads/main", "@", "release-1.0+b"]
BAD_REFS = ["--output=/tmp/x", "-n", "ext::sh -c touch% /tmp/pwned", "../../etc/passwd", "main..feature",
            "main...feature", "HEAD@{1}", "@{-1}", "main^{tree}", "main:releases/web.yaml", "with space",
            "ctrl\x01char", "line\nbreak", ".hidden", "x.lock", "a//b", "a/", "/a", "x.", "", "a*", "a?", "a[0]",
            "a\\b", "file:///tmp/x", "https://example.com/repo.git", "x" * 300, "\u202emain", "~2"]


@pytest.mark.parametrize("ref", GOOD_REFS)
def test_plain_refs_shas_and_ancestry_are_accepted(ref: str) -> None:
    assert ref_problem(ref) is None
    assert check_ref(ref, "--git-base") == ref


@pytest.mark.parametrize("ref", BAD_REFS)
def test_refs_that_could_be_options_transports_paths_or_expressions_are_refused(ref: str) -> None:
    assert ref_problem(ref) is not None
    with pytest.raises(InputError) as info:
        check_ref(ref, "--git-base")
    problem = info.value.problems[0]
    assert problem.location is not None and problem.location.file == "--git-base"
    assert "\n" not in problem.message and "\x01" not in problem.message


def test_malicious_refs_are_refused_before_any_git_process(work: Work, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))  # every git process, ours or GitPython's, would write here
    runner = Runner()
    repo = GitRepository(work.root, runner)
    for ref in ("--output=/tmp/x", "ext::sh -c touch% /tmp/pwned", "../../x", "HEAD@{1}"):
        with pytest.raises(InputError):
            repo.resolve(ref, "--git-base")
        with pytest.raises(InputError):
            repo.merge_base(ref, "main")
        with pytest.raises(InputError):
            repo.merge_base("main", ref)
        with pytest.raises(InputError):
            repo.changed_paths(ref)
        with pytest.raises(InputError):
            repo.materialize(ref, tmp_path / "out")
    assert sum(runner.started.values()) == 0
    assert not trace.exists()
    assert not (tmp_path / "out").exists()
    repo.resolve("main")  # the same calls with a good ref do start git: the checks above can fail
    assert runner.started["git"] > 0
    assert trace.exists()


def test_resolve_gives_full_commit_and_unknown_refs_say_helmkit_never_fetches(work: Work) -> None:
    repo = GitRepository(work.root, Runner())
    assert repo.resolve("main") == work.git("rev-parse", "HEAD")
    assert repo.resolve(work.git("rev-parse", "--short", "HEAD")) == work.git("rev-parse", "HEAD")
    with pytest.raises(InputError) as info:
        repo.resolve("origin/main", "--git-base")
    assert "no such commit" in info.value.problems[0].message
    assert "never fetches" in (info.value.problems[0].hint or "")


def test_merge_base_is_the_fork_point_of_a_pull_request(work: Work) -> None:
    fork = work.git("rev-parse", "HEAD")
    work.git("checkout", "-q", "-b", "feature")
    work.write("releases/web.yaml", "chart: {path: charts/web}\nvalues:\n  replicas: 2\n")
    feature = work.commit("feature")
    work.git("checkout", "-q", "main")
    work.write("releases/other.yaml", "chart: {path: charts/web}\n")
    work.commit("main moves on")
    repo = GitRepository(work.root, Runner())
    assert repo.merge_base("main", "feature") == fork
    # what the pull request changed: not main's later commit
    assert repo.changed_paths(fork, feature) == [Change("M", "releases/web.yaml")]


def test_changed_paths_with_renames_additions_deletions_and_the_working_tree(work: Work) -> None:
    base = work.git("rev-parse", "HEAD")
    work.git("mv", "releases/web.yaml", "releases/frontend.yaml")
    work.git("rm", "-q", "releases/api.yaml")
    work.write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.1\n")
    work.write("environments/dev.yaml", "clusters: []\n")
    head = work.commit("second")
    repo = GitRepository(work.root, Runner())
    assert repo.changed_paths(base, head) == [
        Change("M", "charts/web/Chart.yaml"),
        Change("A", "environments/dev.yaml"),
        Change("D", "releases/api.yaml"),
        Change("R", "releases/frontend.yaml", "releases/web.yaml"),
    ]
    # the working tree: a modified tracked file and an untracked one; ignored files and .helmkit/ are not changes
    work.write(".gitignore", "out/\n")
    work.commit("ignore")
    work.write("environments/dev.yaml", "clusters: [{name: a}]\n")
    work.write("values/new.yaml", "a: 1\n")
    work.write("out/rendered.yaml", "x: 1\n")
    work.write(".helmkit/cache/ab/abcdef", "cached")
    assert repo.changed_paths(head) == [
        Change("A", ".gitignore"),
        Change("M", "environments/dev.yaml"),
        Change("A", "values/new.yaml"),
    ]


def test_a_release_repository_in_a_subfolder_sees_its_own_paths(tmp_path: Path) -> None:
    work = Work(tmp_path / "mono")
    work.write("app/main.go", "package main\n")
    work.write("deploy/releases/web.yaml", "chart: {path: charts/web}\n")
    base = work.commit("first")
    work.write("app/main.go", "package main // changed\n")
    work.write("deploy/releases/web.yaml", "chart: {path: charts/web}\nnamespace: web\n")
    head = work.commit("second")
    repo = GitRepository(work.root / "deploy", Runner())
    assert repo.prefix() == "deploy/"
    assert repo.changed_paths(base, head) == [Change("M", "releases/web.yaml")]
    done = repo.materialize(head, tmp_path / "out")
    assert sorted(p.relative_to(done.root).as_posix() for p in done.root.rglob("*") if p.is_file()) == [
        "releases/web.yaml"
    ]


def test_materialize_writes_files_and_modes_without_touching_worktree_or_index(work: Work, tmp_path: Path) -> None:
    first = work.git("rev-parse", "HEAD")
    work.write("releases/web.yaml", "changed in the working tree\n")
    work.write("staged.yaml", "staged\n")
    work.git("add", "staged.yaml")
    index = (work.root / ".git" / "index").read_bytes()
    status = work.git("status", "--porcelain")
    done = GitRepository(work.root, Runner()).materialize("main", tmp_path / "out")
    assert done.commit == first
    assert (done.root / "releases/web.yaml").read_text().startswith("chart: {path: charts/web}")
    assert os.access(done.root / "charts/web/templates/run.sh", os.X_OK)
    assert not os.access(done.root / "charts/web/Chart.yaml", os.X_OK)
    assert not (done.root / "staged.yaml").exists()
    assert done.files == 4
    assert (work.root / ".git" / "index").read_bytes() == index
    assert work.git("status", "--porcelain") == status
    assert (work.root / "releases/web.yaml").read_text() == "changed in the working tree\n"


def test_materialize_refuses_symlinks_that_lead_outside(work: Work, tmp_path: Path) -> None:
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("do-not-read")
    (work.root / "values").mkdir()
    (work.root / "values/inside.yaml").symlink_to("../releases/web.yaml")
    (work.root / "values/absolute.yaml").symlink_to(secret)
    (work.root / "values/climb.yaml").symlink_to("../../outside-secret.txt")
    (work.root / "here").symlink_to(".")
    (work.root / "chain").symlink_to("here/..")  # each link stays inside on its own; together they leave
    work.commit("links")
    out = tmp_path / "out"
    done = GitRepository(work.root, Runner()).materialize("HEAD", out)
    assert (done.root / "values/inside.yaml").read_text().startswith("chart:")
    assert (done.root / "here").is_symlink()
    for name in ("values/absolute.yaml", "values/climb.yaml", "chain"):
        assert not (done.root / name).exists() and not (done.root / name).is_symlink(), name
        assert any(s.startswith(name + ":") for s in done.skipped)
    for path in done.root.rglob("*"):
        assert Path(os.path.realpath(path)).is_relative_to(done.root), path


def test_not_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(HelmkitError, match="not inside a git repository"):
        GitRepository(tmp_path / "plain", Runner()).resolve("main")


def test_parse_name_status_maps_copies_type_changes_and_unmerged() -> None:
    text = "R087\0old.yaml\0new.yaml\0C100\0a.yaml\0b.yaml\0T\0link\0U\0conflict\0M\0m\0A\0a\0D\0d\0"
    assert parse_name_status(text) == [
        Change("R", "new.yaml", "old.yaml"), Change("A", "b.yaml"), Change("M", "link"), Change("M", "conflict"),
        Change("M", "m"), Change("A", "a"), Change("D", "d"),
    ]


def test_installed_gitpython_has_the_ref_and_ext_transport_fixes() -> None:
    assert gitpython_version() >= (3, 1, 41)


def test_a_shallow_clone_without_the_base_says_how_to_fetch_it(work: Work, tmp_path: Path) -> None:
    work.write("releases/web.yaml", "chart: {path: charts/web}\nvalues:\n  replicas: 3\n")
    work.commit("second")
    clone = tmp_path / "clone"
    work.runner.run(["git", "clone", "-q", "--depth", "1", f"file://{work.root}", str(clone)], env=GIT_ENV)
    repo = GitRepository(clone, Runner())
    with pytest.raises(InputError) as info:
        repo.merge_base("HEAD~1", "HEAD", base_option="--changed-since")
    problem = info.value.problems[0]
    assert problem.location is not None and problem.location.file == "--changed-since"
    assert "fetch-depth: 0" in (problem.hint or "")
