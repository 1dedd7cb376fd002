"""Grading a whole class: many submissions, one derivation, answers compared once.

>>> sheet, rows = grade_class(["submissions/"], "derivations/homework1.toml")   # doctest: +SKIP
>>> [(row.source, row.report.points) for row in rows if row.report]            # doctest: +SKIP

Submissions are files and directories (every ``*.toml`` below a directory, in sorted
order). Each is read on its own: a malformed file becomes a :class:`Row` with its
error, and the others are graded. A :class:`~symderiv.check.grade.Grader` compares
each distinct answer (by id and normalised text) once per process, so a class of
similar answers costs little.

Where the grading runs:

* ``workers=1``: in this process;
* ``workers=N`` (default: one per idle core, for large classes): in N worker processes
  (:mod:`symderiv.check.worker`), each a copy of this process made after the spec is
  derived here (where the platform can fork; elsewhere a fresh interpreter that
  derives it again), reading and grading chunks of files fed by N threads of this
  process, after the first :data:`WARM_UP` files are graded here (so the answers most
  students give are compared once). A worker that overruns its chunk's time is killed,
  and the chunk's files are graded again one by one in a fresh worker, so one
  pathological file costs one row;
* ``scheduler=ADDRESS``: on a Dask distributed cluster. Each task is a chunk of
  submissions (read here); a Dask worker runs it in a killable child of its own (Dask
  runs tasks in threads, where no alarm can stop a SymPy call), so the results are
  those of the serial run.
"""
from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from symderiv.check.equivalence import MAX_SECONDS, canonical
from symderiv.check.grade import Graded, Grader, Report, Submission, SubmissionError, load_submission
from symderiv.check.policy import Policy
from symderiv.check.worker import Worker, WorkerCrashed, WorkerTimeout, thread_worker
from symderiv.cores import usable_cores
from symderiv.derive import derive_table
from symderiv.errors import SymderivError
from symderiv.model import Sheet
from symderiv.spec import read_toml

DERIVE_SECONDS = 300.0
"""Time a fresh worker may take to derive the spec, on top of grading its first chunk."""
CHUNKS_PER_WORKER = 4
"""Chunks per worker: enough to balance the load, few enough to keep round trips rare."""
PER_FILE_SECONDS = 10.0
"""Time to read one submission file, on top of its answers' budgets."""
WARM_UP = 40
"""Submissions graded here before workers are forked: the answers most students give are
then compared once, here, instead of once in every worker."""
PER_WORKER = 200
"""Fewest submissions that make another worker worth its cache of answers."""
CONNECT_SECONDS = 20
"""How long to wait for a Dask scheduler to answer."""


@dataclass(frozen=True)
class Row:
    """One submission's outcome: its report, or why it has none."""

    source: str
    report: Report | None = None
    error: str | None = None


@dataclass(frozen=True)
class Spec:
    """A spec as data, so that a process elsewhere can derive it: the TOML table, its
    source and its name (what :func:`symderiv.derive.load_spec` reads from a path)."""

    table: dict
    source: str
    name: str

    @classmethod
    def read(cls, path: str | Path) -> Spec:
        path = Path(path)
        return cls(read_toml(path), str(path), path.stem)

    def key(self) -> str:
        return repr((self.source, self.name, sorted(self.table.items(), key=lambda item: item[0])))

    def derive(self) -> Sheet:
        return derive_table(self.table, self.source, self.name)


Item = Path | Submission
"""What a worker is given to grade: a file to read, or a submission already read."""


# --------------------------------------------------------------------------
# Finding and reading submissions
# --------------------------------------------------------------------------


