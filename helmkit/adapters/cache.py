"""A content-addressed cache on disk, and the digests its keys are made of.

Entries live in ``<root>/<key[:2]>/<key>``; folders are 0700 and files 0600 (rendered
manifests may hold Secret data). Every write goes to a temp file in the same folder and is
renamed into place, so an interrupt never leaves a truncated entry. :class:`TreeDigests`
digests a chart directory once per run (path, mode bit and content of every file, sorted).

The file-safety helpers every adapter uses live here too: :func:`private_dir`, :func:`atomic_write`
and :func:`private_temp_files` (0600 files for secrets handed to helm or ``ssl``, removed at once).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 for the leaf; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    return path


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, durable: bool = False) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and a rename.

    The rename alone means an interrupted process never leaves a truncated file; ``durable``
    also syncs the data to disk first (for files that must survive a power loss).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def private_temp_files(prefix: str, contents: Mapping[str, bytes]) -> Iterator[dict[str, Path]]:
    """Write each ``name: data`` to a 0600 file in a fresh 0700 temp folder; yield name -> path.

    The folder goes away whatever happens inside the ``with`` block (success, an error, or
    KeyboardInterrupt), so secrets written here never outlive the call that reads them.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))  # mkdtemp: mode 0700
    try:
        paths: dict[str, Path] = {}
        for name, data in contents.items():
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            paths[name] = path
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def content_key(parts: dict[str, Any]) -> str:
    """The sha256 of a canonical JSON form of ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ContentCache:
    """Bytes by key under ``root``. Readers see a whole entry or none."""

    root: Path

    def _path(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"invalid cache key {key!r}")
        return self.root / key[:2] / key

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        private_dir(self.root)
        private_dir(path.parent)
        atomic_write(path, data)


@dataclass
class TreeDigests:
    """Digests of chart directories, each computed once per run (thread-safe)."""

    _known: dict[Path, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def digest(self, root: Path) -> str:
        root = root.resolve()
        with self._lock:
            known = self._known.get(root)
        if known is not None:
            return known
        value = tree_digest(root)
        with self._lock:
            self._known[root] = value
        return value


def tree_digest(root: Path) -> str:
    """sha256 over the sorted relative paths, executable bits and contents of files under ``root``."""
    hasher = hashlib.sha256()
    if root.is_file():
        hasher.update(b"file\0")
        hasher.update(root.read_bytes())
        return hasher.hexdigest()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):  # helm reads through links: so does the digest
                hasher.update(f"link\0{rel}\0{os.readlink(path)}\0".encode())
                if path.is_file():
                    hasher.update(path.read_bytes())
                continue
            hasher.update(f"file\0{rel}\0{info.st_mode & 0o111:o}\0{info.st_size}\0".encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    hasher.update(block)
    return hasher.hexdigest()
