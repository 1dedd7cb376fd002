"""symderiv.check.budget: every check honours its time budget, in any thread.

The slow answers here are ones SymPy spends seconds on (``exp(x^999)`` against
``exp(x^998)``: simplification, then sampling at huge values); the bounds are the
budget plus a generous allowance for a loaded machine, never a tight timing.
"""
from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy as sp

from symderiv.check import equivalent
from symderiv.check.budget import OutOfTime, check, within
from symderiv.check.diagnose import diagnose
from symderiv.check.worker import thread_worker

SLOW = ("exp(x^999)", "exp(x^998)")
SLACK = 10.0
"""Seconds allowed beyond a budget (process start-up aside) on a busy machine: a hang
detector, not a timing (unbounded, ``SLOW`` runs for minutes: over 120 s measured)."""


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - start


def test_in_the_main_thread_the_alarm_stops_a_slow_check() -> None:
    result, took = timed(equivalent, *SLOW, max_seconds=0.5)
    assert result.verdict == "too_large" and took < 0.5 + SLACK


def test_in_another_thread_a_worker_process_stops_it() -> None:
    def run():
        thread_worker().start()  # the worker's start-up is not part of any check's budget
        return timed(equivalent, *SLOW, max_seconds=0.5)

    with ThreadPoolExecutor(1) as pool:
        (result, took) = pool.submit(run).result()
        assert pool.submit(equivalent, "[2, 8, 9]", sp.Matrix([2, 8, 9])).result().verdict == "correct"
    assert result.verdict == "too_large" and took < 0.5 + SLACK


def test_under_someone_elses_alarm_the_budget_holds_and_their_alarm_survives() -> None:
    rang = []
    previous = signal.signal(signal.SIGALRM, lambda *args: rang.append(1))
    signal.setitimer(signal.ITIMER_REAL, 300)
    try:
        thread_worker().start()
        result, took = timed(equivalent, *SLOW, max_seconds=0.5)
        assert result.verdict == "too_large" and took < 0.5 + SLACK
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 200       # their timer still runs
        assert signal.getsignal(signal.SIGALRM) is not previous    # and their handler is theirs
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert rang == []


def test_diagnose_keeps_its_own_budget_from_the_first_comparison_on() -> None:
    found, took = timed(diagnose, *SLOW, max_seconds=1.0)
    assert found == () and took < 1.0 + SLACK


def test_an_array_of_slow_entries_is_read_within_the_budget() -> None:
    import symderiv
    from symderiv.check.grade import Grader

    sheet = symderiv.derive_table({"problem": [{"kind": "gradflow", "chain": {"upstream": 1, "local": [0.5]},
                                                 "residual": {"upstream": 1},
                                                 "depths": {"upstream": 1, "local": 0.5, "plain": [1],
                                                            "residual": [2], "block": 2}}]})
    # about 0.06 s to read, each: a symbol of its own (SymPy's cache makes no entry cheaper),
    # within the 2,000 characters of an answer (a longer one is refused at once, for its length)
    entries = ["+".join(f"x{k}^{i}" for i in range(200)) for k in range(100)]
    grader = Grader(sheet, max_seconds=1.0)
    result, took = timed(grader.compare, "1.2.dL_dx", entries)
    assert result.verdict == "too_large" and "within 1 s" in result.reason and took < 1.0 + SLACK


def test_budgets_nest_and_the_outer_one_is_not_caught_inside() -> None:
    def inner_then_work():
        inner = within(0.2, _spin, 5.0, on_timeout=lambda: "inner late")
        return inner, within(5.0, _spin, 5.0, on_timeout=lambda: "never")

    result, took = timed(within, 1.0, inner_then_work, on_timeout=lambda: ("outer late", None))
    assert result == ("outer late", None) and took < 1.0 + SLACK


def test_the_cooperative_check() -> None:
    check(time.monotonic() + 10)
    with pytest.raises(OutOfTime):
        check(time.monotonic() - 1)


def _spin(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def test_the_main_thread_is_where_alarms_are_used() -> None:
    assert threading.current_thread() is threading.main_thread()
