"""Problem kind ``attention``: scaled dot-product attention in numbers, why 1/sqrt(d_k), its gradient, heads.

Spec fields (see README, "Spec format")::

    kind = "attention"
    Q = [[1, 0], [0, 1], [1, 1]]     # n_q x d_k, one row per query
    K = [[1, 0], [0, 1], [1, 1]]     # n_k x d_k
    V = [[1, 2], [3, 4], [5, 6]]     # n_k x d_v
    # or X (n x d_model) with W_Q, W_K (d_model x d_k) and W_V (d_model x d_v): Q = X W_Q
    mask = "causal"                  # optional: "causal", or an n_q x n_k table of true/false
    scale = 0.5                      # optional: default 1/sqrt(d_k)
    [problem.gradient]               # optional: upstream = dL/dO (n_q x d_v), or loss = "sum"
    upstream = [[1, 0], [0, 1], [1, 1]]
    [problem.heads]                  # optional: nn.MultiheadAttention's shapes and parameters
    embed_dim = 512
    num_heads = 8                    # also bias, kdim, vdim, length, source_length, batch

Questions: Q.1 the attention in numbers, Q.2 why the scores are divided by sqrt(d_k)
(the variance of a dot product), then Q.3 the gradient (with ``[problem.gradient]``) and
the multi-head question (with ``[problem.heads]``), numbered in that order.
"""
from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from symderiv.kinds.attention.forward import forward_question
from symderiv.kinds.attention.gradient import gradient_question
from symderiv.kinds.attention.heads import heads_question
from symderiv.kinds.attention.parse import AttentionSpec, parse
from symderiv.kinds.attention.values import ORDER, compute, stored
from symderiv.kinds.attention.variance import variance_question
from symderiv.kinds.attention.verify import Solved, verify
from symderiv.kinds.registry import Kind, register
from symderiv.model import Problem

NOTATION = (("S_masked", r"\tilde{S}"), ("S_11", "S_{1,1}"), ("q_1·k_1", r"\mathbf{q}_{1} \cdot \mathbf{k}_{1}"),
            ("q·k", r"\mathbf{q} \cdot \mathbf{k}"), ("sigma_qk", r"\sigma_{\mathbf{q} \cdot \mathbf{k}}"),
            ("mean", r"\bar{g}"), ("dL/ds_m", r"\frac{\partial L}{\partial s_{m}}"),
            ("dL/da_m", r"\frac{\partial L}{\partial a_{m}}"), ("dL/ds_ij", r"\frac{\partial L}{\partial s_{ij}}"),
            ("a_ij", "a_{ij}"), ("g_ij", "g_{ij}"), ("dL/da_j", r"\frac{\partial L}{\partial a_{j}}"),
            ("P_in", r"P_{\mathrm{in}}"), ("P_out", r"P_{\mathrm{out}}"), ("d_h", r"d_{\mathrm{head}}"),
            ("k_dim", r"k_{\mathrm{dim}}"), ("v_dim", r"v_{\mathrm{dim}}"),
            ("shape_Q_heads", r"\text{shape of } Q \text{ per head}"),
            ("shape_scores", r"\text{shape of the scores}"), ("shape_output", r"\text{shape of the output}"))


def notation(queries: int) -> tuple[tuple[str, str], ...]:
    """Gradients as fractions, rows of S as bold vectors; the fixed table above."""
    grads = [(f"dL_d{n}", rf"\frac{{\partial L}}{{\partial {n}}}") for n in ("V", "A", "S", "Q", "K")]
    rows = [(f"dL_ds_{i}", rf"\frac{{\partial L}}{{\partial \mathbf{{s}}_{{{i}}}}}") for i in range(1, queries + 1)]
    rows += [(f"s_{i}", rf"\mathbf{{s}}_{{{i}}}") for i in range(1, queries + 1)]
    rows += [(f"s~_{i}", rf"\tilde{{\mathbf{{s}}}}_{{{i}}}") for i in range(1, queries + 1)]
    rows += [(f"{x}_{i}", rf"\mathbf{{{x}}}_{{{i}}}") for x in "ag" for i in range(1, queries + 1)]
    return tuple(grads + rows) + NOTATION


def derive(spec: AttentionSpec, number: int, title: str) -> Problem:
    """The attention in numbers, the variance argument, then the gradient and heads if asked."""
    values = compute(spec.inputs)
    q = lambda index: f"{number}.{index}"  # noqa: E731
    questions = [forward_question(spec, values, q(1)), variance_question(spec.d_k, q(2))]
    if spec.inputs.upstream is not None:
        questions.append(gradient_question(spec, values, q(len(questions) + 1)))
    if spec.heads is not None:
        questions.append(heads_question(spec.heads, q(len(questions) + 1)))
    return Problem(number, title, "attention", tuple(questions), intro=_INTRO,
                   notation=notation(spec.inputs.shape[0]), data=Solved(spec, values))


def recompute(problem: Problem, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    """Every answer with some quantities pinned to a student's values: what follows them is recomputed."""
    solved: Solved = problem.data
    pins = {aid.rsplit(".", 1)[1]: sp.ImmutableMatrix(v) for aid, v in pinned.items()
            if aid.rsplit(".", 1)[1] in ORDER}
    fresh = compute(solved.spec.inputs, pins)
    out = {}
    for question in problem.questions:
        for answer in question.answers:
            name = answer.id.rsplit(".", 1)[1]
            out[answer.id] = stored(fresh[name]) if name in fresh and name in ORDER else answer.value
    return out


_INTRO = ("Attention lets every query look at every key: its dot products with the keys, scaled and passed "
          "through a softmax, weigh the values. We compute it by hand, see why the scores are scaled, and "
          "follow the gradient back.")

KIND = register(Kind("attention", "Scaled dot-product attention", parse, derive, doc=__doc__ or "", verify=verify,
                     recompute=recompute))
