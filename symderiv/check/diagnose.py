"""Why is an answer wrong? Name the slip when a simple change of the key explains it.

>>> import sympy as sp
>>> [d.kind for d in diagnose("[[32, 24, -8], [16, 12, -4]]", sp.Matrix([[32, 16], [24, 12], [-8, -4]]))]
['transposed']
>>> diagnose("-4", 4)[0].message
'sign flipped (a dropped minus sign?)'

Each check builds a candidate from the expected value (its transpose, its negative, a
multiple, plus or minus one) and asks :func:`equivalent` whether the answer equals it,
so the same checks work for numbers, matrices, formulas and matrix expressions. When no
change of the whole value explains the answer, the wrong entries of a matrix are
explained one by one ("entry 2: sign flipped").

The second half of this module finds **errors carried forward**: a later answer that
is wrong only because it was computed, correctly, from the student's own wrong earlier
answer. A problem kind may supply a *recompute* function (answer ids pinned to the
student's values -> every numeric answer recomputed by the correct rules); otherwise
the sheet's own steps are re-evaluated; see :func:`recomputer`.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial

import sympy as sp
from sympy.matrices import MatrixBase

from symderiv.check.equivalence import (
    MAX_SECONDS,
    Result,
    canonical,
    draw,
    entry_label,
    equivalent,
    is_matrix_expression,
    show,
    variables,
)
from symderiv.check.shapes import describe_shape, shape_of
from symderiv.kinds import ability
from symderiv.model import Problem

KINDS = ("transposed", "reshaped", "sign", "power_of_ten", "factor", "wrong_quantity", "off_by_one", "rounded",
         "wrong_shape", "carried_forward")
"""Every ``Diagnosis.kind``, most specific first."""

ROUNDED = 1e-2
"""A number within this relative distance of the key is diagnosed as rounded."""


@dataclass(frozen=True)
class Diagnosis:
    """One explanation of a wrong answer: ``kind`` (see :data:`KINDS`) and a sentence."""

    kind: str
    message: str


def diagnose(answer: object, reference: object, *, result: Result | None = None,
             givens: Mapping[str, sp.Basic] | None = None, max_seconds: float = MAX_SECONDS,
             **options: object) -> tuple[Diagnosis, ...]:
    """The slips that explain why ``answer`` is not ``reference`` (empty if none does).

    ``result`` is the comparison already made (made here otherwise); ``givens`` maps
    names of the question's data to their values, so that an answer equal to the wrong
    given (the input's channel count instead of the number of filters) is recognised.
    ``options`` are passed to :func:`equivalent` (``rtol``, ``atol``, ``samples``...).
    """
    result = result if result is not None else equivalent(answer, reference, **options)
    if result.equivalent or result.parsed is None:
        return ()
    check = _Checker(dict(givens or {}), {k: v for k, v in options.items() if k != "orientation"},
                     time.monotonic() + max_seconds)
    found = check.explain(result.parsed, result.expected)
    if not found and result.verdict == "wrong_shape":
        return (Diagnosis("wrong_shape", result.reason),)
    return found


@dataclass
class _Checker:
    givens: dict[str, sp.Basic]
    options: dict
    deadline: float

    def same(self, answer: sp.Basic, candidate: sp.Basic) -> bool:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return False
        return equivalent(answer, candidate, max_seconds=remaining, **self.options).equivalent

    def explain(self, answer: sp.Basic, expected: sp.Basic) -> tuple[Diagnosis, ...]:
        for check in (self.transposed, self.reshaped, self.scalar):
            found = check(answer, expected)
            if found is not None:
                return (found,)
        return self.entries(answer, expected)

    def scalar(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        """The checks that apply to a whole value and to one entry alike."""
        for check in (self.sign, self.wrong_quantity, self.off_by_one, self.scaled, self.rounded):
            found = check(answer, expected)
            if found is not None:
                return found
        return None

    def transposed(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        shape = shape_of(expected)
        if shape is None or shape_of(answer) is None or not self.same(answer, _transpose(expected)):
            return None
        if 1 in shape:
            want = "column" if shape[1] == 1 else "row"
            got = "row" if want == "column" else "column"
            return Diagnosis("transposed", f"transposed: a {got} vector where a {want} vector is expected")
        return Diagnosis("transposed", f"transposed: the answer is the transpose of the expected "
                                       f"{shape[0]}x{shape[1]} matrix")

    def reshaped(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if not (isinstance(answer, MatrixBase) and isinstance(expected, MatrixBase)):
            return None
        if answer.shape == expected.shape or len(answer) != len(expected):
            return None
        if list(answer) != list(expected) and list(answer.T) != list(expected.T):
            return None
        return Diagnosis("reshaped", f"the right entries in the wrong shape: {describe_shape(answer.shape)} "
                                     f"instead of {describe_shape(expected.shape)}")

    def sign(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if _is_zero(expected) or not self.same(answer, -expected):
            return None
        return Diagnosis("sign", "sign flipped (a dropped minus sign?)")

    def scaled(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        factor = _ratio(answer, expected)
        if factor is None or factor in (0, 1, -1):
            return None
        if _is_number(answer) and _factor_diagnosis(factor).kind == "factor" and abs(factor) not in _NAMED_FACTORS:
            return None  # any two numbers differ by *some* factor: only named ones explain a slip
        if not self.same(answer, factor * expected):
            return None
        return _factor_diagnosis(factor)

    def wrong_quantity(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if shape_of(answer) is not None or variables(answer) or not answer.is_number:
            return None
        names = [name for name, value in self.givens.items() if value == answer and value != expected]
        if not names:
            return None
        which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return Diagnosis("wrong_quantity", f"equals the given {which} = {show(answer)}: the wrong quantity used?")

    def off_by_one(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if shape_of(expected) is not None:
            return None
        for step, word in ((1, "more"), (-1, "less")):
            if self.same(answer, expected + step):
                return Diagnosis("off_by_one", f"off by one (1 {word} than expected)")
        return None

    def rounded(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if shape_of(expected) is not None or not (_is_number(answer) and _is_number(expected)):
            return None
        if _is_zero(expected) or answer == expected:
            return None
        relative = abs(float(answer) - float(expected)) / abs(float(expected))
        if relative > ROUNDED:
            return None
        return Diagnosis("rounded", f"close to the expected {show(expected)} (relative difference {relative:.1g}): "
                                    f"rounded? give the exact value")

    def entries(self, answer: sp.Basic, expected: sp.Basic) -> tuple[Diagnosis, ...]:
        """Explain each wrong entry of a matrix, but only if every wrong entry is explained."""
        if not (isinstance(answer, MatrixBase) and isinstance(expected, MatrixBase)):
            return ()
        if answer.shape != expected.shape:
            return ()
        found = []
        for (i, j), a, e in _entry_pairs(answer, expected):
            if self.same(a, e):
                continue
            diagnosis = self.scalar(a, e)
            if diagnosis is None:
                return ()
            found.append(replace(diagnosis, message=f"{entry_label(expected.shape, i, j)}: {diagnosis.message}"))
        return tuple(found)


def _entry_pairs(answer: sp.ImmutableMatrix, expected: sp.ImmutableMatrix):
    for i in range(expected.rows):
        for j in range(expected.cols):
            yield (i, j), answer[i, j], expected[i, j]


def _transpose(value: sp.Basic) -> sp.Basic:
    return sp.Transpose(value) if is_matrix_expression(value) else value.T


def _is_number(value: sp.Basic) -> bool:
    return isinstance(value, sp.Basic) and shape_of(value) is None and value.is_number and not variables(value)


def _is_zero(value: sp.Basic) -> bool:
    if isinstance(value, MatrixBase):
        return all(entry == 0 for entry in value)
    return not is_matrix_expression(value) and value == 0


def _ratio(answer: sp.Basic, expected: sp.Basic) -> sp.Basic | None:
    """The constant c with answer = c * expected, if there is an obvious candidate."""
    if is_matrix_expression(answer) or is_matrix_expression(expected):
        return None
    if isinstance(expected, MatrixBase):
        if shape_of(answer) != shape_of(expected):
            return None
        pairs = [(a, e) for a, e in zip(answer, expected) if e != 0]
        return _ratio(*pairs[0]) if pairs else None
    if shape_of(answer) is not None or expected == 0:
        return None
    if not variables(answer) and not variables(expected):
        return answer / expected if answer != 0 else None
    rng = random.Random(0)
    point = {v: draw(v, rng) for v in sorted(variables(answer) | variables(expected), key=sp.default_sort_key)}
    try:
        value = (answer / expected).xreplace(point)
    except (ArithmeticError, TypeError, ValueError):
        return None
    return value if value.is_Rational and value != 0 else None


_NAMED_FACTORS = {sp.Integer(2): " (a doubled term?)", sp.Rational(1, 2): " (a dropped factor 2?)"}


def _factor_diagnosis(factor: sp.Basic) -> Diagnosis:
    """``power_of_ten`` for +-10^k, else ``factor`` (a doubled or halved term named as such)."""
    magnitude = abs(factor)
    exponent = round(math.log10(float(magnitude))) if magnitude > 0 else 0
    close = (magnitude == sp.Integer(10) ** exponent if magnitude.is_Rational
             else abs(float(magnitude) / 10.0 ** exponent - 1) < 1e-6)
    if exponent != 0 and close:
        sign = " and the sign flipped" if factor < 0 else ""
        shown = show(sp.Integer(10) ** exponent) if magnitude.is_Rational else f"10^{exponent}"
        return Diagnosis("power_of_ten", f"off by a factor of {shown}{sign} "
                                         f"(a misplaced decimal point or power of ten?)")
    hint = _NAMED_FACTORS.get(factor, "")
    return Diagnosis("factor", f"off by a constant factor {show(factor)}{hint}")


# --------------------------------------------------------------------------
# Errors carried forward
# --------------------------------------------------------------------------

Recompute = Callable[[Mapping[str, sp.Basic]], dict[str, sp.Basic]]
"""``pinned`` (answer id -> the student's value) -> every numeric answer recomputed."""


@dataclass(frozen=True)
class Recomputer:
    """A problem's recompute function and the answers that may be pinned (its sources)."""

    recompute: Recompute
    sources: frozenset[str]


@dataclass(frozen=True)
class Carried:
    """What an answer should be, given the student's own wrong earlier answers.

    ``sources`` are those earlier answers (ids), ``value`` what the correct rules give
    from them, ``consistent`` whether the student's answer equals it.
    """

    sources: tuple[str, ...]
    value: sp.Basic
    consistent: bool


def recomputer(problem: Problem) -> Recomputer | None:
    """How to recompute a problem's answers from pinned values, if we know how.

    The kind's own ``recompute`` when it has one (it is trusted for every numeric
    answer); else the generic :func:`recompute_steps`, which re-evaluates the sheet's own
    steps and is trusted only for the answers where pinning the key's value reproduces
    the key.
    """
    own = ability(problem, "recompute")
    if own is not None:
        return Recomputer(partial(own, problem), frozenset(numeric_answers(problem)))
    generic = partial(recompute_steps, problem)
    trusted = frozenset(i for i, v in numeric_answers(problem).items() if _reproduces(generic, problem, {i: v}))
    return Recomputer(generic, trusted) if trusted else None


def numeric_answers(problem: Problem) -> dict[str, sp.Basic]:
    """The answers with explicit numeric values (numbers, numeric matrices), by id."""
    out = {}
    for question in problem.questions:
        for answer in question.answers:
            value = canonical(answer.value)
            if isinstance(value, sp.Basic) and not is_matrix_expression(value) and not variables(value):
                out[answer.id] = value
    return out


def _reproduces(recompute: Recompute, problem: Problem, pinned: dict[str, sp.Basic]) -> bool:
    try:
        values = recompute(pinned)
    except Exception:
        return False
    return all(canonical(values.get(i, v)) == v for i, v in numeric_answers(problem).items())


def carry_forward(problem: Problem, submitted: Mapping[str, sp.Basic], wrong: Iterable[str],
                  same: Callable[[str, sp.Basic, sp.Basic], bool]) -> dict[str, Carried]:
    """Error-carried-forward marking of one problem.

    Walk the wrong answers in sheet order. Each is compared with what the correct
    rules give from the student's earlier wrong answers (the *pinned* ones that change
    it); if equal, it was carried forward. Otherwise it is a slip of its own, and its
    value is pinned for the answers after it. ``same(id, answer, value)`` decides
    equality (the grader's comparison).
    """
    found = recomputer(problem)
    if found is None:
        return {}
    recompute = _Cache(found.recompute)
    keys, pinned, out = numeric_answers(problem), {}, {}
    for answer_id in _in_sheet_order(problem, set(wrong) & set(submitted)):
        value = submitted[answer_id]
        sources = tuple(p for p in pinned if _changes(recompute, {p: pinned[p]}, answer_id, keys))
        if sources:
            expected = recompute({p: pinned[p] for p in sources}).get(answer_id)
            consistent = same(answer_id, value, expected)
            out[answer_id] = Carried(sources, expected, consistent)
            if consistent:
                continue
        pin = _pinnable(value, keys.get(answer_id))
        if pin is not None and answer_id in found.sources:
            pinned[answer_id] = pin
    return out


def _in_sheet_order(problem: Problem, ids: set[str]) -> list[str]:
    return [a.id for q in problem.questions for a in q.answers if a.id in ids]


class _Cache:
    """Recompute once per set of pins; values normalised with :func:`canonical`."""

    def __init__(self, recompute: Recompute) -> None:
        self.recompute, self.seen = recompute, {}

    def __call__(self, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
        key = tuple(sorted(pinned.items(), key=lambda item: item[0]))
        if key not in self.seen:
            try:
                self.seen[key] = {k: canonical(v) for k, v in self.recompute(dict(pinned)).items()}
            except Exception:
                self.seen[key] = {}
        return self.seen[key]


def _changes(recompute: _Cache, pinned: dict, answer_id: str, keys: Mapping[str, sp.Basic]) -> bool:
    value = recompute(pinned).get(answer_id)
    return value is not None and answer_id in keys and value != keys[answer_id]


def _pinnable(value: sp.Basic, key: sp.Basic | None) -> sp.Basic | None:
    """The student's value as the key's shape, if it is a number or numeric matrix of that shape."""
    if key is None or not isinstance(value, sp.Basic) or is_matrix_expression(value) or variables(value):
        return None
    if shape_of(value) == shape_of(key):
        return value
    if shape_of(value) is not None and shape_of(key) == shape_of(value)[::-1] and 1 in shape_of(key):
        return value.T  # a vector given in the other orientation (accepted where orientation is free)
    return None


# ---- the generic recompute: re-evaluate the sheet's own steps -------------------------


def recompute_steps(problem: Problem, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    """Every answer, recomputed from the steps with some answers pinned to other values.

    Each question's givens and step values form an environment; a step whose ``rule``
    mentions a changed quantity is re-evaluated there (``rule.xreplace(env).doit()``),
    and an answer whose symbol is a step's ``lhs`` takes that step's value. An answer
    that is a later question's given (5.4 reads 5.2's dL/dx) carries over. This works
    for kinds that write their steps as ``lhs = rule`` in earlier quantities (2.1:
    ``E_total = C E``); :func:`recomputer` checks it before trusting it.
    """
    carried: dict[sp.Basic, sp.Basic] = {}
    out: dict[str, sp.Basic] = {}
    for question in problem.questions:
        own = {a.symbol: pinned[a.id] for a in question.answers if a.id in pinned}
        env, changed = _question_env(question, carried, own)
        for answer in question.answers:
            value = own.get(answer.symbol, env.get(answer.symbol, answer.value) if answer.symbol in changed
                            else answer.value)
            out[answer.id] = value
            if answer.symbol in changed:
                carried[answer.symbol] = value
    return out


def _question_env(question, carried: dict, own: dict) -> tuple[dict, set]:
    env, changed = {}, set()
    for symbol, value in question.givens:
        env[symbol] = carried.get(symbol, value)
        if symbol in carried:
            changed.add(symbol)
    for step in question.steps:
        if step.lhs is None:
            continue
        new = own.get(step.lhs)
        if new is None and step.rule is not None and changed & step.rule.free_symbols:
            new = _evaluated(step.rule, env)
        if new is not None:
            env[step.lhs] = new
            changed.add(step.lhs)
        elif step.value is not None:
            env[step.lhs] = step.value
    changed |= set(own)
    return env, changed


def _evaluated(rule: sp.Basic, env: dict) -> sp.Basic | None:
    try:
        value = canonical(rule.xreplace(env).doit())
    except Exception:
        return None
    if is_matrix_expression(value) or variables(value) or not isinstance(value, sp.Basic):
        return None
    return value
