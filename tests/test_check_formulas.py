"""Layer rules compared structurally: the operator as its templates print it, operands equivalent.

Rules are built here with the calculus printer's own classes (a made-up operator too, to
show the checker reads an operator's spelling from the value, not from a list of its own),
and graded in both spellings (LaTeX and text) and against slips.
"""
from __future__ import annotations

import time

import pytest
import sympy as sp

import symderiv
from symderiv.calculus.printing import Formula, MatrixFormula
from symderiv.check.equivalence import equivalent
from symderiv.check.formulas import has_formula, matches, normalised
from symderiv.check.grade import Grader

G = sp.MatrixSymbol("dL_da1", 2, 3)
X = sp.MatrixSymbol("x", 2, 3)
W = sp.MatrixSymbol("W1", 2, 2)
NOTATION = {"dL_da1": r"\frac{\partial L}{\partial \mathbf{a}^{(1)}}", "x": r"\mathbf{x}", "W1": r"\mathbf{W}^{(1)}"}


def _grade(answer: object, expected: sp.Basic) -> str:
    return equivalent(answer, expected, notation=NOTATION).verdict


def test_an_operator_is_read_from_its_own_templates() -> None:
    shuffle = Formula(r"\operatorname{{shuffle}}\left({0}\right)", "shuffle({0})", G)
    assert _grade("shuffle(dL_da1)", shuffle) == "correct"
    assert _grade(r"\operatorname{shuffle}\left( \frac{\partial L}{\partial \mathbf{a}^{(1)}} \right)", shuffle) \
        == "correct"
    assert _grade(r"\operatorname{shuffle}(\partial L / \partial a^{(1)})", shuffle) == "correct"
    assert _grade("shuffle(x)", shuffle) == "incorrect"
    assert _grade("unshuffle(dL_da1)", shuffle) == "incorrect"


def test_operands_are_compared_by_value_not_by_spelling() -> None:
    star = Formula(r"{0} \star {1}", "{0} * {1}", X, G)
    assert _grade("x * dL_da1", star) == "correct"
    assert _grade("x*dL/da1", star) == "correct"
    assert _grade(r"\mathbf{x} \star \frac{\partial L}{\partial \mathbf{a}^{(1)}}", star) == "correct"
    assert _grade("dL_da1 * x", star) == "incorrect"           # convolution's operands do not commute here
    assert _grade("x * (2 dL_da1 - dL_da1)", star) == "correct"  # an operand equal as a matrix formula


def test_numbers_in_a_rule_compare_as_numbers() -> None:
    scaled = MatrixFormula(r"\frac{{1}}{{{2}}} {0} \odot {1}", "1/{2} {0} o {1}", 2, 3, X, G, sp.Rational(1, 2))
    for right in ("1/0.5 x o dL_da1", "1/(1/2) x o dL_da1", r"\frac{1}{0.5} \mathbf{x} \odot dL_da1"):
        assert _grade(right, scaled) == "correct", right
    assert _grade("1/0.25 x o dL_da1", scaled) == "incorrect"


def test_a_sum_of_rules_matches_in_any_order() -> None:
    first = MatrixFormula(r"\operatorname{{full}}\left({0}\right)", "full({0})", 2, 3, G)
    second = MatrixFormula(r"{0} \mathbf{{1}}", "{0} 1", 2, 3, X)
    total = sp.MatAdd(first, second)
    assert _grade("full(dL_da1) + x 1", total) == "correct"
    assert _grade("x 1 + full(dL_da1)", total) == "correct"
    assert _grade("full(dL_da1) + dL_da1 1", total) == "incorrect"
    assert _grade("full(dL_da1)", total) == "incorrect"


def test_a_rule_needs_a_string_and_the_reason_says_how_rules_are_compared() -> None:
    rule = Formula(r"\operatorname{{flip}}\left({0}\right)", "flip({0})", W)
    assert _grade([[1, 2], [3, 4]], rule) == "unparseable"
    result = equivalent("W1", rule)
    assert result.verdict == "incorrect" and "compared by its operators" in result.reason
    assert has_formula(sp.MatAdd(X, MatrixFormula("{0}", "{0}", 2, 3, G))) and not has_formula(X + G)


def test_spacing_and_sizing_do_not_matter() -> None:
    assert normalised(r"\textstyle\sum_{k}  \left( a_{k} \right)") == r"\sum_k ( a_k )"
    rule = MatrixFormula(r"\textstyle\sum_{{k}} {0}_{{k}}", "sum_k {0}_k", 2, 1, G)
    assert _grade(r"\sum_k \frac{\partial L}{\partial \mathbf{a}^{(1)}}_{k}", rule) == "correct"
    assert _grade("sum_k   dL_da1_k", rule) == "correct"


def test_many_slots_and_a_long_answer_stay_bounded() -> None:
    rule = Formula(" ".join(f"{{{k}}}" for k in range(6)), " ".join(f"{{{k}}}" for k in range(6)), *[G] * 6)
    started = time.process_time()
    assert matches("dL_da1 " * 280, rule, lambda text, operand: False) is False
    assert time.process_time() - started < 10  # a hang detector, not a timing


@pytest.fixture(scope="module")
def homework2() -> Grader:
    return Grader(symderiv.derive_file("derivations/homework2.toml"))


@pytest.mark.parametrize(("answer_id", "right", "wrong"), [
    ("5.2.dL_dW1", "x * dL_da1", "W1 * dL_da1"),
    ("5.2.dL_dz0", "full(dL_da1) * flip(W1)", "full(dL_da1) * W1"),
    ("5.2.dL_dz1", r"\operatorname{maxunpool}(\partial L/\partial z^{(2)})", "maxunpool(dL_dz3)"),
    ("6.2.dL_db1", "dL_da1 1", "dL_da1"),
    ("6.2.dL_dmu2", "2/3 dL_dvar2 o sum_k (mu2 - z1_k) + -sum_k dL_dxhat2_k / sqrt(var2 + 0.00001)",
     "-sum_k dL_dxhat2_k / sqrt(var2 + 0.001) + 2/3 dL_dvar2 o sum_k (mu2 - z1_k)"),
])
def test_homework2_rules_right_and_wrong(homework2: Grader, answer_id: str, right: str, wrong: str) -> None:
    assert homework2.compare(answer_id, right).verdict == "correct"
    assert homework2.compare(answer_id, wrong).verdict != "correct"


def test_the_ones_vector_of_a_batch_in_any_bold_and_any_product_sign(homework2: Grader) -> None:
    right = ["dL_da1 1", "dL_da1 @ 1", "dL_da1*1", r"\frac{\partial L}{\partial \mathbf{a}^{(1)}} \mathbb{1}",
             r"\frac{\partial L}{\partial \mathbf{a}^{(1)}} \cdot \boldsymbol{1}"]
    for answer in right:
        assert homework2.compare("6.2.dL_db1", answer).verdict == "correct", answer
    assert homework2.compare("6.2.dL_db4", "dL_da4 @ 1").verdict == "correct"
    assert homework2.compare("6.2.dL_db1", "1 dL_da1").verdict == "incorrect"
