"""Estimates of how many digits a SymPy expression's numbers have, without computing them.

``9^9^9^9`` is a short string whose value has more digits than there are atoms
in the universe; SymPy would try to compute it eagerly.  The builder asks these
estimates first and refuses what would be too large (see :mod:`.builder`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy

LOG10_2 = math.log10(2)
LOG10_E = math.log10(math.e)


def log10_int(n: int) -> float:
    """log10 of |n| (0 for 0), exact enough and safe for huge integers."""
    n = abs(int(n))
    if n == 0:
        return 0.0
    return math.log10(n) if n.bit_length() < 1000 else n.bit_length() * LOG10_2


def digit_count(n: int) -> int:
    """Decimal digits of |n|: exact for ordinary sizes, estimated for enormous ones."""
    n = abs(int(n))
    return len(str(n)) if n.bit_length() < 10_000 else int(n.bit_length() * LOG10_2) + 1


def pow10(x: float) -> float:
    """10**x, or infinity where a float would overflow."""
    return 10.0 ** x if x < 300 else math.inf


def abs_float(number: sympy.Basic) -> float:
    """|number| as a float, infinity when it has no float value."""
    try:
        return abs(float(number))
    except (OverflowError, TypeError, ValueError):
        return math.inf


def power_size(exponent: sympy.Basic, base_size: float, exponent_size: float) -> float:
    """Digits of base**exponent: |log10 base| times |exponent|, whichever is larger."""
    if base_size == 0.0:
        return exponent_size
    factor = abs_float(exponent) if exponent.is_Number else pow10(exponent_size)
    return max(base_size * factor, exponent_size)


def atom_size(expr: sympy.Basic) -> float:
    """The size of a leaf: |log10| of a number, 0 for a symbol, 1 for anything else."""
    if expr.is_Rational:
        return max(log10_int(expr.p), log10_int(expr.q))
    if expr.is_Float:
        value = abs_float(expr)
        return 0.0 if value == 0.0 else abs(math.log10(value))
    return 0.0 if expr.is_Symbol else 1.0


@dataclass
class Sizes:
    """Upper estimates of |log10| of the numbers in an expression (symbols count as 1).

    Call it with an expression.  The estimate follows the tree: a sum adds a
    little, a product adds, a power multiplies by the exponent, ``exp``
    exponentiates.  It is cached because each step of a long sum looks at the
    same terms again.
    """

    known: dict[sympy.Basic, float] = field(default_factory=dict, repr=False)

    def __call__(self, expr: sympy.Basic) -> float:
        size = self.known.get(expr)
        if size is None:
            size = self.known[expr] = self._estimate(expr)
        return size

    def _estimate(self, expr: sympy.Basic) -> float:
        if not expr.args:
            return atom_size(expr)
        parts = [self(arg) for arg in expr.args]
        if expr.is_Add:
            return max(parts) + math.log10(len(parts))
        if expr.is_Mul:
            return sum(parts)
        if expr.is_Pow:
            return power_size(expr.exp, parts[0], parts[1])
        if isinstance(expr, sympy.exp):
            return max(pow10(parts[0]) * LOG10_E, parts[0])
        return max(parts) + 1.0
