"""Shapes of answers: what the comparison checks first and what reasons describe.

Shared by the matrix-expression reader (which refuses products of misfitting
shapes) and the comparison (which reports a wrong shape), so it depends on neither.
"""
from __future__ import annotations

import sympy as sp
from sympy.matrices import MatrixBase


def shape_of(value: sp.Basic) -> tuple[int, int] | None:
    """``(rows, cols)`` of a matrix (explicit or symbolic), None for a scalar."""
    if isinstance(value, (MatrixBase, sp.MatrixExpr)):
        return tuple(value.shape)  # type: ignore[return-value]
    return None


def describe_shape(shape: tuple[int, int] | None) -> str:
    """``a scalar``, ``a 3x1 column vector``, ``a 1x2 row vector`` or ``a 2x3 matrix``."""
    if shape is None or shape == (1, 1):
        return "a scalar"
    rows, cols = shape
    kind = "column vector" if cols == 1 else "row vector" if rows == 1 else "matrix"
    return f"a {rows}x{cols} {kind}"
