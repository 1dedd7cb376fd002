"""Killable worker processes: run a function in a child process that can be killed on time.

A time budget inside one process can only be cooperative (checks between steps) or an
alarm signal, and Python delivers signals to the main thread only, between bytecodes:
a SymPy call that runs in C, or any call from another thread, cannot be interrupted.
PrairieLearn's answer is the one used here: do the risky work in a child process, and
kill the child when it is late. The child is a fresh interpreter started with
:mod:`subprocess` (not :mod:`multiprocessing`, whose children cannot be started from a
daemonic process such as a Dask worker), imports symderiv once, and then serves calls
one after another, so the start-up (about 0.7 s) is paid once per worker, not per call.

Calls and results travel as pickles over the child's stdin and stdout: both ends are
ours (nothing a student typed is ever unpickled by a process that did not make it), and
the function is pickled by reference (module and name), so it must be importable in the
child, which runs with the parent's ``sys.path``. The child's address space is limited
(by :data:`MEMORY_LIMIT` beyond its size when it starts serving), so a memory bomb ends
as a MemoryError, not as swapping.

>>> import math
>>> with Worker() as worker:
...     worker.call(math.factorial, 5, timeout=30)
120
"""
from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import IO, Any

MEMORY_LIMIT = 3 * 1024**3
"""Address space a worker may add to what it has when it starts serving, in bytes (3 GiB):
beyond it allocations fail with MemoryError."""
START_SECONDS = 120.0
"""How long a new worker may take to import symderiv before it is given up."""

_HEADER = struct.Struct("!Q")


class WorkerTimeout(Exception):
    """The call did not return in time; the worker was killed (the next call starts a new one)."""


class WorkerCrashed(Exception):
    """The worker died during the call (killed from outside, or out of memory in C code)."""


class Worker:
    """One child process serving calls in turn; safe to share between threads (calls queue).

    ``call(fn, *args, timeout=s)`` returns ``fn(*args)`` computed in the child, re-raises
    the child's exception, or kills the child and raises :class:`WorkerTimeout` after
    ``timeout`` seconds. A killed or crashed child is replaced on the next call.

    With ``fork=True`` (where the platform has ``fork``) the child is a copy of this
    process, made by :meth:`start`: it starts at once and inherits everything already
    computed (a derived sheet, SymPy's caches). Fork only while this process runs one
    thread: start such workers before starting threads.
    """

    def __init__(self, memory_limit: int | None = MEMORY_LIMIT, *, fork: bool = False) -> None:
        self.memory_limit, self.fork = memory_limit, fork and hasattr(os, "fork")
        self._process: subprocess.Popen[bytes] | _Forked | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> Any:
        with self._lock:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            try:
                _write(process.stdin, (fn, args, kwargs))
                status, value = _read(process.stdout, time.monotonic() + timeout)
            except TimeoutError:
                self._kill()
                raise WorkerTimeout(f"no answer within {timeout:g} s; the worker was stopped") from None
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                self._kill()
                raise WorkerCrashed(f"the worker stopped during the call ({type(exc).__name__})") from None
        if status == "error":
            raise value
        return value

    def start(self) -> None:
        """Start the child now (it is otherwise started by the first call)."""
        with self._lock:
            self._started()

    def close(self) -> None:
        with self._lock:
            self._kill()

    def __del__(self) -> None:  # a thread's worker goes when the thread goes
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.kill()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _started(self) -> subprocess.Popen[bytes] | _Forked:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._process = _forked(self.memory_limit) if self.fork else _spawn(self.memory_limit)
        assert self._process.stdout is not None
        try:
            _read(self._process.stdout, time.monotonic() + START_SECONDS)
        except (TimeoutError, EOFError, OSError, pickle.UnpicklingError) as exc:
            self._kill()
            raise WorkerCrashed(f"the worker did not start ({type(exc).__name__})") from None
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


