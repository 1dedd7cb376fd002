"""Scores and tolerances: the ``[grading]`` table of a spec (or of a policy file).

::

    [grading]
    points = 1                 # every answer's weight (default 1; decimals and "1/2" are fine)
    tolerance = "digits"       # "digits" (default), "exact", or a table: {sig_figs = 4},
                               # {rtol = 1e-3}, {atol = 0.01}, {rtol = 1e-3, atol = 1e-6}

    [grading.credit]           # share of an answer's points for a diagnosed slip
    carried_forward = 1        # (defaults: carried_forward 1, every other diagnosis 0)
    transposed = 0.5
    rounded = 0.5

    [grading.problem.2]        # for every answer of problem 2: points, tolerance, credit
    tolerance = {rtol = 1e-3}

    [grading.answer."1.3.dL_dW1"]   # for one answer: points, tolerance, credit, unit
    points = 2
    credit = {transposed = 0}

An answer's settings are the answer's own, else its problem's, else the sheet's. A
slip's credit applies when every diagnosis of the answer has a credit (the smallest
is used: an answer with two slips earns the share of the worse). ``unit`` names the
quantity's unit (``"minutes"``) where the answer id does not (``2.1.minutes`` does).

Errors name the file and the field, as every spec error does: ``hw.toml: grading.credit.
transpose: unknown diagnosis; expected one of ...``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from symderiv.check.diagnose import KINDS
from symderiv.check.numbers import DIGITS_RULE, Tolerance
from symderiv.check.parse import UNITS
from symderiv.errors import SpecError
from symderiv.spec import Fields, read_toml

_TOLERANCE_FIELDS = {"sig_figs", "rtol", "atol"}
_OVERRIDE_FIELDS = {"points", "tolerance", "credit"}


@dataclass(frozen=True)
class Override:
    """Settings of a problem or an answer that differ from the sheet's (None: inherited)."""

    points: Fraction | None = None
    tolerance: Tolerance | None = None
    credit: tuple[tuple[str, Fraction], ...] = ()
    unit: str | None = None


@dataclass(frozen=True)
class AnswerPolicy:
    """What grading one answer needs: its points, tolerance, credits and unit."""

    points: Fraction
    tolerance: Tolerance
    credit: Mapping[str, Fraction]
    unit: str | None


@dataclass(frozen=True)
class Policy:
    """Points, partial credit and tolerances for a sheet; see the module docstring.

    ``points`` and ``carried_forward`` keep their old meaning (each answer's weight; the
    share earned by an error carried forward); ``credit`` adds shares for other
    diagnoses; ``problems`` and ``answers`` override by problem number and answer id.
    """

    points: Fraction | int = 1
    carried_forward: Fraction | int = 1
    credit: tuple[tuple[str, Fraction], ...] = ()
    tolerance: Tolerance = DIGITS_RULE
    problems: tuple[tuple[int, Override], ...] = ()
    answers: tuple[tuple[str, Override], ...] = ()
    source: str = field(default="", compare=False)

    def for_answer(self, answer_id: str, problem: int | None) -> AnswerPolicy:
        """The settings in force for one answer: its own, its problem's, the sheet's."""
        found = [dict(self.answers).get(answer_id), dict(self.problems).get(problem) if problem else None]
        layers = [o for o in found if o is not None]
        credit = {"carried_forward": Fraction(self.carried_forward), **dict(self.credit)}
        for override in reversed(layers):
            credit.update(dict(override.credit))
        points = next((o.points for o in layers if o.points is not None), Fraction(self.points))
        tolerance = next((o.tolerance for o in layers if o.tolerance is not None), self.tolerance)
        unit = next((o.unit for o in layers if o.unit is not None), None)
        return AnswerPolicy(Fraction(points), tolerance, credit, unit)

    def check_against(self, answer_ids: set[str], problem_numbers: set[int]) -> None:
        """Every answer id and problem number named must exist in the sheet."""
        for number, _ in self.problems:
            if number not in problem_numbers:
                raise SpecError(self.source, f"grading.problem.{number}", "the sheet has no problem with this number")
        for answer_id, _ in self.answers:
            if answer_id not in answer_ids:
                raise SpecError(self.source, f'grading.answer."{answer_id}"', "the sheet has no answer with this id")


