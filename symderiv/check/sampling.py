"""Formulas compared at random points, as STACK's algebraic-equivalence test does.

When simplification does not show two formulas equal, both are evaluated at seeded
random points; the first point where they differ is the counterexample of the reason
(``at P=0.562, q=0.31: expected 2, got 1``). Points lie inside the domain the question
gives its symbols, so that a counterexample means something to the student:

* the symbols' assumptions first: integer symbols get integers (1..30 when positive),
  positive ones positive values;
* then the question's givens: a symbol given a value in (0, 1) (a probability, a
  success rate ``q = 0.05``) is drawn in (0, 1); one given a whole number (a size)
  gets positive integers; one given a positive value gets positive values. ``P[1]``
  and ``P[2]`` (a symbol's indexed givens) speak for ``P``;
* points where the reference is undefined or not real (outside the domain of its
  logarithms and roots) are skipped.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.check.numbers import DIGITS, numeric

Band = Literal["any", "positive", "negative", "unit", "integer", "positive_integer", "nonnegative_integer",
               "negative_integer"]


@dataclass(frozen=True)
class Point:
    """One sample: the values of the unknowns, and both sides there (None: undefined)."""

    values: dict[sp.Basic, sp.Basic]
    expected: sp.Basic | None
    answer: sp.Basic | None


def variables(expr: sp.Basic) -> set[sp.Basic]:
    """The scalar unknowns of an expression: free Symbols and matrix entries ``W[i, j]``."""
    if not isinstance(expr, sp.Basic):
        return set()
    free = expr.free_symbols
    found = {s for s in free if isinstance(s, sp.Symbol)}
    if any(isinstance(s, sp.MatrixSymbol) for s in free):  # an entry's free symbol is its matrix
        found |= set(expr.atoms(MatrixElement))
    return found


def band(variable: sp.Basic, givens: Mapping[str, sp.Basic] | None = None) -> Band:
    """Where to draw a variable: its assumptions first, then the value the question gives it."""
    if isinstance(variable, sp.Symbol) and variable.is_integer:
        if variable.is_positive:
            return "positive_integer"
        if variable.is_nonnegative:
            return "nonnegative_integer"
        return "negative_integer" if variable.is_negative or variable.is_nonpositive else "integer"
    given = _given(variable, givens or {})
    if given is not None and given.is_Rational:
        if 0 < given < 1:
            return "unit"
        if given.is_Integer and given > 0:
            return "positive_integer"
    if isinstance(variable, sp.Symbol) and (variable.is_positive or variable.is_nonnegative):
        return "positive"
    if isinstance(variable, sp.Symbol) and (variable.is_negative or variable.is_nonpositive):
        return "negative"
    if given is not None and given.is_Rational and given != 0:
        return "positive" if given > 0 else "negative"
    return "any"


def _given(variable: sp.Basic, givens: Mapping[str, sp.Basic]) -> sp.Basic | None:
    name = getattr(variable, "name", None)
    if name is None:
        return None
    if name in givens:
        return givens[name]
    indexed = [v for k, v in givens.items() if k.startswith(name + "[")]
    return indexed[0] if indexed else None


_INTEGERS = {"positive_integer": (1, 30), "nonnegative_integer": (0, 30), "negative_integer": (-30, -1),
             "integer": (-30, 30)}


def draw(variable: sp.Basic, rng: random.Random, where: Band | None = None) -> sp.Rational:
    """A random exact value for one unknown, within ``where`` (by default its assumptions).

    Integers come from 1..30 (or 0..30, -30..-1, -30..30); other values are rationals
    spread over (0, 1) and (1, 10), and their negatives unless the band is positive.
    """
    where = where or band(variable)
    if where in _INTEGERS:
        return sp.Integer(rng.randint(*_INTEGERS[where]))
    if where == "unit":
        return sp.Rational(rng.randint(1, 999), 1000)
    choice = rng.randrange(3)
    magnitude = sp.Rational(rng.randint(1, 999), 1000) if choice == 0 else sp.Rational(rng.randint(1001, 10_000), 1000)
    if where == "positive":
        return magnitude
    if where == "negative":
        return -magnitude
    return -magnitude if choice == 2 else magnitude


def domain_conditions(expr: sp.Basic) -> tuple[sp.Basic, ...]:
    """Expressions that must be positive for ``expr`` to be a real function: the arguments
    of logarithms and the bases of fractional powers (0 is allowed for a power's base)."""
    logs = [f.args[0] for f in expr.atoms(sp.log)]
    roots = [p.base + sp.Rational(1, 10**12) for p in expr.atoms(sp.Pow)
             if not p.exp.is_integer and variables(p.base)]
    return tuple(logs + roots)


def evaluate(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> sp.Basic | None:
    """``expr`` at a point, as a number (None where undefined)."""
    try:
        return numeric(expr.xreplace(dict(point)))
    except (ArithmeticError, TypeError, ValueError, RecursionError):
        return None


def is_real(number: sp.Basic) -> bool:
    return bool(number.is_Rational or abs(sp.im(number)) <= sp.Float(10) ** (8 - DIGITS) * max(1, abs(number)))


def _in_domain(conditions: tuple[sp.Basic, ...], point: Mapping[sp.Basic, sp.Basic]) -> bool:
    for condition in conditions:
        value = evaluate(condition, point)
        if value is None or not is_real(value) or not sp.re(value) > 0:
            return False
    return True


def sample_points(answer: sp.Basic, expected: sp.Basic, *, samples: int, seed: int,
                  givens: Mapping[str, sp.Basic] | None, check: Callable[[], None]):
    """Up to ``samples`` points inside the reference's domain (at most 8 tries each),
    each with both sides evaluated; ``check`` runs before each try (the time budget)."""
    unknowns = sorted(variables(answer) | variables(expected), key=sp.default_sort_key)
    bands = {v: band(v, givens) for v in unknowns}
    rng, conditions, found = random.Random(seed), domain_conditions(expected), 0
    for _ in range(samples * 8):
        if found >= samples:
            return
        check()
        values = {v: draw(v, rng, bands[v]) for v in unknowns}
        if not _in_domain(conditions, values):
            continue
        e = evaluate(expected, values)
        if e is None or not is_real(e):
            continue
        found += 1
        yield Point(values, e, evaluate(answer, values))
