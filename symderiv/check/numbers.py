"""How numbers are compared: a tolerance policy, and the rule for decimals as typed.

A student who writes ``3.33`` for 10/3 or ``0.8808`` for sigmoid(2) has given the value
to the digits they wrote; a checker that compares decimals exactly calls that wrong,
and one with a blanket relative tolerance accepts ``3.3`` as readily as ``3.333``. The
default policy here, :data:`DIGITS`, asks what a person marking by hand asks:

* a decimal is **correct** when it agrees with the exact value to the digits given
  (within half a unit of its last digit, so ``0.977`` for 125/128 = 0.9765625 and
  ``3.33`` for 10/3, but not the truncated ``0.976``) and has at least
  ``sig_figs`` (3) significant figures;
* one that agrees but has fewer figures (``3.3``) is not correct, and is diagnosed
  ``rounded`` with a note asking for more figures;
* an integer or a fraction is compared exactly, and so is a formula.

The digits are those typed (``0.50`` has two figures), so the parser reports them
(:class:`~symderiv.check.parse.Precision`). A float computed by a program (the key's
own ``value``, ``0.1 + 0.2``) is also within the last bits of a float of the exact
value, which counts as agreeing. Irrational values (sigmoid, logarithms, square roots)
are compared the same way against their value to 30 digits.

Other policies: :data:`EXACT` (decimals must equal the value exactly), ``Tolerance(
sig_figs=4)`` (the digits rule with more figures), ``Tolerance(rtol=1e-3)`` and
``Tolerance(atol=0.01)`` (a fixed tolerance, for exact numbers too).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import sympy as sp

from symderiv.check.parse import Precision

DIGITS = 30
"""Working precision (decimal digits) of numeric evaluation."""
DEFAULT_RTOL = 1e-9
"""Relative tolerance when a float is involved and the policy names none."""
FLOAT_SLACK = 4 * 2.0**-53
"""Relative distance a float computed from the exact value may have from it (a few units
in the last place of a float64)."""


@dataclass(frozen=True)
class Tolerance:
    """How numbers are compared; see the module docstring.

    ``mode`` is ``digits`` (the default rule, ``sig_figs`` figures at least), ``exact``,
    or ``tolerance`` (``rtol``/``atol``: within ``max(atol, rtol * |expected|)``).
    """

    mode: Literal["digits", "exact", "tolerance"] = "digits"
    sig_figs: int = 3
    rtol: float | None = None
    atol: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("digits", "exact", "tolerance"):
            raise ValueError(f"unknown tolerance mode {self.mode!r}")
        if self.mode == "tolerance" and self.rtol is None and self.atol is None:
            raise ValueError("a tolerance needs rtol or atol")

    @classmethod
    def of(cls, rtol: float | None = None, atol: float | None = None) -> Tolerance:
        """A fixed tolerance (``rtol`` relative, ``atol`` absolute)."""
        return cls("tolerance", rtol=rtol, atol=atol)

    def describe(self) -> str:
        if self.mode == "tolerance":
            parts = [f"rtol={self.rtol:g}" if self.rtol is not None else "", f"atol={self.atol:g}"
                     if self.atol is not None else ""]
            return "within " + ", ".join(p for p in parts if p)
        return "exact" if self.mode == "exact" else f"to the digits given (at least {self.sig_figs} figures)"


DIGITS_RULE = Tolerance()
"""The default: decimals to the digits given, with at least 3 significant figures."""
EXACT = Tolerance("exact")
"""Decimals must equal the exact value."""


def numeric(value: sp.Basic) -> sp.Basic | None:
    """An exact Rational, or a number evaluated to ``DIGITS`` digits; None if undefined.

    Evaluations are remembered: an irrational key value (a sigmoid network's gradient)
    can take a fifth of a second, and a class compares many answers with it.
    """
    if value.is_Rational:
        return value
    try:
        return _evaluated(value)
    except TypeError:  # not hashable: evaluate every time
        return _evaluate(value)


@lru_cache(maxsize=4096)
def _evaluated(value: sp.Basic) -> sp.Basic | None:
    return _evaluate(value)


def _evaluate(value: sp.Basic) -> sp.Basic | None:
    try:
        number = value.evalf(DIGITS)
    except (ArithmeticError, TypeError, ValueError, AttributeError):
        return None
    if not number.is_number or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return number


def within(answer: sp.Basic, expected: sp.Basic, tolerance: Tolerance) -> bool:
    """``|answer - expected| <= max(atol, rtol * |expected|)`` (evaluated numerically)."""
    a, e = numeric(answer), numeric(expected)
    if a is None or e is None:
        return False
    rtol = tolerance.rtol if tolerance.rtol is not None else (DEFAULT_RTOL if tolerance.atol is None else 0)
    return bool(abs(a - e) <= max(tolerance.atol or 0, rtol * abs(e)))


def agrees_to_digits(answer: sp.Rational, expected: sp.Basic, precision: Precision) -> bool:
    """Whether a typed decimal agrees with ``expected`` to its last digit (half a unit), or
    is within a float's rounding of it."""
    e = numeric(expected)
    if e is None or not _is_real_number(e):
        return False
    distance = abs(answer - e)
    return bool(distance <= precision.last / 2 or distance <= FLOAT_SLACK * abs(answer))


def digits_verdict(answer: sp.Rational, expected: sp.Basic, precision: Precision,
                   tolerance: Tolerance) -> tuple[bool, str] | None:
    """The digits rule for one typed decimal: (correct, reason), or None when the decimal
    does not agree with the value to its digits (then it is simply not equal)."""
    if not agrees_to_digits(answer, expected, precision):
        return None
    if precision.figures >= tolerance.sig_figs or answer == expected:
        return True, f"agrees with {short(expected)} to the {precision.figures} significant figures given"
    return False, (f"agrees with {short(expected)} only to the {precision.figures} significant "
                   f"figure{'s' if precision.figures != 1 else ''} given; give at least {tolerance.sig_figs}")


def short(value: sp.Basic) -> str:
    """A value for a sentence: exact when short (``10/3``), else 6 significant figures."""
    text = sp.sstr(value) if value.is_Rational and max(abs(value.p), value.q) < 10**12 else None
    if text is not None:
        return text
    number = numeric(value)
    return "an undefined value" if number is None else f"{sp.Float(number, 6)}"


def _is_real_number(number: sp.Basic) -> bool:
    return bool(number.is_Rational or abs(sp.im(number)) <= sp.Float(10) ** (8 - DIGITS) * max(1, abs(number)))


def log10_abs(value: sp.Basic) -> float | None:
    """log10 of |value| for any size of exact number (1e400 and 1e-400 included); None for 0
    or what has no numeric value."""
    if value.is_Rational:
        if value == 0:
            return None
        return _log10_int(abs(value.p)) - _log10_int(value.q)
    number = numeric(value)
    if number is None or number == 0 or not _is_real_number(number):
        return None
    return float(sp.log(abs(sp.re(number)), 10).evalf(15))


def _log10_int(n: int) -> float:
    """log10 of a positive integer of any size (a float cannot hold 10**400)."""
    shift = max(n.bit_length() - 53, 0)
    return math.log10(n >> shift) + shift * math.log10(2)
