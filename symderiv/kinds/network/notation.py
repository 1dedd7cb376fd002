"""How a network's quantities are written: symbol name -> LaTeX, as a data table.

Names follow one scheme (``W2``, ``a3``, ``dL_dW2``, ``relu'(a2)``, ``dy_hat_da3``),
so the table is built by a few rules rather than by hand. Vectors and matrices are
bold; quantities of shape 1x1 are plain (the homework's ``y``, ``b(3)``).
"""
from __future__ import annotations

import re

from symderiv.calculus import ACTIVATIONS
from symderiv.kinds.network.graph import Graph

_LAYERED = re.compile(r"^(W|b|a|z)(\d+)$")
_APPLIED = re.compile(r"^(\w+?)('?)\((\w+)\)$")
_OPERATOR = {name: act.label for name, act in ACTIVATIONS.items()} | {"softmax": "softmax"}


def _base(name: str, scalar: bool) -> str:
    """LaTeX of a plain quantity name (no derivative)."""
    bold = (lambda s: s) if scalar else (lambda s: rf"\mathbf{{{s}}}")
    if name == "y_hat":
        return rf"\hat{{{bold('y')}}}"
    if name in ("x", "y"):
        return bold(name)
    if name == "L":
        return "L"
    match = _LAYERED.match(name)
    if match:
        return rf"{bold(match.group(1))}^{{({match.group(2)})}}"
    return name


def _applied(name: str, shapes: dict) -> str | None:
    """``relu(a2)`` -> ``\\operatorname{ReLU}(\\mathbf{a}^{(2)})`` and friends."""
    match = _APPLIED.match(name)
    if not match:
        return None
    op, prime, arg = match.groups()
    inner = _base(arg, shapes.get(arg) == (1, 1))
    if op == "J_softmax":
        return rf"\mathbf{{J}}_{{\operatorname{{softmax}}}}({inner})"
    label = _OPERATOR.get(op, op)
    head = r"\sigma" if label == "sigma" else rf"\operatorname{{{label}}}"
    return rf"{head}{prime}({inner})"


def notation(graph: Graph) -> tuple[tuple[str, str], ...]:
    """Every name the network's steps print, with its LaTeX."""
    shapes = {s.name: s.shape for s in graph.inputs}
    shapes |= {q.symbol.name: q.symbol.shape for q in graph.forward + graph.backward}
    table = {name: _base(name, shape == (1, 1)) for name, shape in shapes.items() if not name.startswith("dL_d")}
    table["L"] = "L"
    table |= {f"{v}(l)": rf"\mathbf{{{v}}}^{{(l)}}" for v in "Wabz"} | {"z(l-1)": r"\mathbf{z}^{(l-1)}"}
    for q in graph.forward + graph.backward:
        for sym in (q.local,) if q.local is not None else ():
            table[sym.name] = _applied(sym.name, shapes) or sym.name
        for num, den in q.factors:
            table[f"d{num}_d{den}"] = rf"\frac{{\partial {table[num]}}}{{\partial {table[den]}}}"
    for name in list(shapes):
        if name.startswith("dL_d"):
            table[name] = rf"\frac{{\partial L}}{{\partial {table.get(name[4:], _base(name[4:], shapes[name] == (1, 1)))}}}"
    return tuple(sorted(table.items()))
