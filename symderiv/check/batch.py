"""Grading a whole class: many submissions, one derivation, answers compared once.

>>> rows = grade_class(["submissions/"], spec="derivations/homework1.toml")   # doctest: +SKIP
>>> [(row.source, row.report.points) for row in rows if row.report]          # doctest: +SKIP

Submissions are files and directories (every ``*.toml`` below a directory, in sorted
order). Each is read on its own: a malformed file becomes a :class:`Row` with its
error, and the others are graded. The spec is derived once per process that grades,
and a :class:`~symderiv.check.grade.Grader` compares each distinct answer (by id and
normalised text) once per process, so a class of similar answers costs little.

Where the grading runs:

* ``workers=1``: in this process;
* ``workers=N`` (default: one per core): in N worker processes
  (:mod:`symderiv.check.worker`), fed chunks of submissions by N threads of this
  process. A worker that overruns its chunk's time is killed, and the chunk's
  submissions are graded again one by one, so one pathological file costs one row;
* ``scheduler=ADDRESS``: on a Dask distributed cluster. Each task is a chunk; a Dask
  worker runs it in a killable child of its own (Dask runs tasks in threads, where no
  alarm can stop a SymPy call), so the results are those of the serial run.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from symderiv.check.equivalence import MAX_SECONDS, canonical
from symderiv.check.grade import Graded, Grader, Report, Submission, SubmissionError, load_submission
from symderiv.check.policy import Policy
from symderiv.check.worker import WorkerCrashed, WorkerTimeout, thread_worker
from symderiv.derive import derive_table
from symderiv.errors import SymderivError
from symderiv.model import Sheet
from symderiv.spec import read_toml

DERIVE_SECONDS = 300.0
"""Time a worker may take to derive the spec, on top of grading its first chunk."""
CHUNKS_PER_WORKER = 4
"""Chunks per worker: enough to balance the load, few enough to keep round trips rare."""


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


def read_submissions(paths: Sequence[Path]) -> list[Submission | Row]:
    """Each file read, or a :class:`Row` saying why it could not be."""
    out: list[Submission | Row] = []
    for path in paths:
        try:
            out.append(load_submission(path))
        except SubmissionError as exc:
            out.append(Row(str(path), error=str(exc)))
    return out


# --------------------------------------------------------------------------
# Grading chunks, here or in a worker
# --------------------------------------------------------------------------

_GRADERS: dict[str, Grader] = {}
_GRADERS_LOCK = threading.Lock()


def grader_for(spec: Spec, policy: Policy | None) -> Grader:
    """This process's grader for a spec (derived on first use, then reused)."""
    key = spec.key() + repr(policy)
    with _GRADERS_LOCK:
        if key not in _GRADERS:
            _GRADERS[key] = Grader(spec.derive(), policy, spec=spec.source)
        return _GRADERS[key]


def grade_chunk(spec: Spec, policy: Policy | None, submissions: Sequence[Submission]) -> list[Row]:
    """Grade submissions in this process; reports travel without their sheet."""
    grader = grader_for(spec, policy)
    return [_graded(grader, submission) for submission in submissions]


def _graded(grader: Grader, submission: Submission) -> Row:
    try:
        return Row(submission.source, replace(grader.grade(submission), sheet=None))
    except SymderivError as exc:
        return Row(submission.source, error=str(exc))


def grade_chunk_isolated(spec: Spec, policy: Policy | None, submissions: Sequence[Submission],
                         timeout: float) -> list[Row]:
    """:func:`grade_chunk` in this thread's killable worker process (a Dask task calls this)."""
    return thread_worker().call(grade_chunk, spec, policy, list(submissions), timeout=timeout)


def chunk_timeout(chunk: Sequence[Submission], first: bool) -> float:
    """A chunk's time: the comparison and diagnosis budget of every answer given, plus
    the derivation for a worker's first chunk. Each check stops itself on time; this
    is the backstop for one stuck in C code."""
    answers = sum(len(submission.answers) for submission in chunk)
    return 10.0 + answers * 2 * MAX_SECONDS + (DERIVE_SECONDS if first else 0.0)


