"""Paths written in release files: relative, inside the repository, after following symlinks.

A path that escapes the repository (``../``, absolute, ``~``, a symlink pointing out) is
refused before anything reads it, so the content of the target never reaches any output.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

CONTAINMENT_HINT = "give a path relative to the repository root, inside it (no '..', '/', '~' or symlinks out)"


def contained_path(root: Path, written: str) -> tuple[Path | None, str | None]:
    """Resolve ``written`` against ``root``; return (path, None) or (None, why it is refused)."""
    if not written or "\x00" in written:
        return None, "path is empty or has a NUL byte"
    if written.startswith("~"):
        return None, f"path {written!r} starts with '~' (home directories are outside the repository)"
    pure = PurePosixPath(written.replace("\\", "/"))
    if pure.is_absolute() or Path(written).is_absolute():
        return None, f"path {written!r} is absolute"
    if ".." in pure.parts:
        return None, f"path {written!r} climbs out with '..'"
    real_root = root.resolve()
    candidate = real_root.joinpath(*pure.parts)
    real = candidate.resolve()
    if not real.is_relative_to(real_root):
        return None, f"path {written!r} resolves outside the repository (through a symlink)"
    return real, None
