"""Grade a submission against a spec's answer key: verdicts, diagnoses, errors carried forward, score.

A submission is a TOML file (see README, "Grading a submission")::

    [student]                       # optional; any string fields, shown in the report
    name = "Ada Example"
    id = "s0001"

    [answers]                       # answer id -> answer
    "1.1.a1" = "[2, 8, 9]"          # a string: plain math or LaTeX, read by the safe parser
    "1.1.loss" = "L = 4"            # an = chain: the last side is the answer
    "1.3.dL_dW3" = [[-152, -88]]    # an array: a flat one is a column
    "1.2.dL_dW2" = "dL_da2 z1^T"    # a symbolic chain-rule answer

Quoting the ids is optional: an unquoted ``1.1.a1 = ...`` is a dotted TOML key, and
nested tables are flattened back into the dotted id.

Every answer of the spec gets one verdict: ``correct``, ``carried_forward``,
``incorrect``, ``unparseable``, ``too_large``, ``not_finite``, ``wrong_shape`` or
``missing``; an id the spec does not have is reported as ``unknown_id`` and ignored;
an answer whose key value the checker cannot read (none in homework 1) is
``not_gradable`` and not counted. Scores follow the sheet's :class:`~symderiv.check.
policy.Policy` (its ``[grading]`` table): each answer is worth its ``points``; a correct
answer earns them; an answer whose error was carried forward from the student's own
earlier answer earns the ``carried_forward`` share (all, by default: the slip is
penalised once, where it was made); a diagnosed slip earns its credit share (0 by
default); everything else earns 0.

A :class:`Grader` grades many submissions against one sheet, remembering every answer
it has compared (by id and normalised text), so a class of similar answers costs
little. Malformed files (TOML syntax, ``answers`` not a table, an answer of a type
that is not a string, number or array) raise :class:`SubmissionError`: one line
naming the file and the field, exit status 2 from the CLI.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.matrices import MatrixBase

from symderiv.check.carry import (
    Carried,
    Recomputer,
    cached_recomputer,
    carry_forward,
    numeric_answers,
    numeric_steps,
    predict_from_rules,
)
from symderiv.check.diagnose import Diagnosis, diagnose
from symderiv.check.equivalence import (
    MAX_SECONDS,
    Result,
    Settings,
    as_reference,
    canonical,
    compare,
    is_matrix_expression,
    max_rank,
)
from symderiv.check.numbers import numeric
from symderiv.check.parse import UNITS, ParseError
from symderiv.check.parse.limits import MAX_TENSOR_RANK
from symderiv.check.policy import AnswerPolicy, Policy
from symderiv.check.sampling import variables
from symderiv.check.shapes import shape_of
from symderiv.check.verdicts import (
    VERDICTS,  # noqa: F401 - grade.VERDICTS is the shared tuple, kept importable
    Verdict,
)
from symderiv.errors import AnswerError
from symderiv.model import Answer, Problem, Question, Sheet, TensorShape
from symderiv.spec import read_toml, toml_key

MAX_ENTRIES = 10_000
"""Most numbers in one array answer."""
MAX_ARRAY_DEPTH = 2
"""Deepest nesting of an array answer (a matrix: a list of rows)..."""
MAX_TENSOR_DEPTH = MAX_TENSOR_RANK
"""...and of one where a tensor is expected (a bank of filters ``[filter][channel][row][column]``)."""
_ZERO = Fraction(0)
MAX_FILE_BYTES = 10_000_000
"""Largest submission file read (10 MB)."""


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
class Graded:
    """The grading of one answer id."""

    id: str
    verdict: Verdict
    points: Fraction
    max_points: Fraction | int
    given: Any = None
    parsed: sp.Basic | None = None
    expected: sp.Basic | None = None
    reason: str = ""
    diagnoses: tuple[Diagnosis, ...] = ()
    problem: int | None = None
    notes: tuple[str, ...] = ()


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
    def max_points(self) -> Fraction:
        return sum((Fraction(g.max_points) for g in self.answers), Fraction(0))

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
    return parse_submission(read_toml(path, SubmissionError, MAX_FILE_BYTES), source)


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
            raise SubmissionError(source, f"student.{toml_key(key)}", f"must be a string, not {_type_name(value)}")
    return tuple(table.items())


def _flatten(table: dict, prefix: str, source: str) -> dict[str, Any]:
    """``{"1": {"1": {"a1": v}}}`` (an unquoted dotted key) -> ``{"1.1.a1": v}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        answer_id = f"{prefix}{key}"
        items = _flatten(value, answer_id + ".", source) if isinstance(value, dict) else {answer_id: value}
        for item_id, item in items.items():
            if item_id in out:
                raise SubmissionError(source, f"answers.{toml_key(item_id)}", "given twice")
            _check_type(item, f"answers.{toml_key(item_id)}", source)
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


