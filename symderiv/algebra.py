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


def as_sympy(value) -> sp.Basic:
    """A number or SymPy object as SymPy; a string is refused, never parsed (``strict``)."""
    return sp.sympify(value, strict=True)
