"""symderiv.check.show: values as students are told to write them, text that cannot act."""
from __future__ import annotations

import sympy as sp

from symderiv.check.show import plain, printable, show
from symderiv.model import TensorShape


def test_plain_syntax() -> None:
    da, z, relu = sp.MatrixSymbol("dL_da2", 2, 1), sp.MatrixSymbol("z1", 3, 1), sp.MatrixSymbol("relu'(a2)", 2, 1)
    yh, y = sp.MatrixSymbol("y_hat", 1, 1), sp.MatrixSymbol("y", 1, 1)
    d, n, g = sp.symbols("d n g")
    assert plain(da * z.T) == "dL_da2 @ z1.T"
    assert plain(sp.HadamardProduct(da, relu)) == "hadamard(dL_da2, relu'(a2))"
    assert plain(sp.Mul(2, yh[0, 0] - y[0, 0], evaluate=False)) == "2*(y_hat - y)"     # as the key holds it
    assert plain(g * d**n) == "d^n*g"
    assert plain(sp.ImmutableMatrix([2, 8, 9])) == "[2, 8, 9]"
    assert plain(sp.ImmutableMatrix([[1, 2], [3, 4]])) == "[[1, 2], [3, 4]]"
    assert plain(TensorShape([[20, 20, 2]])) == "20 x 20 x 2"
    assert plain(sp.E) == "e"


def test_show_shortens_huge_numbers() -> None:
    assert "approx" in show(sp.Rational(10**200 + 1, 3))
    assert len(show(sp.Symbol("x" * 500))) <= 120


def test_printable_escapes_what_could_act_on_a_terminal() -> None:
    assert printable("Ada") == "Ada"
    assert printable("B\x1b[2J") == "B\\x1b[2J"
    assert printable("a\nscore: 65/65") == "a\\nscore: 65/65"
    assert printable("\x07\u202e") == "\\x07\\u202e"
    assert printable("é λ") == "é λ"
