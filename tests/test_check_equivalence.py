"""symderiv.check.equivalent: numbers, matrices, formulas, matrix expressions, bounds.

Expectations come from the tests' own arithmetic (Python integers and Fractions,
brute force over integer grids), never from symderiv's output.
"""
from __future__ import annotations

import dataclasses
import itertools
import random
import re
import time
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.check import Result, equivalent
from symderiv.check.equivalence import MAX_SECONDS
from symderiv.check.numbers import Tolerance

#: Seconds allowed beyond a budget on a loaded machine: the bounds below detect hangs (the
#: unbounded comparisons take minutes), they do not time the checker.
SLACK = 10.0

VERDICTS = {"correct", "incorrect", "unparseable", "too_large", "not_finite", "wrong_shape"}
n, k, p, s = sp.symbols("n k p s", integer=True, positive=True)
x, y = sp.symbols("x y")
N_OUT = sp.floor((n + 2 * p - k) / s) + 1


# ---- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("answer, reference, verdict", [
    ("1/3", sp.Rational(1, 3), "correct"),
    ("2/6", Fraction(1, 3), "correct"),
    ("0.3333", sp.Rational(1, 3), "correct"),         # a decimal to the digits given (4 figures)
    ("0.33", sp.Rational(1, 3), "incorrect"),         # only 2 figures
    ("0.3334", sp.Rational(1, 3), "incorrect"),       # not 1/3 to the digits given
    ("5e-6", sp.Rational(1, 200000), "correct"),       # decimals are exact
    ("sqrt(2)/2", 1 / sp.sqrt(2), "correct"),
    ("sqrt(8)", 2 * sp.sqrt(2), "correct"),
    ("sqrt(2)", sp.Rational(141421, 100000), "incorrect"),
    (4, sp.Integer(4), "correct"),
    (-4, sp.Integer(4), "incorrect"),
])
def test_exact_numbers(answer, reference, verdict) -> None:
    assert equivalent(answer, reference).verdict == verdict


def test_floats_use_a_relative_tolerance_by_default() -> None:
    third = sum([0.1] * 3) / 0.9  # 1/3 with rounding error
    assert equivalent(third, sp.Rational(1, 3)).equivalent
    assert not equivalent(0.3334, sp.Rational(1, 3)).equivalent
    assert equivalent(1 / 3 * (1 + 1e-11), 1 / 3).equivalent
    assert not equivalent(1 / 3 * (1 + 1e-7), 1 / 3).equivalent


def test_caller_tolerances_apply_to_exact_numbers_too() -> None:
    assert equivalent("0.3333", sp.Rational(1, 3), rtol=1e-3).equivalent
    assert not equivalent("0.33", sp.Rational(1, 3), rtol=1e-3).equivalent
    assert equivalent("0.33", sp.Rational(1, 3), atol=0.01).equivalent
    assert not equivalent("0.32", sp.Rational(1, 3), atol=0.01).equivalent


# ---- decimals to the digits given (the default tolerance) -------------------------------


def _agrees_by_hand(typed: str, exact: Fraction) -> bool:
    """The rule, with Python's own exact arithmetic: within half a unit of the last digit."""
    from decimal import Decimal

    decimal = Decimal(typed)
    unit = Fraction(10) ** decimal.as_tuple().exponent
    return abs(Fraction(decimal) - exact) <= unit / 2


@pytest.mark.parametrize("typed, exact, verdict", [
    ("3.33", Fraction(10, 3), "correct"),
    ("3.333", Fraction(10, 3), "correct"),
    ("3.3", Fraction(10, 3), "incorrect"),          # 2 figures: rounded
    ("3.34", Fraction(10, 3), "incorrect"),         # not 10/3 to the digits given
    ("0.977", Fraction(125, 128), "correct"),
    ("0.9766", Fraction(125, 128), "correct"),
    ("0.976", Fraction(125, 128), "incorrect"),     # truncated, not rounded
    ("0.98", Fraction(125, 128), "incorrect"),
    ("58.4", Fraction(59), "incorrect"),            # an integer is exact
    ("0.000005", Fraction(1, 200000), "correct"),   # equal: however few the figures
    ("5.0e-6", Fraction(1, 200000), "correct"),
])
def test_decimals_to_the_digits_given(typed: str, exact: Fraction, verdict: str) -> None:
    assert equivalent(typed, sp.Rational(exact.numerator, exact.denominator)).verdict == verdict
    figures = len(typed.split("e")[0].replace(".", "").replace("-", "").lstrip("0"))
    expected = _agrees_by_hand(typed, exact) and (figures >= 3 or Fraction(typed) == exact)
    assert (verdict == "correct") == expected, "the table disagrees with the rule computed by hand"


