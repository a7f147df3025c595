"""Waits of the main thread on worker threads, cut into short slices so signal handlers run.

CPython runs a Python signal handler only in the main thread, between two bytecodes. The kernel
hands a process-directed SIGINT or SIGTERM to any thread that does not block it; when a worker
thread (a gate's soak, a helm step's reader) takes it, a main thread blocked without a timeout in
a lock -- ``Future.result()``, ``concurrent.futures.wait``, ``Event.wait()`` -- is not woken, and
the handler waits with it: Ctrl-C during a one-hour soak gate would be heard after the hour.

Every wait here wakes at least every :data:`SLICE` seconds, so a pending handler runs within
that time wherever the kernel delivered the signal. Waking four times a second costs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

SLICE = 0.25  # seconds: the longest a waiting main thread leaves a signal handler pending


def first_done(futures: Iterable[Future[T]]) -> set[Future[T]]:
    """The futures that are done, once at least one is (like ``wait(FIRST_COMPLETED)``)."""
    waiting = list(futures)
    while True:
        done, _ = wait(waiting, timeout=SLICE, return_when=FIRST_COMPLETED)
        if done or not waiting:
            return done


def result_of(future: Future[T]) -> T:
    """``future.result()``, waiting in slices."""
    while not future.done():
        wait([future], timeout=SLICE)
    return future.result()


def map_in(pool: Executor, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``list(pool.map(fn, items))``, waiting in slices: results in ``items`` order, the first
    error (in that order) raised."""
    futures = [pool.submit(fn, item) for item in items]
    return [result_of(future) for future in futures]


def until_set(event: threading.Event) -> None:
    """``event.wait()``, waiting in slices."""
    while not event.wait(SLICE):
        pass
