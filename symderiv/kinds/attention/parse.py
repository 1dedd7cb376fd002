"""Spec fields of an attention problem -> validated inputs, every shape checked against the others.

Matrices are given row by row, one row per token: Q is n_q x d_k, K is n_k x d_k, V is
n_k x d_v; or X (n x d_model) with W_Q, W_K (d_model x d_k) and W_V (d_model x d_v),
multiplied as Q = X W_Q. A mask is ``"causal"`` (query i attends to keys 1..i, PyTorch's
``is_causal``) or an n_q x n_k table of true/false (1/0): true where the query may
attend, as PyTorch's boolean ``attn_mask``. Errors name the field and the shapes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from symderiv.kinds.attention.values import Inputs, Matrix
from symderiv.spec import Fields

#: Most tokens (queries or keys) and most columns of a matrix: every matrix is printed in
#: full and every softmax row is a step.
MAX_TOKENS = 8
MAX_DIM = 8
#: Largest embedding size and sequence length of the multi-head question (shapes only).
MAX_EMBED = 1_000_000

_DIRECT, _PROJECTED = ("Q", "K", "V"), ("X", "W_Q", "W_K", "W_V")


@dataclass(frozen=True)
class HeadsSpec:
    """nn.MultiheadAttention's settings, and the sequence lengths and batch of the shapes asked."""

    embed_dim: int
    num_heads: int
    bias: bool
    kdim: int
    vdim: int
    length: int
    source_length: int
    batch: int

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads


@dataclass(frozen=True)
class AttentionSpec:
    inputs: Inputs
    causal: bool
    masked: bool
    default_scale: bool
    loss_sum: bool
    heads: HeadsSpec | None

    @property
    def d_k(self) -> int:
        first = self.inputs.W_Q if self.inputs.projected else self.inputs.Q
        return first.cols if first is not None else 0


def _matrix(f: Fields, name: str, rows: tuple[int, str] | None = None, cols: tuple[int, str] | None = None) -> Matrix:
    """A matrix field within the size bounds; ``rows``/``cols``: (the count it must have, why)."""
    m = f.matrix(name)
    if m.rows > MAX_TOKENS or m.cols > MAX_DIM:
        raise f.fail(name, f"at most {MAX_TOKENS} rows and {MAX_DIM} columns (every matrix is printed in full), "
                           f"got {m.rows} x {m.cols}")
    for count, (want, why), word in ((m.rows, rows or (m.rows, ""), "rows"), (m.cols, cols or (m.cols, ""), "columns")):
        if count != want:
            raise f.fail(name, f"has {count} {word}, but must have {want} ({why})")
    return Matrix(m)


def _direct(f: Fields) -> tuple[Matrix, Matrix, Matrix]:
    q = _matrix(f, "Q")
    k = _matrix(f, "K", cols=(q.cols, "as many as Q: the key size d_k"))
    v = _matrix(f, "V", rows=(k.rows, "one per key, as K"))
    return q, k, v


def _projected(f: Fields) -> tuple[Matrix, Matrix, Matrix, Matrix]:
    x = _matrix(f, "X")
    model = (x.cols, "one per column of X: the model size d_model")
    w_q = _matrix(f, "W_Q", rows=model)
    w_k = _matrix(f, "W_K", rows=model, cols=(w_q.cols, "as many as W_Q: the key size d_k"))
    w_v = _matrix(f, "W_V", rows=model)
    return x, w_q, w_k, w_v