class _Forked:
    """A forked child, with the part of :class:`subprocess.Popen`'s interface a worker uses."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, 9)

    def wait(self) -> int | None:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


def _forked(memory_limit: int | None) -> _Forked:
    """A copy of this process serving calls over two pipes."""
    calls_in, calls_out = os.pipe()
    results_in, results_out = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: serve, and never return into the parent's code
        try:
            _close_all_but(calls_in, results_out)
            _serve(os.fdopen(calls_in, "rb"), os.fdopen(results_out, "wb"), memory_limit)
        finally:
            os._exit(0)
    os.close(calls_in)
    os.close(results_out)
    return _Forked(pid, os.fdopen(calls_out, "wb"), os.fdopen(results_in, "rb"))


def _close_all_but(*keep: int) -> None:
    """Close every inherited descriptor but stdin/stdout/stderr and ``keep`` (another
    worker's pipe held open here would keep that worker from ever seeing its end)."""
    limit = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536
    start = 3
    for fd in sorted(keep):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, limit)


def _spawn(memory_limit: int | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    code = f"from symderiv.check.worker import serve; serve({memory_limit!r})"
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, close_fds=True)


# --------------------------------------------------------------------------
# Messages: a length, then a pickle
# --------------------------------------------------------------------------


def _write(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes], deadline: float) -> Any:
    """One message, or TimeoutError when it has not fully arrived by ``deadline``."""
    size = _HEADER.unpack(_read_exactly(stream, _HEADER.size, deadline))[0]
    return pickle.loads(_read_exactly(stream, size, deadline))


def _read_exactly(stream: IO[bytes], size: int, deadline: float) -> bytes:
    fd, chunks, missing = stream.fileno(), [], size
    while missing:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------
# The child
# --------------------------------------------------------------------------


def serve(memory_limit: int | None = MEMORY_LIMIT) -> None:
    """The spawned child's loop: answer calls from stdin on the original stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints of imported code must not corrupt the message stream
    # Import SymPy once, before the first call is timed (the checker's modules follow on
    # demand: importing them here would make this module import its own importers).
    import sympy  # noqa: F401

    _serve(sys.stdin.buffer, out, memory_limit)


def _serve(calls: IO[bytes], out: IO[bytes], memory_limit: int | None) -> None:
    """Announce readiness, then answer calls until the caller closes its end."""
    _silence_stdout()
    _limit_memory(memory_limit)
    _write(out, ("ready", None))
    while True:
        header = calls.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        fn, args, kwargs = pickle.loads(calls.read(_HEADER.unpack(header)[0]))
        _write(out, _run(fn, args, kwargs))


def _silence_stdout() -> None:
    """Whatever a child prints goes nowhere: the parent's stdout carries its report."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _run(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, Any]:
    try:
        return "ok", fn(*args, **kwargs)
    except BaseException as exc:
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {str(exc)[:500]}")
        return "error", exc


def _limit_memory(headroom: int | None) -> None:
    """Cap the address space at its present size plus ``headroom`` (where the platform can)."""
    if headroom is None:
        return
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + headroom, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (ImportError, OSError, ValueError):  # not on this platform, or a lower hard limit
        pass


# --------------------------------------------------------------------------
# One worker per thread, for callers that cannot use an alarm
# --------------------------------------------------------------------------

_LOCAL = threading.local()
_ALL: weakref.WeakSet[Worker] = weakref.WeakSet()
_ALL_LOCK = threading.Lock()


def thread_worker() -> Worker:
    """The calling thread's own worker (started on first use, stopped at exit)."""
    worker = getattr(_LOCAL, "worker", None)
    if worker is None:
        worker = _LOCAL.worker = Worker()
        with _ALL_LOCK:
            _ALL.add(worker)
    return worker


@atexit.register
def _close_all() -> None:
    with _ALL_LOCK:
        for worker in list(_ALL):
            worker.close()
