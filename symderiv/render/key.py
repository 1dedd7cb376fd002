"""The machine-readable answer key: ``{id: {"latex", "exact", "value"}}``.

``exact`` is SymPy's ``str`` of the exact answer (a formula stays a formula);
``value`` is present for numeric answers: an int where the answer is a whole number,
else a float, and nested lists (rows) for vectors and matrices. A 1x1 matrix is keyed
as its single number; a tensor shape as a flat list, with ``"tuple": true`` (a row or
a column of its entries is the same answer).
"""
from __future__ import annotations

import json
from typing import Any

import sympy as sp

from symderiv.model import Sheet, TensorShape
from symderiv.render.printer import SheetPrinter


def _scalar(value: sp.Basic) -> Any:
    if value.is_Integer:
        return int(value)
    return float(value)


def numeric(value: sp.Basic) -> Any:
    """JSON numbers for a numeric answer; ``None`` for a symbolic one."""
    if isinstance(value, TensorShape):
        return [_scalar(e) for e in value]
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            return numeric(value[0, 0])
        if not all(e.is_number and e.is_finite for e in value):
            return None
        return [[_scalar(e) for e in row] for row in value.tolist()]
    if isinstance(value, sp.Basic) and value.is_number and value.is_finite:
        return _scalar(value)
    return None


def exact(value: sp.Basic) -> str:
    """SymPy's string of the exact value (1x1 matrices as their entry)."""
    if isinstance(value, TensorShape):
        return str(list(value))
    if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):
        value = value[0, 0]
    if isinstance(value, sp.MatrixBase):
        return str(value.tolist())
    return str(value)


def key_entries(sheet: Sheet) -> dict[str, dict[str, Any]]:
    """The key as a dict, in sheet order."""
    out: dict[str, dict[str, Any]] = {}
    for problem in sheet.problems:
        printer = SheetPrinter(dict(problem.notation))
        for q in problem.questions:
            for a in q.answers:
                entry = {"latex": printer.doprint(a.value), "exact": exact(a.value)}
                value = numeric(a.value)
                if value is not None:
                    entry["value"] = value
                if isinstance(a.value, TensorShape):
                    entry["tuple"] = True  # a shape: its entries have no orientation (symderiv.check)
                out[a.id] = entry
    return out


def render_key(sheet: Sheet) -> str:
    """The key as deterministic JSON text, one answer per line."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=True)}" for k, v in key_entries(sheet).items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"
