"""symderiv.check.numbers: the tolerance policy and the digits rule, against exact arithmetic."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.check.numbers import Tolerance, agrees_to_digits, digits_verdict, log10_abs, within
from symderiv.check.parse import Precision, read_answer


def typed(text: str) -> tuple[sp.Rational, Precision]:
    side = read_answer(text).answer
    return side.value, side.decimals[abs(side.value)]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(numerator=st.integers(1, 10**6), denominator=st.integers(1, 10**4), places=st.integers(1, 6))
def test_a_correctly_rounded_decimal_agrees_and_a_neighbour_does_not(numerator: int, denominator: int,
                                                                      places: int) -> None:
    exact = Fraction(numerator, denominator)
    rounded = round(Decimal(numerator) / Decimal(denominator), places)     # Python's decimal rounding
    value, precision = typed(f"{rounded:.{places}f}")
    assert agrees_to_digits(value, sp.Rational(numerator, denominator), precision)
    step = Fraction(1, 10**places)
    neighbour = Fraction(rounded) + step
    if abs(neighbour - exact) > step / 2:
        value, precision = typed(f"{Decimal(neighbour.numerator) / Decimal(neighbour.denominator):.{places}f}")
        assert not agrees_to_digits(value, sp.Rational(numerator, denominator), precision)


def test_figures_decide_between_correct_and_rounded() -> None:
    third = sp.Rational(1, 3)
    def verdict(text: str):
        value, precision = typed(text)
        return digits_verdict(value, third, precision, Tolerance())

    assert verdict("0.333")[0]
    ok, reason = verdict("0.33")
    assert not ok and "2 significant figures" in reason and "at least 3" in reason
    assert verdict("0.3") is not None
    assert verdict("0.34") is None     # does not agree at all


def test_floats_of_the_exact_value_agree() -> None:
    for exact in (sp.Rational(10, 3), sp.Rational(1, 7), sp.sqrt(2), sp.E):
        value, precision = typed(repr(float(exact)))
        assert agrees_to_digits(value, exact, precision)


def test_fixed_tolerances() -> None:
    assert within(sp.Rational(1001, 1000), sp.Integer(1), Tolerance.of(rtol=1e-3))
    assert not within(sp.Rational(1002, 1000), sp.Integer(1), Tolerance.of(rtol=1e-3))
    assert within(sp.Rational(11, 10), sp.Integer(1), Tolerance.of(atol=0.1))
    with pytest.raises(ValueError):
        Tolerance("tolerance")


@pytest.mark.parametrize("value, log", [
    (sp.Integer(10) ** 400, 400.0), (sp.Rational(1, 10**400), -400.0), (sp.Integer(3) ** 1000, 1000 * math.log10(3)),
    (sp.Rational(-5, 2), math.log10(2.5)), (sp.sqrt(2), math.log10(math.sqrt(2))),
])
def test_orders_of_magnitude_of_any_size(value: sp.Basic, log: float) -> None:
    assert log10_abs(value) == pytest.approx(log, rel=1e-9)
    assert log10_abs(sp.Integer(0)) is None
