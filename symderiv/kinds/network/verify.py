"""Self-verification of a network problem: every derived gradient against two independent paths.

1. SymPy on the composition: for one scalar parameter at a time, every other number
   is substituted, the forward pass is composed as an expression of that parameter
   alone and differentiated by SymPy; no named intermediates, no backpropagation.
   ``Max``'s derivative comes out as ``Heaviside``; we give it the sheet's convention
   at 0 so that a value on a kink compares like for like.
2. Central finite differences in float64, on a forward pass written directly in NumPy
   (its own activation table, not the SymPy one).

This is the network kind's ``verify`` hook (``symderiv verify SPEC`` prints its report);
the tests run it on random networks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from symderiv.algebra import as_sympy
from symderiv.calculus import ACTIVATIONS, LOSSES, SOFTMAX, softmax
from symderiv.kinds.registry import Check, Verification
from symderiv.model import Problem

_NP_ACT: dict[str, Callable] = {
    "relu": lambda v, s: np.maximum(v, 0.0),
    "leaky_relu": lambda v, s: np.where(v > 0, v, s * v),
    "sigmoid": lambda v, s: 1.0 / (1.0 + np.exp(-v)),
    "tanh": lambda v, s: np.tanh(v),
    "identity": lambda v, s: v,
    SOFTMAX: lambda v, s: np.exp(v - v.max()) / np.exp(v - v.max()).sum(),
}


def _np_loss(name: str, yh: np.ndarray, y: np.ndarray, output: str) -> float:
    if name == "cross_entropy":
        if output == "sigmoid":
            return float(-np.sum(y * np.log(yh) + (1 - y) * np.log(1 - yh)))
        return float(-np.sum(y * np.log(yh)))
    sq = float(np.sum((yh - y) ** 2))
    return {"squared_error": sq, "half_squared_error": sq / 2, "mean_squared_error": sq / len(yh)}[name]


@dataclass(frozen=True)
class GradientCheck:
    """One scalar gradient entry compared three ways."""

    name: str
    engine: sp.Basic
    symbolic: sp.Basic
    finite_difference: float
    on_kink: bool

    @property
    def symbolic_ok(self) -> bool:
        return _close_exact(self.engine, self.symbolic)

    @property
    def fd_ok(self) -> bool:
        e = float(self.engine)
        return abs(e - self.finite_difference) <= 1e-5 * max(1.0, abs(e))

    @property
    def ok(self) -> bool:
        """On a kink, finite differences straddle two slopes: only the exact check counts."""
        return self.symbolic_ok and (self.on_kink or self.fd_ok)


def _close_exact(a: sp.Basic, b: sp.Basic) -> bool:
    """Exactly equal for rationals; equal to 40 digits for transcendental values."""
    diff = sp.N(as_sympy(a) - as_sympy(b), 50)
    return bool(abs(diff) <= sp.Float("1e-35") * max(1, abs(sp.N(b, 50))))


#: What the checks compare, as the report says it.
WHAT = "gradient entries checked against SymPy on the composition and float64 central differences"


def verify_problem(problem: Problem) -> Verification:
    """The ``verify`` hook of the network kind: every gradient of a derived network problem."""
    found = verify_network(problem.data)
    kinks = sum(c.on_kink for c in found)
    notes = (f"{kinks} with a forward value on a kink, where the finite difference is not compared "
             f"(the derivative there is a convention)",) if kinks else ()
    checks = tuple(Check(c.name, c.ok, f"engine {c.engine}, sympy {c.symbolic}, fd {c.finite_difference:.9g}")
                   for c in found)
    return Verification(WHAT, checks, notes)


def verify_network(solved) -> list[GradientCheck]:
    """Compare dL/dW, dL/db and dL/dx entries with the two independent paths."""
    params = _parameters(solved)
    kinked = _has_kink(solved)
    checks = []
    for (name, i, j), value in params.items():
        engine = solved.value(f"dL_d{name}")[i, j]
        symbolic = _symbolic_derivative(solved, (name, i, j))
        fd = _finite_difference(solved, params, (name, i, j), float(value))
        checks.append(GradientCheck(f"dL/d{name}[{i + 1},{j + 1}]", engine, symbolic, fd, kinked))
    return checks


def _parameters(solved) -> dict[tuple[str, int, int], sp.Basic]:
    out = {}
    names = ["x"] + [f"{p}{l}" for l in range(1, solved.graph.depth + 1) for p in "Wb"]
    for name in names:
        m = solved.value(name)
        out.update({(name, i, j): m[i, j] for i in range(m.rows) for j in range(m.cols)})
    return out


def _has_kink(solved) -> bool:
    """Is some pre-activation of a kinked activation exactly 0?"""
    graph = solved.graph
    return any(act in ACTIVATIONS and ACTIVATIONS[act].kinked and 0 in list(solved.value(f"a{l}"))
               for l, act in enumerate(graph.activations, start=1))


def _symbolic_derivative(solved, target: tuple[str, int, int]) -> sp.Basic:
    """SymPy's derivative of the composed loss with respect to one scalar parameter."""
    theta = sp.Symbol("theta")
    values = {n: sp.Matrix(solved.value(n)) for n in ["x", "y"] + [f"{p}{l}" for l in
              range(1, solved.graph.depth + 1) for p in "Wb"]}
    name, i, j = target
    values[name][i, j] = theta
    loss = _compose(solved, values)
    h0 = solved.graph.settings.relu_at_zero
    derivative = sp.diff(loss, theta).replace(lambda e: isinstance(e, sp.Heaviside),
                                              lambda e: sp.Heaviside(e.args[0], h0))
    return derivative.subs(theta, solved.value(name)[i, j])


