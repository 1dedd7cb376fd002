"""The questions of an architecture problem: shapes, parameters, MACs, memory, receptive fields.

Each question states its rule once per layer type, then works every layer: the rule
with that layer's symbols, the numbers put in, the value. All numbers come from the
placed stack (:mod:`symderiv.kinds.architecture.parse`) and the formulas of the layer
table (:mod:`symderiv.kinds.architecture.layers`).
"""
from __future__ import annotations

from dataclasses import replace

import sympy as sp

from symderiv.algebra import substitute
from symderiv.kinds.architecture.layers import (
    C_IN,
    TYPES,
    G,
    Layer,
    product,
    total,
)
from symderiv.kinds.architecture.parse import ArchitectureSpec
from symderiv.kinds.conv.size import Axis, at, formula, geometry_text, tidy
from symderiv.kinds.conv.size import d as D
from symderiv.kinds.conv.size import k as K
from symderiv.kinds.conv.size import n as N
from symderiv.kinds.conv.size import p as P
from symderiv.kinds.conv.size import p_a as P_BEFORE
from symderiv.kinds.conv.size import p_b as P_AFTER
from symderiv.kinds.conv.size import s as S
from symderiv.model import Answer, Question, Step, Table, TensorShape

U = sp.UnevaluatedExpr

#: The group factor C_in/g as it is written (a quotient, so its numbers print as 16/4).
PER_GROUP = sp.Mul(C_IN, sp.Pow(G, -1), evaluate=False)


def sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def numbers_in(expr: sp.Expr, values: dict) -> sp.Expr:
    """``expr`` with the numbers put in, nothing evaluated (``16 · 3 · 3 · 3 + 16``)."""
    numbers = {key: U(v) for key, v in values.items()}
    if G in values:
        numbers[PER_GROUP] = U(sp.Mul(values[C_IN], sp.Pow(values[G], -1, evaluate=False), evaluate=False))
    with sp.evaluate(False):
        return expr.xreplace(numbers)


def worked(text, lhs: sp.Basic, expr: sp.Expr, values: dict, **extra) -> Step:
    """A step ``lhs = formula = numbers = value``."""
    return Step(text, lhs, expr, substituted=numbers_in(expr, values), value=expr.xreplace(values), **extra)


def shape_value(shape: tuple[int, ...]) -> TensorShape:
    return TensorShape([list(shape)])


def name(layer: Layer) -> str:
    """``Layer 3 (pool1: max pooling, 2 × 2 window, ...)``: how a step names its layer."""
    label = f"{layer.spec.label}: " if layer.spec.label else ""
    return f"Layer {layer.index} ({label}{describe(layer)})"


def label(layer: Layer) -> str:
    """The layer's name, or its type when the spec gives none."""
    return layer.spec.label or layer.spec.type


def _kernel(layer: Layer) -> str:
    kh, kw = layer.spec.window.kernel  # type: ignore[union-attr]
    return f"{kh} × {kw}"


def _geometry(layer: Layer) -> str:
    height, width = layer.axes  # type: ignore[misc]
    return geometry_text(height, width, layer.spec.window.same)  # type: ignore[union-attr]


def describe(layer: Layer) -> str:
    """The layer's settings in words."""
    spec = layer.spec
    if spec.type == "conv2d":
        groups = f", {spec.groups} groups" if spec.groups != 1 else ""
        bias = "" if spec.bias else ", no bias"
        return f"conv2d, {spec.width} filters of {_kernel(layer)}, {_geometry(layer)}{groups}{bias}"
    if spec.type in ("maxpool2d", "avgpool2d"):
        word = "max" if spec.type == "maxpool2d" else "average"
        return f"{word} pooling, {_kernel(layer)} window, {_geometry(layer)}"
    if spec.type == "linear":
        return f"linear, {layer.shape_in[0]} → {spec.width}" + ("" if spec.bias else ", no bias")
    if spec.type == "add":
        return f"adds {'the input' if spec.source == 0 else f'the output of layer {spec.source}'}"
    if spec.type.startswith("batchnorm"):
        return "batch norm" + ("" if spec.affine else ", no affine")
    return {"relu": "ReLU", "gelu": "GELU"}.get(spec.type, spec.type)


def shape_symbol(l: int) -> sp.Symbol:
    return sp.Symbol(f"shape{l}")


def shape_tex(l: int, flat: bool) -> str:
    return f"F_{{{l}}}" if flat else f"C_{{{l}}} \\times H_{{{l}}} \\times W_{{{l}}}"


def total_step(text: str, lhs: sp.Symbol, parts: list[tuple[sp.Symbol, int]]) -> Step:
    """``lhs = P_1 + P_2 + ... = numbers = sum``."""
    rule = total(*(s for s, _ in parts))
    shown = sp.Add(*(U(sp.Integer(v)) for _, v in parts), evaluate=False) if len(parts) > 1 else sp.Integer(parts[0][1])
    return Step(text, lhs, rule, substituted=shown, value=sp.Integer(sum(v for _, v in parts)))


def stack_table(spec: ArchitectureSpec) -> Table:
    rows = tuple((sp.Integer(layer.index), label(layer), describe(layer)) for layer in spec.layers)
    return Table(("layer", "name", "what it is"), rows)


