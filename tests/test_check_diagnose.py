"""symderiv.check.diagnose: naming the slip.

Every slip is made here, from random data or the spec's numbers, by applying the slip's
transformation (errors carried forward are tested in test_check_carry).
"""
from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp

from symderiv.check.diagnose import Diagnosis, diagnose


def kinds_of(found: tuple[Diagnosis, ...]) -> list[str]:
    return [d.kind for d in found]


def random_matrix(rng: random.Random, rows: int, cols: int) -> list[list[int]]:
    return [[rng.choice([-1, 1]) * rng.randint(1, 99) for _ in range(cols)] for _ in range(rows)]


# ---- whole-value slips ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_transposed_matrix(seed: int) -> None:
    rng = random.Random(seed)
    rows = random_matrix(rng, 3, 2)
    transposed = [list(col) for col in zip(*rows)]
    assert kinds_of(diagnose(str(transposed), sp.Matrix(rows))) == ["transposed"]


def test_transposed_square_matrix_and_vectors() -> None:
    rows = [[1, 2], [3, 4]]
    assert kinds_of(diagnose("[[1, 3], [2, 4]]", sp.Matrix(rows))) == ["transposed"]
    found = diagnose("[760, 520]", sp.Matrix([[760, 520]]))
    assert kinds_of(found) == ["transposed"] and "column vector where a row vector" in found[0].message


def test_reshaped() -> None:
    rows = random_matrix(random.Random(1), 3, 2)
    flat = [v for row in rows for v in row]
    assert kinds_of(diagnose(str(flat), sp.Matrix(rows))) == ["reshaped"]


@pytest.mark.parametrize("seed", range(5))
def test_sign_flipped(seed: int) -> None:
    rows = random_matrix(random.Random(seed), 2, 3)
    negated = [[-v for v in row] for row in rows]
    assert kinds_of(diagnose(str(negated), sp.Matrix(rows))) == ["sign"]
    assert kinds_of(diagnose(str(-rows[0][0]), rows[0][0])) == ["sign"]


@pytest.mark.parametrize("power", [-3, -1, 1, 2])
def test_power_of_ten(power: int) -> None:
    rows = random_matrix(random.Random(power + 10), 2, 2)
    scale = Fraction(10) ** power
    scaled = [[str(Fraction(v) * scale) for v in row] for row in rows]
    found = diagnose("[" + ", ".join("[" + ", ".join(row) + "]" for row in scaled) + "]", sp.Matrix(rows))
    assert kinds_of(found) == ["power_of_ten"]
    assert kinds_of(diagnose(str(6000 * scale), 6000)) == ["power_of_ten"]
    assert kinds_of(diagnose(str(-6000 * scale), 6000)) == ["power_of_ten"]
    assert "sign flipped" in diagnose(str(-6000 * scale), 6000)[0].message


def test_power_of_ten_for_floats() -> None:
    assert kinds_of(diagnose(0.00012, sp.Rational(12, 1000))) == ["power_of_ten"]


def test_constant_factor_of_a_matrix_and_a_formula() -> None:
    rows = random_matrix(random.Random(7), 3, 2)
    doubled = [[2 * v for v in row] for row in rows]
    found = diagnose(str(doubled), sp.Matrix(rows))
    assert kinds_of(found) == ["factor"] and "doubled" in found[0].message
    tripled = [[3 * v for v in row] for row in rows]
    assert kinds_of(diagnose(str(tripled), sp.Matrix(rows))) == ["factor"]
    yh, yv = sp.symbols("y_hat y")
    assert kinds_of(diagnose("4*(y_hat - y)", 2 * (yh - yv))) == ["factor"]
    assert "dropped factor 2" in diagnose("y_hat - y", 2 * (yh - yv))[0].message


def test_a_single_number_is_not_explained_by_an_arbitrary_factor() -> None:
    assert diagnose("5", 7) == ()
    assert diagnose("21", 14) == ()          # 3/2: not a named slip
    assert kinds_of(diagnose("28", 14)) == ["factor"]


def test_off_by_one_counts_and_formulas() -> None:
    assert kinds_of(diagnose("58", 59)) == ["off_by_one"]
    assert "1 more" in diagnose("60", 59)[0].message
    n, k, p, s = sp.symbols("n k p s", integer=True, positive=True)
    reference = sp.floor((n + 2 * p - k) / s) + 1
    assert kinds_of(diagnose("floor((n + 2*p - k)/s)", reference)) == ["off_by_one"]


def test_wrong_quantity_from_the_givens() -> None:
    found = diagnose("3", 2, givens={"c": sp.Integer(3), "l": sp.Integer(2)})
    assert kinds_of(found) == ["wrong_quantity"] and "c = 3" in found[0].message