def test_irrational_values_as_decimals() -> None:
    import math

    sigmoid = 1 / (1 + sp.exp(-2))
    by_hand = 1 / (1 + math.exp(-2))                       # 0.88079707797788...
    assert equivalent(f"{by_hand:.4f}", sigmoid).verdict == "correct"
    assert equivalent(f"{by_hand:.3g}", sigmoid).verdict == "correct"
    assert equivalent(by_hand, sigmoid).verdict == "correct"            # the key's own float
    assert equivalent(f"{by_hand:.2f}", sigmoid).verdict == "incorrect"
    assert equivalent("0.8809", sigmoid).verdict == "incorrect"
    assert equivalent(str(math.sqrt(2))[:6], sp.sqrt(2)).verdict == "correct"


def test_tolerance_policies() -> None:
    third = sp.Rational(1, 3)
    assert equivalent("0.333", third, tolerance="exact").verdict == "incorrect"
    assert equivalent("0.333", third, tolerance=Tolerance(sig_figs=4)).verdict == "incorrect"
    assert equivalent("0.3333", third, tolerance=Tolerance(sig_figs=4)).verdict == "correct"
    assert equivalent("0.3", third, tolerance=Tolerance.of(rtol=0.2)).verdict == "correct"
    assert equivalent("1/3", third, tolerance="exact").verdict == "correct"
    with pytest.raises(ValueError):
        Tolerance("loose")  # type: ignore[arg-type]


def test_equals_chains_labels_and_notes() -> None:
    assert equivalent("L = 4", 4).verdict == "correct"
    assert equivalent(r"10 \times 6 \times 5 = 300", 300).verdict == "correct"
    result = equivalent(r"10 \times 6 \times 4 = 300", 300)
    assert result.verdict == "correct" and len(result.notes) == 1 and "240" in result.notes[0]
    assert equivalent("N = 58", 59).verdict == "incorrect"
    assert equivalent("N_out = floor((n + 2p - k)/s) + 1", N_OUT).verdict == "correct"
    noted = equivalent("n = floor((n + 2p - k)/s) + 1", N_OUT)     # n is a value here, not a label
    assert noted.verdict == "correct" and "'n'" in noted.notes[0]


def test_units_of_the_quantity() -> None:
    assert equivalent("6000 min", 6000, unit="minutes").verdict == "correct"
    assert equivalent("100 h", 6000, unit="minutes").verdict == "correct"
    assert equivalent("6,000 minutes", 6000, unit="minutes").verdict == "correct"
    assert equivalent("59 trials", 59, unit="trials").verdict == "correct"
    assert equivalent("6000 epochs", 6000, unit="minutes").verdict == "incorrect"


def test_tuples_have_no_orientation_in_the_api_as_in_grading() -> None:
    from symderiv.model import TensorShape

    shape = TensorShape([[20, 20, 2]])
    for answer in ("[20, 20, 2]", "[[20, 20, 2]]", r"20 \times 20 \times 2", "20x20x2", [20, 20, 2]):
        assert equivalent(answer, shape).verdict == "correct", answer
        assert equivalent(answer, (20, 20, 2)).verdict == "correct", answer
    assert equivalent("20 x 20 x 3", shape).verdict == "incorrect"
    assert equivalent("[20, 20, 2]", sp.Matrix([[20, 20, 2]])).verdict == "wrong_shape"   # a gradient has one


def test_notation_spellings() -> None:
    g, d, n = sp.Symbol("g"), sp.Symbol("d"), sp.Symbol("n", integer=True, positive=True)
    notation = {"g": r"\frac{\partial L}{\partial z_n}"}
    assert equivalent(r"\frac{\partial L}{\partial z_n} d^{n}", g * d**n, notation=notation).verdict == "correct"
    yh = sp.MatrixSymbol("y_hat", 1, 1)
    assert equivalent(r"2 \hat{y}", 2 * yh[0, 0]).verdict == "correct"


