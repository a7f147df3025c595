"""``helmkit cache prune``: trim helmkit's caches under ``.helmkit/cache`` by age and size."""

from __future__ import annotations

from dataclasses import dataclass

from helmkit.adapters.cache import ContentCache
from helmkit.context import Context
from helmkit.errors import EXIT_OK

PRUNED_CACHES = ("render", "helm-version", "verdicts")  # content caches; charts are kept by digest for `helmkit lock`


@dataclass(frozen=True)
class PruneOptions:
    max_age_days: float = 30.0
    max_size_mb: float = 512.0
    all_entries: bool = False


def prune(ctx: Context, options: PruneOptions) -> int:
    """Prune each content cache; print what went and what is left."""
    root = ctx.state_dir / "cache"
    for name in PRUNED_CACHES:
        cache = ContentCache(root / name)
        if options.all_entries:
            result = cache.prune(max_age=-1.0, max_bytes=0)
        else:
            result = cache.prune(max_age=options.max_age_days * 86400.0,
                                 max_bytes=int(options.max_size_mb * 1024 * 1024))
        ctx.console.print(f"{name}: removed {result.removed} entries ({_size(result.freed)}), "
                          f"kept {result.kept} ({_size(result.kept_bytes)})")
    if options.all_entries:  # one file of live verdicts per cluster, bounded: only --all empties them
        for path in (root / "live-verdicts").glob("*"):
            path.unlink(missing_ok=True)
    return EXIT_OK


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"
