"""What both printings of a network need: quantities, shapes, entries, and how each is made.

The graph's records say everything: a quantity's shape is data (a vector is ``(n,)``, a
weight matrix ``(m, n)``, an image ``(C, H, W)``), and so is how it is obtained (a node's
row, the vector-Jacobian products of the nodes that read it, or an alias). This module
reads them once for code generation: the derived quantities in derivation order, which
of them nothing later reads (leaves: work that can be skipped when not asked for), the
column of the chunk's array that holds each scalar entry, and which questions of the
sheet each quantity answers.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.kinds.network.graph import Graph, Quantity
from symderiv.model import Problem

LOSS = sp.Symbol("L")


def index_code(index: tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in index)


@dataclass(frozen=True)
class Layout:
    """A network problem read for code generation (computed once, shared by both codes).

    ``graph`` may be given without a derived problem (a kernel for a network beyond the
    sheet's size bounds): then ``problem`` is None and no question is cited.
    """

    graph: Graph
    number: int
    problem: Problem | None = None

    @classmethod
    def of(cls, problem: Problem) -> Layout:
        return cls(problem.data.graph, problem.number, problem)

    @cached_property
    def program(self) -> tuple[tuple[sp.Basic, sp.Expr], ...]:
        return self.graph.program(floating=True)

    @cached_property
    def derived(self) -> list[Quantity]:
        """Derived quantities (node outputs, the loss, gradients) in derivation order."""
        return list(self.graph.forward) + list(self.graph.backward)

    @property
    def quantities(self) -> list[sp.Basic]:
        return [q.symbol for q in self.derived]

    @cached_property
    def shapes(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        return tuple((q.name, q.shape) for q in self.derived)

    @cached_property
    def inputs(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        return tuple((q.name, q.shape) for q in self.graph.input_quantities)

    @cached_property
    def leaves(self) -> frozenset:
        """Quantities nothing later reads: the loss and the gradients of the inputs (each
        parameter's, and the input's under its final name)."""
        aliased = {g.source for g in self.graph.backward if g.source is not None}
        inputs = {name for name, _ in self.inputs}
        found = {LOSS} | {g.symbol for g in self.graph.backward if g.of in inputs and g.name not in aliased}
        return frozenset(found)

    @cached_property
    def first_backward(self) -> int:
        """Index in :attr:`derived` of the first backward quantity (``dL/dy_hat``)."""
        return self.derived.index(self.graph.backward[0])

    @cached_property
    def parameters(self) -> int:
        """Entries of every trainable parameter (what scalar code's size grows with)."""
        return sum(int(np.prod(q.shape)) for q in self.graph.quantities if q.trainable)

    @cached_property
    def _labels(self) -> dict[sp.Basic, Quantity]:
        """The symbol of every quantity, and the label of its indexed entries, -> the quantity."""
        found = {}
        for q in self.graph.quantities:
            found[q.symbol] = q
            found[sp.Symbol(f"{q.name}[]")] = q
        return found

    def owner(self, entry: sp.Basic) -> tuple[Quantity, tuple[int, ...]]:
        """The quantity a scalar entry belongs to, and its index (read from the entry itself:
        a matrix entry names its matrix, an indexed entry its base)."""
        if isinstance(entry, MatrixElement):
            q = self._labels[entry.parent]
            i, j = int(entry.i), int(entry.j)
            return q, (i,) if len(q.shape) == 1 else (i, j)
        if isinstance(entry, sp.Indexed):
            return self._labels[entry.base.label], tuple(int(k) - 1 for k in entry.indices)
        return self._labels[entry], ()

    def entry_code(self, entry: sp.Basic, prefix: str = "") -> str:
        """How a chunk function reads one entry of an array of rows: ``W1[:, 0, 1]``, ``L``."""
        q, index = self.owner(entry)
        return f"{prefix}{q.name}[:, {index_code(index)}]" if index else f"{prefix}{q.name}"

    def entry_name(self, entry: sp.Basic) -> str:
        """A Python name for a scalar entry: ``W1_0_1``, ``a1_2``, ``L``."""
        q, index = self.owner(entry)
        return "_".join([q.name] + [str(i) for i in index])

    @cached_property
    def columns(self) -> Columns:
        """Every entry of every input and quantity as its column of the chunk's array."""
        return Columns(self)

    def of_entry(self, target: sp.Basic) -> Quantity:
        return self.owner(target)[0]

    def questions_of(self, q: Quantity) -> list[str]:
        """Ids of the sheet's questions that answer quantity ``q`` (``L`` is "loss")."""
        if self.problem is None:
            return []
        name = "loss" if q.name == "L" else q.name
        return [x.id for x in self.problem.questions if any(a.id == f"{x.id}.{name}" for a in x.answers)]

    def describe(self, q: Quantity) -> str:
        """A one-line comment: the quantity's rule as the sheet states it, and its questions."""
        where = self.questions_of(q)
        cite = f"   (question{'s' if len(where) > 1 else ''} {', '.join(where)})" if where else ""
        if q.name == "L":
            return f"L = {_short(str(self.graph.loss_expr))}{cite}"
        rule = q.shown if q.shown is not None else q.rule
        return f"{q.name} = {rule_text(rule) if rule is not None else q.text}{cite}"


class Columns(Mapping):
    """Entry -> the code that reads it, for every entry of the layout's quantities (computed
    when asked: a large network has many entries and prints few of them one by one)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def __contains__(self, entry: object) -> bool:
        if entry == LOSS or not isinstance(entry, (MatrixElement, sp.Indexed, sp.Symbol)):
            return False
        try:
            self.layout.owner(entry)
        except KeyError:
            return False
        return True

    def __getitem__(self, entry: sp.Basic) -> str:
        if entry not in self:
            raise KeyError(entry)
        return self.layout.entry_code(entry)

    def __iter__(self) -> Iterator:
        return iter(())

    def __len__(self) -> int:
        return 0


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def rule_text(rule: sp.Basic) -> str:
    """A rule in plain text (entry-wise products spelled out)."""
    if isinstance(rule, sp.HadamardProduct):
        return " * ".join(str(a) for a in rule.args) + ", entry by entry"
    if isinstance(rule, sp.MatrixBase):
        shown = "; ".join(str(e) for e in rule[:3]) + ("; ..." if len(rule) > 3 else "")
        return _short(f"entry by entry: {shown}")
    return _short(str(rule))
