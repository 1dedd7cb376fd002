"""Monte Carlo references for weight initialization, used only by tests; nothing here imports symderiv.

Every estimate is a mean over independent trials (fresh weights and inputs in each), so
its standard error is the spread of the per-trial values over the square root of their
number: :func:`estimate` returns both, and a test compares a derived value with the
estimate within a number of standard errors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: activation -> (phi, phi')
ACT = {
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
}


@dataclass(frozen=True)
class Estimate:
    mean: float
    stderr: float

    def agrees(self, value: float, errors: float = 5.0) -> bool:
        return abs(self.mean - value) <= errors * self.stderr


def estimate(per_trial: np.ndarray) -> Estimate:
    return Estimate(float(per_trial.mean()), float(per_trial.std(ddof=1) / np.sqrt(len(per_trial))))


def weights(rng: np.random.Generator, rows: int, cols: int, variance: float) -> np.ndarray:
    return rng.normal(0.0, np.sqrt(variance), size=(rows, cols))


def forward_ratio(act: str, fan_in: int, fan_out: int, variance: float, z_var: float = 1.0, *,
                  trials: int = 60, batch: int = 16, seed: int = 0) -> Estimate:
    """Var(z) of a layer over Var(z_prev) of the layer before, whose pre-activations z_prev ~ N(0, z_var)
    go through the activation."""
    rng = np.random.default_rng(seed)
    out = np.empty(trials)
    for r in range(trials):
        z_prev = rng.normal(0.0, np.sqrt(z_var), size=(batch, fan_in))
        z = ACT[act][0](z_prev) @ weights(rng, fan_out, fan_in, variance).T
        out[r] = np.mean(z ** 2) / z_var
    return estimate(out)


def backward_ratio(act: str, fan_in: int, fan_out: int, variance: float, *, trials: int = 60, batch: int = 16,
                   seed: int = 1) -> Estimate:
    """Var(delta_prev) over Var(delta) for delta ~ N(0, 1) at a layer's n_out outputs, backpropagated
    through its weights and the activation of its inputs' pre-activations z_prev ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    out = np.empty(trials)
    for r in range(trials):
        delta = rng.normal(size=(batch, fan_out))
        z_prev = rng.normal(size=(batch, fan_in))
        out[r] = np.mean((ACT[act][1](z_prev) * (delta @ weights(rng, fan_out, fan_in, variance))) ** 2)
    return estimate(out)


def stack(act: str, width: int, depth: int, variance: float, input_variance: float, *, trials: int = 200,
          batch: int = 32, seed: int = 2) -> tuple[Estimate, Estimate]:
    """A stack of ``depth`` layers of ``width`` units: the mean square of the last activations, and
    the variance of the last pre-activations."""
    rng = np.random.default_rng(seed)
    last, pre = np.empty(trials), np.empty(trials)
    for r in range(trials):
        a = rng.normal(0.0, np.sqrt(input_variance), size=(batch, width))
        for _ in range(depth):
            z = a @ weights(rng, width, width, variance).T
            a = ACT[act][0](z)
        last[r], pre[r] = np.mean(a ** 2), np.mean(z ** 2)
    return estimate(last), estimate(pre)


def uniform_variance(bound: float, *, trials: int = 200, size: int = 1000, seed: int = 3) -> Estimate:
    rng = np.random.default_rng(seed)
    return estimate(np.array([np.var(rng.uniform(-bound, bound, size)) for _ in range(trials)]))
