"""Grade a submission against a spec's answer key: verdicts, diagnoses, error carried forward, score.

A submission is a TOML file (see README, "Grading a submission")::

    [student]                       # optional; any string fields, shown in the report
    name = "Ada Example"
    id = "s0001"

    [answers]                       # answer id -> answer
    "1.1.a1" = "[2, 8, 9]"          # a string: plain math or LaTeX, read by the safe parser
    "1.1.loss" = 4                  # a TOML number (0.05 is the exact decimal 1/20)
    "1.3.dL_dW1" = [[32, 16], [24, 12], [-8, -4]]   # an array: a flat one is a column
    "1.2.dL_dW2" = "dL_da2 @ z1.T"  # a symbolic chain-rule answer (plain syntax only)

Quoting the ids is optional: an unquoted ``1.1.a1 = ...`` is a dotted TOML key, and
nested tables are flattened back into the dotted id.

Every answer of the spec gets one verdict: ``correct``, ``incorrect``, ``unparseable``,
``too_large``, ``not_finite``, ``wrong_shape`` or ``missing``; an id the spec does not
have is reported as ``unknown_id`` and ignored; an answer whose key value the checker
cannot read (none in homework 1) is ``not_gradable`` and not counted. Scoring (:class:`Policy`): each answer
of the spec is worth ``points`` (1); a correct answer earns them; an incorrect answer
that is exactly what the correct rules give from the student's own earlier wrong answer
(error carried forward) earns ``carried_forward`` of them (all, by default: the slip is
penalised once, where it was made); everything else earns 0.

Malformed files (TOML syntax, ``answers`` not a table, an answer of a type that is not
a string, number or array) raise :class:`SubmissionError`: one line naming the file
and the field, exit status 2 from the CLI.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp

from symderiv.check.diagnose import Carried, Diagnosis, carry_forward, diagnose
from symderiv.check.equivalence import (
    Result,
    as_reference,
    canonical,
    equivalent,
    variables,
)
from symderiv.check.parse import ParseError, parse_answer
from symderiv.check.shapes import shape_of
from symderiv.check.verdicts import (
    VERDICTS,  # noqa: F401 - grade.VERDICTS is the shared tuple, kept importable
    Verdict,
)
from symderiv.errors import AnswerError
from symderiv.model import Answer, Problem, Question, Sheet
from symderiv.spec import read_toml

MAX_ENTRIES = 10_000
"""Most numbers in one array answer."""
MAX_ARRAY_DEPTH = 2
"""Deepest nesting of an array answer (a matrix: a list of rows)."""


class SubmissionError(AnswerError):
    """A submission file is malformed: the message names the file and the field."""

    def __init__(self, source: str, field_name: str, problem: str) -> None:
        self.source, self.field, self.problem = source, field_name, problem
        super().__init__(f"{source}: {field_name}: {problem}")


@dataclass(frozen=True)
class Submission:
    """A student's answers by id (values as read from TOML: str, int, float or lists)."""

    source: str
    answers: tuple[tuple[str, Any], ...]
    student: tuple[tuple[str, str], ...] = ()

    def answer(self, answer_id: str) -> Any:
        return dict(self.answers).get(answer_id)


@dataclass(frozen=True)
class Policy:
    """Points per answer and the share earned by an error carried forward."""

    points: int = 1
    carried_forward: Fraction = Fraction(1)


@dataclass(frozen=True)
class Graded:
    """The grading of one answer id."""

    id: str
    verdict: Verdict
    points: Fraction
    max_points: int
    given: Any = None
    parsed: sp.Basic | None = None
    expected: sp.Basic | None = None
    reason: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()
    problem: int | None = None


@dataclass(frozen=True)
class Report:
    """A graded submission: one :class:`Graded` per answer of the spec, then unknown ids."""

    submission: str
    spec: str
    title: str
    student: tuple[tuple[str, str], ...]
    answers: tuple[Graded, ...]
    unknown: tuple[Graded, ...]
    sheet: Sheet | None = field(default=None, compare=False, repr=False)

    @property
    def points(self) -> Fraction:
        return sum((g.points for g in self.answers), Fraction(0))

    @property
    def max_points(self) -> int:
        return sum(g.max_points for g in self.answers)

    def notation(self, problem: int | None) -> dict[str, str]:
        """The LaTeX notation of a problem (for printing its answers)."""
        for p in self.sheet.problems if self.sheet else ():
            if p.number == problem:
                return dict(p.notation)
        return {}