def test_rounded() -> None:
    found = diagnose("3.3", sp.Rational(10, 3))          # agrees to its 2 figures: too few
    assert kinds_of(found) == ["rounded"] and "give at least 3" in found[0].message
    assert kinds_of(diagnose("3.332", sp.Rational(10, 3))) == ["rounded"]   # within 1%, not to its digits
    assert diagnose("3.5", sp.Rational(10, 3)) == ()
    assert diagnose("3.333", sp.Rational(10, 3)) == ()   # correct: nothing to diagnose


def test_wrong_entries_are_explained_one_by_one() -> None:
    rows = random_matrix(random.Random(5), 3, 2)
    slipped = [row[:] for row in rows]
    slipped[0][1] = -slipped[0][1]
    slipped[2][0] = slipped[2][0] * 10
    found = diagnose(str(slipped), sp.Matrix(rows))
    assert kinds_of(found) == ["sign", "power_of_ten"]
    assert found[0].message.startswith("entry (1, 2):") and found[1].message.startswith("entry (3, 1):")
    shape = diagnose("[20, 20, 3]", sp.Matrix([[20, 20, 2]]), givens={"c": sp.Integer(3)}, orientation="any")
    assert kinds_of(shape) == ["wrong_quantity"] and shape[0].message.startswith("entry 3:")


def test_unexplained_answers_get_no_diagnosis() -> None:
    rows = random_matrix(random.Random(9), 2, 2)
    other = random_matrix(random.Random(10), 2, 2)
    assert diagnose(str(other), sp.Matrix(rows)) == ()
    assert diagnose(str(rows), sp.Matrix(rows)) == ()           # correct: nothing to diagnose
    assert diagnose("__import__('os')", sp.Matrix(rows)) == ()  # unparseable: nothing to diagnose


def test_wrong_shape_without_a_better_explanation() -> None:
    found = diagnose("[1, 2, 3]", sp.Matrix([[1, 2], [3, 4]]))
    assert kinds_of(found) == ["wrong_shape"]


def test_matrix_expression_slips() -> None:
    da, z = sp.MatrixSymbol("dL_da2", 2, 1), sp.MatrixSymbol("z1", 3, 1)
    assert kinds_of(diagnose("z1 @ dL_da2.T", da * z.T)) == ["transposed"]
    assert kinds_of(diagnose("-dL_da2 @ z1.T", da * z.T)) == ["sign"]


# ---- slips of the forms students write ------------------------------------------------


def test_not_rounded_up_or_down() -> None:
    import math

    unrounded = math.log(1 - 0.95) / math.log(1 - 0.05)              # 58.40...
    found = diagnose(f"{unrounded:.1f}", math.ceil(unrounded))
    assert kinds_of(found) == ["not_rounded"] and "rounded up" in found[0].message
    found = diagnose("20.5", 20)                                      # floor((36 + 6 - 3)/2) + 1 = 20
    assert kinds_of(found) == ["not_rounded"] and "rounded down" in found[0].message


def test_reciprocal() -> None:
    assert kinds_of(diagnose("1/2001", 2001)) == ["reciprocal"]
    P, q = sp.symbols("P q")
    ratio = sp.log(1 - P) / sp.log(1 - q)
    assert kinds_of(diagnose("log(1-q)/log(1-P)", ratio)) == ["reciprocal"]
    assert diagnose("1", 1) == ()


def test_missing_channel_dimension() -> None:
    from symderiv.model import TensorShape

    found = diagnose(r"20 \times 20", TensorShape([[20, 20, 2]]))
    assert kinds_of(found) == ["missing_dimension"] and "channel" in found[0].message
    assert kinds_of(diagnose("[20, 20]", (20, 20, 2))) == ["missing_dimension"]


def test_a_column_for_a_row_gradient_is_transposed() -> None:
    rng = random.Random(11)
    row = [rng.randint(-200, 200) for _ in range(2)]
    for written in (str(row), f"({row[0]}, {row[1]})^T", f"[{row[0]}; {row[1]}]", [[row[0]], [row[1]]]):
        found = diagnose(written, sp.Matrix([row]))
        assert kinds_of(found) == ["transposed"] and "column vector where a row vector" in found[0].message


@pytest.mark.parametrize("answer", ["10^400", "-10^400", "10^-400", "3*10^-400", "7^900"])
def test_huge_and_tiny_wrong_answers_are_diagnosed_without_a_crash(answer: str) -> None:
    found = diagnose(answer, 6000)
    assert all(d.kind in ("power_of_ten", "factor", "sign") for d in found)
    assert kinds_of(diagnose("6*10^400", 6000)) == ["power_of_ten"]
    assert "10^397" in diagnose("6*10^400", 6000)[0].message
