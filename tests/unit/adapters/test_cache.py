"""The content cache: atomic private writes, keys, chart tree digests."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helmkit.adapters.cache import (
    ContentCache,
    atomic_write,
    content_key,
    ensure_state_dir,
)
from helmkit.adapters.treedigest import TreeDigests, tree_digest


def test_put_get_modes(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache" / "render")
    key = content_key({"a": 1})
    assert cache.get(key) is None
    cache.put(key, b"manifest")
    assert cache.get(key) == b"manifest"
    entry = tmp_path / "cache" / "render" / key[:2] / key
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache" / "render").stat().st_mode) == 0o700
    assert os.listdir(entry.parent) == [key]  # no temp file left behind


def test_key_is_order_independent_and_content_sensitive() -> None:
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": "1"})


def test_invalid_key_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ContentCache(tmp_path).get("../../etc/passwd")


def test_atomic_write_failure_leaves_old_content(tmp_path: Path) -> None:
    path = tmp_path / "file"
    atomic_write(path, b"old")

    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_tree_digest_changes_with_content_names_and_modes(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("name: a\n")
    (chart / "templates" / "a.yaml").write_text("x: 1\n")
    first = tree_digest(chart)
    assert tree_digest(chart) == first
    (chart / "templates" / "a.yaml").write_text("x: 2\n")
    second = tree_digest(chart)
    assert second != first
    (chart / "templates" / "a.yaml").rename(chart / "templates" / "b.yaml")
    third = tree_digest(chart)
    assert third != second
    (chart / "templates" / "b.yaml").chmod(0o755)
    assert tree_digest(chart) != third


def test_tree_digests_computed_once_per_run(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("name: a\n")
    digests = TreeDigests()
    before = digests.digest(chart)
    (chart / "Chart.yaml").write_text("name: b\n")
    assert digests.digest(chart) == before  # remembered for the run
    assert TreeDigests().digest(chart) != before


def test_tree_digest_follows_file_links(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    chart.mkdir()
    target = tmp_path / "shared.yaml"
    target.write_text("a: 1\n")
    (chart / "values.yaml").symlink_to(target)
    before = tree_digest(chart)
    target.write_text("a: 2\n")
    assert tree_digest(chart) != before


def test_parent_folders_of_a_cache_are_made_private_too(tmp_path: Path) -> None:
    ContentCache(tmp_path / "state" / "cache" / "render").put(content_key({"a": 1}), b"x")
    for folder in ("state", "state/cache", "state/cache/render"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder


def test_prune_drops_old_entries_then_least_recently_used_beyond_the_size(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "render")
    keys = [content_key({"n": n}) for n in range(4)]
    for n, key in enumerate(keys):
        cache.put(key, b"x" * 100)
        entry = tmp_path / "render" / key[:2] / key
        os.utime(entry, (1000.0 + n, 1000.0 + n))
    assert cache.get(keys[0]) == b"x" * 100  # used now: the newest
    result = cache.prune(max_age=10 * 86400.0, max_bytes=250, now=1010.0 + 86400 * 365)
    assert result.removed == 3 and result.kept == 1 and result.freed == 300  # 3 are a year old
    assert cache.get(keys[0]) is not None and all(cache.get(k) is None for k in keys[1:])
    for key in keys[1:]:
        cache.put(key, b"y" * 100)
    assert cache.prune(max_bytes=250).kept == 2  # size limit alone: the two newest stay


def test_the_first_write_of_a_run_prunes_the_cache(tmp_path: Path) -> None:
    old = ContentCache(tmp_path / "render")
    stale = content_key({"old": 1})
    old.put(stale, b"old")
    os.utime(tmp_path / "render" / stale[:2] / stale, (1.0, 1.0))  # 1970
    ContentCache(tmp_path / "render").put(content_key({"new": 1}), b"new")
    assert ContentCache(tmp_path / "render").get(stale) is None


def test_state_dir_is_private_and_ignored_by_git(tmp_path: Path) -> None:
    (tmp_path / ".helmkit" / "cache").mkdir(parents=True, mode=0o755)  # left by an older helmkit
    (tmp_path / ".helmkit").chmod(0o755)
    (tmp_path / ".helmkit" / "cache").chmod(0o755)
    ensure_state_dir(tmp_path / ".helmkit")
    assert stat.S_IMODE((tmp_path / ".helmkit").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".helmkit" / "cache").stat().st_mode) == 0o700
    assert (tmp_path / ".helmkit" / ".gitignore").read_text().splitlines()[-1] == "*"
    ensure_state_dir(tmp_path / "missing-repo" / ".helmkit")
    assert not (tmp_path / "missing-repo").exists()


def test_git_add_all_in_a_fleet_never_stages_the_state_dir(tmp_path: Path) -> None:
    import subprocess

    from helmkit.context import Context

    ContentCache(Context(repo=tmp_path).state_dir / "cache" / "render").put(content_key({"a": 1}), b"rendered")
    (tmp_path / "helmkit.yaml").write_text("{}\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    staged = subprocess.run([*git, "diff", "--cached", "--name-only"], check=True, capture_output=True, text=True)
    assert staged.stdout.split() == ["helmkit.yaml"]


def test_cache_prune_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    cache = ContentCache(tmp_path / ".helmkit" / "cache" / "render")
    key = content_key({"a": 1})
    cache.put(key, b"rendered")
    os.utime(tmp_path / ".helmkit" / "cache" / "render" / key[:2] / key, (1.0, 1.0))
    proc = subprocess.run([sys.executable, "-m", "helmkit", "--repo", str(tmp_path), "cache", "prune"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "render: removed 1 entries (8 B), kept 0 (0 B)" in proc.stdout
    assert cache.get(key) is None


def test_private_temp_files_of_killed_processes_are_removed_at_the_next_call(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys
    import tempfile

    from helmkit.adapters.cache import private_temp_files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"helmkit-tls-{dead.pid}-abc123"  # what kill -9 of that process left behind
    left.mkdir()
    (left / "client.key").write_text("private key")
    alive = tmp_path / f"helmkit-tls-{os.getppid()}-def456"  # a running process's folder: kept
    alive.mkdir()
    with private_temp_files("helmkit-tls-", {"client.key": b"k"}) as paths:
        assert paths["client.key"].parent.name.startswith(f"helmkit-tls-{os.getpid()}-")
    assert not left.exists() and alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name]
