"""How a network's quantities are written: each quantity records its LaTeX when it is made.

A quantity's spelling follows from its role and layer (data the graph holds), never from
its name: ``W`` of layer 2 is ``\\mathbf{W}^{(2)}``, the prediction ``\\hat{\\mathbf{y}}``.
Vectors, matrices and tensors are bold; a quantity with one entry is plain (the
homework's ``y``, ``b^{(3)}``). The notation table the printers read (name -> LaTeX) is
collected from those records.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from symderiv.kinds.network.graph import Graph, Quantity

#: Role -> (letter, Greek): how the quantities of a layer are written.
LETTERS = {"W": "W", "b": "b", "pre": "a", "out": "z", "mask": "m", "gamma": r"\gamma", "beta": r"\beta",
           "mean": r"\mu", "var": r"\sigma"}


@dataclass(frozen=True)
class Written:
    """A quantity's LaTeX (``latex``, bold where it has several entries), its entries'
    (``plain``), and for the input and the prediction their name as a layer output
    (``zname``, ``zlatex``: ``z^{(0)}`` is ``x``, ``z^{(L)}`` is ``\\hat{y}``)."""

    latex: str
    plain: str
    zname: str = ""
    zlatex: str = ""


def _bold(letter: str, one: bool) -> str:
    if one:
        return letter
    return rf"\boldsymbol{{{letter}}}" if letter.startswith("\\") else rf"\mathbf{{{letter}}}"


def _layered(letter: str, layer: int, one: bool) -> tuple[str, str]:
    return rf"{_bold(letter, one)}^{{({layer})}}", rf"{letter}^{{({layer})}}"


def written(role: str, layer: int, shape: tuple[int, ...], final: bool) -> Written:
    """The spelling of a quantity of ``role`` in ``layer`` (``final``: the network's output)."""
    one = int(np.prod(shape)) == 1
    if role == "loss":
        return Written("L", "L")
    if role == "input":
        return Written(_bold("x", one), "x", "z0", _layered("z", 0, one)[0])
    if role == "target":
        return Written(_bold("y", one), "y")
    if role == "out" and final:
        return Written(rf"\hat{{{_bold('y', one)}}}", r"\hat{y}", f"z{layer}", _layered("z", layer, one)[0])
    if role == "xhat":
        return Written(rf"\hat{{{_bold('x', one)}}}^{{({layer})}}", rf"\hat{{x}}^{{({layer})}}")
    latex, plain = _layered(LETTERS[role], layer, one)
    if role == "var":  # the variance: sigma squared
        return Written(rf"\left({latex}\right)^{{2}}", rf"\left({plain}\right)^{{2}}")
    return Written(latex, plain)


def gradient_name(q: Quantity, by_loss: bool) -> tuple[str, Written]:
    """The name and spelling of ``dL/dq``. Inside the network a layer's output is called by
    its layer name (``dL_dz0`` for the input), the loss calls the prediction by its own."""
    use_z = bool(q.written.zname) and not by_loss
    name = "dL_d" + (q.written.zname if use_z else q.name)
    den = q.written.zlatex if use_z else q.latex
    return name, _partial(den, q.written.plain)


def _partial(den: str, plain: str) -> Written:
    return Written(rf"\frac{{\partial L}}{{\partial {den}}}", rf"\frac{{\partial L}}{{\partial {plain}}}")


def alias_written(q: Quantity, name: str) -> Written:
    """The spelling of the alias ``name`` of ``dL/dq`` (``dL_dz3`` of the prediction, ``dL_dx``)."""
    den = q.written.zlatex if name == "dL_d" + q.written.zname else q.latex
    return _partial(den, q.written.plain)


def notation(graph: Graph) -> tuple[tuple[str, str], ...]:
    """Every name the network's steps print, with its LaTeX."""
    table: dict[str, Any] = {"L": "L"}
    table |= {f"{v}(l)": rf"\mathbf{{{v}}}^{{(l)}}" for v in "Wabz"} | {"z(l-1)": r"\mathbf{z}^{(l-1)}",
                                                                       "z(0)": r"\mathbf{z}^{(0)}"}
    for q in graph.quantities:
        table[q.name] = q.latex
        table[f"{q.name}[]"] = q.written.plain
        if q.written.zname:
            table.setdefault(q.written.zname, q.written.zlatex)
    table |= dict(graph.extra_names)
    for q in graph.backward:
        for path in q.paths:
            for num, den in path:
                table[f"d{num}_d{den}"] = rf"\frac{{\partial {table[num]}}}{{\partial {table[den]}}}"
    return tuple(sorted(table.items()))
