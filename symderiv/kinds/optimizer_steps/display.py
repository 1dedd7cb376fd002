"""A rule with the numbers put in, as a student writes it down: nothing evaluated.

:func:`shown` replaces each quantity of a rule by its number and keeps every operation as
written. Two things need care beyond :func:`symderiv.algebra.substitute`: a division must
stay a fraction (an unevaluated product of numbers would print its divisor as a power
``-1``), and a negative number added after another term prints as ``- 3/10``, not
``+ -3/10``.
"""
from __future__ import annotations

from collections.abc import Mapping

import sympy as sp


class U(sp.UnevaluatedExpr):
    """A number put into a formula as written: kept apart from its neighbours for print (as
    SymPy's UnevaluatedExpr, whose printer it uses), but, unlike it, a commutative number that
    SymPy's own queries can evaluate (they run while unevaluated products are built)."""

    is_commutative = True

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.args[0]._eval_evalf(prec)


def shown(expr: sp.Basic, numbers: Mapping[sp.Basic, sp.Basic], wrap: bool = True) -> sp.Basic:
    """``expr`` with ``numbers`` put in, unevaluated. ``wrap`` keeps each number apart
    (so neighbouring numbers are not folded); a denominator is built without it, since
    a wrapped number is not commutative for SymPy and would stop the fraction forming."""
    if expr in numbers:
        return U(numbers[expr]) if wrap else numbers[expr]
    if not expr.args:
        return expr
    if isinstance(expr, sp.Mul) and any(_divisor(a) for a in expr.args):
        return _fraction(expr, numbers, wrap)
    if _divisor(expr):
        return _fraction(sp.Mul(sp.S.One, expr, evaluate=False), numbers, wrap)
    args = [shown(a, numbers, wrap) for a in expr.args]
    if isinstance(expr, sp.Add):
        args = args[:1] + [_minus(a) for a in args[1:]]
    with sp.evaluate(False):  # only around the constructor: SymPy's own queries need evaluation
        return expr.func(*args)


def _divisor(arg: sp.Basic) -> bool:
    return isinstance(arg, sp.Pow) and bool(arg.exp.is_negative)


def _minus(term: sp.Basic) -> sp.Basic:
    """A negative number added to others, as ``- 3/10``."""
    if isinstance(term, U) and term.args[0].is_Number and term.args[0].is_negative:
        return sp.Mul(sp.S.NegativeOne, U(-term.args[0]), evaluate=False)
    return term


def _product(factors: list[sp.Basic]) -> sp.Basic:
    return sp.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


def _fraction(expr: sp.Mul, numbers: Mapping[sp.Basic, sp.Basic], wrap: bool) -> sp.Basic:
    """``numerator / denominator`` with the numbers in, printed as a fraction."""
    sign = sp.S.NegativeOne in expr.args
    top = [a for a in expr.args if not _divisor(a) and a not in (sp.S.NegativeOne, sp.S.One)]
    bottom = [a.base if a.exp == -1 else sp.Pow(a.base, -a.exp, evaluate=False) for a in expr.args if _divisor(a)]
    upper = shown(_product(top), numbers, wrap) if top else U(sp.S.One)
    lower = shown(_product(bottom), numbers, wrap=False)
    frac = sp.Mul(U(upper) if isinstance(upper, sp.Mul) else upper, sp.Pow(lower, -1, evaluate=False),
                  evaluate=False)
    return sp.Mul(sp.S.NegativeOne, frac, evaluate=False) if sign else frac
