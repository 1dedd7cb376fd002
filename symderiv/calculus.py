"""Calculus rules as data: one row per activation, one row per loss.

Each activation is a scalar function ``f(v)`` with its derivative written beside it,
as micrograd writes each operation's local derivative beside its forward
computation. Adding an activation is adding one row to :data:`ACTIVATIONS`.

The derivative of ReLU at 0 is a *convention*: the homework (and PyTorch) take
``ReLU'(0) = 0``. SymPy's own derivative of ``Max(0, v)`` is ``Heaviside(v)`` with
``Heaviside(0) = 1/2``, which agrees with neither, so the rules below never
differentiate ``Max``: they use ``Heaviside(v, H0)`` with ``H0`` the chosen convention.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp


@dataclass(frozen=True)
class Settings:
    """Conventions that change derivative values at non-differentiable points."""

    relu_at_zero: sp.Rational = sp.Integer(0)
    leaky_slope: sp.Rational = sp.Rational(1, 100)


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: ``f(v)`` and ``f'(v)`` (given ``v`` and ``f(v)``).

    ``kinked`` says the derivative at 0 is a convention (ReLU-like functions), so the
    sheet can warn when a forward value lands exactly there. ``label`` is the
    operator's printed name.
    """

    name: str
    label: str
    f: Callable[[sp.Expr, Settings], sp.Expr]
    df: Callable[[sp.Expr, sp.Expr, Settings], sp.Expr]
    kinked: bool = False


def _relu(v: sp.Expr, s: Settings) -> sp.Expr:
    return sp.Max(0, v)


def _drelu(v: sp.Expr, out: sp.Expr, s: Settings) -> sp.Expr:
    return sp.Heaviside(v, s.relu_at_zero)


def _leaky(v: sp.Expr, s: Settings) -> sp.Expr:
    return sp.Max(v, s.leaky_slope * v)


def _dleaky(v: sp.Expr, out: sp.Expr, s: Settings) -> sp.Expr:
    return s.leaky_slope + (1 - s.leaky_slope) * sp.Heaviside(v, s.relu_at_zero)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", "ReLU", _relu, _drelu, kinked=True),
        Activation("leaky_relu", "LeakyReLU", _leaky, _dleaky, kinked=True),
        Activation("sigmoid", "sigma", lambda v, s: 1 / (1 + sp.exp(-v)), lambda v, o, s: o * (1 - o)),
        Activation("tanh", "tanh", lambda v, s: sp.tanh(v), lambda v, o, s: 1 - o**2),
        Activation("identity", "id", lambda v, s: v, lambda v, o, s: sp.Integer(1)),
    )
}

#: Output-only activation acting on the whole vector; its Jacobian is diag(z) - z z^T.
SOFTMAX = "softmax"


def softmax(v: Sequence[sp.Expr]) -> list[sp.Expr]:
    """``exp(v_i) / sum_k exp(v_k)``: exact, no max-shift (SymPy needs no stabilising)."""
    total = sp.Add(*[sp.exp(vi) for vi in v])
    return [sp.exp(vi) / total for vi in v]


def softmax_vjp(grad_out: Sequence[sp.Expr], out: Sequence[sp.Expr], i: int) -> sp.Expr:
    """Entry ``i`` of ``J^T g`` for softmax: ``z_i (g_i - sum_k g_k z_k)``."""
    return out[i] * (grad_out[i] - sp.Add(*[g * o for g, o in zip(grad_out, out)]))


@dataclass(frozen=True)
class Loss:
    """A loss ``L(yhat, y)`` over the output vector, summed (or averaged) over entries.

    ``outputs`` lists the output activations the loss is defined for (None: any).
    """

    name: str
    f: Callable[[Sequence[sp.Expr], Sequence[sp.Expr], str], sp.Expr]
    outputs: tuple[str, ...] | None = None


def _squared(yh: Sequence[sp.Expr], y: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*[(a - b) ** 2 for a, b in zip(yh, y)])


def _cross_entropy(yh: Sequence[sp.Expr], y: Sequence[sp.Expr], output: str) -> sp.Expr:
    """Categorical after softmax; per-entry binary (Bernoulli) after sigmoid."""
    if output == "sigmoid":
        return -sp.Add(*[b * sp.log(a) + (1 - b) * sp.log(1 - a) for a, b in zip(yh, y)])
    return -sp.Add(*[b * sp.log(a) for a, b in zip(yh, y)])


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("squared_error", lambda yh, y, o: _squared(yh, y)),
        Loss("half_squared_error", lambda yh, y, o: _squared(yh, y) / 2),
        Loss("mean_squared_error", lambda yh, y, o: _squared(yh, y) / len(yh)),
        Loss("cross_entropy", _cross_entropy, ("softmax", "sigmoid")),
    )
}
