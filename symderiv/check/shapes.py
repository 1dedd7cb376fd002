"""Shapes of answers: what the comparison checks first and what reasons describe.

Shared by the matrix-expression reader (which refuses products of misfitting
shapes) and the comparison (which reports a wrong shape), so it depends on neither.
A tensor (an image ``[channel][row][column]``, a bank of filters
``[filter][channel][row][column]``) is a SymPy ``NDimArray`` of rank 3 or 4.
"""
from __future__ import annotations

import math

import sympy as sp
from sympy.matrices import MatrixBase

Shape = tuple[int, ...]


def shape_of(value: sp.Basic) -> Shape | None:
    """``(rows, cols)`` of a matrix (explicit or symbolic), the shape of a tensor, None for
    a scalar."""
    if isinstance(value, (MatrixBase, sp.MatrixExpr, sp.NDimArray)):
        return tuple(value.shape)
    return None


def is_tensor(value: object) -> bool:
    """An explicit array of rank 3 or more (an image, a batch of images, a filter bank)."""
    return isinstance(value, sp.NDimArray) and value.rank() > 2


def describe_shape(shape: Shape | None) -> str:
    """``a scalar``, ``a 3x1 column vector``, ``a 1x2 row vector``, ``a 2x3 matrix`` or
    ``a 1x4x4 tensor``."""
    if shape is None or math.prod(shape) == 1 and len(shape) <= 2:
        return "a scalar"
    if len(shape) != 2:
        return f"a {'x'.join(map(str, shape))} tensor"
    rows, cols = shape
    kind = "column vector" if cols == 1 else "row vector" if rows == 1 else "matrix"
    return f"a {rows}x{cols} {kind}"


def tensor_fit(shape: Shape, expected: Shape) -> Shape | None:
    """The shape to read an answer's entries in (row-major order kept), when it is the
    expected tensor written another way, else None: axes of length 1 left out or added
    (a single-channel image typed as its matrix), or the blocks of a tensor listed in one
    row or column of matrices (as the sheet stacks the channels when they are wide)."""
    if shape == expected or math.prod(shape) != math.prod(expected):
        return None
    if len(shape) < 3 and len(expected) < 3:
        return None
    if _squeezed(shape) == _squeezed(expected):
        return expected
    blocks_in_a_line = len(_squeezed(shape[:-2])) <= 1
    return expected if len(shape) > 2 and shape[-2:] == expected[-2:] and blocks_in_a_line else None


def _squeezed(shape: Shape) -> Shape:
    return tuple(n for n in shape if n != 1)
