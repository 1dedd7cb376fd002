"""Self-verification of an attention problem in float64 NumPy, sharing no code with the derivation.

* Forward: scores, a numerically stable softmax (the row maximum subtracted) and the
  weighted sum, against the derived weights and output.
* Gradient: central finite differences of L = sum(G * O) in every entry of Q, K and V.
* Heads: the parameter tensors nn.MultiheadAttention allocates, counted.

This is the kind's ``verify`` hook (``symderiv verify SPEC``); the tests compare with
PyTorch's ``scaled_dot_product_attention``, autograd and ``nn.MultiheadAttention``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symderiv.kinds.attention.parse import AttentionSpec, HeadsSpec
from symderiv.kinds.registry import Check, Verification
from symderiv.model import Problem

WHAT = "attention values checked against float64 NumPy and central differences"


@dataclass(frozen=True)
class Solved:
    """What an attention problem keeps for later stages: its spec and every computed quantity."""

    spec: AttentionSpec
    values: dict


def floats(m) -> np.ndarray:
    return np.array([[float(e) for e in row] for row in m.tolist()], dtype=np.float64)


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, allowed: np.ndarray, scale: float) -> tuple:
    """(weights, output) of scaled dot-product attention, masked entries weighted 0."""
    scores = np.where(allowed, scale * q @ k.T, -np.inf)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = shifted / shifted.sum(axis=1, keepdims=True)
    return weights, weights @ v


def _close(name: str, engine: np.ndarray, reference: np.ndarray, tol: float) -> Check:
    ok = bool(np.allclose(engine, reference, rtol=tol, atol=tol))
    return Check(name, ok, f"engine {engine.tolist()}, numpy {reference.tolist()}")


def _difference(spec: AttentionSpec, arrays: dict, name: str, i: int, j: int) -> float:
    """d/dx of sum(G * O) at entry (i, j) of Q, K or V, by central differences."""
    h = 1e-6 * max(1.0, abs(arrays[name][i, j]))
    out = []
    for sign in (1, -1):
        moved = {n: a.copy() for n, a in arrays.items()}
        moved[name][i, j] += sign * h
        _, o = attention(moved["Q"], moved["K"], moved["V"], arrays["allowed"], float(spec.inputs.scale))
        out.append(float(np.sum(arrays["G"] * o)))
    return (out[0] - out[1]) / (2 * h)


def _gradient_checks(spec: AttentionSpec, values: dict, arrays: dict) -> list[Check]:
    checks = []
    for name in ("Q", "K", "V"):
        rows, cols = arrays[name].shape
        fd = np.array([[_difference(spec, arrays, name, i, j) for j in range(cols)] for i in range(rows)])
        checks.append(_close(f"dL/d{name}", floats(values[f"dL_d{name}"]), fd, 1e-6))
    return checks


def allocated(heads: HeadsSpec) -> int:
    """Parameters of nn.MultiheadAttention, tensor by tensor as it allocates them."""
    e = heads.embed_dim
    same = heads.kdim == heads.vdim == e
    shapes: list[tuple[int, ...]] = [(3 * e, e)] if same else [(e, e), (e, heads.kdim), (e, heads.vdim)]
    shapes += [(e, e)] + ([(3 * e,), (e,)] if heads.bias else [])
    return sum(int(np.prod(s)) for s in shapes)


def verify(problem: Problem) -> Verification:
    """The kind's ``verify`` hook."""
    solved: Solved = problem.data
    spec, values = solved.spec, solved.values
    arrays = {n: floats(values[n]) for n in ("Q", "K", "V")}
    arrays["allowed"] = np.array(spec.inputs.allowed, dtype=bool)
    weights, output = attention(arrays["Q"], arrays["K"], arrays["V"], arrays["allowed"], float(spec.inputs.scale))
    checks = [_close("weights", floats(values["weights"]), weights, 1e-12),
              _close("output", floats(values["output"]), output, 1e-12)]
    if spec.inputs.upstream is not None:
        arrays["G"] = floats(spec.inputs.upstream)
        checks += _gradient_checks(spec, values, arrays)
    if spec.heads is not None:
        found = next(a.value for q in problem.questions for a in q.answers if a.id.endswith(".params"))
        checks.append(Check("multi-head parameters", int(found) == allocated(spec.heads),
                            f"engine {found}, tensors {allocated(spec.heads)}"))
    return Verification(WHAT, tuple(checks))
