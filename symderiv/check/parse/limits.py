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
"""Most digits in one number literal (a decimal counts its exponent too): enough for the
key's own 40-digit values of answers carried as high-precision floats."""
MAX_EXPONENT = 1_000
"""Largest absolute value of a numeric exponent, as in ``x^1000``."""
MAX_RESULT_DIGITS = 1_000
"""Largest estimated size, in decimal digits, of any number SymPy would build."""
MAX_SECONDS = 1.0
"""Wall-clock budget of one parse, checked between steps (a backstop only)."""
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
