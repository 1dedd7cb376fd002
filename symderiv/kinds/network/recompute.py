"""What the correct rules give from a student's own values: the network kind's ``recompute``.

For carried-forward grading: the derivation's straight-line program runs again on the
spec's inputs, with the entries of every pinned quantity (a student's ``a2``, ``z1``,
``y_hat``...) held at the student's values, so each later answer is what a student who
applied every rule correctly to their own wrong intermediate would have written.
"""
from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices import MatrixBase

from symderiv.calculus.values import as_tensor
from symderiv.kinds.network.graph import entries
from symderiv.kinds.network.solve import quantity_value, run_program
from symderiv.model import Problem


def numeric_symbols(problem: Problem) -> dict[str, sp.Basic]:
    """Answer id -> the quantity it names, for every answer that is a number or numeric matrix."""
    return {a.id: a.symbol for q in problem.questions for a in q.answers if _numeric(a.value)}


def _numeric(value: sp.Basic) -> bool:
    if isinstance(value, MatrixBase):
        return all(e.is_number for e in value)
    if isinstance(value, sp.NDimArray):
        return all(e.is_number for e in sp.flatten(value.tolist()))
    return isinstance(value, sp.Expr) and value.is_number


def recompute(problem: Problem, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    """Every numeric answer from the spec's inputs, the pinned answers' entries held at the
    student's values while the rest of the program runs as derived."""
    solved, symbols = problem.data, numeric_symbols(problem)
    fixed: dict[sp.Basic, sp.Basic] = {}
    graph = solved.graph
    for answer_id, value in pinned.items():
        fixed.update(_entries_of(graph.by_symbol[symbols[answer_id]], value))
    env = run_program(graph, solved.inputs, pinned=fixed)
    return {i: quantity_value(graph.by_symbol[symbol], env) for i, symbol in symbols.items()}


def _entries_of(q, value: sp.Basic) -> dict:
    if not isinstance(value, (MatrixBase, sp.NDimArray)):
        value = sp.ImmutableMatrix([[value]])
    return dict(zip(entries(q).flat, as_tensor(value, q.shape).flat))