def _compose(solved, values: dict) -> sp.Expr:
    graph = solved.graph
    z = values["x"]
    for l, act in enumerate(graph.activations, start=1):
        a = values[f"W{l}"] * z + values[f"b{l}"]
        z = sp.Matrix(softmax(list(a))) if act == SOFTMAX else a.applyfunc(lambda v: _sym_act(act, v, graph))
    return LOSSES[graph.loss].f(list(z), list(values["y"]), graph.activations[-1])


def _sym_act(act: str, v: sp.Expr, graph) -> sp.Expr:
    """The activation for SymPy to differentiate; leaky ReLU as ``slope v + (1 - slope) Max(0, v)``.

    That form differentiates to ``slope + (1 - slope) Heaviside(v)``, so at the kink it takes
    the sheet's convention once Heaviside(0) is set; ``Max(v, slope v)`` would not.
    """
    if act != "leaky_relu":
        return ACTIVATIONS[act].f(v, graph.settings)
    return graph.settings.leaky_slope * v + (1 - graph.settings.leaky_slope) * sp.Max(0, v)


def _np_forward(solved, arrays: dict) -> float:
    graph = solved.graph
    slope = float(graph.settings.leaky_slope)
    z = arrays["x"]
    for l, act in enumerate(graph.activations, start=1):
        z = _NP_ACT[act](arrays[f"W{l}"] @ z + arrays[f"b{l}"], slope)
    return _np_loss(graph.loss, z.ravel(), arrays["y"].ravel(), graph.activations[-1])


def _finite_difference(solved, params: dict, target: tuple[str, int, int], value: float) -> float:
    names = {n for n, _, _ in params} | {"y"}
    base = {n: np.array(solved.value(n).evalf(30).tolist(), dtype=float) for n in names}
    name, i, j = target
    h = 1e-6 * max(1.0, abs(value))
    plus, minus = ({k: v.copy() for k, v in base.items()} for _ in range(2))
    plus[name][i, j] += h
    minus[name][i, j] -= h
    return (_np_forward(solved, plus) - _np_forward(solved, minus)) / (2 * h)
