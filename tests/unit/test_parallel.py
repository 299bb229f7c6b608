"""The worker pool: results in input order, lazily, with a bounded look-ahead, and the same results inline."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from scim_processor.stages.parallel import ordered_map


def test_results_come_back_in_input_order_from_several_processes() -> None:
    parent = os.getpid()
    results = list(ordered_map(lambda n: (n * n, os.getpid()), range(200), workers=2, chunk_size=7))
    assert [square for square, _ in results] == [n * n for n in range(200)]
    assert {pid for _, pid in results} - {parent}, "the work ran in forked worker processes"


def test_an_endless_stream_is_consumed_only_a_bounded_window_ahead() -> None:
    consumed = 0

    def endless() -> Iterator[int]:
        nonlocal consumed
        for n in itertools.count():
            consumed = n + 1
            yield n

    taken = []
    for value in ordered_map(lambda n: n + 1, endless(), workers=2, chunk_size=5, window=3):
        taken.append(value)
        # never more than the chunks in flight (plus the one being cut) ahead of what was yielded
        assert consumed - len(taken) <= 5 * 4
        if len(taken) == 60:
            break
    assert taken == list(range(1, 61))


def test_a_short_stream_runs_inline_with_the_same_results() -> None:
    assert list(ordered_map(lambda n: -n, [1, 2, 3], workers=2, chunk_size=10)) == [-1, -2, -3]
    assert list(ordered_map(lambda n: -n, range(30), workers=1, chunk_size=4)) == [-n for n in range(30)]


def test_an_exception_in_a_worker_reaches_the_caller() -> None:
    def fail_on_13(n: int) -> int:
        if n == 13:
            raise ValueError("13")
        return n

    with pytest.raises(ValueError, match="13"):
        list(ordered_map(fail_on_13, range(40), workers=2, chunk_size=4))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        list(ordered_map(abs, [1], chunk_size=0))


_PARENT = """
import itertools, os, time
from scim_processor.stages.parallel import ordered_map

def worker_pid(_):
    time.sleep(0.02)
    return os.getpid()

workers = set()
for pid in ordered_map(worker_pid, itertools.count(), workers=2, chunk_size=4):
    if pid != os.getpid():
        workers.add(pid)
    if len(workers) == 2:
        print(*workers, flush=True)
        time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_workers_die_with_a_killed_parent(tmp_path) -> None:
    # A forked worker shares its parent's open files (the embedded server's lease lock): one left
    # behind by `kill -9` of the CLI kept the server "in use" and the next command waited for ever.
    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(parent.stdout.readline() if parent.stdout else ""), daemon=True)
    reader.start()
    reader.join(60)
    try:
        workers = [int(pid) for pid in (line[0] if line else "").split()]
        assert len(workers) == 2, "the parent never reported two workers"
    finally:
        parent.kill()
        parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _running(pid)]
