"""A 2-D convolution as deep-learning frameworks compute it (the last question), every window shown.

Frameworks compute cross-correlation: the kernel is not flipped. With input channels
I_1..I_C (each H × W, zero-padded), filters K^(f) of C kernels kh × kw, stride s and
dilation d, output map f is (1-based, padded coordinates)::

    Y^(f)[i, j] = sum over c, u, v of I_c[(i-1)s + (u-1)d + 1, (j-1)s + (v-1)d + 1] * K^(f)_c[u, v]

The output size along each axis is the count of the general question (``Axis.size``); each entry is
kept as its list of products so the sheet can print the sum before evaluating it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypeAlias

import sympy as sp

from symderiv.kinds.conv.size import Axis, axis_steps, geometry_text, group_givens, groups, plural, tidy
from symderiv.model import Answer, Figure, Question, Step

Matrix: TypeAlias = sp.ImmutableDenseMatrix


@dataclass(frozen=True)
class ApplySpec:
    """Input channels (each H × W), filters (each a tuple of C kernels), per-axis geometry.

    ``height.k`` / ``width.k`` are the kernel's sizes; ``height.n`` / ``width.n`` the input's.
    """

    input: tuple[Matrix, ...]
    kernel: tuple[tuple[Matrix, ...], ...]
    height: Axis
    width: Axis
    same: bool = False

    @cached_property
    def padded(self) -> tuple[Matrix, ...]:
        """Every input channel, zero-padded (computed once: each window reads it)."""
        return tuple(pad(m, self.height, self.width) for m in self.input)

    @property
    def channels(self) -> int:
        return len(self.input)

    @property
    def filters(self) -> int:
        return len(self.kernel)


def pad(m: Matrix, height: Axis, width: Axis) -> Matrix:
    """``m`` with zero rows above/below and zero columns left/right, as the axes say."""
    rows, cols = m.rows + height.before + height.after, m.cols + width.before + width.after
    return Matrix(rows, cols, lambda r, q: m[r - height.before, q - width.before]
                  if height.before <= r < height.before + m.rows and width.before <= q < width.before + m.cols else 0)


def taps(axis: Axis, i: int) -> tuple[int, ...]:
    """Padded, 0-based positions the window of output index ``i`` reads along ``axis``."""
    return tuple(i * axis.s + u * axis.d for u in range(axis.k))


def window(spec: ApplySpec, channel: int, i: int, j: int) -> Matrix:
    """The entries of padded channel ``channel`` that output (i, j) multiplies (0-based)."""
    padded = spec.padded[channel]
    return Matrix([[padded[r, q] for q in taps(spec.width, j)] for r in taps(spec.height, i)])


def products(spec: ApplySpec, f: int, i: int, j: int) -> tuple[tuple[sp.Rational, sp.Rational], ...]:
    """(input entry, kernel entry) pairs of output (f, i, j), channel by channel, row by row."""
    return tuple((w, kern) for ch in range(spec.channels)
                 for w, kern in zip(window(spec, ch, i, j), spec.kernel[f][ch]))


def conv2d(spec: ApplySpec) -> tuple[Matrix, ...]:
    """One output map per filter: each entry the sum of its window's products."""
    shape = (spec.height.size, spec.width.size)
    return tuple(Matrix(*shape, lambda i, j, f=f: sum((a * b for a, b in products(spec, f, i, j)), sp.Integer(0)))
                 for f in range(spec.filters))


def written_sum(pairs) -> sp.Expr:
    """``6·1 + 0·0 + 3·0 + 4·(-1)``: the products as written, in window order, unevaluated."""
    u = sp.UnevaluatedExpr
    return sp.Add(*(sp.Mul(u(a), u(b), evaluate=False) for a, b in pairs), evaluate=False)


# --- names ---------------------------------------------------------------------------------

def input_name(spec: ApplySpec, ch: int) -> str:
    return "I" if spec.channels == 1 else f"I_{ch + 1}"


def kernel_name(spec: ApplySpec, f: int, ch: int) -> str:
    if spec.filters == 1:
        return "K" if spec.channels == 1 else f"K_{ch + 1}"
    return f"K{f + 1}" if spec.channels == 1 else f"K{f + 1}_{ch + 1}"


def pad_name(spec: ApplySpec, ch: int) -> str:
    return "I_pad" if spec.channels == 1 else f"I{ch + 1}_pad"


def output_name(spec: ApplySpec, f: int) -> str:
    return "Y" if spec.filters == 1 else f"Y{f + 1}"


