"""Answers as values: numbers passed directly, and a reader's value as the returned answer.

Callers may hand :func:`~symderiv.check.parse.parse_answer` numbers they already
have (``int``, ``Fraction``, ``Decimal``, ``float``, NumPy, SymPy, lists), so
every answer is treated alike.  Whatever was read, the result is a SymPy scalar
or an ``ImmutableMatrix``: a flat list is a column vector, as gradients are in
this project, a list of lists gives rows, and ragged rows are refused.
"""
from __future__ import annotations

import math
import numbers
from decimal import Decimal

import sympy
from sympy.matrices import MatrixBase

from symderiv.check.parse.builder import NON_FINITE_VALUES, Builder, Value, is_sequence, nested_to_array
from symderiv.check.parse.errors import not_finite, too_large, unparseable


def from_value(value: object, builder: Builder) -> Value:
    """Accept numbers, SymPy objects, NumPy arrays and lists the caller already has."""
    if isinstance(value, bool):
        raise unparseable("True/False is not an answer")
    if isinstance(value, (sympy.Basic, MatrixBase)):
        return value
    if isinstance(value, (numbers.Real, Decimal)):
        return _from_number(value, builder)
    if isinstance(value, (list, tuple)):
        return tuple(from_value(item, builder) for item in value)
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # NumPy arrays
        return from_value(value.tolist(), builder)
    raise unparseable(f"an answer of type {type(value).__name__} cannot be read")


def _from_number(value: numbers.Real | Decimal, builder: Builder) -> sympy.Basic:
    """Exact numbers stay exact; a float becomes a ``sympy.Float``."""
    if isinstance(value, numbers.Integral):
        return builder.done(sympy.Integer(int(value)))
    if isinstance(value, numbers.Rational):
        return builder.done(sympy.Rational(int(value.numerator), int(value.denominator)))
    if isinstance(value, Decimal):
        return _from_decimal(value, builder)
    return _from_float(float(value))


def _from_decimal(value: Decimal, builder: Builder) -> sympy.Rational:
    if not value.is_finite():
        raise not_finite(f"{value} is not a finite number")
    exponent = value.as_tuple().exponent
    if abs(int(exponent)) + len(value.as_tuple().digits) > builder.limits.result_digits:
        raise too_large(f"the number {str(value)[:40]} is too large")
    numerator, denominator = value.as_integer_ratio()
    return sympy.Rational(numerator, denominator)


def _from_float(value: float) -> sympy.Float:
    if not math.isfinite(value):
        raise not_finite(f"{value} is not a finite number")
    return sympy.Float(value)


# --------------------------------------------------------------------------
# The returned answer: shapes and finiteness
# --------------------------------------------------------------------------


def as_answer(value: Value, rank: int = 2) -> sympy.Basic:
    """Turn the reader's value into the returned object (tuples become matrices, or
    tensors nested up to ``rank`` deep), refusing infinity and NaN anywhere inside."""
    return check_finite(_as_matrix_or_scalar(value, rank))


def _as_matrix_or_scalar(value: Value, rank: int) -> sympy.Basic:
    if isinstance(value, MatrixBase):
        return sympy.ImmutableMatrix(value)
    if isinstance(value, sympy.NDimArray):
        return sympy.ImmutableDenseNDimArray(value)
    if isinstance(value, (tuple, list)):
        return _sequence_to_matrix(value, rank)
    return value


def _sequence_to_matrix(items: tuple | list, rank: int) -> sympy.Basic:
    """A flat sequence is a column vector; a sequence of sequences lists rows (or, nested
    deeper, a tensor's matrices)."""
    if not items:
        raise unparseable("an empty list is not an answer")
    if not any(is_sequence(item) for item in items):
        return sympy.ImmutableMatrix([[item] for item in items])
    if all(isinstance(item, (tuple, list)) for item in items):
        return nested_to_array(items, rank)
    raise unparseable("a list mixes numbers with lists; write a matrix as a list of rows")


def check_finite(value: sympy.Basic) -> sympy.Basic:
    """Refuse results that contain infinity or NaN anywhere inside."""
    entries = value if isinstance(value, sympy.NDimArray) else (value,)
    if any(entry.has(bad) for entry in entries for bad in NON_FINITE_VALUES):
        raise not_finite("the answer contains infinity or an undefined value")
    return value