def find_submissions(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and every ``*.toml`` below the directories named (sorted)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.toml") if p.is_file())
        else:
            found.append(path)
    return found


def _read(item: Item) -> Submission | Row:
    if isinstance(item, Submission):
        return item
    try:
        return load_submission(item)
    except SubmissionError as exc:
        return Row(str(item), error=str(exc))


# --------------------------------------------------------------------------
# Grading chunks, here or in a worker
# --------------------------------------------------------------------------

_GRADERS: dict[str, Grader] = {}
_GRADERS_LOCK = threading.Lock()


def grader_for(spec: Spec, policy: Policy | None, sheet: Sheet | None = None) -> Grader:
    """This process's grader for a spec: derived on first use (or made from ``sheet``), then
    reused; a worker forked from this process finds it here too."""
    key = spec.key() + repr(policy)
    with _GRADERS_LOCK:
        if key not in _GRADERS:
            _GRADERS[key] = Grader(sheet if sheet is not None else spec.derive(), policy, spec=spec.source)
        return _GRADERS[key]


def grade_chunk(spec: Spec, policy: Policy | None, items: Sequence[Item]) -> list[Row]:
    """Read and grade submissions in this process; reports travel without their sheet."""
    grader = grader_for(spec, policy)
    return [_graded(grader, item) for item in items]


def _graded(grader: Grader, item: Item, travel: bool = True) -> Row:
    """One submission read and graded; a report that ``travel``s to another process goes
    without its sheet (the receiver joins its own, :func:`with_sheet`)."""
    submission = _read(item)
    if isinstance(submission, Row):
        return submission
    try:
        report = grader.grade(submission)
    except SymderivError as exc:
        return Row(submission.source, error=str(exc))
    return Row(submission.source, replace(report, sheet=None) if travel else report)


def grade_chunk_isolated(spec: Spec, policy: Policy | None, items: Sequence[Item], timeout: float) -> list[Row]:
    """:func:`grade_chunk` in this thread's killable worker process (a Dask task calls this)."""
    return thread_worker().call(grade_chunk, spec, policy, list(items), timeout=timeout)


def chunk_timeout(items: Sequence[Item], first: bool) -> float:
    """A chunk's time: the comparison and diagnosis budget of every answer given, plus
    the derivation for a fresh worker's first chunk. Each check stops itself on time;
    this is the backstop for one stuck in C code."""
    answers = sum(len(i.answers) if isinstance(i, Submission) else _answers_in(i) for i in items)
    return len(items) * PER_FILE_SECONDS + answers * 2 * MAX_SECONDS + (DERIVE_SECONDS if first else 0.0)


def _answers_in(path: Path) -> int:
    """An upper bound of the answers in a file before it is read: one per line."""
    try:
        with open(path, "rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


# --------------------------------------------------------------------------
# A class
# --------------------------------------------------------------------------

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called as submissions are graded."""


def grade_class(paths: Iterable[str | Path], spec: str | Path, *, policy: Policy | None = None,
                workers: int | None = None, scheduler: str | None = None,
                progress: Progress | None = None) -> tuple[Sheet, list[Row]]:
    """Grade every submission found under ``paths``: the derived sheet and one row per
    file, in the order found. ``workers`` defaults to :func:`default_workers`; see the
    module docstring for ``scheduler``."""
    files = find_submissions(paths)
    spec_data = Spec.read(spec)
    workers = default_workers(len(files)) if workers is None else max(1, workers)
    tick = _Ticker(progress, len(files))
    if scheduler is not None:
        rows, sheet = _on_dask(scheduler, spec_data, policy, files, tick)
    else:
        sheet = spec_data.derive()
        grader = grader_for(spec_data, policy, sheet)
        parallel = workers > 1 and len(files) > WARM_UP
        rows = _here(grader, files[:WARM_UP] if parallel else files, tick)
        if parallel:  # the workers are forked with what the first submissions taught the grader
            rows += _in_workers(spec_data, policy, files[WARM_UP:], workers, tick)
    return sheet, [replace(row, report=with_sheet(row.report, sheet)) if row.report else row for row in rows]


def with_sheet(report: Report, sheet: Sheet) -> Report:
    """A report from another process, joined to this process's sheet (its expected values
    too: an unevaluated ``2 (y_hat - y)`` does not survive pickling as written)."""
    if report.sheet is sheet:
        return report
    keys = {a.id: canonical(a.value) for a in sheet.answers()}
    answers = tuple(Graded(**{**g.__dict__, "expected": keys[g.id]}) if g.id in keys and g.expected is not None
                    else g for g in report.answers)
    return replace(report, answers=answers, sheet=sheet)


def default_workers(submissions: int) -> int:
    """One worker per idle core (the cores this process may use, less the load average, as
    ``make -l`` counts them), one per :data:`PER_WORKER` submissions at most."""
    cores = usable_cores()
    try:
        idle = cores - round(os.getloadavg()[0])
    except (AttributeError, OSError):  # no load average here
        idle = cores
    return max(1, min(idle, submissions // PER_WORKER))


def _here(grader: Grader, files: Sequence[Path], tick: _Ticker) -> list[Row]:
    rows = []
    for path in files:
        rows.append(_graded(grader, path, travel=False))
        tick(1)
    return rows


def _chunks(items: Sequence[Item], parts: int) -> list[list[Item]]:
    size = max(1, -(-len(items) // parts))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _in_workers(spec: Spec, policy: Policy | None, files: Sequence[Path], workers: int,
                tick: _Ticker) -> list[Row]:
    """Chunks of files, fed to forked workers by one thread each (the workers are forked
    first, while this process still runs one thread)."""
    pool = [Worker(fork=True) for _ in range(workers)]
    for worker in pool:
        worker.start()
    chunks = _chunks(files, workers * CHUNKS_PER_WORKER)
    todo: queue.Queue[int] = queue.Queue()
    for index in range(len(chunks)):
        todo.put(index)
    results: dict[int, list[Row]] = {}
    threads = [threading.Thread(target=_feed, args=(w, spec, policy, chunks, todo, results, tick)) for w in pool]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for worker in pool:
            worker.close()
    return [row for index in range(len(chunks)) for row in results[index]]


def _feed(worker: Worker, spec: Spec, policy: Policy | None, chunks: list[list[Item]], todo: queue.Queue[int],
          results: dict[int, list[Row]], tick: _Ticker) -> None:
    """One thread's loop: take a chunk, have its worker grade it, until none is left."""
    while True:
        try:
            index = todo.get_nowait()
        except queue.Empty:
            return
        chunk = chunks[index]
        try:
            timeout = chunk_timeout(chunk, not worker.fork)
            results[index] = worker.call(grade_chunk, spec, policy, chunk, timeout=timeout)
        except (WorkerTimeout, WorkerCrashed):
            results[index] = [_alone(spec, policy, item) for item in chunk]
        tick(len(chunk))


def _alone(spec: Spec, policy: Policy | None, item: Item) -> Row:
    """One submission in a fresh worker (after its chunk overran or crashed)."""
    try:
        return grade_chunk_isolated(spec, policy, [item], chunk_timeout([item], True))[0]
    except (WorkerTimeout, WorkerCrashed) as exc:
        source = item.source if isinstance(item, Submission) else str(item)
        return Row(source, error=f"grading did not finish: {exc}")


def _on_dask(address: str, spec: Spec, policy: Policy | None, files: Sequence[Path],
             tick: _Ticker) -> tuple[list[Row], Sheet]:
    try:
        from distributed import Client
    except ImportError:
        raise SymderivError("--scheduler: Dask distributed is not installed (pip install 'dask[distributed]')") \
            from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SymderivError(f"--scheduler: cannot reach the Dask scheduler at {address!r} ({exc})") from None
    try:
        items = [_read(path) for path in files]  # the cluster may not see these files
        unread = {i: item for i, item in enumerate(items) if isinstance(item, Row)}
        submissions = [item for item in items if isinstance(item, Submission)]
        chunks = _chunks(submissions, max(1, len(client.nthreads())) * CHUNKS_PER_WORKER)
        futures = client.map(grade_chunk_isolated, [spec] * len(chunks), [policy] * len(chunks), chunks,
                             [chunk_timeout(chunk, True) for chunk in chunks], pure=False)
        tick(len(unread))
        sheet = spec.derive()
        graded = []
        for future, chunk in zip(futures, chunks):
            graded += future.result()
            tick(len(chunk))
        rows = iter(graded)
        return [unread[i] if i in unread else next(rows) for i in range(len(items))], sheet
    finally:
        client.close()


@dataclass
class _Ticker:
    """Counts graded submissions and reports them (thread-safe)."""

    report: Progress | None
    total: int
    done: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self(0)

    def __call__(self, more: int) -> None:
        with self.lock:
            self.done += more
            if self.report is not None:
                self.report(self.done, self.total)