def test_euler_is_E_where_E_names_nothing_else() -> None:
    assert equivalent("E/(1 + E)", sp.E / (1 + sp.E)).verdict == "correct"
    epochs = sp.Symbol("E")
    assert equivalent("E*t", epochs * sp.Symbol("t")).verdict == "correct"


def test_counterexamples_lie_inside_the_domain_of_the_givens() -> None:
    P, q = sp.symbols("P q")
    reference = sp.ceiling(sp.log(1 - P) / sp.log(1 - q))
    result = equivalent("floor(log(1-P)/log(1-q))", reference, givens={"q": sp.Rational(1, 20),
                                                                       "P[1]": sp.Rational(19, 20)})
    values = dict(re.findall(r"(\w+)=([-\d.]+)", result.reason))
    assert set(values) == {"P", "q"} and all(0 < float(v) < 1 for v in values.values()), result.reason


def test_scalar_and_1x1_matrix_are_the_same() -> None:
    assert equivalent("8", sp.ImmutableMatrix([[8]])).verdict == "correct"
    assert equivalent("[[8]]", 8).verdict == "correct"
    assert equivalent(sp.Matrix([[8]]), sp.Integer(8)).verdict == "correct"


# ---- matrices ------------------------------------------------------------------------


def test_matrix_entries_are_compared_and_the_wrong_one_named() -> None:
    rng = random.Random(3)
    rows = [[rng.randint(-50, 50) for _ in range(2)] for _ in range(3)]
    assert equivalent(str(rows), sp.Matrix(rows)).verdict == "correct"
    slipped = [row[:] for row in rows]
    slipped[2][1] += 1
    result = equivalent(str(slipped), sp.Matrix(rows))
    assert result.verdict == "incorrect"
    assert result.reason.startswith("entry (3, 2):")
    assert f"expected {rows[2][1]}, got {rows[2][1] + 1}" in result.reason


def test_shape_comes_first() -> None:
    matrix = sp.Matrix([[1, 2], [3, 4], [5, 6]])
    result = equivalent("[[1, 3, 5], [2, 4, 6]]", matrix)
    assert result.verdict == "wrong_shape"
    assert "3x2" in result.reason and "2x3" in result.reason
    assert equivalent("7", matrix).verdict == "wrong_shape"
    assert equivalent("[1, 2]", 5).verdict == "wrong_shape"


def test_flat_lists_are_columns_and_orientation_can_be_free() -> None:
    row = sp.Matrix([[34, 34, 1]])
    assert equivalent("[34, 34, 1]", row).verdict == "wrong_shape"
    assert equivalent("[34, 34, 1]", row, orientation="any").verdict == "correct"
    assert equivalent("[34, 34, 2]", row, orientation="any").verdict == "incorrect"
    assert equivalent("[[1, 2], [3, 4]]", sp.Matrix([[1, 3], [2, 4]]), orientation="any").verdict == "incorrect"


def test_matrix_entries_may_be_formulas() -> None:
    reference = sp.Matrix([[x + 1, x * y], [0, sp.floor(x)]])
    assert equivalent("[[1 + x, y*x], [x - x, floor(x)]]", reference).equivalent
    assert not equivalent("[[1 + x, y*x], [0, ceiling(x)]]", reference).equivalent


# ---- formulas ------------------------------------------------------------------------


def test_symbols_are_matched_by_name_with_the_references_assumptions() -> None:
    result = equivalent("floor((n + 2p - k)/s) + 1", N_OUT)
    assert result.verdict == "correct"
    assert result.parsed.free_symbols == {n, k, p, s}
    assert all(sym.is_integer for sym in result.parsed.free_symbols)


def _brute_n_out(values: dict[str, int]) -> int:
    return (values["n"] + 2 * values["p"] - values["k"]) // values["s"] + 1


