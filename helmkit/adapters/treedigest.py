"""Digests of chart directories: what a chart's renderings are cached under.

:func:`tree_digest` hashes the sorted relative paths, executable bits and contents of every file
(through symlinks, as helm reads them). :class:`TreeDigests` computes each once per run and,
given a ``store`` folder, keeps it from run to run under the tree's *signature*: the path, mode,
size, modification and change times (ns) and inode of every entry, and of each symlink's target.
A chart that did not change is not read again (kube-prometheus-stack: 7 MB over 400 files);
any write to any of its files changes its change time, so the signature.

As git does with its index, a digest is kept only when every entry of the tree is older than
:data:`SETTLED_NS`: a file written again within the file system's timestamp granularity, with
the same size, would otherwise keep its signature and be taken for unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from helmkit.adapters.cache import atomic_write, private_dir

SETTLED_NS = 2_000_000_000


@dataclass
class TreeDigests:
    """Digests of chart directories, each computed once per run (thread-safe), kept in ``store``."""

    store: Path | None = None
    clock: Callable[[], int] = time.time_ns
    _known: dict[Path, str] = field(default_factory=dict)
    _young: set[Path] = field(default_factory=set)  # computed while too young to keep
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def digest(self, root: Path) -> str:
        root = root.resolve()
        with self._lock:
            known = self._known.get(root)
        if known is not None:
            return known
        value = self._kept(root) if self.store is not None and root.is_dir() else tree_digest(root)
        with self._lock:
            self._known[root] = value
        return value

    def keep_settled(self) -> None:
        """Keep the digests of the trees that were too young to keep when computed and are settled
        now (a chart copied or checked out just before a long run): read again, so the next run finds them."""
        with self._lock:
            young, self._young = self._young, set()
        for root in sorted(young):
            with contextlib.suppress(OSError):
                if tree_signature(root)[1] < self.clock() - SETTLED_NS:
                    self._kept(root)
                else:
                    with self._lock:
                        self._young.add(root)

    def _kept(self, root: Path) -> str:
        assert self.store is not None
        signature, newest = tree_signature(root)  # before reading: a write while hashing changes it
        entry = self.store / hashlib.sha256(str(root).encode()).hexdigest()[:32]
        with contextlib.suppress(OSError, ValueError):
            kept_signature, kept_digest = entry.read_text().split()
            if kept_signature == signature:
                return kept_digest
        value = tree_digest(root)
        if newest < self.clock() - SETTLED_NS:
            with contextlib.suppress(OSError):
                private_dir(self.store)
                atomic_write(entry, f"{signature} {value}\n".encode())
        else:
            with self._lock:
                self._young.add(root)
        return value


def tree_signature(root: Path) -> tuple[str, int]:
    """A digest of the stat of every entry under ``root`` (and of symlink targets), and the newest time seen."""
    hasher = hashlib.sha256()
    newest = 0
    pending = [root]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            seen = [info]
            if stat.S_ISLNK(info.st_mode):
                with contextlib.suppress(OSError):
                    seen.append(os.stat(entry.path))
            elif stat.S_ISDIR(info.st_mode):
                pending.append(Path(entry.path))
            for one in seen:
                newest = max(newest, one.st_mtime_ns, one.st_ctime_ns)
                hasher.update(f"{entry.path}\0{one.st_mode:o} {one.st_size} {one.st_mtime_ns} {one.st_ctime_ns} "
                              f"{one.st_ino}\n".encode())
    return hasher.hexdigest(), newest


def tree_digest(root: Path) -> str:
    """sha256 over the sorted relative paths, executable bits and contents of files under ``root``.

    Files are taken as ``os.walk`` lists them top-down with sorted names: a symlink to a file is
    hashed through (its target and the content read through it), a symlink to a folder is not
    followed.
    """
    hasher = hashlib.sha256()
    if root.is_file():
        hasher.update(b"file\0")
        hasher.update(root.read_bytes())
        return hasher.hexdigest()
    _digest_folder(str(root), "", hasher)
    return hasher.hexdigest()


def _digest_folder(folder: str, prefix: str, hasher: hashlib._Hash) -> None:
    with os.scandir(folder) as listing:
        entries = list(listing)
    files: list[os.DirEntry[str]] = []
    folders: list[os.DirEntry[str]] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        (folders if is_dir else files).append(entry)
    for entry in sorted(files, key=lambda e: e.name):
        rel = prefix + entry.name
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):  # helm reads through links: so does the digest
            hasher.update(f"link\0{rel}\0{os.readlink(entry.path)}\0".encode())
            if os.path.isfile(entry.path):
                hasher.update(_read(entry.path))
            continue
        hasher.update(f"file\0{rel}\0{info.st_mode & 0o111:o}\0{info.st_size}\0".encode())
        hasher.update(_read(entry.path))
    for entry in sorted(folders, key=lambda e: e.name):
        if not entry.is_symlink():
            _digest_folder(entry.path, f"{prefix}{entry.name}/", hasher)


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
