"""Time budgets that hold in any thread: an alarm where one is ours to use, a worker process elsewhere.

Every check (:func:`~symderiv.check.equivalent`, :func:`~symderiv.check.diagnose.diagnose`,
grading one answer) runs through :func:`within`, which enforces its budget in one of two ways:

* **in this process, with an alarm** (``SIGALRM``), when the caller is the main thread of
  a Unix process and no one else's alarm is set: no overhead at all. Budgets nest: an
  inner check arms the alarm for its own, earlier deadline and re-arms the outer one
  when it ends, so ``diagnose`` can give each of its comparisons part of its budget;
* **in a worker process** (:mod:`symderiv.check.worker`) otherwise: from another thread
  (a web server, a Dask worker, a thread pool), under a test harness's own alarm, or
  where there are no signals. The worker is killed when it is late, so even a SymPy
  call stuck in C code ends on time; the cost is a round trip per check (about a
  millisecond for a small answer, see ``benchmarks/bench_grade.py``) and a start-up of
  about 0.7 s once per thread.

The alarm interrupts Python code only between bytecodes; the cooperative checks
(:func:`check`) between steps keep a long loop of short steps on time as well.
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

from symderiv.check.worker import WorkerCrashed, WorkerTimeout, thread_worker

T = TypeVar("T")

GRACE = 0.5
"""Seconds a worker process gets beyond the budget before it is killed (it usually
ends the call itself, with its own alarm, at the budget)."""


class OutOfTime(BaseException):
    """A budget ran out. ``deadline`` says which one (an outer budget may end first).

    A BaseException, so that no ``except Exception`` inside SymPy or a parser swallows it.
    """

    def __init__(self, deadline: float) -> None:
        super().__init__(deadline)
        self.deadline = deadline


def check(deadline: float) -> None:
    """The cooperative check between steps: raise :class:`OutOfTime` past ``deadline``."""
    if time.monotonic() > deadline:
        raise OutOfTime(deadline)


def within(seconds: float, fn: Callable[..., T], *args: Any, on_timeout: Callable[[], T], **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, or ``on_timeout()`` once ``seconds`` have passed.

    In a worker process, ``fn``, its arguments and ``on_timeout`` travel by pickle: use
    module-level functions (and :func:`functools.partial` of them). An outer budget
    that ends first is not caught here: its :class:`OutOfTime` goes on to the caller
    that set it.
    """
    seconds = max(seconds, 0.0)
    deadline = time.monotonic() + seconds
    try:
        if _alarm_usable():
            with _alarm(deadline):
                return fn(*args, **kwargs)
        try:  # the worker runs this same function in its main thread, with its own alarm
            return thread_worker().call(within, seconds, fn, *args, on_timeout=on_timeout,
                                        timeout=seconds + GRACE, **kwargs)
        except (WorkerTimeout, WorkerCrashed):
            raise OutOfTime(deadline) from None
    except OutOfTime as exc:
        if exc.deadline < deadline:
            raise
        return on_timeout()


# --------------------------------------------------------------------------
# The alarm, nested
# --------------------------------------------------------------------------

_DEADLINES: list[float] = []
"""Deadlines of the budgets active in the main thread, outermost first."""


def _alarm_usable() -> bool:
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    if _DEADLINES:
        return True  # the alarm is ours already
    return (signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise OutOfTime(_DEADLINES[-1] if _DEADLINES else time.monotonic())


def _arm(deadline: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-4))


@contextmanager
def _alarm(deadline: float) -> Iterator[None]:
    """Raise :class:`OutOfTime` in the main thread at ``deadline`` (or at an earlier outer one)."""
    if _DEADLINES and _DEADLINES[-1] <= deadline:
        yield  # the outer alarm rings first
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm) if not _DEADLINES else None
    _DEADLINES.append(deadline)
    _arm(deadline)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _DEADLINES.pop()
        if _DEADLINES:
            _arm(_DEADLINES[-1])
        else:
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
