"""The receptive-field question: the recurrence derived from the window's reach, then every layer.

Position i of a window layer reads positions i s - p .. i s - p + d (k - 1) of its input;
composing with what those positions see (first and last input pixel, and the distance
between neighbours, the jump) and expanding the difference gives

    r_l = r_{l-1} + (k_eff - 1) j_{l-1},    j_l = j_{l-1} s,    k_eff = d (k - 1) + 1,

from r_0 = j_0 = 1. The numbers come from :mod:`symderiv.kinds.architecture.receptive`.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from symderiv.kinds.architecture.layers import Layer
from symderiv.kinds.architecture.parse import ArchitectureSpec
from symderiv.kinds.architecture.questions import U, label, name, numbers_in, sym
from symderiv.kinds.architecture.receptive import Reach
from symderiv.model import Answer, Figure, Question, Step, TensorShape

A_PREV, B_PREV, J_PREV, R_PREV = (sp.Symbol(x, integer=True) for x in ("a_prev", "b_prev", "j_prev", "r_prev"))
I, S, P, D, K, K_EFF, LAYER = (sym(x) for x in ("i", "s", "p", "d", "k", "k_eff", "l"))
FIRST, LAST, R_L, J_L = (sp.Symbol(x) for x in ("a_l(i)", "b_l(i)", "r_l", "j_l"))

NOTATION = (("a_prev", "a_{l-1}"), ("b_prev", "b_{l-1}"), ("j_prev", "j_{l-1}"), ("r_prev", "r_{l-1}"),
            ("a_l(i)", "a_{l}(i)"), ("b_l(i)", "b_{l}(i)"), ("r_l", "r_{l}"), ("j_l", "j_{l}"),
            ("k_eff", r"k_{\mathrm{eff}}"))


@cache
def recurrence() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    """First and last pixel of position i, the receptive field as their distance, and the jump."""
    first = A_PREV + (I * S - P) * J_PREV
    last = B_PREV + (I * S - P + D * (K - 1)) * J_PREV
    spread = sp.expand(last - first + 1)
    grown = sp.expand(spread.subs(B_PREV, R_PREV + A_PREV - 1)) - R_PREV
    rule = R_PREV + sp.factor(grown)
    jump = sp.expand(first.subs(I, I + 1) - first)
    return first, last, spread, rule, jump


def derivation_steps() -> list[Step]:
    first, last, spread, rule, jump = recurrence()
    return [
        Step(("Position ", I, " of layer ", LAYER, " reads positions ", I * S - P, " to ", I * S - P + D * (K - 1),
              " of layer ", LAYER - 1, " (stride ", S, ", padding ", P, ", dilation ", D, ", ", K, " taps). Say "
              "position 0 of layer ", LAYER - 1, " sees input pixels ", A_PREV, " to ", B_PREV, " (0 is the first "
              "pixel of the input; negative ones lie in the padding), and its neighbouring positions are ",
              J_PREV, " input pixels apart (its jump). Then position ", I, " of layer ", LAYER, " sees from"),
             math=(sp.Eq(FIRST, first), sp.Eq(LAST, last))),
        Step(("Its receptive field is the number of pixels from the first to the last. Expand, and put in ",
              sp.Eq(B_PREV - A_PREV + 1, R_PREV), ", the receptive field of layer ", LAYER - 1, ":"),
             R_L, LAST - FIRST + 1, expanded=spread, value=rule,
             note=("The window adds ", sp.Eq(K_EFF - 1, D * (K - 1)), " steps of the previous jump, where ",
                   sp.Eq(K_EFF, D * (K - 1) + 1), " is the window's span (", sp.Eq(K_EFF, K), " without dilation): ",
                   sp.Eq(R_L, R_PREV + (K_EFF - 1) * J_PREV), ". It does not depend on ", I,
                   ": every position sees as many pixels.")),
        Step(("Moving from position ", I, " to ", I + 1, " moves the first pixel by the new jump:"), J_L,
             first.subs(I, I + 1) - first, value=jump),
        Step("The input: each pixel sees itself, and neighbours are one pixel apart:",
             math=(sp.Eq(sym("r_0"), 1), sp.Eq(sym("j_0"), 1))),
    ]


def _axis_name(side: str, letter: str, l: int | str) -> sp.Symbol:
    return sym(f"{letter}_{l}" if side == "" else f"{letter}{side}_{l}")


def _chain(*forms: sp.Basic) -> sp.Basic:
    """``a = b = c``, as written (nothing decided)."""
    out = forms[-1]
    for form in reversed(forms[:-1]):
        out = sp.Eq(form, out, evaluate=False)
    return out


def _window_step(layer: Layer, side: str, axis_index: int, before: Reach, after: Reach) -> Step:
    axis = layer.axes[axis_index]  # type: ignore[index]
    l = layer.index
    r_prev, j_prev = _axis_name(side, "r", l - 1), _axis_name(side, "j", l - 1)
    values = {r_prev: sp.Integer(before.size), j_prev: sp.Integer(before.jump), K_EFF: sp.Integer(axis.k_eff),
              S: sp.Integer(axis.s)}
    rule = r_prev + (K_EFF - 1) * j_prev
    span = (_chain(K_EFF, D * (K - 1) + 1, numbers_in(D * (K - 1) + 1, {D: sp.Integer(axis.d), K: sp.Integer(axis.k)}),
                   sp.Integer(axis.k_eff)) if axis.d != 1 else _chain(K_EFF, K, sp.Integer(axis.k)))
    jump = _chain(_axis_name(side, "j", l), j_prev * S, numbers_in(j_prev * S, values), sp.Integer(after.jump))
    where = {"": "", "H": " (height)", "W": " (width)"}[side]
    return Step((f"{name(layer)}{where}: the window spans ", span, ","), _axis_name(side, "r", l), rule,
                substituted=numbers_in(rule, values), value=sp.Integer(after.size), math=(jump,))


def _passing_step(layer: Layer, side: str, after: Reach, before: Reach, other: Reach | None) -> Step:
    """A layer without a window: each position by itself (r, j unchanged), or a residual add
    (``other``: what the add's other operand sees)."""
    l = layer.index
    r_prev, j = _axis_name(side, "r", l - 1), _axis_name(side, "j", l)
    jump = sp.Eq(j, sp.Eq(_axis_name(side, "j", l - 1), after.jump, evaluate=False), evaluate=False)
    if other is None:
        return Step(f"{name(layer)}: each position by itself, so nothing changes:", _axis_name(side, "r", l), r_prev,
                    value=sp.Integer(after.size), math=(jump,))
    source = _axis_name(side, "r", layer.spec.source or 0)
    covered = after.size in (before.size, other.size)
    rule = sp.Max(r_prev, source, evaluate=False) if covered else None
    shown = sp.Max(U(sp.Integer(before.size)), U(sp.Integer(other.size)), evaluate=False) if covered else None
    text = ("the sum sees what either operand sees, and one window holds the other, so the larger one:" if covered
            else f"the sum sees what either operand sees: pixels {after.lo} to {after.hi} of position 0,")
    return Step(f"{name(layer)}: {text}", _axis_name(side, "r", l), rule, substituted=shown,
                value=sp.Integer(after.size), math=(jump,))


def _sides(spec: ArchitectureSpec) -> tuple[str, ...]:
    """One column ("") when height and width see alike at every layer, else both ("H", "W")."""
    square = all(pair is None or pair[0] == pair[1] for pair in spec.reaches)
    return ("",) if square else ("H", "W")


def layer_steps(spec: ArchitectureSpec, layer: Layer) -> list[Step]:
    before, after = spec.reaches[layer.index - 1], spec.reaches[layer.index]
    if after is None:
        return []
    steps = []
    for i, side in enumerate(_sides(spec)):
        if layer.axes is not None:
            steps.append(_window_step(layer, side, i, before[i], after[i]))  # type: ignore[index]
        else:
            other = spec.reaches[layer.spec.source][i] if layer.spec.source is not None else None  # type: ignore[index]
            steps.append(_passing_step(layer, side, after[i], before[i], other))  # type: ignore[index]
    return steps


def _flat_step(spec: ArchitectureSpec) -> list[Step]:
    flat = next((layer for layer in spec.layers if spec.reaches[layer.index] is None), None)
    if flat is None:
        return []
    return [Step(f"From layer {flat.index} ({label(flat)}) on the output is a flat vector: a linear layer mixes "
                 "every entry, so each output depends on the whole input. The receptive field stops being a window.")]


def _value(reach: tuple[Reach, Reach], sides: tuple[str, ...], field: str) -> sp.Basic:
    values = [getattr(r, field) for r in reach]
    return sp.Integer(values[0]) if len(sides) == 1 else TensorShape([values])


def field_answers(spec: ArchitectureSpec, qid: str) -> list[Answer]:
    sides = _sides(spec)
    general = [Answer(f"{qid}.rf_rule", R_L, recurrence()[3], "(the recurrence, one layer)"),
               Answer(f"{qid}.jump_rule", J_L, recurrence()[4])]
    out = []
    for layer in spec.layers:
        reach = spec.reaches[layer.index]
        if reach is not None:
            out += [Answer(f"{qid}.rf{layer.index}", _axis_name("", "r", layer.index), _value(reach, sides, "size")),
                    Answer(f"{qid}.jump{layer.index}", _axis_name("", "j", layer.index), _value(reach, sides, "jump"))]
    return general + out


def field_figure(spec: ArchitectureSpec) -> Figure | None:
    """Data for the 'receptive_field' drawing: the window of each layer's centre position on the input."""
    shown, last = [], None
    for layer in spec.layers:
        reach = spec.reaches[layer.index]
        if reach is None or reach == last:
            continue
        last = reach
        centre = [(side - 1) // 2 for side in layer.shape[1:]]
        shown.append((f"layer {layer.index} ({label(layer)})", reach[0].at(centre[0]), reach[1].at(centre[1])))
    if not shown:
        return None
    c, h, w = spec.input
    caption = (f"The {h} × {w} input (outlined) and the pixels seen by the centre position of each layer that "
               "changes the receptive field; outside the outline is padding.")
    return Figure("receptive_field", caption, (("height", h), ("width", w), ("layers", tuple(shown))))


def field_question(spec: ArchitectureSpec, qid: str) -> Question:
    steps = derivation_steps() + [st for layer in spec.layers for st in layer_steps(spec, layer)] + _flat_step(spec)
    figure = field_figure(spec)
    prompt = ("Derive the recurrence for the receptive field r (how many input pixels one output position sees, "
              "along one axis) and the jump j (how many input pixels apart neighbouring positions are), and give "
              "both for every layer.")
    return Question(qid, "Receptive field and jump", prompt, (), tuple(steps), tuple(field_answers(spec, qid)),
                    figures=(figure,) if figure is not None else ())