def answer_input(raw: Any, max_depth: int = MAX_ARRAY_DEPTH) -> object:
    """A submitted TOML value as input for the comparison: strings and numbers as they are
    (the comparison reads a float as the decimal it prints as: ``0.05`` is 1/20 exactly,
    typed to one figure), arrays checked for depth (``max_depth``: 2, or the expected
    tensor's rank) and size (their entries are read within the comparison's time budget)."""
    if isinstance(raw, (str, float)) or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    if _depth(raw, max_depth) > max_depth:
        what = "two deep (a matrix is a list of rows)" if max_depth == 2 else f"{max_depth} deep for this tensor"
        raise ParseError("unparseable", f"arrays may be nested at most {what}")
    if _count(raw) > MAX_ENTRIES:
        raise ParseError("too_large", f"the array has more than {MAX_ENTRIES} entries")
    return [answer_input(item, max_depth) for item in raw]


def _depth(raw: Any, limit: int) -> int:
    """How deep arrays nest (counted up to one past the limit, without recursion)."""
    depth, level = 0, [raw]
    while depth <= limit and any(isinstance(x, list) for x in level):
        depth += 1
        level = [item for x in level if isinstance(x, list) for item in x]
    return depth


def _count(raw: Any) -> int:
    return sum(_count(x) for x in raw) if isinstance(raw, list) else 1


def normalised(raw: Any) -> Any:
    """A submitted value as a cache key: spacing in strings does not matter, 2 is not "2"."""
    if isinstance(raw, str):
        return " ".join(raw.split())
    if isinstance(raw, list):
        return tuple(normalised(x) for x in raw)
    return (type(raw).__name__, repr(raw))


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------


def unit_word(answer_id: str) -> str | None:
    """The unit an answer id names (``2.1.minutes``, ``2.2.trials_95``), if any."""
    for word in answer_id.rsplit(".", 1)[-1].split("_"):
        if word.lower() in UNITS:
            return word.lower()
    return None


def gradable(answer: Answer) -> bool:
    """Whether the key's value is something the comparison can take."""
    try:
        as_reference(answer.value)
    except ParseError:
        return False
    return True


def scalar_givens(question: Question) -> dict[str, sp.Basic]:
    """The question's numeric scalar data by name (for "the wrong quantity" diagnoses and
    for the domain of counterexamples)."""
    out = {}
    for symbol, value in question.givens:
        value = canonical(value)
        if isinstance(value, sp.Basic) and shape_of(value) is None and value.is_number and not variables(value):
            out[str(symbol)] = value
    return out


@dataclass(frozen=True)
class _Context:
    """One answer of the sheet, with everything needed to grade it, worked out once."""

    problem: Problem
    question: Question
    answer: Answer
    policy: AnswerPolicy
    settings: Settings
    givens: Mapping[str, sp.Basic]
    expected: sp.Basic
    gradable: bool
    symbolic: bool
    tuple_like: bool


