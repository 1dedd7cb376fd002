"""A network spec solved: its graph, the spec's numbers and the value of every entry.

The scalar program runs once, entry by entry, under the numerics policy of
:mod:`symderiv.kinds.network.numerics` (exact while small, 40 digits past that).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from symderiv.calculus.values import as_tensor, as_value
from symderiv.kinds.network.graph import Graph, Quantity, build_graph, entries
from symderiv.kinds.network.numerics import Evaluator
from symderiv.kinds.network.spec import NetworkSpec


def spec_numbers(spec: NetworkSpec, graph: Graph) -> dict[sp.Basic, Any]:
    """The spec's numbers keyed by the graph's input symbols (x, y, then every layer's)."""
    values: dict[sp.Basic, Any] = {graph.symbol("x"): spec.x, graph.symbol("y"): spec.y}
    for l, layer in enumerate(spec.layers, start=1):
        for key, value in layer.params + layer.constants:
            values[graph.symbol(f"{key}{l}")] = as_value(value)
    return values


def run_program(graph: Graph, values: dict[sp.Basic, Any], pinned: dict | None = None) -> dict:
    """Evaluate the scalar program: an environment from every entry to its value.

    Targets in ``pinned`` keep the given values instead of being computed: what a student's
    wrong intermediate gives downstream (the grader's carry-forward check).
    """
    pinned = pinned or {}
    run = Evaluator()
    for sym, value in values.items():
        q = graph.by_symbol[sym]
        for entry, number in zip(entries(q).flat, as_tensor(value, q.shape).flat):
            run.set(entry, number)
    for target, expr in graph.program():
        if target in pinned:
            run.set(target, pinned[target])
        else:
            run.run(target, expr)
    return run.env


def quantity_value(q: Quantity, env: dict) -> Any:
    """The value of a quantity after :func:`run_program`, as the sheet prints it."""
    found = entries(q)
    out = np.empty(found.shape, dtype=object)
    for index in np.ndindex(*found.shape):
        out[index] = env[found[index]]
    return as_value(out)


@dataclass(frozen=True, eq=False)
class Solved:
    """A network spec with its graph and exact values: what kernels and checks reuse."""

    spec: NetworkSpec
    graph: Graph
    inputs: dict
    env: dict

    values: dict = field(default_factory=dict, repr=False)

    def value(self, name: str) -> Any:
        """The value of any named quantity (``a2``, ``dL_dW1``, ``x``, ``L``), made once."""
        if name not in self.values:
            self.values[name] = quantity_value(self.graph.quantity(name), self.env)
        return self.values[name]


def solve(spec: NetworkSpec) -> Solved:
    """Build the symbolic graph and run it on the spec's numbers."""
    graph = build_graph(spec)
    inputs = spec_numbers(spec, graph)
    return Solved(spec, graph, inputs, run_program(graph, inputs))