def parse_grading(fields: Fields) -> Policy:
    """The validated ``[grading]`` table (``fields`` is the table itself)."""
    fields.check_known({"points", "tolerance", "credit", "problem", "answer"})
    base = _override(fields)
    problems = tuple((_problem_number(fields, key), _override(sub, _OVERRIDE_FIELDS))
                     for key, sub in _tables(fields, "problem"))
    answers = tuple((key, _override(sub, _OVERRIDE_FIELDS | {"unit"})) for key, sub in _tables(fields, "answer"))
    credit = dict(base.credit)
    carried = credit.pop("carried_forward", Fraction(1))
    return Policy(base.points if base.points is not None else 1, carried, tuple(credit.items()),
                  base.tolerance or DIGITS_RULE, problems, answers, fields.source)


def load_policy(path: str | Path) -> Policy:
    """A policy file: a TOML file holding one ``[grading]`` table."""
    top = Fields(read_toml(path), str(path))
    top.check_known({"grading"})
    return parse_grading(top.sub("grading"))


def _tables(fields: Fields, name: str) -> list[tuple[str, Fields]]:
    if not fields.has(name):
        return []
    group = fields.sub(name)
    return [(key, group.sub(key)) for key in group.table]


def _problem_number(fields: Fields, key: str) -> int:
    if not key.isdigit() or not key.isascii() or int(key) < 1:
        raise fields.fail(f"problem.{key}", "expected a problem number (1, 2, ...)")
    return int(key)


def _override(fields: Fields, known: set[str] | None = None) -> Override:
    """The settings a table gives (``known``: the fields it may have, when not checked already)."""
    if known is not None:
        fields.check_known(known)
    points = _share(fields, "points", low=0) if fields.has("points") else None
    tolerance = parse_tolerance(fields, "tolerance") if fields.has("tolerance") else None
    credit = _credit(fields.sub("credit")) if fields.has("credit") else ()
    unit = fields.str("unit") if fields.has("unit") else None
    if unit is not None and unit.lower() not in UNITS:
        raise fields.fail("unit", f"unknown unit; expected one of {', '.join(sorted(UNITS))}")
    return Override(points, tolerance, credit, unit)


def _credit(fields: Fields) -> tuple[tuple[str, Fraction], ...]:
    for name in fields.table:
        if name not in KINDS:
            raise fields.fail(name, f"unknown diagnosis; expected one of {', '.join(KINDS)}")
    return tuple((name, _share(fields, name, low=0, high=1)) for name in fields.table)


def _share(fields: Fields, name: str, *, low: int, high: int | None = None) -> Fraction:
    value = fields.number(name, low=low, high=high)
    return Fraction(int(value.p), int(value.q))


def parse_tolerance(fields: Fields, name: str) -> Tolerance:
    """``"digits"``, ``"exact"``, or a table of ``sig_figs`` / ``rtol`` / ``atol``."""
    raw = fields.raw(name)
    if isinstance(raw, str):
        fields.str(name, choices={"digits", "exact"})
        return Tolerance(raw)  # type: ignore[arg-type]
    table = fields.sub(name)
    table.check_known(_TOLERANCE_FIELDS)
    if not table.table:
        raise fields.fail(name, "expected \"digits\", \"exact\" or a table of sig_figs, rtol, atol")
    if table.has("sig_figs"):
        if table.has("rtol") or table.has("atol"):
            raise table.fail("sig_figs", "give either sig_figs or rtol/atol, not both")
        return Tolerance("digits", sig_figs=table.integer("sig_figs", low=1, high=30))
    rtol = float(table.number("rtol", low=0)) if table.has("rtol") else None
    atol = float(table.number("atol", low=0)) if table.has("atol") else None
    return Tolerance.of(rtol, atol)