class Grader:
    """Grades submissions against one sheet, remembering what it has compared.

    Comparisons are cached by (answer id, normalised answer), diagnoses by the same and
    the value diagnosed against, recomputations for carried-forward marking by the set of
    pinned values: the second submission with ``"[2, 8, 9]"`` for ``1.1.a1`` costs a
    dictionary look-up. ``policy`` defaults to the sheet's ``[grading]`` table.
    """

    def __init__(self, sheet: Sheet, policy: Policy | None = None, *, spec: str = "",
                 max_seconds: float = MAX_SECONDS) -> None:
        self.sheet, self.spec, self.max_seconds = sheet, spec, max_seconds
        self.policy = policy if policy is not None else (sheet.grading or Policy())
        self.policy.check_against({a.id for a in sheet.answers()}, {p.number for p in sheet.problems})
        self.contexts = {a.id: self._context(p, q, a) for p in sheet.problems for q in p.questions
                         for a in q.answers}
        for context in self.contexts.values():  # the key's irrational numbers, evaluated once, outside any budget
            _evaluate_key(context.expected)
        self._results: dict[tuple, Result] = {}
        self._diagnoses: dict[tuple, tuple[Diagnosis, ...]] = {}
        self._same: dict[tuple, bool] = {}
        self._recompute: dict[int, Recomputer | None] = {}
        self._steps: dict[int, tuple] = {}
        self._keys: dict[int, dict[str, sp.Basic]] = {}
        self._step_memo: dict[int, dict] = {}
        self._tuples: dict[sp.Basic, sp.Basic] = {}
        self._predictions: dict[tuple, dict] = {}

    def _context(self, problem: Problem, question: Question, answer: Answer) -> _Context:
        policy = self.policy.for_answer(answer.id, problem.number)
        givens = scalar_givens(question)
        settings = Settings(tolerance=policy.tolerance, notation=tuple(problem.notation),
                            unit=policy.unit or unit_word(answer.id), givens=tuple(givens.items()))
        ok = gradable(answer)
        expected = canonical(answer.value)
        symbolic = ok and (is_matrix_expression(expected) or bool(variables(expected)))
        return _Context(problem, question, answer, policy, settings, givens, expected, ok, symbolic,
                        isinstance(answer.value, TensorShape))

    # ---- one answer ----------------------------------------------------------------

    def compare(self, answer_id: str, raw: Any) -> Result:
        """The submitted value against the key (cached by id and normalised value)."""
        key = (answer_id, normalised(raw))
        if key not in self._results:
            context = self.contexts[answer_id]
            try:
                value = answer_input(raw, max_rank(context.expected))
            except ParseError as exc:
                result = Result(False, exc.reason, None, exc.verdict, canonical(context.answer.value))
            else:
                result = compare(value, context.answer.value, context.settings, self.max_seconds)
            self._results[key] = result
        return self._results[key]

    def _diagnose(self, answer_id: str, raw: Any, result: Result, against: sp.Basic | None) -> tuple[Diagnosis, ...]:
        key = (answer_id, normalised(raw), against)
        if key not in self._diagnoses:
            context = self.contexts[answer_id]
            reference = context.answer.value if against is None else against
            options = {"tolerance": context.settings.tolerance, "notation": dict(context.settings.notation),
                       "orientation": context.settings.orientation}
            found = diagnose(result.parsed, reference, result=result if against is None else None,
                             givens=context.givens, max_seconds=self.max_seconds, **options)
            self._diagnoses[key] = found
        return self._diagnoses[key]

    def same(self, answer_id: str, value: sp.Basic, expected: sp.Basic) -> bool:
        """Whether a value is what was expected of an answer (cached)."""
        key = (answer_id, value, expected)
        if key not in self._same:
            settings = self.contexts[answer_id].settings
            self._same[key] = compare(value, expected, settings, self.max_seconds).equivalent
        return self._same[key]

    # ---- a submission --------------------------------------------------------------

    def grade(self, submission: Submission) -> Report:
        """Grade every answer of the sheet; then unknown ids; see the module docstring."""
        submitted = dict(submission.answers)
        graded: list[Graded] = []
        for problem in self.sheet.problems:
            answers = [a for q in problem.questions for a in q.answers]
            results = {a.id: self.compare(a.id, submitted[a.id]) for a in answers
                       if a.id in submitted and self.contexts[a.id].gradable}
            carried = self._carried(problem, results)
            graded += [self._grade(a, submitted.get(a.id), results.get(a.id), carried.get(a.id)) for a in answers]
        unknown = tuple(Graded(i, "unknown_id", Fraction(0), 0, given=raw, reason="the spec has no answer with this id")
                        for i, raw in submission.answers if i not in self.contexts)
        return Report(submission.source, self.spec, self.sheet.title, submission.student, tuple(graded), unknown,
                      self.sheet)

    def _carried(self, problem: Problem, results: dict[str, Result]) -> dict[str, Carried]:
        wrong = [i for i, r in results.items() if r.verdict in ("incorrect", "wrong_shape") and r.parsed is not None]
        if not wrong:
            return {}
        rules = {i: results[i].parsed for i in wrong if self.contexts[i].symbolic}
        if problem.number not in self._recompute:
            self._recompute[problem.number] = cached_recomputer(problem)
            self._steps[problem.number] = numeric_steps(problem)
            self._keys[problem.number] = numeric_answers(problem)
        numbers = [i for i in wrong if i in self._keys[problem.number]]
        if not numbers:
            return {}
        return carry_forward(problem, {i: results[i].parsed for i in wrong}, wrong, self.same,
                             predicted=self._predicted(problem, rules), found=self._recompute[problem.number],
                             keys=self._keys[problem.number])

    def _predicted(self, problem: Problem, rules: dict[str, sp.Basic]) -> dict:
        key = (problem.number, tuple(sorted(rules.items(), key=lambda item: item[0])))
        if key not in self._predictions:
            memo = self._step_memo.setdefault(problem.number, {})
            self._predictions[key] = (predict_from_rules(problem, rules, self._steps[problem.number], memo)
                                      if rules else {})
        return self._predictions[key]

    def _grade(self, answer: Answer, raw: Any, result: Result | None, carried: Carried | None) -> Graded:
        context = self.contexts[answer.id]
        number = context.problem.number
        if not context.gradable:
            return Graded(answer.id, "not_gradable", _ZERO, 0, given=raw, problem=number,
                          reason="the key's answer is not something the checker can compare; not counted")
        points = context.policy.points
        if result is None:
            return Graded(answer.id, "missing", _ZERO, points, expected=context.expected, problem=number,
                          reason="no answer given")
        parsed = self._as_tuple(result.parsed) if context.tuple_like else result.parsed
        verdict, earned = result.verdict, _ZERO
        diagnoses: tuple[Diagnosis, ...] = ()
        if result.equivalent:
            earned = points
        elif carried is not None and carried.consistent:
            verdict = "carried_forward"
            diagnoses = (Diagnosis("carried_forward", f"error carried forward: this is what the correct rules give "
                                                      f"from your {', '.join(carried.sources)}"),)
            earned = points * context.policy.credit.get("carried_forward", _ZERO)
        else:
            diagnoses = self._explain(answer, raw, result, carried)
            earned = points * _credit(diagnoses, context.policy)
        return Graded(answer.id, verdict, earned, points, raw, parsed, context.expected, result.reason, diagnoses,
                      number, result.notes)

    def _as_tuple(self, parsed: sp.Basic | None) -> sp.Basic | None:
        """A tuple answer shown as the key shows tuples (``20 x 20 x 3``), made once per value."""
        if not (isinstance(parsed, MatrixBase) and 1 in parsed.shape):
            return parsed
        if parsed not in self._tuples:
            self._tuples[parsed] = TensorShape([list(parsed)])
        return self._tuples[parsed]

    def _explain(self, answer: Answer, raw: Any, result: Result, carried: Carried | None) -> tuple[Diagnosis, ...]:
        """Explain against the value the student's own earlier answers lead to first, then the key."""
        if result.parsed is None:
            return ()
        if carried is not None:
            own = self._diagnose(answer.id, raw, result, carried.value)
            if own:
                where = f" (relative to what your {', '.join(carried.sources)} gives)"
                return tuple(replace(d, message=d.message + where) for d in own)
        return self._diagnose(answer.id, raw, result, None)


def _evaluate_key(value: sp.Basic) -> None:
    entries = list(value) if isinstance(value, (MatrixBase, sp.NDimArray)) else [value]
    for entry in entries:
        if isinstance(entry, sp.Basic) and entry.is_number and not entry.is_Rational:
            numeric(entry)


def _credit(diagnoses: tuple[Diagnosis, ...], policy: AnswerPolicy) -> Fraction:
    """The share a diagnosed answer earns: the smallest credit of its slips (0 if any has none)."""
    if not diagnoses:
        return _ZERO
    return min(policy.credit.get(d.kind, _ZERO) for d in diagnoses)


def grade_submission(sheet: Sheet, submission: Submission, *, policy: Policy | None = None,
                     spec: str = "") -> Report:
    """Grade one submission (a :class:`Grader` used once)."""
    return Grader(sheet, policy, spec=spec).grade(submission)
