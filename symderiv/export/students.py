"""Grading each submission against its student's variant (``symderiv grade --variants DIR``).

``DIR`` is what ``symderiv variants ... --roster`` wrote; the ``[student] id`` of a
submission picks its spec (:func:`symderiv.variants.spec_for_student`). A submission
without an id, or with an id the run has no variant for, gets a one-line error in its
row; the others are graded. Each variant's spec is derived once, and its
:class:`~symderiv.check.grade.Grader` kept for the submissions that share it.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from symderiv.check.batch import Row, find_submissions
from symderiv.check.grade import Grader, Submission, SubmissionError, load_submission
from symderiv.check.policy import Policy
from symderiv.derive import derive_file
from symderiv.errors import SymderivError
from symderiv.model import Sheet
from symderiv.variants import spec_for_student


def variant_spec(submission: Submission, variants: str | Path) -> Path:
    """The spec of the submission's student in ``variants``; a :class:`SymderivError` if the
    submission names no student id or the run has no variant for it."""
    student = dict(submission.student).get("id", "").strip()
    if not student:
        raise SubmissionError(submission.source, "student.id", f"missing: grading against the variants in "
                                                               f"{variants} needs the student's id")
    return spec_for_student(variants, student)


def grade_by_student(paths: Iterable[str | Path], variants: str | Path,
                     policy: Policy | None = None) -> tuple[Sheet | None, list[Row]]:
    """Every submission under ``paths`` graded against its student's variant: the sheet of
    the first variant graded (the variants share their answer ids), and one row per file."""
    graders: dict[Path, Grader] = {}
    rows = [_row(path, variants, policy, graders) for path in find_submissions(paths)]
    first = next((row.report.sheet for row in rows if row.report is not None), None)
    return first, rows


def _row(path: Path, variants: str | Path, policy: Policy | None, graders: dict[Path, Grader]) -> Row:
    try:
        submission = load_submission(path)
        spec = variant_spec(submission, variants)
        if spec not in graders:
            graders[spec] = Grader(derive_file(spec), policy, spec=str(spec))
        return Row(str(path), graders[spec].grade(submission))
    except SymderivError as exc:
        return Row(str(path), error=str(exc))
