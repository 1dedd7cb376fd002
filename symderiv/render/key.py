"""The machine-readable answer key: ``{id: {"latex", "exact", "display", "value"}}``.

``latex`` is the exact answer in LaTeX and ``exact`` SymPy's ``str`` of it (a formula
stays a formula); ``display`` is what the sheet prints after the answer's symbol, by the
number policy (``\\frac{10}{3} \\approx 3.333``, ``\\approx 0.5933``); ``value`` is present
for numeric answers: an int where the answer is a whole number, else a float (full
double precision), and nested lists (rows) for vectors and matrices, and for tensors of
rank 3 and 4 (N-dimensional arrays). A 1x1 matrix is keyed as its single number. An
answer carried as a high-precision float rather than an exact number has
``"numeric": true``; a tensor shape is a flat list with ``"tuple": true`` (a row or a
column of its entries is the same answer). A value beyond float64's range (or nonzero and below it) is written as
a JSON number with 17 significant digits and its exponent (``1.2345678901234567e+400``):
every key is strict JSON, never ``Infinity`` or ``NaN``.
"""
from __future__ import annotations

import json
import math
from typing import Any

import sympy as sp

from symderiv.model import Problem, Sheet, TensorShape
from symderiv.render.printer import SheetPrinter
from symderiv.render.walker import SheetWalker


class JsonNumber(str):
    """A number beyond float64's range as JSON number text, 17 significant digits and its
    exponent (``1.2345678901234567e+400``): JSON's grammar has no limit on exponents, while
    a float would be ``Infinity`` (not JSON) or 0."""


#: The largest float64; whole numbers below it stay exact ints in the key.
_FLOAT_MAX = sp.Float(2) ** 1024


def _scalar(value: sp.Basic) -> Any:
    """An int where whole, else the nearest float; beyond float64 (or a nonzero number that
    rounds to 0.0) a :class:`JsonNumber`."""
    if value.is_Integer and abs(value) < _FLOAT_MAX:
        return int(value)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number) or (number == 0 and value != 0):
        return JsonNumber(str(sp.Float(value, 17)))
    return number


def _nested(rows: Any) -> Any:
    return [_nested(r) for r in rows] if isinstance(rows, list) else _scalar(rows)


def numeric(value: sp.Basic) -> Any:
    """JSON numbers for a numeric answer; ``None`` for a symbolic one."""
    if isinstance(value, TensorShape):
        return [_scalar(e) for e in value]
    if isinstance(value, sp.NDimArray):
        flat = sp.flatten(value.tolist())
        return _nested(value.tolist()) if all(e.is_number and e.is_finite for e in flat) else None
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


def is_float(value: sp.Basic) -> bool:
    """Whether an answer holds a float (a numeric, not an exact, value)."""
    return isinstance(value, sp.Basic) and value.has(sp.Float)


def display(walker: SheetWalker, value: sp.Basic) -> str:
    """The value as the sheet prints it after ``symbol``: ``= `` dropped, ``\\approx`` kept."""
    text = " ".join(f"{rel} {rhs}" for rel, rhs in walker.value_rows(value))
    return text.removeprefix("= ")


def problem_entries(sheet: Sheet, problem: Problem) -> dict[str, dict[str, Any]]:
    """The key entries of one problem's answers."""
    printer = SheetPrinter(dict(problem.notation), exact=True)
    walker = SheetWalker()
    walker.use_printer(dict(problem.notation), {"digits": problem.digits or sheet.digits, "decimals": problem.decimals})
    out: dict[str, dict[str, Any]] = {}
    for a in (a for q in problem.questions for a in q.answers):
        entry: dict[str, Any] = {"latex": printer.doprint(a.value), "exact": exact(a.value),
                                 "display": display(walker, a.value)}
        value = numeric(a.value)
        if value is not None:
            entry["value"] = value
        if is_float(a.value):
            entry["numeric"] = True
        if isinstance(a.value, TensorShape):
            entry["tuple"] = True  # a shape: its entries have no orientation (symderiv.check)
        out[a.id] = entry
    return out


def key_entries(sheet: Sheet) -> dict[str, dict[str, Any]]:
    """The key as a dict, in sheet order."""
    return {k: v for problem in sheet.problems for k, v in problem_entries(sheet, problem).items()}


def to_json(value: Any) -> str:
    """``value`` as strict JSON text (as ``json.dumps`` writes it), with :class:`JsonNumber`
    written as the number it holds; a float that is not finite is an error, never ``Infinity``."""
    if isinstance(value, JsonNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=True)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=True, allow_nan=False)


def render_key(sheet: Sheet) -> str:
    """The key as deterministic JSON text, one answer per line."""
    lines = [f"  {json.dumps(k)}: {to_json(v)}" for k, v in key_entries(sheet).items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"
