"""Scalar code of a network: the derivation's program, entry by entry, as ufunc calls.

Each assignment of the program (``a1[0, 0] = W1[0, 0]*x[0, 0] + ...``) goes through
:mod:`symderiv.kernels.emit` in derivation order, over a chunk of rows at a time:

* an intermediate entry gets a Python name (``a1_0``) bound to a scratch row;
* an entry of a *leaf* quantity (nothing later reads it: ``dL/dW``, ``dL/db``, ``L``)
  is written straight into its output view, inside ``if o_<name> is not None:`` so
  work nobody asked for is skipped;
* an intermediate quantity that was asked for is copied out after its last entry;
* ``if not backward: return`` ends the forward pass when no gradient is wanted;
* inputs read more than once per row are first copied into contiguous scratch rows.
"""
from __future__ import annotations

from itertools import groupby

import sympy as sp

from symderiv.kernels.emit import Op, Program, allocate
from symderiv.kinds.network.graph import Quantity, entries
from symderiv.kinds.network.kernel_layout import Layout


def scalar_code(layout: Layout, fname: str) -> tuple[str, int]:
    """The chunk function of the scalar code, and how many scratch rows it needs."""
    prog = Program()
    for q in layout.graph.input_quantities:
        prog.env.update({e: layout.entry_name(e) for e in entries(q).flat})
    names: dict[int, str] = {}
    backward_at = None
    first = layout.derived[layout.first_backward]
    for q, group in groupby(layout.program, key=lambda assignment: layout.of_entry(assignment[0])):
        if q is first:
            backward_at = len(prog.ops)
        prog.comment(layout.describe(q))
        _quantity(prog, layout, q, list(group), names)
    emitted = allocate(prog, names, backward_at)
    reads, gathered = _input_lines(layout, prog, emitted.buffers)
    rows = f"    {', '.join(f't{k}' for k in range(emitted.buffers))}, = t[:{emitted.buffers}]"
    head = chunk_head(layout, fname, "scalar code") + reads + ([rows] if emitted.buffers else [])
    return "\n".join(head + emitted.lines) + "\n", emitted.buffers + gathered


def _quantity(prog: Program, layout: Layout, q: Quantity, group: list, names: dict[int, str]) -> None:
    """The ops of one quantity's entries. SymPy's ``cse`` first names the sums and
    products its entries share (softmax's backward step shares ``sum_k g_k z_k``)."""
    leaf = q.symbol in layout.leaves
    prog.section = q.name if leaf else ""
    shared, reduced = sp.cse([e for _, e in group], symbols=sp.numbered_symbols(f"{q.name}_s"),
                             order="canonical")
    for sym, expr in shared:
        prog.env[sym] = v = prog.value(expr)
        if isinstance(v, int) and v not in names and prog.ops[v].dest is None:
            names[v] = str(sym)
    for (target, _), expr in zip(group, reduced):
        before = len(prog.ops)
        v = prog.value(expr)
        if leaf:
            _to_dest(prog, v, before, layout.entry_code(target, prefix="o_"))
            continue
        prog.env[target] = v
        if isinstance(v, int) and v not in names and prog.ops[v].dest is None:
            names[v] = layout.entry_name(target)
    prog.section = ""
    if not leaf:
        for target, _ in group:  # an intermediate that was asked for is copied out
            prog.ops.append(Op("copyto", (prog.env[target],), q.name, dest=layout.entry_code(target, prefix="o_")))


def chunk_head(layout: Layout, fname: str, what: str) -> list[str]:
    """Signature, docstring and output views of a chunk function (both codes share it)."""
    args = ", ".join(name for name, _ in layout.inputs)
    lines = [f"def {fname}({args}, *, out, t, backward):",
             f'    """Problem {layout.number}, {what}: one chunk of rows. Inputs are arrays of shape',
             "    (rows or 1, *shape); ``out`` maps each quantity to the view of rows to fill, to a",
             '    row-sum accumulator, or to None (not asked for: skipped if nothing needs it)."""']
    return lines + [f'    o_{name} = out["{name}"]' for name, _ in layout.shapes]


def _to_dest(prog: Program, v, before: int, dest: str) -> None:
    """Write a leaf entry straight into its output view (or copy an existing value)."""
    fresh = isinstance(v, int) and v >= before and prog.ops[v].dest is None and prog.ops[v].section
    if fresh:
        prog.ops[v].dest = dest
        prog.memo = {key: val for key, val in prog.memo.items() if val != v}  # never reuse: may not run
    else:
        prog.ops.append(Op("copyto", (v,), prog.section, dest=dest))


def _input_lines(layout: Layout, prog: Program, first_row: int) -> tuple[list[str], int]:
    """Unpack every input's entries; inputs read more than once per row are first copied
    into contiguous scratch rows (one transposing copy instead of several strided reads)."""
    uses: dict[str, int] = {}
    for op in prog.ops:
        for a in op.args:
            if isinstance(a, str):
                uses[a] = uses.get(a, 0) + 1
    lines, row = [], first_row
    for q in layout.graph.input_quantities:
        names = [layout.entry_name(e) for e in entries(q).flat]
        block = ""
        if max(uses.get(n, 0) for n in names) > 1:
            block, row = f", t[{row}:{row + len(names)}]", row + len(names)
        lines.append(f"    {', '.join(names)}, = _columns({q.name}{block})")
    return lines, row - first_row
