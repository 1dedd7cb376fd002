"""The matrix-expression reader, symderiv.check.parse.matexpr, on its own.

Its comparisons are tested through ``equivalent`` in test_check_equivalence; here
the reader itself: what it builds, what it refuses, and with which verdict.
"""
from __future__ import annotations

import pytest
import sympy as sp
from sympy.matrices.exceptions import ShapeError

from symderiv.check.parse import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    ParseError,
    read_matrix_expression,
)

dL_da2, z1 = sp.MatrixSymbol("dL_da2", 2, 1), sp.MatrixSymbol("z1", 3, 1)
dL_dz2, relu_a2 = sp.MatrixSymbol("dL_dz2", 2, 1), sp.MatrixSymbol("relu'(a2)", 2, 1)
NAMES = {m.name: m for m in (dL_da2, z1, dL_dz2, relu_a2)}


@pytest.mark.parametrize(("text", "expected"), [
    ("dL_da2 @ z1.T", dL_da2 * z1.T),
    ("dL_da2 * transpose(z1)", dL_da2 * z1.T),
    ("-dL_da2 + dL_dz2", -dL_da2 + dL_dz2),
    ("dL_da2 / 2", dL_da2 / 2),
    ("hadamard(dL_dz2, relu'(a2))", sp.HadamardProduct(dL_dz2, relu_a2)),
    ("odot(relu_prime(a2), dL_dz2)", sp.HadamardProduct(relu_a2, dL_dz2)),
    ("2 * dL_da2", 2 * dL_da2),
])
def test_reads_matrix_formulas(text: str, expected: sp.Basic) -> None:
    assert read_matrix_expression(text, NAMES) == expected


NOTATION = {"dL_da2": r"\frac{\partial L}{\partial \mathbf{a}^{(2)}}", "z1": r"\mathbf{z}^{(1)}",
            "dL_dz2": r"\frac{\partial L}{\partial \mathbf{z}^{(2)}}",
            "relu'(a2)": r"\operatorname{ReLU}'(\mathbf{a}^{(2)})"}


@pytest.mark.parametrize(("text", "expected"), [
    ("dL_da2 z1^T", dL_da2 * z1.T),                                            # juxtaposition
    ("dL_da2 z1'", dL_da2 * z1.T),
    ("dL_da2 * z1^{T}", dL_da2 * z1.T),
    ("dL/da2 z1.T", dL_da2 * z1.T),
    (r"\frac{\partial L}{\partial \mathbf{a}^{(2)}} {\mathbf{z}^{(1)}}^{\top}", dL_da2 * z1.T),  # the sheet's own
    (r"\frac{\partial L}{\partial a^{(2)}} \left(z^{(1)}\right)^T", dL_da2 * z1.T),
    (r"\partial L/\partial a^{(2)} \cdot (z^{(1)})^\top", dL_da2 * z1.T),
    ("dL_dz2 ⊙ relu'(a2)", sp.HadamardProduct(dL_dz2, relu_a2)),
    (r"\frac{\partial L}{\partial \mathbf{z}^{(2)}} \odot \operatorname{ReLU}'(\mathbf{a}^{(2)})",
     sp.HadamardProduct(dL_dz2, relu_a2)),
    (r"\frac{\partial L}{\partial z^{(2)}} \circ \text{ReLU}'(a^{(2)})", sp.HadamardProduct(dL_dz2, relu_a2)),
    ("HadamardProduct(dL_dz2, relu'(a2))", sp.HadamardProduct(dL_dz2, relu_a2)),
    ("dL_dz2 ∘ ReLU'(a2)", sp.HadamardProduct(dL_dz2, relu_a2)),
])
def test_reads_the_forms_students_write(text: str, expected: sp.Basic) -> None:
    assert read_matrix_expression(text, NAMES, NOTATION) == expected


@pytest.mark.parametrize(("text", "verdict"), [
    (3, "unparseable"),                               # not a string
    ("W @ z1.T", "unparseable"),                      # a name the reference does not have
    ("dL_da2 @ z1.T +", "unparseable"),
    ("dL_da2.shape", "unparseable"),
    ("exp(dL_da2)", "unparseable"),
    ("dL_da2 / z1", "unparseable"),
    ("x" * (MAX_LENGTH + 1), "too_large"),
    ("(" * (MAX_DEPTH + 1) + "z1" + ")" * (MAX_DEPTH + 1), "too_large"),
    ("-" * (MAX_DEPTH + 1) + "z1", "too_large"),
    ("+".join(["z1"] * MAX_NODES), "too_large"),
    ("z1 ≤ z1", "unparseable"),
])
def test_refusals_carry_a_verdict(text: object, verdict: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_matrix_expression(text, NAMES)
    assert caught.value.verdict == verdict


@pytest.mark.parametrize("text", ["dL_da2 @ z1", "dL_da2 + z1", "hadamard(dL_da2, z1)"])
def test_misfitting_shapes_are_shape_errors(text: str) -> None:
    with pytest.raises(ShapeError):
        read_matrix_expression(text, NAMES)
