"""Multi-head attention as ``torch.nn.MultiheadAttention`` builds it: head size, shapes, parameters.

The input projections map queries (E wide), keys (kdim) and values (vdim) to E entries
each, which are split into h heads of E/h; each head attends on its own; the heads'
outputs are concatenated back to E and mixed by an E x E output projection. With
``bias`` every projection has a bias of E. So the parameters are
E^2 + E kdim + E vdim + E^2 (+ 4E): 4E^2 + 4E when kdim = vdim = E, whatever h is.
"""
from __future__ import annotations

import sympy as sp

from symderiv.kinds.attention.parse import HeadsSpec
from symderiv.model import Answer, Question, Step, Table, TensorShape

E, H, KDIM, VDIM, L, S, N, D_H = (sp.Symbol(x, integer=True, positive=True)
                                  for x in ("E", "h", "k_dim", "v_dim", "L", "S", "N", "d_h"))
P_IN, P_OUT, P = sp.Symbol("P_in"), sp.Symbol("P_out"), sp.Symbol("P")


def _numbers(spec: HeadsSpec) -> dict[sp.Symbol, sp.Integer]:
    values = {E: spec.embed_dim, H: spec.num_heads, KDIM: spec.kdim, VDIM: spec.vdim, L: spec.length,
              S: spec.source_length, N: spec.batch, D_H: spec.head_dim}
    return {k: sp.Integer(v) for k, v in values.items()}


def _plain(spec: HeadsSpec) -> bool:
    """Keys and values as wide as the queries (self-attention, PyTorch's default)."""
    return spec.kdim == spec.vdim == spec.embed_dim


def _sum(*terms: sp.Expr) -> sp.Expr:
    """Terms in the order written (squares first, biases last)."""
    kept = [t for t in terms if t != 0]
    return sp.Add(*kept, evaluate=False) if len(kept) > 1 else kept[0]


def input_params(spec: HeadsSpec) -> sp.Expr:
    """W_Q (E x E), W_K (E x kdim), W_V (E x vdim), and three biases of E."""
    bias = 3 * E if spec.bias else 0
    if _plain(spec):
        return _sum(3 * E**2, bias)
    return _sum(E**2, E * KDIM, E * VDIM, bias)


def output_params(spec: HeadsSpec) -> sp.Expr:
    return _sum(E**2, E if spec.bias else 0)


def _worked(text: str, lhs: sp.Symbol, expr: sp.Expr, values: dict) -> Step:
    with sp.evaluate(False):
        shown = expr.xreplace({k: sp.UnevaluatedExpr(v) for k, v in values.items()})
    return Step(text, lhs, expr, substituted=shown, value=expr.xreplace(values))


def _head_step(values: dict) -> Step:
    """d_h = E/h, its numbers kept as a quotient (512/8, not 512 · 8^-1)."""
    quotient = sp.Mul(values[E], sp.Pow(values[H], -1, evaluate=False), evaluate=False)
    return Step("Each head gets an equal share of the embedding:", D_H, E / H,
                substituted=sp.UnevaluatedExpr(quotient), value=values[D_H])


def _shape(*sides: sp.Expr) -> TensorShape:
    return TensorShape([list(sides)])


def shape_rows(spec: HeadsSpec, values: dict) -> tuple:
    """Each tensor of the forward pass: its shape in symbols and in numbers."""
    k_in, v_in = (E, E) if _plain(spec) else (KDIM, VDIM)
    rows = (("queries in", (N, L, E)), ("keys in", (N, S, k_in)), ("values in", (N, S, v_in)),
            ("Q after projection", (N, L, E)), ("Q split into heads", (N, H, L, D_H)),
            ("K, V split into heads", (N, H, S, D_H)), ("scores, weights (per head)", (N, H, L, S)),
            ("output of each head", (N, H, L, D_H)), ("heads concatenated", (N, L, E)), ("output", (N, L, E)))
    return tuple((label, _shape(*sides), _shape(*(s.xreplace(values) for s in sides))) for label, sides in rows)


def heads_question(spec: HeadsSpec, qid: str) -> Question:
    values = _numbers(spec)
    total = sp.expand(input_params(spec) + output_params(spec))
    steps = [
        _head_step(values),
        _worked(("The input projections map the queries, keys and values to E entries each"
                 + (", with a bias each" if spec.bias else "") + ":"), P_IN, input_params(spec), values),
        _worked("The output projection mixes the concatenated heads:", P_OUT, output_params(spec), values),
        _worked("In all:", P, _sum(input_params(spec), output_params(spec)), values),
        Step(("The shapes of a forward pass (batch axis first); the number of heads h "
              "changes how E is split, not how many parameters there are:"),
             table=Table(("tensor", "shape", "here"), shape_rows(spec, values))),
    ]
    rows = {label: here for label, _, here in shape_rows(spec, values)}
    answers = (Answer(f"{qid}.head_dim", D_H, values[D_H]),
               Answer(f"{qid}.params_in", P_IN, input_params(spec).xreplace(values)),
               Answer(f"{qid}.params_out", P_OUT, output_params(spec).xreplace(values)),
               Answer(f"{qid}.params", P, total.xreplace(values)),
               Answer(f"{qid}.params_formula", P, total, "(in general)"),
               Answer(f"{qid}.q_heads_shape", sp.Symbol("shape_Q_heads"), rows["Q split into heads"]),
               Answer(f"{qid}.scores_shape", sp.Symbol("shape_scores"), rows["scores, weights (per head)"]),
               Answer(f"{qid}.output_shape", sp.Symbol("shape_output"), rows["output"]))
    cross = "" if _plain(spec) else f", keys {spec.kdim} and values {spec.vdim} wide"
    prompt = (f"Multi-head attention with embedding size E = {spec.embed_dim} and h = {spec.num_heads} heads"
              f"{cross}, {'with' if spec.bias else 'without'} biases, on a batch of {spec.batch} with {spec.length} "
              f"queries and {spec.source_length} keys: the head size, the shapes and the parameter count.")
    givens = tuple((sym, values[sym]) for sym in (E, H) + (() if _plain(spec) else (KDIM, VDIM)) + (N, L, S))
    return Question(qid, "Multi-head shapes and parameters", prompt, givens, tuple(steps), answers)
