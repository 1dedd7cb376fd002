"""Kernels of a network problem: the derivation printed twice, and the public function.

Two printings of the same derivation (``symderiv.kinds.network.graph``):

* **scalar code** (:mod:`symderiv.kinds.network.kernel_scalar`): the straight-line program of entry
  assignments in derivation order, one ufunc per operation over a chunk of rows, masks
  for the ReLU kinks, scratch rows reused by liveness. For small networks nothing in
  NumPy is faster: a 3x2 matrix product is slower as ``einsum`` over a million rows
  than its six multiply-adds over contiguous chunks.
* **matrix code** (here): the matrix-level rules (``a = W z + b``, ``dL/dz = W^T dL/da``,
  ``dL/dW = dL/da z^T``) as array operations over a chunk of rows; with weights shared
  by the rows each layer is one gemm.

Scalar code is written for networks of at most :data:`SCALAR_MAX_WEIGHTS` weights, where
it is the faster of the two (the measured crossover); ``method="auto"`` runs it when
it exists. Either code can be asked for by ``method`` (tests compare them).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symderiv.calculus import ACTIVATIONS
from symderiv.kinds.network.kernel_layout import LOSS, Layout, name_of, parent
from symderiv.kernels.printer import ArrayPrinter, cse_lines
from symderiv.kinds.network.kernel_scalar import chunk_head, scalar_code
from symderiv.kinds.network.graph import z_name
from symderiv.kinds.registry import ProblemKernels
from symderiv.model import Problem

#: Scalar code is written (and run by ``method="auto"``) up to this many weights, the
#: entries of all W. Measured crossover (benchmarks/RESULTS.md, "Crossover"), w-w-w-1
#: networks, per-row and shared weights alike: scalar code is faster up to 4-4-4-1
#: (36 weights, by 20-60%), the two are within 10% at 6-6-6-1 (78 weights) and matrix
#: code wins from 8-8-8-1 (136 weights) on. Scalar code costs a few ufunc calls per
#: weight and chunk, matrix code a few per layer.
SCALAR_MAX_WEIGHTS = 64


# -- matrix code ------------------------------------------------------------------------

def matrix_code(layout: Layout, fname: str) -> str:
    """The chunk function of the matrix code: one array operation per matrix-level rule."""
    lines = chunk_head(layout, fname, "matrix code")
    for k, q in enumerate(layout.quantities):
        if k == layout.first_backward:
            lines += ["", "    if not backward:", "        return"]
        lines += ["", f"    # {layout.describe(q)}"] + _quantity_lines(layout, q)
    return "\n".join(lines) + "\n"


def _quantity_lines(layout: Layout, q: sp.Basic) -> list[str]:
    """Lines computing one quantity over the chunk and storing it when asked."""
    name = name_of(q)
    store = [f"    if o_{name} is not None:"]
    if q == LOSS or _entry_level(layout, name):
        return _entry_lines(layout, q) + store + [f"        _put(o_{name}, {name})"]
    rule = layout.graph.quantity(name).rule
    if q in layout.leaves and _outer(rule):
        return store + ["        _put_outer(o_{}, {}, {})".format(name, *_outer(rule))]
    value = _rule_code(layout, name, rule)
    if q in layout.leaves:
        return store + [f"        _put(o_{name}, {value})"]
    return [f"    {name} = {value}"] + store + [f"        _put(o_{name}, {name})"]


def _entry_level(layout: Layout, name: str) -> bool:
    """Quantities printed entry by entry: dL/dy_hat, softmax and its backward step."""
    rule = layout.graph.quantity(name).rule
    if isinstance(rule, sp.MatrixBase):
        return True
    return any(s.name.startswith(("softmax(", "J_softmax(")) for s in rule.atoms(sp.MatrixSymbol))


def _entry_lines(layout: Layout, q: sp.Basic) -> list[str]:
    """``q`` from its own program lines, common subexpressions named once."""
    name = name_of(q)
    exprs = [e for t, e in layout.program if parent(t) == q]
    free = set().union(*(e.free_symbols for e in exprs))
    printer = ArrayPrinter(layout.columns)
    lines = [f"    {t} = {printer.doprint(e)}" for t, e in layout.program if isinstance(t, sp.Symbol) and t in free]
    body, values = cse_lines(exprs, printer, prefix=f"_{name}_")
    lines += ["    " + line for line in body]
    if q == LOSS:
        return lines + [f"    L = {values[0]}"]
    return lines + [f"    {name} = _stack({', '.join(values)})"]


def _outer(rule: sp.Basic):
    """``g z^T`` as the names ``(g, z)``; None for any other rule."""
    if isinstance(rule, sp.MatMul) and len(rule.args) == 2 and isinstance(rule.args[1], sp.Transpose):
        return rule.args[0].name, rule.args[1].arg.name
    return None


def _rule_code(layout: Layout, name: str, rule: sp.Basic) -> str:
    """A matrix-level rule as array code over the chunk."""
    if isinstance(rule, sp.MatrixSymbol):
        return _activation_code(layout, name) if rule.name.endswith(")") else rule.name
    if isinstance(rule, sp.MatAdd):
        return " + ".join(_rule_code(layout, name, arg) for arg in rule.args)
    if isinstance(rule, sp.MatMul) and len(rule.args) == 2:
        W, v = rule.args
        if isinstance(W, sp.Transpose):
            return f"_matvec_t({W.arg.name}, {v.name})"
        return f"_matvec({W.name}, {v.name})"
    if isinstance(rule, sp.HadamardProduct):
        return f"{rule.args[0].name} * ({_derivative_code(layout, name)})"
    raise NotImplementedError(f"no matrix-code rule for {type(rule).__name__} ({name})")


def _activation_code(layout: Layout, name: str) -> str:
    """``f(a)`` over the chunk, printed from the activation's own SymPy rule."""
    graph = layout.graph
    layer = graph.depth if name == z_name(graph.depth, graph.depth) else int(name.removeprefix("z"))
    expr = ACTIVATIONS[graph.activations[layer - 1]].f(sp.Symbol(f"a{layer}"), graph.settings)
    return ArrayPrinter().doprint(expr)