def notation(spec: ApplySpec) -> tuple[tuple[str, str], ...]:
    """``Y2`` -> ``Y^{(2)}``, ``K2_1`` -> ``K^{(2)}_{1}``: filters as superscripts."""
    out = [(output_name(spec, f), f"Y^{{({f + 1})}}") for f in range(spec.filters) if spec.filters > 1]
    out += [(kernel_name(spec, f, ch), f"K^{{({f + 1})}}" + (f"_{{{ch + 1}}}" if spec.channels > 1 else ""))
            for f in range(spec.filters) for ch in range(spec.channels) if spec.filters > 1]
    out += [("Yf", "Y^{(f)}"), ("Kf", "K^{(f)}"), ("I_pad", r"I^{\mathrm{pad}}")]
    out += [(pad_name(spec, ch), rf"I^{{\mathrm{{pad}}}}_{{{ch + 1}}}")
            for ch in range(spec.channels) if spec.channels > 1]
    return tuple(out)


def answer_id(spec: ApplySpec, qid: str, f: int) -> str:
    """``4.4.output`` for one filter; ``4.4.output_f1``, ``4.4.output_f2``, ... for several."""
    return f"{qid}.output" if spec.filters == 1 else f"{qid}.output_f{f + 1}"


# --- the question --------------------------------------------------------------------------

def _givens(spec: ApplySpec) -> list[tuple[sp.Basic, sp.Basic]]:
    out = [(sp.MatrixSymbol(input_name(spec, ch), *m.shape), m) for ch, m in enumerate(spec.input)]
    out += [(sp.MatrixSymbol(kernel_name(spec, f, ch), *m.shape), m)
            for f, kernels in enumerate(spec.kernel) for ch, m in enumerate(kernels)]
    return out + [gv for g in groups(spec.height, spec.width) for gv in group_givens(g, spec.same)]


I_, J_, U_, V_, C_ = sp.symbols("i j u v c", integer=True, positive=True)


def _corner(axis: Axis, index: sp.Symbol, offset: sp.Symbol) -> sp.Expr:
    """Padded row (or column) read by output ``index`` at kernel ``offset`` (1-based)."""
    return (index - 1) * axis.s + (offset - 1) * axis.d + 1


def _rule(spec: ApplySpec) -> sp.Eq:
    """The cross-correlation sum in index form, with the spec's stride and dilation.

    Several channels add a leading channel index c to I and K (``I_{c,r,q} K_{c,u,v}``).
    """
    one = spec.channels == 1
    I = sp.IndexedBase("I" if _no_padding(spec) else "I_pad")
    K = sp.IndexedBase("K" if spec.filters == 1 else "Kf")
    Y = sp.IndexedBase("Y" if spec.filters == 1 else "Yf")
    place = (tidy(_corner(spec.height, I_, U_)), tidy(_corner(spec.width, J_, V_)))
    channel = () if one else (C_,)
    term = I[channel + place] * K[channel + (U_, V_)]
    limits = ((U_, 1, spec.height.k), (V_, 1, spec.width.k))
    return sp.Eq(Y[I_, J_], sp.Sum(term, *(limits if one else ((C_, 1, spec.channels),) + limits)), evaluate=False)


def _rule_step(spec: ApplySpec) -> Step:
    rule = _rule(spec)
    where = () if spec.channels == 1 else (", over every input channel ", C_, " too")
    padded = "" if _no_padding(spec) else " Rows and columns count in the zero-padded input."
    return Step(("Frameworks compute cross-correlation: the kernel is laid on the input as it is, not flipped. "
                 "Output entry ", rule.lhs, " covers the window whose top-left entry is at row ",
                 tidy(_corner(spec.height, I_, 1)), ", column ", tidy(_corner(spec.width, J_, 1)),
                 "; it multiplies the window by the kernel entry by entry and adds the products") + where + (
                 f".{padded} Below, ⊙ is that entry-by-entry product and sum adds a matrix's entries.",),
                math=(rule,))


def _no_padding(spec: ApplySpec) -> bool:
    return not any((spec.height.before, spec.height.after, spec.width.before, spec.width.after))


def _size_steps(spec: ApplySpec, general_qid: str) -> list[Step]:
    """The output size, worked as in the size questions (the start-position check left out)."""
    return [st for g in groups(spec.height, spec.width)
            for st in axis_steps(g, spec.same, general_qid, check=False)]


def _pad_steps(spec: ApplySpec) -> list[Step]:
    if _no_padding(spec):
        return []
    h, w = spec.height, spec.width
    text = (f"Zero padding: {plural(h.before, 'row')} above, {h.after} below, {plural(w.before, 'column')} left, "
            f"{w.after} right.")
    return [Step(text, sp.MatrixSymbol(pad_name(spec, ch), *padded.shape), value=padded)
            for ch, padded in enumerate(spec.padded)]


