"""The generic constraints on a variant's answers, against naive checks written out in the oracle."""
from __future__ import annotations

from fractions import Fraction

import pytest
import reference_variants as ref
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.model import Answer, Problem, Question
from symderiv.variants.constraints import Constraints


def problem(*values) -> Problem:
    """A problem of one question whose answers are ``values`` (ids 1.1.a0, 1.1.a1, ...)."""
    answers = tuple(Answer(f"1.1.a{i}", sp.Symbol(f"a{i}"), v) for i, v in enumerate(values))
    return Problem(1, "t", "none", (Question("1.1", "q", "p", answers=answers),))


def failed(constraints: Constraints, *values) -> list[str]:
    return [name for name, _ in constraints.failures(problem(*values))]


ONLY = {name: Constraints(distinguishable=False, **{name: value})
        for name, value in (("integral", True), ("max_decimals", 2), ("max_abs", sp.Integer(10)))}
SLIPS = Constraints(distinguishable=True)


@pytest.mark.parametrize("value, slip_free", [
    (sp.Integer(3), True),
    (sp.Integer(0), False),                       # its own negative
    (sp.Rational(1, 2), False),                   # -1/2 = 1/2 - 1
    (sp.Rational(-1, 2), False),
    (sp.Rational(1, 9), False),                   # 10/9 = 1/9 + 1
    (sp.Rational(-1, 9), False),
    (sp.Matrix([[1, 2], [2, 5]]), False),         # symmetric: transposed is right
    (sp.Matrix([[0, 2], [-2, 0]]), False),        # antisymmetric: transposed is the negative
    (sp.Matrix([[1, 2], [3, 5]]), True),
    (sp.Matrix([[0, 0, 0]]), False),              # a zero gradient
    (sp.Matrix([[0, 1, 0]]), True),
    (sp.Matrix([[4]]), True),                     # 1x1: a number
    (sp.Matrix([[sp.Rational(1, 2)], [sp.Rational(1, 2)]]), False),
    (sp.Symbol("n") + 1, True),                   # a formula: not a numeric answer
])
def test_slips_must_stay_distinguishable(value, slip_free):
    assert (failed(SLIPS, value) == []) is slip_free


def test_an_irrational_answer_is_compared_within_the_tolerance():
    assert failed(SLIPS, sp.exp(-3)) == []
    assert failed(SLIPS, sp.sqrt(2) / 10**6 - sp.sqrt(2) / 10**6) == ["distinguishable"]  # exactly 0
    near_ninth = sp.Rational(1, 9) + sp.exp(-20)   # 10v and v + 1 differ by 9e-9: indistinguishable
    assert failed(SLIPS, near_ninth) == ["distinguishable"]


@pytest.mark.parametrize("value, fails", [
    (sp.Integer(8), []),
    (sp.Rational(1, 4), ["integral"]),
    (sp.Rational(1, 8), ["integral", "max_decimals"]),
    (sp.Rational(1, 3), ["integral", "max_decimals", ]),
    (sp.Integer(-11), ["max_abs"]),
    (sp.Matrix([[1, sp.Rational(21, 2)]]), ["integral", "max_abs"]),
    (sp.exp(1), ["integral", "max_decimals"]),
])
def test_integral_decimals_and_size(value, fails):
    assert [name for name, c in ONLY.items() if failed(c, value)] == fails


ENTRY = st.sampled_from([0, 1, -1, 2, 3, -5, Fraction(1, 2), Fraction(-1, 2), Fraction(1, 9), Fraction(-1, 9),
                         Fraction(5, 4), Fraction(1, 3), 120, 1001])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_fuzz_matches_the_naive_checks(rows, cols, data):
    entries = [[data.draw(ENTRY) for _ in range(cols)] for _ in range(rows)]
    if data.draw(st.booleans()) and rows == cols:
        entries = [[entries[min(i, j)][max(i, j)] for j in range(cols)] for i in range(rows)]  # symmetric
    value = sp.Matrix(entries) if (rows, cols) != (1, 1) else sp.nsimplify(entries[0][0])
    exact = [[Fraction(e) for e in row] for row in entries]
    expected = {"distinguishable": not ref.distinguishable(exact), "integral": not ref.integral(exact),
                "max_decimals": not ref.decimals_at_most(exact, 2), "max_abs": not ref.within(exact, Fraction(10))}
    assert ("distinguishable" in failed(SLIPS, value)) is expected["distinguishable"]
    for name, constraints in ONLY.items():
        assert bool(failed(constraints, value)) is expected[name], name


def test_reasons_name_the_answer():
    ((name, why),) = SLIPS.failures(problem(sp.Integer(5), sp.Matrix([[1, 2], [2, 1]])))
    assert name == "distinguishable" and why.startswith("1.1.a1 = [[1, 2], [2, 1]]") and "transpose" in why
