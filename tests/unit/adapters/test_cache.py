"""The content cache: atomic private writes, keys, chart tree digests."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helmkit.adapters.cache import ContentCache, TreeDigests, atomic_write, content_key, tree_digest


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