# --------------------------------------------------------------------------
# A class
# --------------------------------------------------------------------------

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called as submissions are graded."""


def grade_class(paths: Iterable[str | Path], spec: str | Path, *, policy: Policy | None = None,
                workers: int | None = None, scheduler: str | None = None,
                progress: Progress | None = None) -> tuple[Sheet, list[Row]]:
    """Grade every submission found under ``paths``: the derived sheet and one row per file,
    in the order found. ``workers`` defaults to the number of cores; see the module
    docstring for ``scheduler``."""
    found = read_submissions(find_submissions(paths))
    spec_data = Spec.read(spec)
    submissions = [s for s in found if isinstance(s, Submission)]
    workers = default_workers(len(submissions)) if workers is None else max(1, workers)
    tick = _Ticker(progress, len(found), done=len(found) - len(submissions))
    if scheduler is not None:
        graded, sheet = _on_dask(scheduler, spec_data, policy, submissions, tick)
    elif workers > 1 and len(submissions) > 1:
        graded, sheet = _in_workers(spec_data, policy, submissions, workers, tick)
    else:
        sheet = spec_data.derive()
        graded = _here(Grader(sheet, policy, spec=spec_data.source), submissions, tick)
    by_source = {row.source: replace(row, report=with_sheet(row.report, sheet) if row.report else None)
                 for row in graded}
    return sheet, [by_source.get(s.source, s) if isinstance(s, Submission) else s for s in found]  # type: ignore


def with_sheet(report: Report, sheet: Sheet) -> Report:
    """A report from another process, joined to this process's sheet (its expected values
    too: an unevaluated ``2 (y_hat - y)`` does not survive pickling as written)."""
    keys = {a.id: canonical(a.value) for a in sheet.answers()}
    answers = tuple(Graded(**{**g.__dict__, "expected": keys[g.id]}) if g.id in keys and g.expected is not None
                    else g for g in report.answers)
    return replace(report, answers=answers, sheet=sheet)


def default_workers(submissions: int) -> int:
    """One worker per core available to this process, no more than there are submissions."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, submissions))


def _here(grader: Grader, submissions: Sequence[Submission], tick: _Ticker) -> list[Row]:
    rows = []
    for submission in submissions:
        rows.append(_graded(grader, submission))
        tick(1)
    return rows


def _chunks(submissions: Sequence[Submission], parts: int) -> list[list[Submission]]:
    size = max(1, -(-len(submissions) // parts))
    return [list(submissions[i:i + size]) for i in range(0, len(submissions), size)]


def _in_workers(spec: Spec, policy: Policy | None, submissions: Sequence[Submission], workers: int,
                tick: _Ticker) -> tuple[list[Row], Sheet]:
    chunks = _chunks(submissions, workers * CHUNKS_PER_WORKER)
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(_chunk_in_worker, spec, policy, chunk, tick) for chunk in chunks]
        sheet = spec.derive()  # meanwhile, here: the reports are shown with it
        rows = [row for future in futures for row in future.result()]
    return rows, sheet


def _chunk_in_worker(spec: Spec, policy: Policy | None, chunk: list[Submission], tick: _Ticker) -> list[Row]:
    """A chunk in this thread's worker; if the worker dies or overruns, one submission at a time."""
    first = not getattr(_THREAD, "warm", False)
    _THREAD.warm = True
    try:
        rows = grade_chunk_isolated(spec, policy, chunk, chunk_timeout(chunk, first))
    except (WorkerTimeout, WorkerCrashed):
        rows = [_one_in_worker(spec, policy, submission) for submission in chunk]
    tick(len(chunk))
    return rows


def _one_in_worker(spec: Spec, policy: Policy | None, submission: Submission) -> Row:
    try:
        return grade_chunk_isolated(spec, policy, [submission], chunk_timeout([submission], True))[0]
    except (WorkerTimeout, WorkerCrashed) as exc:
        return Row(submission.source, error=f"grading did not finish: {exc}")


_THREAD = threading.local()


def _on_dask(address: str, spec: Spec, policy: Policy | None, submissions: Sequence[Submission],
             tick: _Ticker) -> tuple[list[Row], Sheet]:
    try:
        from distributed import Client
    except ImportError:
        raise SymderivError("--scheduler: Dask distributed is not installed (pip install 'dask[distributed]')") \
            from None
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SymderivError(f"--scheduler: cannot reach the Dask scheduler at {address!r} ({exc})") from None
    try:
        chunks = _chunks(submissions, max(1, len(client.nthreads())) * CHUNKS_PER_WORKER)
        futures = client.map(grade_chunk_isolated, [spec] * len(chunks), [policy] * len(chunks), chunks,
                             [chunk_timeout(chunk, True) for chunk in chunks], pure=False)
        sheet = spec.derive()
        rows = []
        for future, chunk in zip(futures, chunks):
            rows += future.result()
            tick(len(chunk))
        return rows, sheet
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
