"""The number policy: how every renderer prints a number, written once.

Exact values stay the truth (the key's ``exact``, the kernels, grading); this module
decides only what a reader sees:

* integers exactly; short fractions exactly (``\\frac{5}{8}``), and where a value stands
  alone (the end of a step, an answer) followed by their decimal (``= 0.625``,
  ``\\approx 3.333``);
* a finite decimal of at most :data:`EXACT_DIGITS` significant digits exactly
  (``0.9765625``), when it is no fraction a person would rather read;
* everything else (long fractions, ``e``, logarithms, sigmoid values, floats) as a
  decimal of ``digits`` significant digits (default 4), marked as rounded so the
  relation before it becomes ``\\approx``;
* a number the spec wrote as a decimal (:class:`~symderiv.model.GivenDecimal`) prints as
  that decimal; a problem whose spec wrote decimals (``decimals``) prints every finite
  decimal as one where the expression is all numbers (a formula keeps ``\\frac{1}{2}``).

Numeric subexpressions that SymPy has evaluated (no unevaluated substitution left in
them) and that are long (``\\frac{1}{1 + e^{-\\frac{151}{400}}}``) print as their decimal:
a step shows ``\\sigma(0.3775) \\approx 0.5933``, never a nested closed form.
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import mpmath
import sympy as sp
from mpmath.libmp import prec_to_dps

#: A finite decimal with at most this many significant digits is printed exactly.
EXACT_DIGITS = 8

#: A fraction p/q with at most this many digits in p and q together is short.
SHORT_FRACTION = 6

#: A numeric closed form with more nodes than this (1/(1 + e^{-x}) has 6) prints as a decimal.
SHORT_FORM = 4

#: Positional notation for magnitudes from 10^MIN_FIXED up; below, m \cdot 10^{e}.
MIN_FIXED = -4

#: Digits the default policy shows; ``[sheet] digits`` and a problem's ``digits`` change it.
DEFAULT_DIGITS = 4


@dataclass(frozen=True)
class Shown:
    """A number as printed: its LaTeX, and whether it was rounded (then it is ``\\approx``)."""

    text: str
    rounded: bool = False


def finite_decimal(r: sp.Rational) -> Decimal | None:
    """``r`` as an exact Decimal when its expansion ends within :data:`EXACT_DIGITS` significant digits."""
    q = int(r.q)
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q != 1:
        return None
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        value = (Decimal(int(r.p)) / Decimal(int(r.q))).normalize()
    return value if len(value.as_tuple().digits) <= EXACT_DIGITS else None


#: mpmath's functions by SymPy's function names, for :func:`numeric_value`.
_MPMATH = {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "sinh": mpmath.sinh, "cosh": mpmath.cosh,
           "sin": mpmath.sin, "cos": mpmath.cos, "atan": mpmath.atan, "Abs": abs}

#: Guard digits beyond those printed: enough that rounding to ``digits`` is right.
GUARD = 20


@lru_cache(maxsize=1 << 16)
def numeric_value(expr: sp.Basic, dps: int) -> mpmath.mpf:
    """``expr`` (a number) evaluated at ``dps`` digits, memoised per subexpression.

    Exact network values share subtrees (every gradient entry holds the forward values);
    SymPy's ``evalf`` re-evaluates each with adaptive precision, which took minutes for a
    tanh/softmax sheet. Straight evaluation with :data:`GUARD` spare digits prints the
    same 4 or 15 digits in milliseconds.
    """
    with mpmath.workdps(dps):
        if isinstance(expr, sp.Rational):
            return mpmath.mpf(int(expr.p)) / int(expr.q)
        if isinstance(expr, (sp.Float, sp.NumberSymbol)):
            return mpmath.mpf(expr.evalf(dps))
        args = [numeric_value(a, dps) for a in expr.args]
        if isinstance(expr, sp.Add):
            return mpmath.fsum(args)
        if isinstance(expr, sp.Mul):
            return mpmath.fprod(args)
        if isinstance(expr, sp.Pow):
            return args[0] ** args[1]
        if expr.func.__name__ in _MPMATH:
            return _MPMATH[expr.func.__name__](*args)
        return mpmath.mpf(expr.evalf(dps))


def is_real_number(expr: sp.Basic) -> bool:
    """Whether a number evaluates to a finite real (not complex, not infinite)."""
    try:
        value = numeric_value(expr, DEFAULT_DIGITS + GUARD)
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return isinstance(value, mpmath.mpf) and bool(mpmath.isfinite(value))


def rounded(value: sp.Basic, digits: int) -> Decimal:
    """``value`` rounded half up to ``digits`` significant digits (rationals from their exact
    quotient, anything else from an evaluation with :data:`GUARD` more digits)."""
    with decimal.localcontext() as ctx:
        ctx.prec = digits + 30
        if isinstance(value, sp.Rational):
            exact = Decimal(int(value.p)) / Decimal(int(value.q))
        else:
            exact = Decimal(mpmath.nstr(numeric_value(value, digits + GUARD), digits + GUARD))
        ctx.prec, ctx.rounding = digits, decimal.ROUND_HALF_UP
        return +exact  # its trailing zeros kept: 58.40 (see latex_decimal)


def latex_decimal(value: Decimal, keep_zeros: bool = False) -> str:
    """A Decimal as LaTeX: ``0.5933``, ``-12.5``, ``2.075 \\cdot 10^{-7}``. Trailing zeros are
    dropped, except, with ``keep_zeros``, those of a rounded value (``58.40``: four digits)."""
    if not keep_zeros or value == 0 or value.as_tuple().exponent > 0:  # type: ignore[operator]
        value = value.normalize()
    if value == 0:
        return "0"
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int)  # finite
    magnitude = len(digits) + exp - 1  # the power of ten of the leading digit
    head = "-" if sign else ""
    if magnitude >= MIN_FIXED and exp <= 0 or 0 < exp and magnitude < 15:
        return head + format(abs(value), "f")
    mantissa = Decimal((0, digits, -(len(digits) - 1)))
    mantissa = mantissa if keep_zeros else mantissa.normalize()
    if mantissa == 1 and not keep_zeros:
        return rf"{head}10^{{{magnitude}}}"  # 10^{-5}, not 1 \cdot 10^{-5}
    return rf"{head}{format(mantissa, 'f')} \cdot 10^{{{magnitude}}}"


def short_fraction(r: sp.Rational) -> bool:
    """Whether ``p/q`` is short enough to read as a fraction (``125/128`` yes, ``2001/200000`` no)."""
    return len(str(abs(int(r.p)))) + len(str(int(r.q))) <= SHORT_FRACTION


def fraction_text(r: sp.Rational) -> str:
    """``\\frac{p}{q}`` with a leading ``-`` outside (as SymPy prints a Rational)."""
    sign = "- " if r.p < 0 else ""
    return rf"{sign}\frac{{{abs(int(r.p))}}}{{{int(r.q)}}}"


@dataclass(frozen=True)
class NumberPolicy:
    """How numbers print in one problem: ``digits`` significant digits where a number is
    rounded; ``decimals``: the problem's spec wrote decimals, so finite decimals print as
    decimals in all-number expressions."""

    digits: int = DEFAULT_DIGITS
    decimals: bool = False

    def rational(self, r: sp.Rational, numeric: bool) -> Shown:
        """A Rational that is not an integer, in an all-number expression (``numeric``) or a formula."""
        exact = finite_decimal(r)
        if exact is not None and self.decimals and numeric:
            return Shown(latex_decimal(exact))
        if short_fraction(r):
            return Shown(fraction_text(r))
        if exact is not None:
            return Shown(latex_decimal(exact))
        return self.approximate(r)

    def decimal(self, r: sp.Rational) -> Shown:
        """A Rational as a decimal: exactly when finite and short, else rounded."""
        exact = finite_decimal(r)
        return Shown(latex_decimal(exact)) if exact is not None else self.approximate(r)

    def approximate(self, value: sp.Basic) -> Shown:
        """``value`` to :attr:`digits` significant digits, marked rounded unless that is exact."""
        near = rounded(value, self.digits)
        exact = isinstance(value, sp.Rational) and Decimal(int(value.p)) / Decimal(int(value.q)) == near
        return Shown(latex_decimal(near, keep_zeros=not exact), rounded=not exact)

    def float(self, x: sp.Float) -> Shown:
        """A Float (a measured value or a high-precision numeric one): a short decimal as it is,
        else :attr:`digits` significant digits."""
        digits = max(1, min(15, prec_to_dps(x._prec)))
        near = rounded(x, digits).normalize()
        if len(near.as_tuple().digits) <= min(EXACT_DIGITS, digits):
            return Shown(latex_decimal(near))
        return Shown(latex_decimal(rounded(x, min(self.digits, digits)), keep_zeros=True), rounded=True)


