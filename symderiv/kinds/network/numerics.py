"""Exact where it stays small, high precision where it would not.

The straight-line program is evaluated entry by entry. A value stays exact (a rational,
or a closed form such as ``1/(1 + e^{-3/8})``) while it is small: at most
:data:`EXACT_NODES` nodes in its expression tree and, for a rational, at most
:data:`EXACT_BITS` bits in numerator and denominator (about 60 digits). Past that it is
carried as a SymPy ``Float`` of :data:`DIGITS` significant digits, and so is everything
computed from it. Exact arithmetic on sigmoid and tanh layers otherwise nests
exponentials inside exponentials and grows without bound (a 1-3-3-3-1 sigmoid network
took 24 s and a 31 KB expression for one gradient; one more layer, over 400 s).

Why 40 digits: the answers are printed with at most 15 significant digits, and a
straight-line program of a few thousand operations loses at most a few digits to
rounding (more only where a difference cancels, such as ``y_hat - y`` with ``y_hat``
within 1e-20 of ``y``), so every printed digit is certain with room to spare.
A value that is numeric says so: its expression holds a ``Float``.
"""
from __future__ import annotations

import mpmath
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.algebra import node_count

#: A value with more expression nodes than this is carried as a float.
EXACT_NODES = 40

#: A rational whose numerator or denominator has more bits than this (~60 digits) too.
EXACT_BITS = 200

#: Significant digits of the floats that replace large values.
DIGITS = 40


class Evaluator:
    """Runs assignments under the policy.

    With rational inputs an assignment is computed exactly (rational arithmetic is cheap;
    :func:`settle` bounds the digits). Once an input is a float, or an exact closed form
    whose expression would grow past :data:`EXACT_NODES` nodes with the inputs put in, the
    assignment is computed from floats instead, by mpmath on the expression tree (never
    built exactly, and without SymPy's arithmetic on the way).
    """

    def __init__(self) -> None:
        self.env: dict = {}
        self.sizes: dict = {}
        self.numbers: dict = {}

    def set(self, target: sp.Basic, value: sp.Basic) -> None:
        self.env[target] = value
        self.sizes[target] = 0 if isinstance(value, sp.Rational) else (
            -1 if isinstance(value, sp.Float) else node_count(value, EXACT_NODES))

    def run(self, target: sp.Basic, expr: sp.Basic) -> sp.Basic:
        atoms = [a for a in _atoms(expr) if a in self.env]
        sizes = [self.sizes[a] for a in atoms]
        exact = all(size == 0 for size in sizes) or (
            min(sizes, default=0) >= 0 and node_count(expr, EXACT_NODES) + sum(sizes) <= EXACT_NODES)
        if exact:
            value = settle(expr.xreplace(self.env))
        else:
            with mpmath.workdps(DIGITS):
                number = _evaluate(expr, {a: self._number(a) for a in atoms})
                value = number if isinstance(number, sp.Rational) else sp.Float(number, DIGITS)
        self.set(target, value)
        return value

    def _number(self, atom: sp.Basic):
        if atom not in self.numbers:
            value = self.env[atom]
            self.numbers[atom] = value if isinstance(value, sp.Rational) else mpmath.mpf(
                value._mpf_ if isinstance(value, sp.Float) else sp.Float(value.evalf(DIGITS), DIGITS)._mpf_)
        return self.numbers[atom]


def _atoms(expr: sp.Basic) -> set:
    """The entries an expression reads (matrix entries, indexed entries, scalar symbols)."""
    return expr.atoms(MatrixElement, sp.Indexed, sp.Symbol)


def _mp(value):
    """A rational as an mpmath number (floats and mpmath numbers pass through)."""
    if isinstance(value, sp.Rational):
        return mpmath.mpf(int(value.p)) / int(value.q)
    return value


def _evaluate(expr: sp.Basic, env: dict):
    """``expr`` at the given numbers, by mpmath on its tree. An exact 0 or 1 of a step
    function (ReLU's derivative, a max-pool route) stays exact; anything else is mpmath."""
    if expr in env:
        return env[expr]
    if expr.is_Number:
        return expr
    args = [_evaluate(a, env) for a in expr.args]
    rule = _MP.get(type(expr).__name__)
    if rule is None:
        raise NotImplementedError(f"no numeric rule for {type(expr).__name__}")
    return rule(expr, args)


def _sum(expr, args):
    exact = [a for a in args if isinstance(a, sp.Rational)]
    rest = [a for a in args if not isinstance(a, sp.Rational)]
    return sp.Add(*exact) if not rest else mpmath.fsum([_mp(a) for a in args])


def _product(expr, args):
    if any(isinstance(a, sp.Rational) and a == 0 for a in args):
        return sp.Integer(0)
    if all(isinstance(a, sp.Rational) for a in args):
        return sp.Mul(*args)
    return mpmath.fprod([_mp(a) for a in args])


def _power(expr, args):
    base, exp = args
    if all(isinstance(a, sp.Rational) for a in args) and exp.is_Integer:
        return base ** exp
    return mpmath.power(_mp(base), _mp(exp))


def _step(expr, args):
    value = args[0]
    at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
    return sp.Integer(1) if value > 0 else sp.Integer(0) if value < 0 else at_zero


def _largest(expr, args):
    return max(args, key=_mp)


def _smallest(expr, args):
    return min(args, key=_mp)


def _function(name):
    f = getattr(mpmath, name)
    return lambda expr, args: f(_mp(args[0]))


_MP = {"Add": _sum, "Mul": _product, "Pow": _power, "Heaviside": _step, "Max": _largest, "Min": _smallest,
       "exp": _function("exp"), "log": _function("log"), "tanh": _function("tanh"), "sqrt": _function("sqrt")}


def settle(value: sp.Basic) -> sp.Basic:
    """``value`` itself while it is small, else the same number to :data:`DIGITS` digits."""
    if isinstance(value, (sp.Float, sp.Integer)) or not isinstance(value, sp.Expr):
        return value
    if isinstance(value, sp.Rational):
        small = max(abs(value.p).bit_length(), value.q.bit_length()) <= EXACT_BITS
        return value if small else sp.Float(value, DIGITS)
    if value.has(sp.Float) or _larger_than(value, EXACT_NODES):
        return sp.Float(value.evalf(DIGITS), DIGITS) if value.is_number else value
    return value


def _larger_than(expr: sp.Basic, limit: int) -> bool:
    """Whether the expression tree has more than ``limit`` nodes (stops counting early)."""
    return node_count(expr, limit) > limit


