"""Generation and validation on every core, in input order, with bounded memory.

:func:`ordered_map` applies a function to a stream of items in worker processes and yields the
results in input order. Items travel in chunks; at most ``window`` chunks are in flight at any
time, so a producer of a million payloads is read only as fast as the workers keep up and memory
stays bounded by about ``window × chunk_size`` items whatever the input size. The first chunk
runs in the calling process, before the workers fork, so that they inherit warm caches.

Workers are forked from the calling process (POSIX ``fork`` start method), so they inherit the
compiled schema, the validator's model cache and the function itself: nothing is imported or
compiled again, and the function need not be picklable (items and results must be). Where
``fork`` is not available, or ``workers`` is 1, or the stream fits in one chunk, the function
runs in the calling process: the results are the same, only slower.

A worker dies with the process that forked it (Linux ``PR_SET_PDEATHSIG``): a forked worker
shares its parent's open files, the embedded server's lease lock among them, so a worker left
behind by a ``kill -9`` of the CLI would keep that server "in use" for ever.
"""

from __future__ import annotations

import ctypes
import itertools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from ..errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

# token → function, set before the workers fork so that they inherit it (closures cannot be pickled).
_FUNCTIONS: dict[int, Callable[[Any], Any]] = {}
_TOKENS = itertools.count()


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """Worker initializer: SIGKILL this worker when its parent exits, however it exits (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still ends the workers
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def default_workers() -> int:
    """The worker count for ``workers=0``: the cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _run_chunk(token: int, chunk: list[Any]) -> list[Any]:
    function = _FUNCTIONS[token]
    return [function(item) for item in chunk]


def ordered_map(
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int = 0,
    chunk_size: int = 256,
    window: int | None = None,
) -> Iterator[R]:
    """``map(function, items)`` on ``workers`` processes, results in input order, lazily.

    Args:
        function: applied to every item; it must not raise for an item it can report on (an
            exception is re-raised here, in the caller, and ends the stream).
        items: any iterable; it is consumed at most ``(window + 1) × chunk_size`` items ahead
            of what has been yielded.
        workers: processes; 0 means one per core (:func:`default_workers`), 1 means none.
        chunk_size: items per task sent to a worker (amortises the inter-process transfer).
        window: chunks in flight at most; default ``2 × workers``.

    Yields:
        ``function(item)`` for every item, in the order of ``items``.

    Raises:
        UsageError: ``chunk_size`` or ``window`` below 1, ``workers`` below 0.
    """
    if chunk_size < 1 or workers < 0 or (window is not None and window < 1):
        raise UsageError("chunk_size and window must be at least 1 and workers at least 0")
    count = workers or default_workers()
    iterator = iter(items)
    first = list(itertools.islice(iterator, chunk_size))
    if count == 1 or len(first) < chunk_size or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(function, first)
        yield from map(function, iterator)
        return
    # The first chunk runs here, before the fork: the workers inherit what it warmed up (the
    # validator's scim2-models classes, the guard's parse of the upsert) instead of each
    # building it again on every call.
    head = [function(item) for item in first]
    token = next(_TOKENS)
    _FUNCTIONS[token] = function
    limit = window or 2 * count
    in_flight: deque[Future[list[R]]] = deque()
    pool = ProcessPoolExecutor(
        count, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent, initargs=(os.getpid(),)
    )
    try:
        chunks = iter(lambda: list(itertools.islice(iterator, chunk_size)), [])
        for chunk in itertools.islice(chunks, limit):
            in_flight.append(pool.submit(_run_chunk, token, chunk))
        yield from head
        for chunk in chunks:
            yield from in_flight.popleft().result()
            in_flight.append(pool.submit(_run_chunk, token, chunk))
        while in_flight:
            yield from in_flight.popleft().result()
    finally:  # also when the consumer stops early: drop what is queued, wait for what runs
        pool.shutdown(wait=True, cancel_futures=True)
        _FUNCTIONS.pop(token, None)