@pytest.mark.parametrize("answer", [
    "floor((n + 2*p - k)/s) + 1",
    r"\left\lfloor \frac{n+2p-k}{s} \right\rfloor + 1",
    "ceiling((n + 2*p - k + 1)/s)",
    "(n + 2*p - k)//s + 1",
    "floor((n + 2*p - k + s)/s)",
])
def test_equivalent_floor_forms(answer: str) -> None:
    """Each form equals the reference at every integer point of a grid (checked here by
    brute force with Python integers), and the checker agrees."""
    from symderiv.check.parse import parse_answer

    form = parse_answer(answer, symbols={"n": n, "k": k, "p": p, "s": s})
    for values in _grid():
        assert form.xreplace({n: values["n"], k: values["k"], p: values["p"], s: values["s"]}) == _brute_n_out(values)
    assert equivalent(answer, N_OUT).verdict == "correct"


def _grid():
    for nv, kv, pv, sv in itertools.product(range(1, 13, 3), range(1, 6), range(4), range(1, 5)):
        yield {"n": nv, "k": kv, "p": pv, "s": sv}


@pytest.mark.parametrize("answer", [
    "floor((n + 2*p - k)/s)",          # the +1 dropped
    "(n + 2*p - k)/s + 1",             # no floor
    "floor((n + p - k)/s) + 1",        # padding on one side only
    "ceiling((n + 2*p - k)/s) + 1",
])
def test_inequivalent_floor_forms_give_a_true_counterexample(answer: str) -> None:
    result = equivalent(answer, N_OUT)
    assert result.verdict == "incorrect"
    point = {name: int(value) for name, value in re.findall(r"\b([nkps])=(-?\d+)", result.reason)}
    assert set(point) == {"n", "k", "p", "s"}
    expected = int(re.search(r"expected (-?\d+)", result.reason).group(1))
    assert expected == _brute_n_out(point)  # the reported point really is a counterexample


