"""What ``helmkit template --output-dir`` wrote last time, so files that would not change are not rewritten.

For each file written, the index keeps a *stamp* of everything its bytes depend on (the render
key, the masking in force, the format of the file) and the file's ``stat`` right after the write
(size, modification time in ns, inode: each write is a rename of a new file, so a new inode).
A file is current when both still match: a file edited, replaced or removed by someone else, or
an input changed, is written again. Stamps are keyed hashes (HMAC under the mask key), so the
index confirms no guess of a value that went into a rendering.

One index per output folder, in ``<cache>/template-outputs/``; losing it only costs one rewrite.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from helmkit.adapters.cache import atomic_write

INDEX_FORMAT = 1


class OutputStamps:
    """The index of one output folder: ``current`` before a write, ``wrote`` after it, ``save`` at the end."""

    def __init__(self, cache_dir: Path, folder: Path) -> None:
        self._folder = folder.resolve()
        name = hashlib.sha256(str(self._folder).encode()).hexdigest()[:32]
        self._index = cache_dir / "template-outputs" / f"{name}.json"
        self._entries: dict[str, list[str | int]] = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self._index.read_bytes())
            if isinstance(data, dict) and data.get("format") == INDEX_FORMAT and isinstance(data.get("files"), dict):
                self._entries = data["files"]
        self._changed = False

    def current(self, path: Path, stamp: str) -> bool:
        """Whether ``path`` is the file written last time for ``stamp``, untouched since."""
        entry = self._entries.get(self._relative(path))
        return entry is not None and entry == [stamp, *_signature(path)]

    def wrote(self, path: Path, stamp: str) -> None:
        signature = _signature(path)
        if signature:
            self._entries[self._relative(path)] = [stamp, *signature]
            self._changed = True

    def save(self) -> None:
        if not self._changed:
            return
        with contextlib.suppress(OSError):
            self._index.parent.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"format": INDEX_FORMAT, "folder": str(self._folder), "files": self._entries})
            atomic_write(self._index, body.encode())
        self._changed = False

    def _relative(self, path: Path) -> str:
        return os.path.relpath(path, self._folder)


def _signature(path: Path) -> list[int]:
    try:
        info = path.stat()
    except OSError:
        return []
    return [info.st_size, info.st_mtime_ns, info.st_ino]