def _flag(f: Fields, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise f.fail(name, f"expected true/false or 1/0, got {value!r}")


def _mask(f: Fields, queries: int, keys: int) -> tuple[tuple[tuple[bool, ...], ...], bool]:
    """Which keys each query may attend to, and whether the mask is causal."""
    raw = f.raw("mask", None)
    if raw is None:
        return tuple((True,) * keys for _ in range(queries)), False
    if raw == "causal":
        return tuple(tuple(j <= i for j in range(keys)) for i in range(queries)), True
    if not isinstance(raw, list) or len(raw) != queries or any(not isinstance(r, list) or len(r) != keys
                                                                for r in raw):
        raise f.fail("mask", f"expected \"causal\" or a {queries} x {keys} table of true/false (one row per query, "
                             "one column per key)")
    allowed = tuple(tuple(_flag(f, f"mask[{i + 1}][{j + 1}]", v) for j, v in enumerate(r)) for i, r in enumerate(raw))
    for i, row in enumerate(allowed, start=1):
        if not any(row):
            raise f.fail(f"mask[{i}]", f"masks every key for query {i}: its softmax would have nothing to weigh")
    return allowed, False


def _upstream(f: Fields, queries: int, width: int) -> tuple[Matrix | None, bool]:
    """dL/dO from ``[problem.gradient]``: ``upstream`` (n_q x d_v) or ``loss = "sum"`` (all ones)."""
    if not f.has("gradient"):
        return None, False
    g = f.sub("gradient")
    g.check_known({"upstream", "loss"})
    if g.has("upstream") == g.has("loss"):
        raise g.fail("upstream", "give either upstream (dL/dO, one row per query) or loss = \"sum\"")
    if g.has("loss"):
        g.str("loss", choices={"sum"})
        return Matrix.ones(queries, width), True
    shape = f"dL/dO has the output's shape, {queries} x {width}"
    return _matrix(g, "upstream", (queries, shape), (width, shape)), False


def _heads(f: Fields, queries: int) -> HeadsSpec | None:
    if not f.has("heads"):
        return None
    h = f.sub("heads")
    h.check_known({"embed_dim", "num_heads", "bias", "kdim", "vdim", "length", "source_length", "batch"})
    embed = h.integer("embed_dim", low=1, high=MAX_EMBED)
    heads = h.integer("num_heads", low=1, high=MAX_EMBED)
    if embed % heads:
        raise h.fail("num_heads", f"{heads} heads do not divide embed_dim = {embed} (each head takes an equal share, "
                                  "as nn.MultiheadAttention requires)")
    bias = h.raw("bias", True)
    if not isinstance(bias, bool):
        raise h.fail("bias", f"expected true or false, got {bias!r}")
    kdim, vdim, length = (h.integer(name, default, low=1, high=MAX_EMBED)
                          for name, default in (("kdim", embed), ("vdim", embed), ("length", queries)))
    source = h.integer("source_length", length, low=1, high=MAX_EMBED)
    return HeadsSpec(embed, heads, bias, kdim, vdim, length, source, h.integer("batch", 1, low=1, high=MAX_EMBED))


def _scale(f: Fields, d_k: int) -> tuple[sp.Expr, bool]:
    if not f.has("scale"):
        return 1 / sp.sqrt(d_k), True
    return f.number("scale", low=0, open_low=True), False


def parse(f: Fields) -> AttentionSpec:
    """Q, K, V (or X and the projections), an optional mask and scale, gradient and heads tables."""
    f.check_known(set(_DIRECT + _PROJECTED) | {"mask", "scale", "gradient", "heads"})
    direct, projected = [n for n in _DIRECT if f.has(n)], [n for n in _PROJECTED if f.has(n)]
    if bool(direct) == bool(projected) or (direct and len(direct) < 3) or (projected and len(projected) < 4):
        missing = next((n for n in (_DIRECT if direct else _PROJECTED) if not f.has(n)), "Q")
        raise f.fail(missing, "give Q, K and V, or X with W_Q, W_K and W_V (not both)")
    q = k = v = x = w_q = w_k = w_v = None
    if direct:
        q, k, v = _direct(f)
        queries, keys, d_k, d_v = q.rows, k.rows, q.cols, v.cols
    else:
        x, w_q, w_k, w_v = _projected(f)
        queries = keys = x.rows
        d_k, d_v = w_q.cols, w_v.cols
    allowed, causal = _mask(f, queries, keys)
    scale, default = _scale(f, d_k)
    upstream, loss_sum = _upstream(f, queries, d_v)
    inputs = Inputs(q, k, v, x, w_q, w_k, w_v, allowed, scale, upstream)
    return AttentionSpec(inputs, causal, f.has("mask"), default, loss_sum, _heads(f, queries))
