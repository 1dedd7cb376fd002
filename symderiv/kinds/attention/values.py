"""Scaled dot-product attention and its gradient, exact while small, 40-digit decimals past that.

One pipeline computes every quantity the sheet shows, in order::

    Q = X W_Q, K = X W_K, V = X W_V      (when the spec gives X and the projections)
    S = c Q K^T                          scores, c = 1/sqrt(d_k) unless the spec sets it
    A_i = softmax of row i over the keys it may attend to (masked weights are 0)
    O = A V
    dL/dV = A^T G,  dL/dA = G V^T,  dL/ds_i = a_i * (g_i - a_i . g_i),
    dL/dQ = c dL/dS K,  dL/dK = c dL/dS^T Q         (G = dL/dO)

A softmax of exact numbers is a fraction of sums of exponentials, and products of them
swell: a quantity stays exact while every entry has at most :data:`MAX_OPS` operations
and the score matrix at most :data:`EXACT_SCORES` entries; past either bound it (and
everything computed from it) is carried as :data:`PRECISION`-digit decimals and stored
with :data:`DIGITS` significant digits, so 15 printed digits are certain.

Any quantity can be *pinned* to another value (a student's wrong answer): everything
after it is recomputed from the pinned value, for carried-forward grading.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import sympy as sp

Matrix: TypeAlias = sp.ImmutableDenseMatrix

#: Working precision of the decimal path (significant digits), and the digits kept.
PRECISION, DIGITS = 40, 30
#: Most operations in one exact entry (``sp.count_ops``, after tidying) before a quantity
#: becomes decimal; past MAX_OPS * TIDY_FACTOR operations it is not even tidied (tidying
#: bigger entries cost seconds at the size bounds).
MAX_OPS, TIDY_FACTOR = 24, 2
#: Most scores computed exactly: each softmax row is a fraction of that many exponentials.
EXACT_SCORES = 16

#: The quantities in the order they are computed (answer names of the sheet).
ORDER = ("Q", "K", "V", "scores", "weights", "output", "dL_dV", "dL_dA", "dL_dS", "dL_dQ", "dL_dK")


@dataclass(frozen=True)
class Inputs:
    """The numbers of an attention problem (exact): Q, K, V directly or through projections of X.

    ``allowed[i][j]`` says whether query i may attend to key j; ``upstream`` is dL/dO (or None).
    """

    Q: Matrix | None
    K: Matrix | None
    V: Matrix | None
    X: Matrix | None
    W_Q: Matrix | None
    W_K: Matrix | None
    W_V: Matrix | None
    allowed: tuple[tuple[bool, ...], ...]
    scale: sp.Expr
    upstream: Matrix | None

    @property
    def projected(self) -> bool:
        return self.X is not None

    @property
    def shape(self) -> tuple[int, int]:
        """(queries, keys)."""
        return len(self.allowed), len(self.allowed[0])

    @property
    def decimal(self) -> bool:
        """Past EXACT_SCORES scores everything is computed in decimals from the start."""
        queries, keys = self.shape
        return queries * keys > EXACT_SCORES


def to_decimal(m: Matrix) -> Matrix:
    """Every nonzero number as a PRECISION-digit decimal (zeros stay exact zeros)."""
    return m.applyfunc(lambda e: sp.N(e, PRECISION) if e.is_number and e.is_finite and e != 0 else e)


def tidy(entry: sp.Expr) -> sp.Expr:
    """An exact entry as one fraction when that is shorter (sums of fractions of exponentials
    collapse: ``e (1 - e/(e + 2 e^(1/2)))/(e + 2 e^(1/2))`` is ``2 e^(3/2)/(e + 2 e^(1/2))^2``).
    Only ``together``: factoring over the exponentials (and roots of d_k) costs seconds."""
    if entry.is_Rational or not entry.is_number:
        return entry
    shorter = sp.factor_terms(sp.together(entry))
    return shorter if sp.count_ops(shorter) < sp.count_ops(entry) else entry


def _too_big(m: Matrix, limit: int) -> bool:
    return max((sp.count_ops(e) for e in m), default=0) > limit


def settle(m: Matrix) -> Matrix:
    """``m`` exact while small (tidied); with a decimal entry, or an entry past MAX_OPS operations, all decimals."""
    if any(isinstance(e, sp.Float) for e in m) or _too_big(m, MAX_OPS * TIDY_FACTOR):
        return Matrix(m.evalf(PRECISION))
    tidied = m.applyfunc(tidy)
    return Matrix(tidied.evalf(PRECISION)) if _too_big(tidied, MAX_OPS) else Matrix(tidied)


def stored(m: sp.Basic) -> sp.Basic:
    """A value for the sheet and the key: decimals rounded to DIGITS significant digits."""
    return m.xreplace({f: sp.Float(f, DIGITS) for f in m.atoms(sp.Float)})


def exps(scores: Matrix, allowed, i: int) -> list[sp.Expr]:
    """e^{s_ij} for the keys query i may attend to, 0 for the others."""
    return [sp.exp(scores[i, j]) if allowed[i][j] else sp.S.Zero for j in range(scores.cols)]


def softmax_rows(scores: Matrix, allowed) -> Matrix:
    """Each row's weights over the keys it may attend to: e^{s_ij} / sum_j e^{s_ij}."""
    rows = []
    for i in range(scores.rows):
        e = exps(scores, allowed, i)
        z = sp.Add(*e)
        rows.append([x / z for x in e])
    return Matrix(rows)


