"""A content-addressed cache on disk, and the digests its keys are made of.

Entries live in ``<root>/<key[:2]>/<key>``; folders are 0700 and files 0600. Every write goes to
a temp file in the same folder and is renamed into place, so an interrupt never leaves a
truncated entry. A cache is bounded: the first write of a run drops entries older than
``max_age`` and then the least recently used ones until it holds at most ``max_bytes``
(:meth:`ContentCache.prune`; ``helmkit cache prune`` does the same on demand).

:func:`ensure_state_dir` makes helmkit's state folder (``.helmkit/``) 0700 with a ``.gitignore``
of ``*``, so a ``git add -A`` in a fleet repository never commits caches or tools. Chart directories
are digested by :mod:`helmkit.adapters.treedigest`.

The file-safety helpers every adapter uses live here too: :func:`private_dir`, :func:`atomic_write`
and :func:`private_temp_files` (0600 files for secrets handed to ``ssl``, removed at once; the
folders of processes killed before they could remove theirs go at the next call).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_AGE = 30 * 86400.0  # seconds
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
STATE_GITIGNORE = "# helmkit's caches, tools and sandbox state: never commit them\n*\n"


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (and make the leaf 0700); return it."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    return path


def ensure_state_dir(path: Path) -> Path:
    """helmkit's state folder: 0700 (its ``cache`` too), with a ``.gitignore`` of ``*``; return it.

    Nothing is created when the repository folder itself does not exist.
    """
    if not path.parent.is_dir():
        return path
    private_dir(path)
    if (path / "cache").is_dir():
        with contextlib.suppress(OSError):
            (path / "cache").chmod(0o700)
    ignore = path / ".gitignore"
    if not ignore.exists():
        with contextlib.suppress(OSError):
            atomic_write(ignore, STATE_GITIGNORE.encode(), mode=0o644)
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
    remove_stale_temp_dirs(prefix)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))  # mkdtemp: mode 0700
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


def remove_stale_temp_dirs(prefix: str, temp_dir: Path | None = None) -> list[Path]:
    """Remove the ``<prefix><pid>-*`` folders of processes that no longer exist (``kill -9`` leaves them)."""
    root = Path(temp_dir or tempfile.gettempdir())
    removed: list[Path] = []
    for folder in root.glob(f"{prefix}*-*"):
        pid_text = folder.name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or folder.is_symlink() or not folder.is_dir() \
                or folder.stat().st_uid != os.getuid():
            continue
        if not _process_exists(int(pid_text)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def content_key(parts: dict[str, Any]) -> str:
    """The sha256 of a canonical JSON form of ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PruneResult:
    removed: int = 0
    freed: int = 0  # bytes
    kept: int = 0
    kept_bytes: int = 0


@dataclass
class ContentCache:
    """Bytes by key under ``root``. Readers see a whole entry or none."""

    root: Path
    max_age: float = DEFAULT_MAX_AGE
    max_bytes: int = DEFAULT_MAX_BYTES
    _pruned: bool = field(default=False, init=False, repr=False)

    def _path(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"invalid cache key {key!r}")
        return self.root / key[:2] / key

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: pruning drops the least recently used entries first
        return data

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        private_dir(path.parent)
        if not self._pruned:
            self._pruned = True
            self.prune()
        atomic_write(path, data)

    def prune(self, *, max_age: float | None = None, max_bytes: int | None = None,
              now: float | None = None) -> PruneResult:
        """Drop entries older than ``max_age`` seconds, then the oldest until at most ``max_bytes`` remain."""
        age_limit = self.max_age if max_age is None else max_age
        size_limit = self.max_bytes if max_bytes is None else max_bytes
        moment = time.time() if now is None else now
        entries: list[tuple[float, int, Path]] = []
        for path in self.root.glob("*/*") if self.root.is_dir() else []:
            with contextlib.suppress(OSError):
                info = path.lstat()
                if stat.S_ISREG(info.st_mode):
                    entries.append((max(info.st_mtime, info.st_atime), info.st_size, path))
        entries.sort(reverse=True)  # newest first
        removed = freed = kept = kept_bytes = 0
        for used, size, path in entries:
            if moment - used <= age_limit and kept_bytes + size <= size_limit:
                kept, kept_bytes = kept + 1, kept_bytes + size
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                removed, freed = removed + 1, freed + size
        return PruneResult(removed, freed, kept, kept_bytes)
