"""Numbers printed into generated code: always a Python literal that imports, whatever the
number (beyond float64's range, below it, infinite, undefined)."""
from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symderiv.kernels import compile_kernels, render_kernels
from symderiv.kernels.emit import literal, literals
from symderiv.model import Answer, Problem, Question, Sheet


def run(code: str) -> float:
    """The value of printed code, evaluated with nothing but ``float`` in scope."""
    return eval(compile(ast.parse(code, mode="eval"), "<literal>", "eval"), {"__builtins__": {}, "float": float})


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_round_trips(x):
    assert run(literal(x)) == x and "inf" not in literal(x)


@given(st.fractions(max_denominator=10**30))
def test_an_exact_number_is_its_nearest_float(q):
    value = sp.Rational(q.numerator, q.denominator)
    assert run(literal(value)) == float(value)


@pytest.mark.parametrize("number,expected", [
    (sp.Integer(10) ** 400 * 3, math.inf), (-sp.Rational(10 ** 400, 7), -math.inf),
    (sp.Rational(1, 10 ** 400), 0.0), (sp.Integer(2) ** 1024, math.inf),
    (sp.oo, math.inf), (-sp.oo, -math.inf), (float("inf"), math.inf), (float("-inf"), -math.inf)])
def test_beyond_float_range_is_a_literal_python_reads(number, expected):
    assert run(literal(number)) == expected


def test_nan_is_spelled_out():
    assert literal(sp.nan) == 'float("nan")' and math.isnan(run(literal(float("nan"))))


def test_huge_numbers_keep_their_digits():
    assert literal(sp.Integer(3) * 10 ** 400) == "3.0000000000000000e+400"
    assert literal(sp.Rational(-1, 7) * sp.Rational(1, 10 ** 399)) == "-1.4285714285714286e-400"


def test_nested_lists():
    assert literals([[1, sp.Rational(1, 2)], [sp.Integer(10) ** 400, 0]]) == \
        "[[1.0, 0.5], [1.0000000000000000e+400, 0.0]]"


def _problem_with_defaults(*values: sp.Basic) -> Sheet:
    """A formula answer whose symbols default to ``values`` (a family P[1], P[2], ... and a scalar)."""
    P, a = sp.Symbol("P"), sp.Symbol("a")
    family = sp.IndexedBase("P")
    givens = tuple((family[i], v) for i, v in enumerate(values, start=1)) + ((a, values[0]),)
    question = Question("1.1", "Huge", "", givens=givens, answers=(Answer("1.1.f", sp.Symbol("f"), a * P + 1),))
    return Sheet("huge", "huge", (Problem(1, "huge", "made_up", (question,)),))


def test_a_default_beyond_float_range_imports_and_computes_as_float64():
    huge = sp.Integer(10) ** 400 + 1
    sheet = _problem_with_defaults(huge, sp.Rational(1, 2))
    source = render_kernels(sheet)
    tree = ast.parse(source)  # the module parses; no bare name inf or nan in it
    assert not {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & {"inf", "nan"}
    f = compile_kernels(sheet)["problem1_f"]
    np.testing.assert_array_equal(f(), [math.inf, math.inf])
    assert f(a=2.0, P=3.0) == 7.0
