"""A signal the kernel hands to a worker thread still runs its handler while the main thread waits."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from helmkit.adapters.waiting import first_done, map_in, result_of, until_set

PATIENCE = 5.0  # seconds the worker waits for the handler before it gives up
SETTLE = 0.5


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """SIGUSR1 sets the event, like sync's SIGINT handler sets its stop event."""
    event = threading.Event()
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: event.set())
    yield event
    signal.signal(signal.SIGUSR1, previous)


def _signalled_worker(stop: threading.Event, done: threading.Event) -> Callable[[int], bool]:
    def work(_: int) -> bool:
        time.sleep(SETTLE)  # the main thread is inside its wait by now
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)  # taken by this thread, not the main one
        heard = stop.wait(PATIENCE)  # the handler runs only in the main thread
        done.set()
        return heard
    return work


def _by_map_in(pool: ThreadPoolExecutor, work: Callable[[int], bool], done: threading.Event) -> bool:
    return map_in(pool, work, [0])[0]


def _by_result_of(pool: ThreadPoolExecutor, work: Callable[[int], bool], done: threading.Event) -> bool:
    return result_of(pool.submit(work, 0))


def _by_first_done(pool: ThreadPoolExecutor, work: Callable[[int], bool], done: threading.Event) -> bool:
    future: Future[bool] = pool.submit(work, 0)
    assert first_done([future]) == {future}
    return future.result()


def _by_until_set(pool: ThreadPoolExecutor, work: Callable[[int], bool], done: threading.Event) -> bool:
    future = pool.submit(work, 0)
    until_set(done)
    return future.result()


@pytest.mark.parametrize("waiter", [_by_map_in, _by_result_of, _by_first_done, _by_until_set])
def test_the_handler_runs_while_the_main_thread_waits(
        stop: threading.Event, waiter: Callable[[ThreadPoolExecutor, Callable[[int], bool], threading.Event], bool]
) -> None:
    done = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        heard = waiter(pool, _signalled_worker(stop, done), done)
    assert heard, "the main thread stayed blocked: the handler ran only after the worker gave up"


def test_map_in_keeps_the_order_and_raises_the_first_error() -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert map_in(pool, lambda n: n * 2, [3, 1, 2]) == [6, 2, 4]
        with pytest.raises(ZeroDivisionError):
            map_in(pool, lambda n: 1 // n, [1, 0, 2])


def test_first_done_of_nothing_is_empty() -> None:
    assert first_done([]) == set()
