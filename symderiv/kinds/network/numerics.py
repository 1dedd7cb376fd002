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

import sympy as sp

#: A value with more expression nodes than this is carried as a float.
EXACT_NODES = 40

#: A rational whose numerator or denominator has more bits than this (~60 digits) too.
EXACT_BITS = 200

#: Significant digits of the floats that replace large values.
DIGITS = 40


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
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > limit:
            return True
    return False


def is_numeric(value: sp.Basic) -> bool:
    """Whether a value (number, matrix or N-d array) was carried as a float anywhere."""
    return isinstance(value, sp.Basic) and value.has(sp.Float)
