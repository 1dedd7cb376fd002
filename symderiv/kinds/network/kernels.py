"""Kernels of a network problem: the derivation printed twice, and the public function.

Two printings of the same derivation (``symderiv.kinds.network.graph``):

* **scalar code** (:mod:`symderiv.kinds.network.kernel_scalar`): the straight-line program of entry
  assignments in derivation order, one ufunc per operation over a chunk of rows, masks
  for the ReLU kinks and max-pool routes, scratch rows reused by liveness. For small
  networks nothing in NumPy is faster: a 3x2 matrix product is slower as ``einsum`` over a
  million rows than its six multiply-adds over contiguous chunks.
* **matrix code** (here): one array operation per quantity, as its row of the rules table
  computes it on arrays (``Call`` data naming a runtime helper: ``a = W z + b`` one matrix
  product, a convolution im2col and one matrix product, pooling strided slices; an
  element-wise rule printed from its own SymPy expression); a quantity whose row has no
  array form (the loss, the loss's gradient) is printed entry by entry from its program lines.

Scalar code is written for networks of at most :data:`SCALAR_MAX_PARAMETERS` parameter
entries, where it is the faster of the two (the measured crossover); ``method="auto"``
runs it when it exists. Either code can be asked for by ``method`` (tests compare them).
A network beyond the sheet's size bounds can still get a kernel, printed from its graph
alone (:func:`graph_source`, matrix code only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symderiv.calculus import Call
from symderiv.calculus.activations import GRAD, INPUT, OUT
from symderiv.calculus.values import as_tensor
from symderiv.kernels.emit import literal
from symderiv.kernels.printer import ArrayPrinter, cse_lines
from symderiv.kinds.network.graph import Graph, Quantity
from symderiv.kinds.network.kernel_layout import LOSS, Layout
from symderiv.kinds.network.kernel_scalar import chunk_head, scalar_code
from symderiv.kinds.network.solve import spec_numbers
from symderiv.kinds.registry import ProblemKernels
from symderiv.model import Problem

#: Scalar code is written (and run by ``method="auto"``) up to this many parameter entries
#: (every W, b and other trainable entry). Measured crossover (benchmarks/RESULTS.md,
#: "Crossover"), w-w-w-1 networks, per-row and shared weights alike: scalar code is faster
#: up to 4-4-4-1 (45 parameters, by 20-60%), the two are within 10% at 6-6-6-1 (91) and
#: matrix code wins from 8-8-8-1 (153) on. Scalar code costs a few ufunc calls per
#: weight and chunk, matrix code a few per layer.
SCALAR_MAX_PARAMETERS = 80

#: Scalar code is not written for programs longer than this (a convolution's entries).
SCALAR_MAX_PROGRAM = 4000


# -- matrix code ------------------------------------------------------------------------

def matrix_code(layout: Layout, fname: str) -> str:
    """The chunk function of the matrix code: one array operation per quantity, as its
    row of the rules table computes it on arrays."""
    lines = chunk_head(layout, fname, "matrix code")
    for k, q in enumerate(layout.derived):
        if k == layout.first_backward:
            lines += ["", "    if not backward:", "        return"]
        lines += ["", f"    # {layout.describe(q)}"] + _quantity_lines(layout, q)
    return "\n".join(lines) + "\n"


def _quantity_lines(layout: Layout, q: Quantity) -> list[str]:
    """Lines computing one quantity over the chunk and storing it when asked. The gradient of
    an input that only its other name reads (``dL/dz0`` of ``dL/dx``) is computed only when
    one of the two is asked for."""
    lines = _computed(layout, q)
    inputs = {name for name, _ in layout.inputs}
    aliases = [g.name for g in layout.graph.backward if g.source == q.name]
    if q.of in inputs and aliases:
        guard = " or ".join(f"o_{n} is not None" for n in [q.name] + aliases)
        return [f"    if {guard}:"] + ["    " + line for line in lines]
    return lines


def _computed(layout: Layout, q: Quantity) -> list[str]:
    name, leaf = q.name, q.symbol in layout.leaves
    store = [f"    if o_{name} is not None:"]
    made = _made(layout, q)
    if made is None:
        return _entry_lines(layout, q) + store + [f"        _put(o_{name}, {name})"]
    code, sink = made
    if leaf and sink is not None:
        return store + [f"        {sink}(o_{name}, {code})"]
    if leaf:
        return store + [f"        _put(o_{name}, {code})"]
    return [f"    {name} = {code}"] + store + [f"        _put(o_{name}, {name})"]


def _made(layout: Layout, q: Quantity) -> tuple[str, str | None] | None:
    """Array code of a quantity and, for a lone part with a sink, the sink's arguments
    (``(code, sink)``); None when it is printed entry by entry from the program."""
    graph = layout.graph
    if q.name == "L" or q.fused is not None:
        return None
    if q.source is not None:
        return q.source, None
    if q.node is not None:
        node = graph.nodes[q.node]
        return _array(node.op.array(node.config), _roles(graph, node)), None
    codes: list[str] = []
    for k, role in q.parts:
        node = graph.nodes[k]
        rule = node.op.array_vjp(role, node.config)
        if rule is None:
            return None
        if len(q.parts) == 1 and isinstance(rule, Call) and rule.sink is not None and q.symbol in layout.leaves:
            return _arguments(rule, _roles(graph, node)), rule.sink
        codes.append(_array(rule, _roles(graph, node)))
    return " + ".join(codes), None


def _roles(graph: Graph, node) -> dict[str, str]:
    """A node's argument roles -> variable names, with its output and upstream gradient."""
    roles = dict(node.args) | {"out": node.output}
    upstream = [g for g in graph.backward if g.of == node.output]
    if upstream:
        roles["grad"] = upstream[-1].name
    return roles


