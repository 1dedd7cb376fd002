"""Small SymPy helpers shared by the derivations of every kind."""
from __future__ import annotations

import sympy as sp


def substitute(expr: sp.Basic, values: dict, *, keep_numbers: bool = False) -> sp.Basic:
    """``expr`` with the numbers put in but nothing evaluated: what a student writes down.

    With ``keep_numbers`` each number is also wrapped so that SymPy's printer cannot fold
    neighbouring numbers together (``1/2 * (1/2)**3`` stays as written).
    """
    if keep_numbers:
        values = {key: sp.UnevaluatedExpr(v) for key, v in values.items()}
    with sp.evaluate(False):
        return expr.xreplace(values)


def decimal_text(value: sp.Rational, max_places: int = 30) -> str | None:
    """An exact rational as the decimal a person writes (19/20 -> "0.95", 5/2 -> "2.5"),
    or None when it needs more than ``max_places`` decimal places (1/3)."""
    for places in range(max_places + 1):
        scaled = value * 10**places
        if scaled.is_integer:
            digits = str(abs(int(scaled))).zfill(places + 1)
            sign = "-" if scaled < 0 else ""
            return sign + (f"{digits[:-places]}.{digits[-places:]}" if places else digits)
    return None


def node_count(expr: sp.Basic, limit: int | None = None) -> int:
    """The nodes of ``expr`` (symbols, numbers, operations), counted up to ``limit + 1`` when a
    limit is given: enough to tell short from long without walking a huge tree."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if limit is not None and count > limit:
            break
    return count


def as_sympy(value) -> sp.Basic:
    """A number or SymPy object as SymPy; a string is refused, never parsed (``strict``)."""
    return sp.sympify(value, strict=True)