def weighted_sum(scores: Matrix, allowed, values: Matrix) -> Matrix:
    """O = A V, each row written as one fraction: (sum_j v_jk e^{s_ij}) / (sum_j e^{s_ij})."""
    rows = []
    for i in range(scores.rows):
        e = exps(scores, allowed, i)
        z = sp.Add(*e)
        rows.append([sp.Add(*(values[j, k] * e[j] for j in range(len(e)))) / z for k in range(values.cols)])
    return Matrix(rows)


def softmax_backward(weights: Matrix, d_weights: Matrix) -> Matrix:
    """dL/ds_ij = a_ij (dL/da_ij - sum_m a_im dL/da_im): the softmax Jacobian applied row by row."""
    rows = []
    for i in range(weights.rows):
        mean = sp.Add(*(weights[i, m] * d_weights[i, m] for m in range(weights.cols)))
        rows.append([weights[i, j] * (d_weights[i, j] - mean) for j in range(weights.cols)])
    return Matrix(rows)


def _inputs(inputs: Inputs, pins: Mapping[str, Matrix], out: dict) -> dict[str, Matrix]:
    """Q, K and V (projected from X when the spec gives X) into ``out``; what the rest is computed
    from: the same, or their decimals past EXACT_SCORES."""
    work = {}
    for name, w in (("Q", inputs.W_Q), ("K", inputs.W_K), ("V", inputs.W_V)):
        given = getattr(inputs, name)
        out[name] = settle(pins.get(name, given if given is not None else inputs.X * w))  # type: ignore[operator]
        work[name] = to_decimal(out[name]) if inputs.decimal else out[name]
    return work


def compute(inputs: Inputs, pins: Mapping[str, Matrix] | None = None) -> dict[str, Matrix]:
    """Every quantity by name (see :data:`ORDER`); a pinned name takes the given value instead.

    The weights and the output are built from the scores directly (one fraction per entry);
    when the scores are pinned or the weights are, what follows is built from those.
    """
    pins = dict(pins or {})
    out: dict[str, Matrix] = {}
    q, k, v = (_inputs(inputs, pins, out)[n] for n in ("Q", "K", "V"))
    scale = sp.N(inputs.scale, PRECISION) if inputs.decimal else inputs.scale
    stage = lambda name, value: out.setdefault(name, settle(pins.get(name, value)))  # noqa: E731
    stage("scores", scale * q * k.T)
    stage("weights", softmax_rows(out["scores"], inputs.allowed))
    fresh = "weights" not in pins
    stage("output", weighted_sum(out["scores"], inputs.allowed, v) if fresh else out["weights"] * v)
    if inputs.upstream is not None:
        grad = to_decimal(inputs.upstream) if inputs.decimal else inputs.upstream
        stage("dL_dV", out["weights"].T * grad)
        stage("dL_dA", grad * v.T)
        stage("dL_dS", softmax_backward(out["weights"], out["dL_dA"]))
        stage("dL_dQ", scale * out["dL_dS"] * k)
        stage("dL_dK", scale * out["dL_dS"].T * q)
    return out
