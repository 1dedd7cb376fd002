"""Numbers as the sheet holds them, and the column walks the vector rules share.

A quantity of rank 1 is printed as a column vector (an ``n x 1`` matrix), rank 2 as a
matrix, rank 3 and 4 as SymPy N-dimensional arrays (an image's channels side by side, a
kernel's filters by channels); rank 0 is a plain number.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import sympy as sp

from symderiv.calculus.core import Config, Tensor


def as_value(t: Tensor) -> Any:
    """An object array of numbers as the sheet prints it (matrix, N-d array or number)."""
    if t.ndim == 0:
        return t[()]
    if t.ndim == 1:
        return sp.ImmutableMatrix(t.shape[0], 1, list(t))
    if t.ndim == 2:
        return sp.ImmutableMatrix(t.shape[0], t.shape[1], list(t.reshape(-1)))
    return sp.ImmutableDenseNDimArray(list(t.reshape(-1)), t.shape)


def as_tensor(value: Any, shape: tuple[int, ...]) -> Tensor:
    """The inverse of :func:`as_value`: any printed value as an object array of ``shape``."""
    if isinstance(value, (sp.MatrixBase, sp.NDimArray)):
        flat = list(value) if isinstance(value, sp.MatrixBase) else _flat(value)
    else:
        flat = [value]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


def _flat(array: sp.NDimArray) -> list:
    """An N-d array's entries in row-major order. A dense array holds them as a flat list;
    reading them through ``tolist`` indexes entry by entry, with SymPy's index checks (on a
    1x32x32 image that took most of a network's derivation)."""
    held = getattr(array, "_array", None)
    return list(held) if isinstance(held, list) and len(held) == len(array) else list(sp.flatten(array.tolist()))


def map_values(f: Callable[..., sp.Basic], *values: Any) -> Any:
    """``f`` entry by entry over printed values of one shape (matrix or N-d array)."""
    first = values[0]
    if isinstance(first, sp.MatrixBase):
        return sp.ImmutableMatrix(first.rows, first.cols, [f(*args) for args in zip(*values)])
    if isinstance(first, sp.NDimArray):
        flats = [sp.flatten(v.tolist()) for v in values]
        return sp.ImmutableDenseNDimArray([f(*args) for args in zip(*flats)], first.shape)
    return f(*values)


def columns_of(t: Tensor) -> Iterator[tuple[Any, Tensor]]:
    """The examples of a vector quantity: the vector itself, or each column of a batch."""
    if t.ndim == 1:
        yield slice(None), t
        return
    for k in range(t.shape[1]):
        yield (slice(None), k), t[:, k]


def same_shape(shapes: Mapping[str, tuple[int, ...]], cfg: Config) -> tuple[int, ...]:
    """The shape rule of an operation whose output has its input's shape."""
    return shapes["input"]