def _span(positions: tuple[int, ...]) -> str:
    """``1-2`` for consecutive positions, ``1, 3, 5`` for dilated ones (1-based)."""
    ones = [x + 1 for x in positions]
    if ones == list(range(ones[0], ones[-1] + 1)):
        return f"{ones[0]}–{ones[-1]}" if len(ones) > 1 else f"{ones[0]}"
    return ", ".join(str(x) for x in ones)


#: ``sum(A ⊙ B)``: the sum of the entries of an element-wise product, printed, never evaluated.
ENTRY_SUM = sp.Function("sum")


def _window_step(spec: ApplySpec, out: Matrix, f: int, i: int, j: int) -> Step:
    """Output entry (i, j) of filter f: window ⊙ kernel summed, the products written out, the value."""
    where = "" if _no_padding(spec) else " of the padded input"
    text = (f"Window at rows {_span(taps(spec.height, i))}, columns {_span(taps(spec.width, j))}{where}"
            f"{'' if spec.channels == 1 else ', in every channel'}: multiply it entry by entry with the kernel "
            "and add the products.")
    sums = [ENTRY_SUM(sp.HadamardProduct(window(spec, ch, i, j), spec.kernel[f][ch])) for ch in range(spec.channels)]
    lhs = sp.MatrixSymbol(output_name(spec, f), out.rows, out.cols)[i, j]
    return Step(text, lhs, expanded=sp.Add(*sums, evaluate=False), substituted=written_sum(products(spec, f, i, j)),
                value=out[i, j])


def channel_sum(spec: ApplySpec, f: int, channel: int) -> Matrix:
    """What one input channel adds to filter f's output: its windows times kernel ``channel``."""
    rows, cols = len(spec.height.starts), len(spec.width.starts)
    kernel = spec.kernel[f][channel]
    return Matrix([[sum(window(spec, channel, i, j).multiply_elementwise(kernel)) for j in range(cols)]
                   for i in range(rows)])


def window_figures(spec: ApplySpec, outputs: tuple[Matrix, ...]) -> tuple[Figure, ...]:
    """Data for the 'sliding_window' drawings of the first filter: one per input channel, each
    with what that channel adds to the output (with one channel, the output itself), so the
    numbers drawn add up to the entries printed."""
    geometry = (("stride", spec.height.s), ("padding", spec.height.before), ("dilation", spec.height.d))
    kernel = f"{spec.height.k} × {spec.width.k} kernel"
    if spec.channels == 1:
        caption = (f"The {kernel} sliding over the input with stride {spec.height.s}; each position gives one "
                   "output entry.")
        return (Figure("sliding_window", caption, (("input", spec.input[0]), ("kernel", spec.kernel[0][0]),
                                                   ("output", outputs[0])) + geometry),)
    return tuple(Figure("sliding_window", (
        f"Channel {c + 1} of filter 1: the {kernel} of that channel sliding over input channel {c + 1} "
        f"(stride {spec.height.s}); each position gives that channel's share of an output entry, and the "
        f"{spec.channels} shares add up to it."),
        (("input", spec.input[c]), ("kernel", spec.kernel[0][c]), ("output", channel_sum(spec, 0, c)),
         ("channel", c + 1)) + geometry) for c in range(spec.channels))


def _prompt(spec: ApplySpec) -> str:
    h, w = spec.height, spec.width
    if spec.channels == spec.filters == 1:
        what = f"Input I ({h.n} × {w.n}) and kernel K ({h.k} × {w.k})"
    else:
        what = (f"Input of {plural(spec.channels, 'channel')} ({h.n} × {w.n} each) and "
                f"{plural(spec.filters, 'filter')} of {plural(spec.channels, 'kernel')} ({h.k} × {w.k} each)")
    return (f"{what}, {geometry_text(h, w, spec.same)}: the output as deep-learning frameworks compute "
            "it (cross-correlation, no kernel flip), showing every window's products.")


def apply_question(spec: ApplySpec, qid: str, general_qid: str) -> Question:
    """The convolution question: every output entry as its window's sum of products, then the output maps."""
    outputs = conv2d(spec)
    steps = [_rule_step(spec)] + _size_steps(spec, general_qid) + _pad_steps(spec)
    steps += [_window_step(spec, out, f, i, j) for f, out in enumerate(outputs)
              for i in range(out.rows) for j in range(out.cols)]
    answers = tuple(Answer(answer_id(spec, qid, f), sp.MatrixSymbol(output_name(spec, f), *out.shape), out)
                    for f, out in enumerate(outputs))
    return Question(qid, "A 2-D convolution, window by window", (_prompt(spec),), tuple(_givens(spec)),
                    tuple(steps), answers, figures=window_figures(spec, outputs))
