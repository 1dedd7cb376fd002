"""The forms students write around a value (symderiv.check.parse.forms and the readers).

Each case is a form seen in real answers; the expected values are written out by hand.
"""
from __future__ import annotations

import pytest
import sympy as sp

from symderiv.check.parse import ParseError, parse_answer, read_answer, unit_of
from symderiv.check.parse.forms import split_sides, strip_unit
from symderiv.check.parse.source import SourceText

col = lambda *v: sp.ImmutableMatrix([[x] for x in v])  # noqa: E731
row = lambda *v: sp.ImmutableMatrix([list(v)])  # noqa: E731


@pytest.mark.parametrize("text, sides", [
    ("L = 4", ["L ", " 4"]),
    (r"10 \times 6 \times 5 = 300", [r"10 \times 6 \times 5 ", " 300"]),
    ("N := 59", ["N ", " 59"]),
    (r"x \approx 0.977", ["x ", " 0.977"]),
    ("x ≈ 0.977", ["x ", " 0.977"]),
    ("max(a = 1, 2)", ["max(a = 1, 2)"]),       # inside brackets: not a side
    ("x == y", ["x == y"]),
    ("x <= y", ["x <= y"]),
])
def test_sides_of_an_equals_chain(text: str, sides: list[str]) -> None:
    assert [s.text for s in split_sides(SourceText.of(text))] == sides


def test_every_side_is_read_and_the_last_is_the_answer() -> None:
    reading = read_answer(r"10 \times 6 \times 5 = 300")
    assert [s.value for s in reading.sides] == [300, 300]
    assert parse_answer("L = (8 - 10)^2 = 4") == 4
    assert read_answer("L = 4").sides[0].value == sp.Symbol("L")


@pytest.mark.parametrize("text, unit, value", [
    ("6000 min", "minutes", 6000),
    ("6000 minutes", "minutes", 6000),
    (r"6000\,\text{min}", "minutes", 6000),
    (r"6000~\mathrm{minutes}", "minutes", 6000),
    ("100 h", "minutes", 6000),
    ("1.5 hours", "minutes", 90),
    ("360000 s", "minutes", 6000),
    ("59 trials", "trials", 59),
    ("59 trial", "trials", 59),
    ("3000 epochs", "epochs", 3000),
    ("99.5%", None, sp.Rational(199, 200)),
    (r"99.5\%", None, sp.Rational(199, 200)),
])
def test_unit_words_of_the_quantity(text: str, unit: str | None, value) -> None:
    assert parse_answer(text, expect="scalar", unit=unit_of(unit)) == value


def test_unit_words_of_another_kind_stay_words() -> None:
    assert parse_answer("6000 epochs", expect="scalar", unit=unit_of("minutes")) == 6000 * sp.Symbol("epochs")
    assert parse_answer("6000 hours", expect="scalar", unit=unit_of("trials")) == 6000 * sp.Symbol("hours")
    source, factor = strip_unit(SourceText.of("min"), unit_of("minutes"))
    assert (source.text, factor) == ("min", 1)       # a unit alone is not a value


@pytest.mark.parametrize("text, value", [
    ("6,000", 6000), ("1,234,567", 1234567), (r"6\,000", 6000), ("6{,}000", 6000), ("6 000", 6000),
    ("-1,500.25", sp.Rational(-150025, 100)),
])
def test_thousands_separators_where_a_scalar_is_expected(text: str, value) -> None:
    assert parse_answer(text, expect="scalar") == value


def test_commas_are_lists_elsewhere() -> None:
    assert parse_answer("6,000") == col(6, 0)
    assert parse_answer("6,00", expect="scalar") == col(6, 0)    # not groups of three: a list
    assert parse_answer("1,5", expect="scalar") == col(1, 5)


@pytest.mark.parametrize("text", [r"20 \times 20 \times 2", "20x20x2", "20 x 20 x 2", "20 X 20 X 2", "(20 x 20 x 2)",
                                  "20×20×2", "20*20*2", r"\left(20 \times 20 \times 2\right)"])
def test_shape_separators_where_a_shape_is_expected(text: str) -> None:
    assert parse_answer(text, expect="shape") == row(20, 20, 2)


def test_shapes_are_products_elsewhere() -> None:
    assert parse_answer(r"20 \times 20 \times 2") == 800
    assert parse_answer("[20, 20, 2]", expect="shape") == col(20, 20, 2)     # a list stays a list
    assert parse_answer("max(2, 3)", expect="shape") == 3                     # x inside a word


