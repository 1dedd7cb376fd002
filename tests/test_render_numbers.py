"""The number policy: what a reader sees for each kind of number, in one place for every
renderer, and the key's ``display`` and ``numeric`` fields."""
from __future__ import annotations

import json
from fractions import Fraction

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.model import Answer, GivenDecimal, Problem, Question, Sheet
from symderiv.render.key import render_key
from symderiv.render.numbers import NumberPolicy
from symderiv.render.walker import SheetWalker


def shown(value, **numbers) -> str:
    """How a value standing alone prints: ``= a = b`` or ``\\approx b``."""
    walker = SheetWalker()
    walker.use_printer({}, numbers)
    return " ".join(f"{rel} {text}" for rel, text in walker.value_rows(value))


def test_the_policy_table():
    assert shown(sp.Integer(59)) == "= 59"
    assert shown(sp.Rational(5, 8)) == r"= \frac{5}{8} = 0.625"
    assert shown(sp.Rational(10, 3)) == r"= \frac{10}{3} \approx 3.333"
    assert shown(sp.Rational(125, 128)) == r"= \frac{125}{128} = 0.9765625"
    assert shown(sp.Rational(2001, 200000)) == "= 0.010005"
    assert shown(sp.Rational(1, 200000)) == r"= 5 \cdot 10^{-6}"
    assert shown(sp.Rational(1, 100000)) == "= 10^{-5}"  # a power of ten, not 1 times one
    assert shown(-sp.Rational(1, 10**8)) == "= -10^{-8}"
    assert shown(sp.Rational(-1234, 4567)) == r"\approx -0.2702"
    assert shown(1 / (1 + sp.exp(-sp.Rational(151, 400)))) == r"\approx 0.5933"
    assert shown(sp.Rational(151, 400), decimals=True) == "= 0.3775"
    assert shown(sp.Rational(10, 3), digits=6) == r"= \frac{10}{3} \approx 3.33333"
    assert shown(GivenDecimal(sp.Rational(19, 20))) == "= 0.95"
    assert shown(sp.sqrt(2)) == r"= \sqrt{2} \approx 1.414"


def test_floats_print_short_decimals_exactly_and_the_rest_rounded():
    assert shown(sp.Float(0.1) + sp.Float(0.2)) == "= 0.3"
    assert shown(sp.Float("0.593269992107187345", 30)) == r"\approx 0.5933"
    assert shown(sp.Float(6.74, 4)) == "= 6.74"
    assert shown(sp.Float("58.4039750", 30)) == "= 58.403975"      # short: as it is
    assert shown(sp.Float("58.40397501234", 30)) == r"\approx 58.40"   # a rounded value keeps its zeros


def test_substitutions_show_the_decimals_that_go_in_and_come_out():
    a = 2 / (5 * (1 + sp.exp(-sp.Rational(151, 400)))) + sp.Rational(3, 5)
    walker = SheetWalker()
    assert walker.math(sp.Function("sigma")(a)) == r"\sigma{\left(0.8373 \right)}"
    q = sp.Symbol("q")
    with sp.evaluate(False):
        written = sp.log(1 - q).xreplace({q: GivenDecimal(sp.Rational(1, 20))})
    assert walker.math(written) == r"\log{\left(1 - 0.05 \right)}"   # a substitution stays written out


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**9, 10**9), st.integers(1, 10**9), st.integers(1, 8))
def test_rounding_is_half_up_to_the_significant_digits(p, q, digits):
    value = Fraction(p, q)
    if value == 0:
        return
    text = NumberPolicy(digits).approximate(sp.Rational(p, q)).text
    mantissa, _, power = text.partition(r" \cdot 10^{")
    printed = Fraction(mantissa) * Fraction(10) ** int(power.rstrip("}") or 0)
    # independent: the nearest number with `digits` significant digits, ties away from zero
    scale = Fraction(10) ** (digits - _magnitude(value) - 1)
    expected = Fraction(int(abs(value) * scale + Fraction(1, 2)), 1) / scale * (1 if value > 0 else -1)
    assert printed == expected, (value, text)


def _magnitude(value: Fraction) -> int:
    """floor(log10 |value|), exactly."""
    value, power = abs(value), 0
    while value >= 10:
        value, power = value / 10, power + 1
    while value < 1:
        value, power = value * 10, power - 1
    return power


def test_key_has_the_printed_display_and_marks_float_answers():
    x = sp.Symbol("x")
    answers = (Answer("1.1.third", x, sp.Rational(1, 3)), Answer("1.1.sig", x, sp.Float("0.59326999210718", 30)),
               Answer("1.1.whole", x, sp.Integer(4)))
    sheet = Sheet("k", "k", (Problem(1, "p", "none", (Question("1.1", "q", "", answers=answers),)),))
    key = json.loads(render_key(sheet))
    assert key["1.1.third"]["display"] == r"\frac{1}{3} \approx 0.3333" and key["1.1.third"]["latex"] == r"\frac{1}{3}"
    assert key["1.1.sig"]["display"] == r"\approx 0.5933" and key["1.1.sig"]["numeric"] is True
    assert key["1.1.sig"]["value"] == 0.59326999210718
    assert key["1.1.whole"] == {"latex": "4", "exact": "4", "display": "4", "value": 4}
