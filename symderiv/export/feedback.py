"""What a platform shows for each graded answer: points, most points, the diagnosis.

Built on :func:`symderiv.check.gradebook.gradescope_results`, so PrairieLearn's feedback,
Gradescope's test output and ``symderiv grade --gradescope`` say the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from symderiv.check.batch import Row
from symderiv.check.grade import Report
from symderiv.check.gradebook import gradescope_results


@dataclass(frozen=True)
class AnswerResult:
    """One graded answer: its points, its most points and the text that explains them."""

    id: str
    points: Fraction
    max_points: Fraction
    passed: bool
    output: str


def answer_results(report: Report) -> dict[str, AnswerResult]:
    """Every answer of a graded report by id (in sheet order)."""
    tests = {t["name"]: t for t in gradescope_results(Row(report.submission, report))["tests"]}
    return {g.id: AnswerResult(g.id, Fraction(g.points), Fraction(g.max_points), tests[g.id]["status"] == "passed",
                               tests[g.id]["output"]) for g in report.answers}