@pytest.mark.parametrize("text, value", [
    ("(2, 8, 9)^T", col(2, 8, 9)),
    ("[2, 8, 9]^T", col(2, 8, 9)),
    ("[[2, 8, 9]].T", col(2, 8, 9)),
    ("[2, 8, 9]'", col(2, 8, 9)),
    ("[[1, 2], [3, 4]]^T", sp.ImmutableMatrix([[1, 3], [2, 4]])),
    (r"(2, 8, 9)^\top", col(2, 8, 9)),
    (r"(2, 8, 9)^{\top}", col(2, 8, 9)),
    (r"(2, 8, 9)^{T}", col(2, 8, 9)),
    (r"\begin{pmatrix} 2 & 8 & 9 \end{pmatrix}^\intercal", col(2, 8, 9)),
    (r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}'", sp.ImmutableMatrix([[1, 3], [2, 4]])),
    ("(2, 8, 9)⊤", col(2, 8, 9)),
])
def test_transposes(text: str, value: sp.Basic) -> None:
    assert parse_answer(text) == value


def test_T_after_a_scalar_is_a_power() -> None:
    T, beta = sp.symbols("T beta")
    assert parse_answer("beta^T") == beta**T
    assert parse_answer(r"\beta^T") == beta**T
    assert parse_answer(r"x^\top") == sp.Symbol("x")      # the transpose of a scalar


@pytest.mark.parametrize("text, value", [
    ("[2; 8; 9]", col(2, 8, 9)),
    ("[1, 2; 3, 4]", sp.ImmutableMatrix([[1, 2], [3, 4]])),
    ("[1 2; 3 4]", sp.ImmutableMatrix([[1, 2], [3, 4]])),
    ("[-1.5 2; 3 -4]", sp.ImmutableMatrix([[sp.Rational(-3, 2), 2], [3, -4]])),
    ("(2; 8)", col(2, 8)),
])
def test_semicolon_rows(text: str, value: sp.Basic) -> None:
    assert parse_answer(text) == value


def test_spaces_are_not_separators_outside_semicolon_matrices() -> None:
    with pytest.raises(ParseError):
        parse_answer("[1 2]")


def test_accents_and_font_commands_name_symbols() -> None:
    assert parse_answer(r"2\left(\hat{y} - y\right)") == 2 * (sp.Symbol("y_hat") - sp.Symbol("y"))
    assert parse_answer(r"\hat y") == sp.Symbol("y_hat")
    assert parse_answer(r"\bar{x}") == sp.Symbol("x_bar")
    assert parse_answer(r"\mathbf{x}") == sp.Symbol("x")
    assert parse_answer(r"\mathbf{W}^{(1)}") == sp.Symbol("W^(1)")
    assert parse_answer(r"{\hat{{y}}}_{1}") == sp.Symbol("y_hat_1")
    assert parse_answer(r"{W}_{1,2}") == sp.Symbol("W_1,2")


def test_sigma_is_the_sigmoid_only_where_asked() -> None:
    sigmoid_2 = 1 / (1 + sp.exp(-2))
    assert parse_answer(r"\sigma(2)", sigmoid=True) == sigmoid_2
    assert parse_answer("sigma(2)", sigmoid=True) == sigmoid_2
    assert parse_answer(r"\sigma(2)") == 2 * sp.Symbol("sigma")
    assert parse_answer(r"\sigma^2", sigmoid=True) == sp.Symbol("sigma") ** 2


def test_entries_by_index_only_where_named() -> None:
    y = sp.MatrixSymbol("y", 1, 1)
    assert parse_answer("2*y[0, 0]", symbols={"y[0, 0]": y[0, 0]}) == 2 * y[0, 0]
    with pytest.raises(ParseError):
        parse_answer("2*y[0, 0]")


@pytest.mark.parametrize("text", ["٣", "٣٠٠", "6٬000", "L = ٤", "٤ min", "[٢, ٨]", "२०"])
def test_digits_of_other_scripts_are_not_numbers(text: str) -> None:
    for expect in ("any", "scalar", "shape"):
        with pytest.raises(ParseError) as caught:
            parse_answer(text, expect=expect, unit=unit_of("minutes"))
        assert caught.value.verdict == "unparseable"


def test_decimals_report_how_they_were_typed() -> None:
    side = read_answer("0.9770").answer
    assert side.decimals == {sp.Rational(977, 1000): _precision("0.0001", 4)}
    assert read_answer("1.20e2").answer.decimals[120] == _precision("1", 3)
    assert read_answer("1.2e2").answer.decimals[120] == _precision("10", 2)
    assert read_answer("120").answer.decimals == {}


def _precision(last: str, figures: int):
    from symderiv.check.parse import Precision

    return Precision(sp.Rational(last), figures)


def test_positions_point_into_the_answer_as_typed() -> None:
    with pytest.raises(ParseError) as caught:
        parse_answer("L = 4 +* 2")
    assert caught.value.position == 7