def intro_step(spec: ArchitectureSpec) -> Step:
    c, h, w = spec.input
    return Step(f"The stack, in order, on a {c} × {h} × {w} input (channels × height × width, as PyTorch orders "
                "them; the batch axis is left out):", table=stack_table(spec))


# --- Q.1: output shapes -----------------------------------------------------------------------

def _rename(axis: Axis, index: int, side: str) -> dict:
    """The general count's symbols for one axis of layer ``index``: n is the input's side."""
    tail = "" if side == "" else ("_h" if side == "H" else "_w")
    names = {N: sym(f"{side or 'H'}_{index - 1}"), K: sym(f"k{tail}"), S: sym(f"s{tail}"), D: sym(f"d{tail}"),
             P: sp.Symbol(f"p{tail}", integer=True, nonnegative=True)}
    before, after = ("top", "bottom") if side != "W" else ("left", "right")
    names |= {P_BEFORE: sp.Symbol(f"p_{before}", integer=True, nonnegative=True),
              P_AFTER: sp.Symbol(f"p_{after}", integer=True, nonnegative=True)}
    return names


def _count_step(layer: Layer, axis: Axis, side: str, text: str) -> Step:
    names = _rename(axis, layer.index, side)
    general = tidy(formula(axis))  # outside evaluate(False): formula() caches what it builds
    with sp.evaluate(False):
        rule = general.xreplace(names)
    values = {names[key]: v for key, v in axis.numbers().items() if key in names}
    lhs = sym(f"{side or 'H'}_{layer.index}")
    if side == "":
        lhs = sp.Eq(lhs, sym(f"W_{layer.index}"), evaluate=False)
    return Step(text, lhs, rule, substituted=substitute(rule, values), value=sp.Integer(at(rule, values)))


def window_steps(layer: Layer) -> list[Step]:
    """The count of window positions along each axis (once when both axes share every number)."""
    height, width = layer.axes  # type: ignore[misc]
    same = height == width
    head = f"{name(layer)}: the window fits this many times"
    steps = ([_count_step(layer, height, "", head + " along the height, and as many along the width:")] if same
             else [_count_step(layer, height, "H", head + " along the height,"),
                   _count_step(layer, width, "W", "and along the width:")])
    what = ("one channel per filter" if layer.spec.type == "conv2d" else "the channels pass through unchanged")
    steps[-1] = replace(steps[-1], note=("So the output is ", shape_value(layer.shape), f" ({what})."))
    return steps


def shape_steps(layer: Layer) -> list[Step]:
    """How layer ``layer`` changes the shape, worked."""
    l, kind = layer.index, layer.spec.type
    if layer.axes is not None:
        return window_steps(layer)
    if kind == "flatten" and len(layer.shape_in) == 3:
        parts = [sym(f"{x}_{l - 1}") for x in "CHW"]
        values = dict(zip(parts, (sp.Integer(v) for v in layer.shape_in)))
        return [worked(f"{name(layer)}: one entry per channel and position,", sym(f"F_{l}"), product(*parts), values)]
    if kind == "linear":
        return [Step(f"{name(layer)}: one output per row of its weight matrix,", sym(f"F_{l}"),
                     value=sp.Integer(layer.shape[0]))]
    return [Step(f"{name(layer)}: {TYPES[kind].what}, so the shape is unchanged:", shape_symbol(l),
                 value=shape_value(layer.shape))]


#: An axis with dilation and equal padding: its count is the general one, as PyTorch documents it.
_DILATED = Axis(2, 2, 1, 2, 1, 1)


def size_formula(display: bool = False) -> sp.Expr:
    """The count of window positions along one axis, with dilation: what every window layer uses
    (``display``: in reading order, left unevaluated)."""
    names = _rename(_DILATED, 1, "") | {N: sym("H_in")}
    if not display:
        return formula(_DILATED).xreplace(names)
    general = tidy(formula(_DILATED))
    with sp.evaluate(False):
        return general.xreplace(names)


def shape_question(spec: ArchitectureSpec, qid: str) -> Question:
    c, h, w = spec.input
    rule = Step(("A conv2d or pooling layer gives one output position for every place its window fits in the "
                 "zero-padded input: one start every s positions, while the window's last tap is still inside (the "
                 "count as PyTorch documents it; ",
                 sym("d"), " is the dilation, ", sp.Eq(sym("d"), 1), " without):"), sym("H_out"),
                size_formula(display=True))
    steps = [intro_step(spec), rule] + [st for layer in spec.layers for st in shape_steps(layer)]
    answers = [Answer(f"{qid}.size", sym("H_out"), size_formula(), "(per axis, for any window layer)")]
    answers += [Answer(f"{qid}.shape{layer.index}", shape_symbol(layer.index), shape_value(layer.shape))
                for layer in spec.layers]
    givens = ((sym("C_0"), sp.Integer(c)), (sym("H_0"), sp.Integer(h)), (sym("W_0"), sp.Integer(w)))
    prompt = f"The stack below takes a {c} × {h} × {w} input. Give the output shape of every layer."
    return Question(qid, "Output shapes", prompt, givens, tuple(steps), tuple(answers))