def _array(rule: Any, roles: dict[str, str]) -> str:
    if isinstance(rule, Call):
        return f"{rule.fn}({_arguments(rule, roles)})"
    names = {INPUT: roles.get("input", ""), OUT: roles.get("out", ""), GRAD: roles.get("grad", "")}
    return ArrayPrinter({k: v for k, v in names.items() if v}).doprint(rule)


def _arguments(rule: Call, roles: dict[str, str]) -> str:
    args = [roles.get(role, "None") for role in rule.args]
    args += [f"{key}={_option(value)}" for key, value in rule.options]
    return ", ".join(args)


def _option(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_option(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)) or (isinstance(value, sp.Integer)):
        return str(int(value))
    return literal(value)


class _ColumnPrinter(ArrayPrinter):
    """Array code in which every entry of a quantity reads its column of the chunk."""

    def __init__(self, columns) -> None:
        super().__init__()
        self.columns = columns

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Basic) and expr in self.columns:
            return self.columns[expr]
        return super()._print(expr, **kwargs)


def _entry_lines(layout: Layout, q: Quantity) -> list[str]:
    """``q`` from its own program lines, common subexpressions named once."""
    name = q.name
    exprs = [e for _, e in layout.graph.assignments(q, floating=True)]
    printer = _ColumnPrinter(layout.columns)
    body, values = cse_lines(exprs, printer, prefix=f"_{name}_")
    lines = ["    " + line for line in body]
    if q.symbol == LOSS:
        return lines + [f"    L = {values[0]}"]
    shape = "" if len(q.shape) == 1 else f", shape={q.shape!r}"
    return lines + [f"    {name} = _stack({', '.join(values)}{shape})"]


# -- the module text -----------------------------------------------------------------------

@dataclass(frozen=True)
class NetworkSource:
    """The printed pieces of one network problem."""

    scalar: str | None
    buffers: int
    matrix: str


def network_source(problem: Problem | None = None, layout: Layout | None = None) -> NetworkSource:
    """Both printings; ``layout`` is the problem's, when the caller has read it already."""
    if layout is None:
        assert problem is not None, "network_source needs a problem or its layout"
        layout = Layout.of(problem)
    n = layout.number
    scalar, buffers = (None, 0)
    if layout.parameters <= SCALAR_MAX_PARAMETERS and len(layout.program) <= SCALAR_MAX_PROGRAM:
        scalar, buffers = scalar_code(layout, f"_problem{n}_scalar")
    return NetworkSource(scalar, buffers, matrix_code(layout, f"_problem{n}_matrix"))


def kernel_source(problem: Problem) -> str:
    """The module text of a network problem: chunk functions, table and public function."""
    return layout_source(Layout.of(problem))


def graph_source(graph: Graph, number: int = 1) -> str:
    """The module text of a network's kernel from its graph alone, derived for no sheet:
    for networks beyond the sheet's size bounds (benchmarks). Matrix code only."""
    return layout_source(Layout(graph, number), scalar=False)


