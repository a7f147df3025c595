"""Chart digests kept from run to run under the tree's file stats."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from helmkit.adapters import treedigest
from helmkit.adapters.treedigest import SETTLED_NS, TreeDigests, tree_digest


def later() -> int:
    return time.time_ns() + 2 * SETTLED_NS


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    root = tmp_path / "chart"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("name: a\nversion: 1.0.0\n")
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    return root


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every chart whose files are read and hashed."""
    seen: list[Path] = []

    def counting(root: Path) -> str:
        seen.append(root)
        return tree_digest(root)

    monkeypatch.setattr(treedigest, "tree_digest", counting)
    return seen


def test_an_unchanged_chart_is_not_read_again(chart: Path, tmp_path: Path, hashed: list[Path]) -> None:
    store = tmp_path / "store"
    first = TreeDigests(store, clock=later).digest(chart)
    assert first == tree_digest(chart)
    assert TreeDigests(store, clock=later).digest(chart) == first
    assert len(hashed) == 1


def test_a_rewrite_with_the_same_size_and_time_is_seen(chart: Path, tmp_path: Path, hashed: list[Path]) -> None:
    store = tmp_path / "store"
    first = TreeDigests(store, clock=later).digest(chart)
    cm = chart / "templates" / "cm.yaml"
    info = cm.stat()
    cm.write_text("kind: ConfigMaq\n")  # same size; the modification time put back: the change time moves
    os.utime(cm, ns=(info.st_atime_ns, info.st_mtime_ns))
    second = TreeDigests(store, clock=later).digest(chart)
    assert second != first and second == tree_digest(chart)
    assert len(hashed) == 2


def test_added_removed_and_linked_files_change_the_digest(chart: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    digests = [TreeDigests(store, clock=later).digest(chart)]
    (chart / "templates" / "new.yaml").write_text("kind: Secret\n")
    digests.append(TreeDigests(store, clock=later).digest(chart))
    (chart / "templates" / "new.yaml").unlink()
    outside = tmp_path / "shared.yaml"
    outside.write_text("kind: Service\n")
    (chart / "templates" / "link.yaml").symlink_to(outside)
    digests.append(TreeDigests(store, clock=later).digest(chart))
    outside.write_text("kind: Servicf\n")  # the link's target changes, the link does not
    digests.append(TreeDigests(store, clock=later).digest(chart))
    assert len(set(digests)) == 4
    assert digests[-1] == tree_digest(chart)


def test_a_tree_written_just_now_is_not_kept(chart: Path, tmp_path: Path, hashed: list[Path]) -> None:
    store = tmp_path / "store"
    TreeDigests(store).digest(chart)  # its files are younger than SETTLED_NS: a same-size rewrite could hide
    TreeDigests(store).digest(chart)
    assert len(hashed) == 2
    assert not store.exists()


def test_without_a_store_each_run_reads_the_chart(chart: Path, hashed: list[Path]) -> None:
    TreeDigests(clock=later).digest(chart)
    TreeDigests(clock=later).digest(chart)
    assert len(hashed) == 2


def test_a_young_tree_is_kept_once_it_has_settled(chart: Path, tmp_path: Path, hashed: list[Path]) -> None:
    store, now = tmp_path / "store", [time.time_ns()]
    run = TreeDigests(store, clock=lambda: now[0])
    first = run.digest(chart)  # just written: not kept
    run.keep_settled()  # still young at the end of a short run: neither read again nor kept
    assert not store.exists() and len(hashed) == 1
    now[0] += 2 * SETTLED_NS  # the end of a long run (helm rendered for seconds)
    run.keep_settled()
    assert len(hashed) == 2  # read again before it is kept
    assert TreeDigests(store, clock=later).digest(chart) == first
    assert len(hashed) == 2  # the next run finds it
    run.keep_settled()
    assert len(hashed) == 2  # kept once
