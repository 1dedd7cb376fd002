"""Self-verification of an optimizer_steps problem (``symderiv verify``): a replay in floats.

Two checks that share nothing with the derivation but the spec:

1. every derived value (gradient, states, parameters) against a replay of the run in
   plain Python floats, written here once more per method as PyTorch documents it;
2. with an objective, the derived gradient at every iterate against central finite
   differences of f itself.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from symderiv.kinds.optimizer_steps.parse import OptimizerSpec, StepsSpec
from symderiv.kinds.optimizer_steps.run import Run, gradient
from symderiv.kinds.registry import Check, Verification
from symderiv.model import Problem

#: Relative agreement asked of the float replay (float64 against 30 significant digits).
RTOL = 1e-9
#: Relative agreement asked of the finite differences (step 1e-6 of a central difference).
FD_RTOL = 1e-5

Vector = list[float]


@dataclass(frozen=True)
class Solved:
    """What the kind keeps in ``Problem.data``: the spec and the run of every question."""

    spec: StepsSpec
    runs: tuple[Run, ...]


def _h(opt: OptimizerSpec) -> dict[str, float]:
    return {str(symbol): float(value) for symbol, value in opt.hyper}


def _adam(h: dict, state: dict, g: Vector, w: Vector, step: int, decoupled: bool) -> Vector:
    b1, b2 = h["beta_1"], h["beta_2"]
    state["m"] = [b1 * m + (1 - b1) * x for m, x in zip(state["m"], g)]
    state["v"] = [b2 * v + (1 - b2) * x * x for v, x in zip(state["v"], g)]
    state["m_hat"] = [m / (1 - b1 ** step) for m in state["m"]]
    state["v_hat"] = [v / (1 - b2 ** step) for v in state["v"]]
    shrink = 1 - h["eta"] * h["lambda"] if decoupled else 1.0
    return [shrink * x - h["eta"] * m / (math.sqrt(v) + h["epsilon"])
            for x, m, v in zip(w, state["m_hat"], state["v_hat"])]


def _momentum(h: dict, state: dict, g: Vector, w: Vector, nesterov: bool) -> Vector:
    state["v"] = [h["mu"] * v + x for v, x in zip(state["v"], g)]
    direction = [x + h["mu"] * v for x, v in zip(g, state["v"])] if nesterov else state["v"]
    return [x - h["eta"] * d for x, d in zip(w, direction)]


def _classic(h: dict, state: dict, g: Vector, w: Vector) -> Vector:
    state["v"] = [h["mu"] * v - h["eta"] * x for v, x in zip(state["v"], g)]
    return [x + v for x, v in zip(w, state["v"])]


def _adaptive(h: dict, state: dict, g: Vector, w: Vector, name: str, decay: float) -> Vector:
    """AdaGrad (``decay`` None: a running sum) or RMSProp (a decaying average)."""
    old = state[name]
    state[name] = [o + x * x for o, x in zip(old, g)] if decay < 0 else \
        [decay * o + (1 - decay) * x * x for o, x in zip(old, g)]
    return [x - h["eta"] * y / (math.sqrt(s) + h["epsilon"]) for x, y, s in zip(w, g, state[name])]


#: One step of each method, on floats: (hyperparameters, state, gradient, w, t) -> new w.
STEP: dict[str, Callable[[dict, dict, Vector, Vector, int], Vector]] = {
    "SGD": lambda h, st, g, w, t: [x - h["eta"] * y for x, y in zip(w, g)],
    "SGD with momentum": lambda h, st, g, w, t: _momentum(h, st, g, w, False),
    "SGD with momentum (classic form)": lambda h, st, g, w, t: _classic(h, st, g, w),
    "Nesterov momentum": lambda h, st, g, w, t: _momentum(h, st, g, w, True),
    "AdaGrad": lambda h, st, g, w, t: _adaptive(h, st, g, w, "s", -1.0),
    "RMSProp": lambda h, st, g, w, t: _adaptive(h, st, g, w, "v", h["alpha"]),
    "Adam": lambda h, st, g, w, t: _adam(h, st, g, w, t, False),
    "AdamW": lambda h, st, g, w, t: _adam(h, st, g, w, t, True),
}


def replay(spec: StepsSpec, opt: OptimizerSpec, grad: Callable[[Vector, int], Vector]) -> dict[tuple[str, int], Vector]:
    """Every value of the run, by (name, step), recomputed in floats."""
    h = _h(opt)
    h.setdefault("lambda", 0.0)
    dim = len(spec.start)
    state: dict[str, Vector] = {name: [0.0] * dim for name in ("m", "v", "s", "m_hat", "v_hat")}
    w, out = [float(x) for x in spec.start], {}
    for step in range(1, spec.steps + 1):
        g = grad(w, step)
        if not opt.method.decoupled:
            g = [x + h["lambda"] * y for x, y in zip(g, w)]
        out[("g", step)] = g
        w = STEP[opt.method.title](h, state, g, w, step)
        out.update({(name, step): list(values) for name, values in state.items()})
        out[("w", step)] = w
    return out


def _close(a: float, b: float, rtol: float) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def _given(spec: StepsSpec) -> Callable[[Vector, int], Vector]:
    rows = spec.gradients or ()
    return lambda w, step: [float(x) for x in rows[step - 1]]


def _derived(spec: StepsSpec) -> Callable[[Vector, int], Vector]:
    assert spec.objective is not None
    fn = sp.lambdify(spec.objective.variables, list(gradient(spec.objective)), modules="math")
    return lambda w, step: [float(x) for x in fn(*w)]


def finite_difference(spec: StepsSpec, point: Vector, h: float = 1e-6) -> Vector:
    """Central differences of f at ``point``, one per variable."""
    assert spec.objective is not None
    f = sp.lambdify(spec.objective.variables, spec.objective.expr, modules="math")
    out = []
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        out.append((f(*up) - f(*down)) / (2 * h))
    return out


def verify_problem(problem: Problem) -> Verification:
    """Every value of every run against the float replay, and gradients against finite differences."""
    solved: Solved = problem.data
    spec = solved.spec
    grad = _derived(spec) if spec.objective is not None else _given(spec)
    checks: list[Check] = []
    for question, run in zip(problem.questions, solved.runs):
        floats = replay(spec, run.optimizer, grad)
        for line in run.lines:
            key = (line.update.name, line.step)
            ok = all(_close(float(a), b, RTOL) for a, b in zip(line.values, floats[key]))
            checks.append(Check(f"{question.id}.{key[0]}{key[1]}", ok, f"derived {[float(a) for a in line.values]},"
                                                                      f" float replay {floats[key]}"))
        if spec.objective is not None:
            for step, raw in enumerate(run.raw, start=1):
                fd = finite_difference(spec, [float(x) for x in run.value("w", step - 1)])
                ok = all(_close(float(a), b, FD_RTOL) for a, b in zip(raw, fd))
                checks.append(Check(f"{question.id} gradient at w{step - 1}", ok,
                                    f"derived {[float(a) for a in raw]}, finite differences {fd}"))
    return Verification("values checked against a float replay and finite differences", tuple(checks))