def test_floor_shapes_against_brute_force() -> None:
    """Random floor forms floor((n + a)/b) + c against floor(n/b0) + c0: the checker says
    "correct" exactly when brute force over n = 1..30 finds no difference."""
    rng = random.Random(11)
    for _ in range(25):
        a, b, c = rng.randint(-2, 2), rng.randint(1, 3), rng.randint(-1, 1)
        a0, b0, c0 = rng.choice([(a, b, c), (a + b, b, c - 1), (rng.randint(-2, 2), b, c)])
        brute_same = all((m + a) // b + c == (m + a0) // b0 + c0 for m in range(1, 31))
        verdict = equivalent(f"floor((n + {a})/{b}) + {c}", sp.floor((n + a0) / b0) + c0).verdict
        assert verdict == ("correct" if brute_same else "incorrect"), (a, b, c, a0, b0, c0)


@pytest.mark.parametrize("answer, reference, verdict", [
    ("(x + 1)^2", x**2 + 2 * x + 1, "correct"),
    ("sin(x)^2 + cos(x)^2", sp.Integer(1), "correct"),
    ("max(0, x)", (x + sp.Abs(x)) / 2, "correct"),
    ("max(0, x)", x, "incorrect"),
    ("abs(x)", sp.Piecewise((x, x >= 0), (-x, True)), "correct"),
    ("abs(x)", sp.Piecewise((x, x >= 1), (-x, True)), "incorrect"),
    ("2*(y_hat - y)", sp.sympify("2*(yh - yy)").subs({"yh": sp.Symbol("y_hat"), "yy": sp.Symbol("y")}), "correct"),
    (r"\frac{\alpha g}{1-\beta}", sp.Symbol("alpha") * sp.Symbol("g") / (1 - sp.Symbol("beta")), "correct"),
])
def test_formulas(answer, reference, verdict) -> None:
    assert equivalent(answer, reference).verdict == verdict


def test_logarithms_are_compared_where_they_are_real() -> None:
    P, q = sp.symbols("P q")
    reference = sp.ceiling(sp.log(1 - P) / sp.log(1 - q))
    assert equivalent(r"\left\lceil \frac{\ln(1-P)}{\ln(1-q)} \right\rceil", reference).equivalent
    assert equivalent("ceiling(log(1/(1-P))/log(1/(1-q)))", reference).equivalent
    assert not equivalent("floor(log(1-P)/log(1-q))", reference).equivalent


def test_entries_of_1x1_matrix_symbols_are_named_plainly() -> None:
    yh, yv = sp.MatrixSymbol("y_hat", 1, 1), sp.MatrixSymbol("y", 1, 1)
    reference = 2 * (yh[0, 0] - yv[0, 0])
    assert equivalent("2*(y_hat - y)", reference).verdict == "correct"
    result = equivalent("y_hat - y", reference)
    assert result.verdict == "incorrect" and "y_hat=" in result.reason


def test_extra_symbols_are_named_in_the_reason() -> None:
    result = equivalent("n + t", n)
    assert result.verdict == "incorrect" and "uses t" in result.reason


def test_sympy_answers_are_matched_by_name() -> None:
    plain_n = sp.Symbol("n")
    assert equivalent(plain_n + 1, n + 1).verdict == "correct"
    assert equivalent(sp.floor(plain_n / 2) * 2, n - sp.Mod(n, 2)).verdict == "correct"


# ---- matrix expressions --------------------------------------------------------------

dL_da2, z1 = sp.MatrixSymbol("dL_da2", 2, 1), sp.MatrixSymbol("z1", 3, 1)
dL_dz2, relu_a2 = sp.MatrixSymbol("dL_dz2", 2, 1), sp.MatrixSymbol("relu'(a2)", 2, 1)


@pytest.mark.parametrize("answer, verdict", [
    ("dL_da2 @ z1.T", "correct"),
    ("dL_da2 * transpose(z1)", "correct"),
    ("(z1 @ dL_da2.T).T", "correct"),
    ("2*dL_da2 @ z1.T - dL_da2 @ z1.T", "correct"),
    ("z1 @ dL_da2.T", "wrong_shape"),
    ("dL_da2 @ z1", "wrong_shape"),
    ("-dL_da2 @ z1.T", "incorrect"),
    ("W2.T @ dL_da2", "unparseable"),
    ("dL_da2.__class__", "unparseable"),
    ("__import__('os').system('true')", "unparseable"),
    (r"\frac{\partial L}{\partial a}", "unparseable"),
    ("dL_da2 + 1", "wrong_shape"),
    (5, "unparseable"),
])
def test_matrix_expressions(answer, verdict) -> None:
    assert equivalent(answer, dL_da2 * z1.T).verdict == verdict


@pytest.mark.parametrize("answer, verdict", [
    ("hadamard(dL_dz2, relu'(a2))", "correct"),
    ("odot(relu_prime(a2), dL_dz2)", "correct"),
    ("dL_dz2 * relu'(a2)", "wrong_shape"),      # a matrix product of two columns
    ("hadamard(dL_dz2, dL_dz2)", "incorrect"),
])
def test_hadamard_products(answer, verdict) -> None:
    assert equivalent(answer, sp.HadamardProduct(dL_dz2, relu_a2)).verdict == verdict


def test_matrix_expression_equivalence_is_checked_independently() -> None:
    """What the checker accepts equals the reference for numeric matrices chosen here."""
    import numpy as np

    result = equivalent("(z1 @ dL_da2.T).T", dL_da2 * z1.T)
    rng = np.random.default_rng(0)
    a, z = rng.integers(-9, 9, (2, 1)), rng.integers(-9, 9, (3, 1))
    value = sp.lambdify([dL_da2, z1], result.parsed.doit(), "numpy")(a, z)
    assert np.array_equal(np.asarray(value), a @ z.T)


# ---- results and bounds --------------------------------------------------------------


def test_result_is_a_frozen_record() -> None:
    result = equivalent("1", 1)
    assert isinstance(result, Result) and bool(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdict = "incorrect"  # type: ignore[misc]


HOSTILE = {
    "__import__('os').system('true')": "unparseable",
    "x.__class__": "unparseable",
    "lambda: 1": "unparseable",
    r"\input{/etc/passwd}": "unparseable",
    "9^9^9^9": "too_large",
    "10**10**10": "too_large",
    "a" * 10**6: "too_large",
    "(" * 500 + "1" + ")" * 500: "too_large",
    "[" * 300 + "]" * 300: "too_large",
    r"\frac{1}{2": "unparseable",
    r"\left( x": "unparseable",
    "nan": "not_finite",
    "oo": "not_finite",
    r"\infty": "not_finite",
    "1/0": "not_finite",
    float("nan"): "not_finite",
    float("inf"): "not_finite",
    "[[1, 2], [3]]": "unparseable",
}


@pytest.mark.parametrize("answer, verdict", list(HOSTILE.items()), ids=lambda v: repr(v)[:30])
def test_hostile_answers_get_a_verdict_quickly(answer, verdict) -> None:
    start = time.monotonic()
    assert equivalent(answer, N_OUT).verdict == verdict
    assert time.monotonic() - start < MAX_SECONDS + SLACK


@pytest.mark.parametrize("answer, reference", [
    ("(a+b+c+d)^1000*(a-b)^1000", "(a+b+c+d)^999"),
    ("exp(x^999)", "exp(x^998)"),
    ("+".join(f"x^{i}" for i in range(300)), "x"),
    ("*".join(f"(x+{i})" for i in range(150)), "1"),
], ids=["power-of-sum", "exp-of-power", "long-sum", "long-product"])
def test_expensive_comparisons_stay_within_the_budget(answer: str, reference: str) -> None:
    start = time.monotonic()
    result = equivalent(answer, reference, max_seconds=0.5)
    assert result.verdict in {"incorrect", "too_large"}
    assert time.monotonic() - start < 0.5 + SLACK


_TOKENS = ["n", "k", "p", "s", "x", "y_hat", "1", "2", "9", "0.5", "+", "-", "*", "/", "^", "**", "(", ")", "[",
           "]", ",", "floor(", "ceiling(", "max(", "log(", "sqrt(", "exp(", "abs(", "e", "pi", "\\frac{", "}{", "}",
           "\\left\\lfloor", "\\right\\rfloor", "\\cdot", "|", "&", "\\\\", "\\begin{pmatrix}", "\\end{pmatrix}",
           "nan", "oo", "__", ".", "'", "lambda", "10**10**", "@", ".T", "=", " x ", "\\times", "^T", "^{\\top}", ";",
           "%", " min", " trials", "6,000", "\\hat{", "\\odot", "⊙", "\\sigma(", "\\mathbf{", "\\partial", "≈"]
_REFERENCES = [N_OUT, sp.Matrix([[32, 16], [24, 12], [-8, -4]]), sp.Rational(1, 200000), dL_da2 * z1.T,
               sp.ceiling(sp.log(1 - sp.Symbol("P")) / sp.log(1 - sp.Symbol("q")))]


@settings(max_examples=2500, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(st.text(max_size=80), st.lists(st.sampled_from(_TOKENS), max_size=20).map("".join)),
       which=st.integers(0, len(_REFERENCES) - 1))
def test_fuzz_every_string_gets_a_verdict_in_time(text: str, which: int) -> None:
    start = time.monotonic()
    result = equivalent(text, _REFERENCES[which], max_seconds=1.0)
    assert time.monotonic() - start < 1.0 + SLACK
    assert result.verdict in VERDICTS
    assert result.equivalent == (result.verdict == "correct")
    assert isinstance(result.reason, str) and result.reason


FORBIDDEN_CALLS = {"eval", "exec", "sympify", "parse_expr", "S", "parse_latex", "compile", "__import__",
                   "literal_eval", "lambdify", "system", "popen"}


@pytest.mark.parametrize("module", ["symderiv.check.equivalence", "symderiv.check.diagnose",
                                    "symderiv.check.grade", "symderiv.check.report", "symderiv.check.shapes",
                                    "symderiv.check.verdicts", "symderiv.testing", "symderiv.check.numbers",
                                    "symderiv.check.sampling", "symderiv.check.show", "symderiv.check.carry",
                                    "symderiv.check.policy", "symderiv.check.batch", "symderiv.check.gradebook",
                                    "symderiv.check.budget"])
def test_checking_modules_never_call_dangerous_functions(module: str) -> None:
    """A static check: nothing in the checking code can execute a string."""
    import ast
    import importlib
    from pathlib import Path

    tree = ast.parse(Path(importlib.import_module(module).__file__).read_text())
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = {f.id for f in calls if isinstance(f, ast.Name)} | {f.attr for f in calls if isinstance(f, ast.Attribute)}
    assert not names & FORBIDDEN_CALLS
