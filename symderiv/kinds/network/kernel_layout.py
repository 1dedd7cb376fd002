"""What both printings of a network need: the program, its quantities, shapes and names.

The derivation (``symderiv.kinds.network.graph``) gives a straight-line program of
entry assignments; this module reads it once: which quantities it assigns (in
derivation order), their array shapes, which of them nothing later reads (leaves:
work that can be skipped when they are not asked for), and which questions of the
sheet each belongs to.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.calculus import SOFTMAX
from symderiv.kinds.network.graph import z_name
from symderiv.model import Problem

_MATRIX_NAME = re.compile(r"(dL_d)?W\d+$")
LOSS = sp.Symbol("L")


def shape_of(sym: sp.Basic) -> tuple[int, ...]:
    """Array shape of a quantity: ``W``-like matrices stay 2-D, column vectors are 1-D."""
    if not isinstance(sym, sp.MatrixSymbol):
        return ()
    return (sym.rows, sym.cols) if _MATRIX_NAME.match(sym.name) else (sym.rows,)


def name_of(q: sp.Basic) -> str:
    return q.name if isinstance(q, sp.MatrixSymbol) else str(q)


def entries(sym: sp.MatrixSymbol) -> list[MatrixElement]:
    """Every entry of a matrix symbol, row-major."""
    return [sym[i, j] for i in range(sym.rows) for j in range(sym.cols)]


def entry_code(entry: MatrixElement, prefix: str = "") -> str:
    """How a chunk function reads one entry of an array of rows: ``W1[:, 0, 1]``, ``x[:, 0]``."""
    sym, i, j = entry.parent, int(entry.i), int(entry.j)
    index = f"{i}, {j}" if len(shape_of(sym)) == 2 else f"{i}"
    return f"{prefix}{sym.name}[:, {index}]"


def entry_name(entry: sp.Basic) -> str:
    """A Python name for a scalar entry: ``W1_0_1``, ``a1_2``, ``L``."""
    if not isinstance(entry, MatrixElement):
        return str(entry)
    sym, i, j = entry.parent, int(entry.i), int(entry.j)
    return f"{sym.name}_{i}_{j}" if len(shape_of(sym)) == 2 else f"{sym.name}_{i}"


def parent(target: sp.Basic) -> sp.Basic:
    """The quantity an assignment target belongs to (an entry's matrix, or the symbol)."""
    return target.parent if isinstance(target, MatrixElement) else target


def stable_program(graph) -> list[tuple[sp.Basic, sp.Expr]]:
    """The program with softmax evaluated as ``exp(a_i - max a) / sum_k exp(a_k - max a)``.

    Mathematically the same expression (the factor ``exp(-max a)`` cancels), but it
    cannot overflow in floating point; the exact sheet needs no such care. The maximum
    is one more named assignment (``amax<l>``), placed before the softmax entries.
    """
    if graph.activations[-1] != SOFTMAX:
        return list(graph.program)
    depth = graph.depth
    a, z = graph.symbol(f"a{depth}"), graph.symbol(z_name(depth, depth))
    m = sp.Symbol(f"amax{depth}")
    shift = {e: e - m for e in entries(a)}
    out: list[tuple[sp.Basic, sp.Expr]] = []
    for target, expr in graph.program:
        if parent(target) == z:
            if not out or parent(out[-1][0]) != z:
                out.append((m, sp.Max(*entries(a))))
            expr = expr.xreplace(shift)
        out.append((target, expr))
    return out


@dataclass(frozen=True)
class Layout:
    """A network problem read for code generation (computed once, shared by both codes)."""

    problem: Problem

    @property
    def graph(self):
        return self.problem.data.graph

    @property
    def number(self) -> int:
        return self.problem.number

    @cached_property
    def program(self) -> list[tuple[sp.Basic, sp.Expr]]:
        return stable_program(self.graph)

    @cached_property
    def quantities(self) -> list[sp.Basic]:
        """Assigned quantities (matrix symbols and ``L``) in order of first assignment;
        helper scalars such as ``amax3`` are not quantities."""
        seen = dict.fromkeys(parent(t) for t, _ in self.program)
        return [q for q in seen if isinstance(q, sp.MatrixSymbol) or q == LOSS]

    @cached_property
    def shapes(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        return tuple((name_of(q), shape_of(q)) for q in self.quantities)

    @cached_property
    def inputs(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        return tuple((s.name, shape_of(s)) for s in self.graph.inputs)

    @cached_property
    def leaves(self) -> frozenset:
        """Quantities no later assignment reads (``L``, ``dL/dW``, ``dL/db``, ``dL/dx``)."""
        read = set().union(*(e.free_symbols for _, e in self.program))
        return frozenset(q for q in self.quantities if q not in read)

    @cached_property
    def first_backward(self) -> int:
        """Index in :attr:`quantities` of the first backward quantity (``dL/dy_hat``)."""
        return self.quantities.index(self.graph.backward[0].symbol)

    @cached_property
    def weights(self) -> int:
        widths = self.graph.widths
        return sum(a * b for a, b in zip(widths, widths[1:]))

    @cached_property
    def columns(self) -> dict[MatrixElement, str]:
        """Every entry of every input and quantity as its column of the chunk's array."""
        syms = list(self.graph.inputs) + [q for q in self.quantities if q != LOSS]
        return {e: entry_code(e) for s in syms for e in entries(s)}

    @cached_property
    def _descriptions(self) -> dict[sp.Basic, str]:
        """describe's answers so far: both codes comment every quantity, and printing a rule is slow."""
        return {}

    def questions_of(self, q: sp.Basic) -> list[str]:
        """Ids of the sheet's questions that answer quantity ``q`` (``L`` is "loss")."""
        name = "loss" if q == LOSS else name_of(q)
        return [x.id for x in self.problem.questions if any(a.id == f"{x.id}.{name}" for a in x.answers)]

    def describe(self, q: sp.Basic) -> str:
        """A one-line comment: the quantity's rule as the sheet states it, and its questions."""
        if q not in self._descriptions:
            self._descriptions[q] = self._describe(q)
        return self._descriptions[q]

    def _describe(self, q: sp.Basic) -> str:
        where = self.questions_of(q)
        cite = f"   (question{'s' if len(where) > 1 else ''} {', '.join(where)})" if where else ""
        if q == LOSS:
            return f"L = {self.graph.loss_expr}{cite}"
        return f"{q.name} = {rule_text(self.graph.quantity(q.name).rule)}{cite}"


def rule_text(rule: sp.Basic) -> str:
    """A matrix-level rule in plain text (entry-wise products spelled out)."""
    if isinstance(rule, sp.HadamardProduct):
        return " * ".join(str(a) for a in rule.args) + ", entry by entry"
    if isinstance(rule, sp.MatrixBase):
        shown = "; ".join(str(e) for e in rule[:3]) + ("; ..." if len(rule) > 3 else "")
        return f"entry by entry: {shown}"
    return str(rule)
