"""The gradient question: dL/dV, dL/dA, the softmax backward pass row by row, dL/dQ and dL/dK.

The softmax's Jacobian is derived (differentiating a_1 = e^{s_1} / sum_m e^{s_m}), then
applied to each row: dL/ds_i = a_i * (g_i - (a_i . g_i)), with g_i = row i of dL/dA.
"""
from __future__ import annotations

import sympy as sp

from symderiv.kinds.attention.forward import SCALE, decimals, ms, product_form, scale_factor
from symderiv.kinds.attention.parse import AttentionSpec
from symderiv.kinds.attention.values import stored
from symderiv.model import Answer, Question, Step

_A, _S, _EXP = sp.IndexedBase("a"), sp.IndexedBase("s"), sp.IndexedBase("e")
_Z = sp.Symbol("Z", positive=True)


def softmax_jacobian() -> tuple[sp.Expr, sp.Expr]:
    """da_1/ds_1 and da_1/ds_2 of a three-way softmax, written in the weights a_m.

    With e_m = e^{s_m} (so de_m/ds_m = e_m) the derivative is a rational function of the
    e_m; putting in e_m = a_m Z and a_1 + a_2 + a_3 = 1 leaves it in the weights.
    """
    e = [_EXP[m] for m in (1, 2, 3)]
    a1 = e[0] / sp.Add(*e)
    out = []
    for m in (0, 1):
        chained = sp.diff(a1, e[m]) * e[m]
        in_weights = sp.factor(sp.cancel(chained.subs({e[k]: _A[k + 1] * _Z for k in range(3)})))
        rest = sp.expand(in_weights.subs(_A[3], 1 - _A[1] - _A[2]) / _A[1])
        sign = (-1,) if rest.as_coeff_Mul()[0] < 0 else ()     # a_1 (1 - a_1) and -a_1 a_2: a_1 in front
        out.append(sp.Mul(*sign, _A[1], -rest if sign else rest, evaluate=False))
    return out[0], out[1]


def jacobian_step() -> Step:
    own, other = softmax_jacobian()
    j, m = sp.symbols("j m", integer=True, positive=True)
    a = sp.IndexedBase("a")
    general = sp.Eq(sp.Derivative(a[j], sp.IndexedBase("s")[m]), a[j] * (sp.KroneckerDelta(j, m) - a[m]))
    chained = sp.Eq(sp.Symbol("dL/ds_m"), sp.Mul(a[m], sp.Symbol("dL/da_m") - sp.Symbol("mean"), evaluate=False))
    row = sp.exp(_S[1]) / sp.Add(*(sp.exp(_S[k]) for k in (1, 2, 3)))
    return Step(("The softmax's derivatives: differentiate ", sp.Eq(_A[1], row), " and write the result in the "
                 "weights again (their sum is 1):"),
                math=(sp.Eq(sp.Derivative(_A[1], _S[1]), own), sp.Eq(sp.Derivative(_A[1], _S[2]), other), general),
                note=("So, by the chain rule, ", chained, " where ", sp.Eq(sp.Symbol("mean"), sp.Sum(
                      a[j] * sp.Symbol("dL/da_j"), (j, 1, sp.Symbol("n")))), " is the weighted mean of the upstream "
                      "gradients: each weight times how far its own upstream gradient lies above that mean."))


def _matmul_step(text: str, name: str, rule: sp.Basic, factors: tuple, value) -> Step:
    return Step(text, ms(name, value), rule, substituted=product_form(*factors), value=stored(value),
                note=decimals(stored(value)))


def _row_step(values: dict, i: int) -> Step:
    """Row i of dL/dS: each weight times its upstream gradient less the row's weighted mean."""
    a, g = values["weights"].row(i), values["dL_dA"].row(i)
    u = sp.UnevaluatedExpr
    mean = sp.Add(*(sp.Mul(u(stored(a[j])), u(stored(g[j])), evaluate=False) for j in range(a.cols)), evaluate=False)
    m = stored(sum(a[j] * g[j] for j in range(a.cols)))
    m_i = sp.Symbol(f"m_{i + 1}")
    weighted = sp.Eq(m_i, sp.Eq(mean, m, evaluate=False), evaluate=False)
    entries = sp.ImmutableMatrix([[sp.Mul(u(stored(a[j])), sp.Add(g[j], -m, evaluate=False), evaluate=False)
                                   for j in range(a.cols)]])
    rule = sp.Eq(sp.Symbol("dL/ds_ij"), sp.Mul(sp.Symbol("a_ij"), sp.Symbol("g_ij") - m_i, evaluate=False))
    value = stored(values["dL_dS"].row(i))
    return Step((f"Row {i + 1}: its weighted mean is ", weighted, ", and each entry is ", rule,
                 " (a masked key has weight 0, so its gradient is 0):"),
                sp.MatrixSymbol(f"dL_ds_{i + 1}", 1, a.cols), substituted=entries, value=value, note=decimals(value))


def gradient_question(spec: AttentionSpec, values: dict, qid: str) -> Question:
    a, v, q, k = (values[n] for n in ("weights", "V", "Q", "K"))
    g = spec.inputs.upstream
    c = spec.inputs.scale
    steps = [
        _matmul_step("Through O = A V, the values get the weights' transpose times the upstream gradient:",
                     "dL_dV", sp.MatMul(ms("A", a).T, ms("G", g)), (stored(a).T, g), values["dL_dV"]),
        _matmul_step("and the weights get the upstream gradient times the values' transpose:", "dL_dA",
                     sp.MatMul(ms("G", g), ms("V", v).T), (g, stored(v).T), values["dL_dA"]),
        jacobian_step(),
    ]
    steps += [_row_step(values, i) for i in range(a.rows)]
    steps += [
        _matmul_step("Through the scores, the queries get the scale times dL/dS times K:", "dL_dQ",
                     sp.MatMul(scale_factor(spec), ms("dL_dS", a), ms("K", k)), (c, stored(values["dL_dS"]), stored(k)),
                     values["dL_dQ"]),
        _matmul_step("and the keys the scale times dL/dS transposed times Q:", "dL_dK",
                     sp.MatMul(scale_factor(spec), ms("dL_dS", a).T, ms("Q", q)),
                     (c, stored(values["dL_dS"]).T, stored(q)), values["dL_dK"]),
    ]
    names = ("dL_dV", "dL_dA", "dL_dS", "dL_dQ", "dL_dK")
    answers = tuple(Answer(f"{qid}.{n}", ms(n, values[n]), stored(values[n])) for n in names)
    upstream = ("the loss L = Σ O_ij (so dL/dO is all ones)" if spec.loss_sum else "the upstream gradient G = dL/dO")
    prompt = f"Backpropagate {upstream} through the attention of the first question: dL/dV, dL/dQ and dL/dK."
    givens = ((ms("G", g), g),) + (((SCALE, c),) if not spec.default_scale else ())
    return Question(qid, "The gradient of attention", prompt, givens, tuple(steps), answers)