# --------------------------------------------------------------------------
# Reading a submission
# --------------------------------------------------------------------------


def load_submission(path: str | Path) -> Submission:
    """Read and check a submission file; every problem is a :class:`SubmissionError`."""
    source = str(path)
    data = read_toml(path, SubmissionError)
    return parse_submission(data, source)


def parse_submission(data: Mapping[str, Any], source: str = "<submission>") -> Submission:
    """Check the tables of a loaded submission: ``[student]`` (optional) and ``[answers]``."""
    unknown = sorted(set(data) - {"student", "answers"})
    if unknown:
        raise SubmissionError(source, unknown[0], "unknown table; a submission has [student] and [answers]")
    if "answers" not in data:
        raise SubmissionError(source, "answers", "missing: put the answers in an [answers] table")
    if not isinstance(data["answers"], dict):
        raise SubmissionError(source, "answers", f"must be a table of id = answer, not {_type_name(data['answers'])}")
    try:
        answers = _flatten(data["answers"], "", source)
    except RecursionError:
        raise SubmissionError(source, "answers", "tables nested too deeply") from None
    return Submission(source, tuple(answers.items()), _student(data.get("student", {}), source))


def _student(table: Any, source: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise SubmissionError(source, "student", f"must be a table, not {_type_name(table)}")
    for key, value in table.items():
        if not isinstance(value, str):
            raise SubmissionError(source, f"student.{key}", f"must be a string, not {_type_name(value)}")
    return tuple(table.items())


def _flatten(table: dict, prefix: str, source: str) -> dict[str, Any]:
    """``{"1": {"1": {"a1": v}}}`` (an unquoted dotted key) -> ``{"1.1.a1": v}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        answer_id = f"{prefix}{key}"
        items = _flatten(value, answer_id + ".", source) if isinstance(value, dict) else {answer_id: value}
        for item_id, item in items.items():
            if item_id in out:
                raise SubmissionError(source, f'answers."{item_id}"', "given twice")
            _check_type(item, f'answers."{item_id}"', source)
            out[item_id] = item
    return out


def _check_type(value: Any, where: str, source: str, depth: int = 0) -> None:
    """Refuse values that are not strings, numbers or arrays (arrays deeper than a matrix
    are left to grading, which calls them unparseable)."""
    if isinstance(value, list):
        for item in value if depth < MAX_ARRAY_DEPTH else ():
            _check_type(item, where, source, depth + 1)
    elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SubmissionError(source, where, f"an answer must be a string, a number or an array of them, "
                                             f"not {_type_name(value)}")


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", dict: "a table", list: "an array", str: "a string", int: "an integer",
             float: "a float"}
    return names.get(type(value), f"a {type(value).__name__}")


def answer_input(raw: Any) -> object:
    """A submitted TOML value as input for :func:`equivalent`: strings as they are, floats as
    exact decimals (``0.05`` -> 1/20, ``inf``/``nan`` refused), arrays element by element."""
    if isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    if isinstance(raw, float):
        return repr(raw)
    if _depth(raw) > MAX_ARRAY_DEPTH:
        raise ParseError("unparseable", "arrays may be nested at most two deep (a matrix is a list of rows)")
    if _count(raw) > MAX_ENTRIES:
        raise ParseError("too_large", f"the array has more than {MAX_ENTRIES} entries")
    return [_element(item) for item in raw]


def _element(item: Any) -> object:
    if isinstance(item, list):
        return [_element(x) for x in item]
    return parse_answer(answer_input(item)) if isinstance(item, (str, float)) else item


def _depth(raw: Any) -> int:
    """How deep arrays nest (counted up to one past the limit, without recursion)."""
    depth, level = 0, [raw]
    while depth <= MAX_ARRAY_DEPTH and any(isinstance(x, list) for x in level):
        depth += 1
        level = [item for x in level if isinstance(x, list) for item in x]
    return depth


def _count(raw: Any) -> int:
    return sum(_count(x) for x in raw) if isinstance(raw, list) else 1


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------


def orientation_for(answer: Answer) -> str:
    """A quantity that is a matrix symbol (a gradient, an activation) must have the right
    orientation; other vectors (an output shape ``34 x 34 x 1``) may be a row or a column."""
    return "strict" if isinstance(answer.symbol, sp.MatrixSymbol) else "any"


def gradable(answer: Answer) -> bool:
    """Whether the key's value is something :func:`equivalent` can compare with."""
    try:
        as_reference(answer.value)
    except ParseError:
        return False
    return True


def compare(answer: Answer, raw: Any) -> Result:
    """The first pass: the submitted value against the key, by :func:`equivalent`."""
    try:
        value = answer_input(raw)
    except ParseError as exc:
        return Result(False, exc.reason, None, exc.verdict, canonical(answer.value))
    return equivalent(value, answer.value, orientation=orientation_for(answer))


def grade_submission(sheet: Sheet, submission: Submission, *, policy: Policy = Policy(),
                     spec: str = "") -> Report:
    """Grade every answer of ``sheet``; then unknown ids; see the module docstring."""
    submitted = dict(submission.answers)
    graded = []
    for problem in sheet.problems:
        results = {a.id: compare(a, submitted[a.id]) for q in problem.questions for a in q.answers
                   if a.id in submitted and gradable(a)}
        carried = _carried(problem, results)
        for question in problem.questions:
            graded += [_grade(problem, question, a, submitted.get(a.id), results.get(a.id), carried.get(a.id),
                              policy) for a in question.answers]
    known = {a.id for a in sheet.answers()}
    unknown = tuple(Graded(i, "unknown_id", Fraction(0), 0, given=raw, reason="the spec has no answer with this id")
                    for i, raw in submission.answers if i not in known)
    return Report(submission.source, spec, sheet.title, submission.student, tuple(graded), unknown, sheet)


def _carried(problem: Problem, results: dict[str, Result]) -> dict[str, Carried]:
    wrong = [i for i, r in results.items() if r.verdict in ("incorrect", "wrong_shape") and r.parsed is not None]
    answers = {a.id: a for q in problem.questions for a in q.answers}

    def same(answer_id: str, value: sp.Basic, expected: sp.Basic) -> bool:
        return equivalent(value, expected, orientation=orientation_for(answers[answer_id])).equivalent

    return carry_forward(problem, {i: results[i].parsed for i in wrong}, wrong, same)


def _grade(problem: Problem, question: Question, answer: Answer, raw: Any, result: Result | None,
           carried: Carried | None, policy: Policy) -> Graded:
    if not gradable(answer):
        return Graded(answer.id, "not_gradable", Fraction(0), 0, given=raw, problem=problem.number,
                      reason="the key's answer is not something the checker can compare; not counted")
    base = Graded(answer.id, "missing", Fraction(0), policy.points, expected=canonical(answer.value),
                  problem=problem.number, reason="no answer given")
    if result is None:
        return base
    base = replace(base, verdict=result.verdict, given=raw, parsed=result.parsed, reason=result.reason)
    if result.equivalent:
        return replace(base, points=Fraction(policy.points))
    if carried is not None and carried.consistent:
        note = Diagnosis("carried_forward", f"error carried forward: this is what the correct rules give from your "
                                            f"{', '.join(carried.sources)}")
        return replace(base, points=policy.points * policy.carried_forward, diagnoses=(note,))
    return replace(base, diagnoses=_diagnoses(question, answer, result, carried))


def _diagnoses(question: Question, answer: Answer, result: Result, carried: Carried | None) -> tuple[Diagnosis, ...]:
    """Explain against the value the student's own earlier answers lead to first, then the key."""
    givens = scalar_givens(question)
    if carried is not None and result.parsed is not None:
        own = diagnose(result.parsed, carried.value, givens=givens)
        if own:
            where = f" (relative to what your {', '.join(carried.sources)} gives)"
            return tuple(replace(d, message=d.message + where) for d in own)
    return diagnose(result.parsed, answer.value, result=result, givens=givens)


def scalar_givens(question: Question) -> dict[str, sp.Basic]:
    """The question's numeric scalar data by name (for "the wrong quantity" diagnoses)."""
    out = {}
    for symbol, value in question.givens:
        value = canonical(value)
        if isinstance(value, sp.Basic) and shape_of(value) is None and value.is_number and not variables(value):
            out[str(symbol)] = value
    return out