def layout_source(layout: Layout, scalar: bool = True) -> str:
    """Chunk functions, table and public function of one network problem."""
    printed = network_source(layout=layout) if scalar else NetworkSource(
        None, 0, matrix_code(layout, f"_problem{layout.number}_matrix"))
    n = layout.number
    parts = []
    if printed.scalar:
        parts.append(printed.scalar.rstrip("\n") + f"\n\n\n_problem{n}_scalar.buffers = {printed.buffers}")
    parts += [printed.matrix, _table(layout, printed), _public(layout)]
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _defaults(layout: Layout) -> list[tuple[str, object]]:
    graph = layout.graph
    numbers = spec_numbers(graph.spec, graph)
    out = []
    for name, shape in layout.inputs:
        value = as_tensor(numbers[graph.symbol(name)], shape)
        out.append((name, np.vectorize(float, otypes=[float])(value).tolist() if shape else float(value)))
    return out


def _table(layout: Layout, printed: NetworkSource) -> str:
    n = layout.number
    grads = {g.name: g.of for g in layout.graph.backward if g.symbol in layout.leaves}
    lines = [f"_P{n}_{name} = _const({value!r})" for name, value in _defaults(layout)]
    lines += [f"_PROBLEM{n} = _Kernel(",
              f"    inputs={layout.inputs!r},",
              f"    quantities={layout.shapes!r},",
              f"    grads={grads!r},",
              f"    scalar={f'_problem{n}_scalar' if printed.scalar else None},",
              f"    matrix=_problem{n}_matrix,",
              f"    backward_start={layout.first_backward},",
              ")"]
    return "\n".join(lines)


def _summary(graph: Graph) -> str:
    spec = graph.spec
    if all(layer.type == "dense" for layer in spec.layers) and not spec.batch:
        return (f'The dense {"-".join(map(str, graph.widths))} network with activations {", ".join(graph.activations)} '
                f'and the\n    {graph.loss.replace("_", " ")} loss')
    layers = ", ".join(layer.type + (f" ({layer.activation})" if layer.activation else "") for layer in spec.layers)
    return f"The network of layers {layers},\n    with the {graph.loss.replace('_', ' ')} loss"


def _public(layout: Layout) -> str:
    n, g = layout.number, layout.graph
    args = ", ".join(f"{name}=_P{n}_{name}" for name, _ in layout.inputs)
    call = ", ".join(f'"{name}": {name}' for name, _ in layout.inputs)
    shapes = "\n".join(f"        {name}: {shape}" for name, shape in layout.inputs)
    results = ", ".join(name for name, _ in layout.shapes)
    questions = sorted({qid for q in layout.derived for qid in layout.questions_of(q)})
    return f'''def problem{n}_gradients({args}, *, outputs=None, reduce=False, chunk=None, method="auto", workers=None,
        out=None):
    """Forward values, loss and every gradient of Problem {n} (questions {", ".join(questions)}), per row.

    {_summary(g)}, exactly as the sheet derives it. Called without arguments it
    reproduces the sheet's numbers: every argument defaults to the spec's.

    Arguments, by their trailing shape (leading axes are batch axes, broadcast like NumPy):
{shapes}

    Returns a dict from name to an array of shape batch + the quantity's shape, for
    {results}.

    outputs: the names to return (default all); work only they would need is skipped.
    reduce: if true, the gradient of an argument without batch axes (shared by every
        row) is summed over the batch, as autograd treats a broadcast argument.
    chunk: rows per chunk (default 16384 for scalar code, 2048 for matrix code, so
        temporaries stay in cache). method: "auto", "scalar" or "matrix".
    workers: threads sharing the chunks (the results do not depend on it); default: every
        available core for scalar code, one for matrix code (its BLAS is threaded already).
    out: optional dict of arrays to write results into (C-contiguous float64 of the
        result's shape), e.g. the dict a previous call returned: no fresh memory.
    """
    return _run(_PROBLEM{n}, {{{call}}}, outputs, reduce, chunk, method, workers, out)
'''


def problem_kernels(problem: Problem) -> ProblemKernels:
    """The network kind's ``kernels`` hook: ``problem<n>_gradients``."""
    n = problem.number
    summary = f"Problem {n}: forward values, loss and every gradient, per row"
    return ProblemKernels(kernel_source(problem), ((f"problem{n}_gradients", summary),))
