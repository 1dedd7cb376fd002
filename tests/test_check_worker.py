"""symderiv.check.worker: a child process that answers calls and is killed when late."""
from __future__ import annotations

import math
import os
import time

import pytest

from symderiv.check.worker import Worker, WorkerCrashed, WorkerTimeout

_STATE = {"value": "as imported"}


def probe() -> str:
    """What this module's state is in the process that runs the call."""
    return _STATE["value"]


def test_calls_return_values_and_raise_errors() -> None:
    with Worker() as worker:
        assert worker.call(math.factorial, 6, timeout=60) == 720
        with pytest.raises(ValueError):
            worker.call(int, "not a number", timeout=60)
        assert worker.call(math.factorial, 3, timeout=60) == 6   # the same child goes on


FORK = hasattr(os, "fork")  # forked children start at once: the tests of killing use them


def test_a_late_call_kills_the_child_and_the_next_call_gets_a_new_one() -> None:
    with Worker(fork=FORK) as worker:
        worker.start()
        first = worker.pid
        started = time.monotonic()
        with pytest.raises(WorkerTimeout):
            worker.call(time.sleep, 30, timeout=0.5)
        assert time.monotonic() - started < 15   # a hang detector: the call would sleep 30 s
        assert worker.pid is None and not _alive(first)
        assert worker.call(math.factorial, 4, timeout=60) == 24


def test_a_child_that_dies_is_reported_and_replaced() -> None:
    with Worker(fork=FORK) as worker:
        with pytest.raises(WorkerCrashed):
            worker.call(os._exit, 3, timeout=60)
        assert worker.call(math.factorial, 4, timeout=60) == 24


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_inherits_what_this_process_computed() -> None:
    _STATE["value"] = "computed here"
    try:
        with Worker(fork=True) as worker:
            worker.start()                      # forked now: a copy of this process
            assert worker.call(probe, timeout=60) == "computed here"
    finally:
        _STATE["value"] = "as imported"


def test_a_memory_bomb_is_an_error_not_a_swap() -> None:
    with Worker(memory_limit=2 * 1024**3, fork=FORK) as worker:
        with pytest.raises((MemoryError, WorkerCrashed)):
            worker.call(bytearray, 8 * 1024**3, timeout=60)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
