"""The structural bounds of one parse: module constants and their per-call overrides.

The bounds are checked before SymPy computes anything (see :mod:`.builder`);
exceeding one gives the verdict ``"too_large"``.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_LENGTH = 2_000
"""Longest answer string accepted, in characters."""
MAX_DEPTH = 50
"""Deepest bracket nesting (checked on the raw text) and expression nesting."""
MAX_DIGITS = 60
"""Most significant digits in one number literal: enough for the key's own 40-digit values
of answers carried as high-precision floats. A decimal's exponent is an order of magnitude,
bounded by ``MAX_RESULT_DIGITS`` (``4.59...e-41`` to 40 figures is read)."""
MAX_EXPONENT = 1_000
"""Largest absolute value of a numeric exponent, as in ``x^1000``."""
MAX_RESULT_DIGITS = 1_000
"""Largest estimated size, in decimal digits, of any number SymPy would build."""
MAX_SECONDS = 1.0
"""Wall-clock budget of one parse, checked between steps (a backstop only)."""
MAX_RANK = 2
"""Deepest nesting of lists in an answer: a matrix (a list of rows)."""
MAX_TENSOR_RANK = 4
"""...and where a tensor is expected: a bank of filters ``[filter][channel][row][column]``."""
MAX_CALL_ARGS = 10
"""Most arguments of one ``max``/``min`` call (SymPy compares them pairwise)."""


@dataclass(frozen=True)
class Limits:
    """The structural bounds of one parse; see the ``MAX_*`` constants."""

    length: int = MAX_LENGTH
    depth: int = MAX_DEPTH
    digits: int = MAX_DIGITS
    exponent: int = MAX_EXPONENT
    result_digits: int = MAX_RESULT_DIGITS
    seconds: float = MAX_SECONDS
    rank: int = MAX_RANK