def _derivative_code(layout: Layout, name: str) -> str:
    """``f'(a)`` over the chunk (given a and z = f(a)), from the activation's own rule."""
    graph = layout.graph
    layer = int(name.removeprefix("dL_da"))
    v, o = sp.Symbol(f"a{layer}"), sp.Symbol(z_name(layer, graph.depth))
    return ArrayPrinter().doprint(ACTIVATIONS[graph.activations[layer - 1]].df(v, o, graph.settings))


# -- the module text -----------------------------------------------------------------------

@dataclass(frozen=True)
class NetworkSource:
    """The printed pieces of one network problem."""

    scalar: str | None
    buffers: int
    matrix: str


def network_source(problem: Problem, layout: Layout | None = None) -> NetworkSource:
    """Both printings; ``layout`` is the problem's, when the caller has read it already."""
    layout = layout or Layout(problem)
    n = problem.number
    scalar, buffers = (None, 0)
    if layout.weights <= SCALAR_MAX_WEIGHTS:
        scalar, buffers = scalar_code(layout, f"_problem{n}_scalar")
    return NetworkSource(scalar, buffers, matrix_code(layout, f"_problem{n}_matrix"))


def kernel_source(problem: Problem) -> str:
    """The module text of a network problem: chunk functions, table and public function."""
    layout = Layout(problem)
    printed = network_source(problem, layout)  # one Layout: its program, quantities and rules are read once
    n = problem.number
    parts = []
    if printed.scalar:
        parts.append(printed.scalar.rstrip("\n") + f"\n\n\n_problem{n}_scalar.buffers = {printed.buffers}")
    parts += [printed.matrix, _table(layout, printed), _public(layout)]
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _defaults(layout: Layout) -> list[tuple[str, object]]:
    solved = layout.problem.data
    out = []
    for sym in layout.graph.inputs:
        m = solved.inputs[sym]
        value: object = [float(v) for v in m]
        if sym.cols > 1 or sym.name.startswith("W"):
            value = [[float(m[i, j]) for j in range(m.cols)] for i in range(m.rows)]
        out.append((sym.name, value))
    return out


def _table(layout: Layout, printed: NetworkSource) -> str:
    n = layout.number
    grads = {f"dL_d{name}": name for name, _ in layout.inputs if f"dL_d{name}" in dict(layout.shapes)}
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


def _public(layout: Layout) -> str:
    n, g = layout.number, layout.graph
    args = ", ".join(f"{name}=_P{n}_{name}" for name, _ in layout.inputs)
    call = ", ".join(f'"{name}": {name}' for name, _ in layout.inputs)
    shapes = "\n".join(f"        {name}: {shape}" for name, shape in layout.inputs)
    results = ", ".join(name for name, _ in layout.shapes)
    questions = sorted({qid for q in layout.quantities for qid in layout.questions_of(q)})
    return f'''def problem{n}_gradients({args}, *, outputs=None, reduce=False, chunk=None, method="auto", workers=None,
        out=None):
    """Forward values, loss and every gradient of Problem {n} (questions {", ".join(questions)}), per row.

    The dense {"-".join(map(str, g.widths))} network with activations {", ".join(g.activations)} and the
    {g.loss.replace("_", " ")} loss, exactly as the sheet derives it. Called without arguments it
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
