"""The computed demonstrations of the ``optimizers`` kind: seeded NumPy runs, no SymPy.

One objective serves every run. The least-squares data are built so that the
full-batch excess loss is *exactly* the ill-conditioned quadratic

    f(w) = 1/2 w^T A w,   A = diag(1, kappa):

the features are ``x_i = (s_i, sqrt(kappa) r_i)`` with signs ``s_i`` and ``r_i = s_i p_i``
where ``p`` holds as many +1 as -1 (so the columns are orthogonal and X^T X / N = A), and
the labels are Gaussian noise with its projection on the feature columns removed (so the
least-squares solution is w* = 0). Gradient descent on all rows is therefore gradient
descent on f, while SGD and mini-batch GD see the sampling noise of single rows.

Everything is float64, elementwise NumPy and ``np.sum`` on small arrays (no BLAS matrix
products), with one ``default_rng([seed, purpose])`` stream per purpose, so the numbers
are bit-identical from run to run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

Gradient = Callable[[np.ndarray, int], np.ndarray]

#: Random-stream purposes: one independent, seeded stream each.
DATA, SGD, MINIBATCH, VARIANCE, SADDLE, EPOCH_SGD, EPOCH_MINIBATCH = range(7)


@dataclass(frozen=True)
class DemoSpec:
    """The demonstration's parameters (spec table ``[problem.demo]``), exact numbers."""

    seed: int
    kappa: sp.Rational
    start: tuple[sp.Rational, sp.Rational]
    learning_rate: sp.Rational
    momentum: sp.Rational
    stochastic_learning_rate: sp.Rational
    batch_size: int
    samples: int
    noise: sp.Rational
    steps: int
    tolerance: sp.Rational
    draws: int

    @property
    def w0(self) -> np.ndarray:
        return np.array([float(v) for v in self.start])


@dataclass(frozen=True)
class Data:
    """Least-squares rows: features ``X`` (N x 2) and labels ``y`` (N)."""

    X: np.ndarray
    y: np.ndarray


def rng(spec: DemoSpec, purpose: int) -> np.random.Generator:
    """The seeded stream for one purpose: runs never share random numbers."""
    return np.random.default_rng([spec.seed, purpose])


def make_data(spec: DemoSpec) -> Data:
    """Rows whose full-batch excess loss is exactly f(w) = 1/2 w^T diag(1, kappa) w."""
    gen, n = rng(spec, DATA), spec.samples
    s = gen.choice(np.array([-1.0, 1.0]), n)
    p = gen.permutation(np.repeat(np.array([1.0, -1.0]), n // 2))
    X = np.stack([s, np.sqrt(float(spec.kappa)) * s * p], axis=1)
    eps = float(spec.noise) * gen.standard_normal(n)
    for col in X.T:  # the columns are orthogonal: remove the labels' part along each
        eps = eps - (np.sum(eps * col) / np.sum(col * col)) * col
    return Data(X, eps)


def row_gradients(data: Data, w: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Per-sample gradients of l_i(w) = 1/2 (x_i . w - y_i)^2: x_i (x_i . w - y_i)."""
    X = data.X[rows]
    residual = X[:, 0] * w[0] + X[:, 1] * w[1] - data.y[rows]
    return X * residual[:, None]


def full_gradient(data: Data) -> Gradient:
    """Gradient descent's gradient: the mean over all N rows."""
    return lambda w, t: np.mean(row_gradients(data, w), axis=0)


def sampled_gradient(data: Data, batches: np.ndarray) -> Gradient:
    """The mean gradient over the rows of batch ``t`` (``batches`` is steps x b indices)."""
    return lambda w, t: np.mean(row_gradients(data, w, batches[t]), axis=0)


def batches(spec: DemoSpec, purpose: int, steps: int, size: int) -> np.ndarray:
    """Row indices drawn uniformly with replacement: b independent samples per step."""
    return rng(spec, purpose).integers(0, spec.samples, (steps, size))


def descend(gradient: Gradient, w0: np.ndarray, alpha: float, beta: float, steps: int) -> np.ndarray:
    """The path of m <- beta m + g(w), w <- w - alpha m (beta = 0 is plain (S)GD)."""
    w, m, path = w0.copy(), np.zeros_like(w0), [w0.copy()]
    for t in range(steps):
        m = beta * m + gradient(w, t)
        w = w - alpha * m
        path.append(w)
    return np.array(path)


def quadratic_loss(spec: DemoSpec, path: np.ndarray) -> np.ndarray:
    """f(w) = 1/2 (w_1^2 + kappa w_2^2) along a path: the excess loss of every run."""
    return 0.5 * (path[:, 0] ** 2 + float(spec.kappa) * path[:, 1] ** 2)


@dataclass(frozen=True)
class Run:
    """One optimizer's path and loss curve, with the figures the sheet reports."""

    name: str
    alpha: float
    beta: float
    batch: int
    path: np.ndarray
    loss: np.ndarray

    def reached(self, tolerance: float) -> int | None:
        """The first step whose loss is <= tolerance (None: not within the run)."""
        hits = np.flatnonzero(self.loss <= tolerance)
        return int(hits[0]) if hits.size else None

    def sign_changes(self, until: int | None = None) -> int:
        """How often the steep coordinate w_2 changes sign (up to step ``until``)."""
        w2 = np.sign(self.path[: (until if until is not None else len(self.path) - 1) + 1, 1])
        w2 = w2[w2 != 0]
        return int(np.sum(w2[1:] != w2[:-1]))

    def travel(self, coordinate: int) -> float:
        """Total distance moved along one coordinate: sum of |w_{t+1} - w_t|."""
        return float(np.sum(np.abs(np.diff(self.path[:, coordinate]))))

    def tail(self) -> np.ndarray:
        """The loss over the second half of the run: the noise floor of a constant step."""
        return self.loss[len(self.loss) // 2:]


def run(spec: DemoSpec, name: str, gradient: Gradient, alpha: sp.Rational, beta: sp.Rational,
        batch: int, steps: int | None = None) -> Run:
    """Run one optimizer from the spec's start and record its loss curve."""
    path = descend(gradient, spec.w0, float(alpha), float(beta), spec.steps if steps is None else steps)
    return Run(name, float(alpha), float(beta), batch, path, quadratic_loss(spec, path))


def deterministic_runs(spec: DemoSpec, data: Data) -> tuple[Run, Run]:
    """GD and heavy-ball momentum with the full gradient, at the same learning rate."""
    grad = full_gradient(data)
    return (run(spec, "GD", grad, spec.learning_rate, sp.S.Zero, spec.samples),
            run(spec, "momentum", grad, spec.learning_rate, spec.momentum, spec.samples))


def stochastic_runs(spec: DemoSpec, data: Data) -> tuple[Run, Run, Run]:
    """GD (all rows), SGD (1 row) and mini-batch GD (b rows) at the stochastic learning rate."""
    alpha, zero, b = spec.stochastic_learning_rate, sp.S.Zero, spec.batch_size
    sgd = sampled_gradient(data, batches(spec, SGD, spec.steps, 1))
    mini = sampled_gradient(data, batches(spec, MINIBATCH, spec.steps, b))
    return (run(spec, "GD", full_gradient(data), alpha, zero, spec.samples),
            run(spec, "SGD", sgd, alpha, zero, 1), run(spec, "mini-batch", mini, alpha, zero, b))


@dataclass(frozen=True)
class EpochResult:
    """One optimizer after one epoch's worth of work (N gradient evaluations)."""

    name: str
    steps: int
    evaluations: int
    loss: float


def one_epoch(spec: DemoSpec, data: Data) -> tuple[EpochResult, ...]:
    """GD, mini-batch GD and SGD given the same budget: N per-sample gradients."""
    n, b, alpha = spec.samples, spec.batch_size, spec.stochastic_learning_rate
    plans = (("GD", 1, n, full_gradient(data)),
             ("mini-batch", -(-n // b), b, sampled_gradient(data, batches(spec, EPOCH_MINIBATCH, -(-n // b), b))),
             ("SGD", n, 1, sampled_gradient(data, batches(spec, EPOCH_SGD, n, 1))))
    out = []
    for name, steps, cost, grad in plans:
        r = run(spec, name, grad, alpha, sp.S.Zero, cost, steps)
        out.append(EpochResult(name, steps, steps * cost, float(r.loss[-1])))
    return tuple(out)


@dataclass(frozen=True)
class VarianceRow:
    """Measured variance of the mini-batch mean gradient for one batch size."""

    batch: int
    measured: float
    sigma2: float


def batch_sizes(b: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to b, and b itself: the sizes the variance table measures."""
    return tuple(sorted({2 ** k for k in range(b.bit_length()) if 2 ** k <= b} | {b}))


def gradient_variance(spec: DemoSpec, data: Data) -> tuple[VarianceRow, ...]:
    """E|g_B - g|^2 over ``draws`` random batches at w_0, against sigma^2 / b.

    sigma^2 is the total variance (trace of the covariance) of one row's gradient over
    the N rows; a batch is b rows drawn independently, as in the derivation.
    """
    G = row_gradients(data, spec.w0)
    mean = np.mean(G, axis=0)
    sigma2 = float(np.mean(np.sum((G - mean) ** 2, axis=1)))
    gen, rows = rng(spec, VARIANCE), []
    for b in batch_sizes(spec.batch_size):
        means = np.mean(G[gen.integers(0, spec.samples, (spec.draws, b))], axis=1)
        rows.append(VarianceRow(b, float(np.mean(np.sum((means - mean) ** 2, axis=1))), sigma2))
    return tuple(rows)


@dataclass(frozen=True)
class SaddleRun:
    """A run on the saddle function: its final point and loss."""

    name: str
    final: tuple[float, float]
    loss: float


def saddle_runs(spec: DemoSpec, gradient: Callable, loss: Callable) -> tuple[SaddleRun, SaddleRun]:
    """GD and noisy GD (gradient + N(0, noise^2) per coordinate) from (w_0[0], 0).

    ``gradient`` and ``loss`` are the saddle function's, evaluated on a NumPy 2-vector.
    """
    start = np.array([float(spec.start[0]), 0.0])
    noise = float(spec.noise) * rng(spec, SADDLE).standard_normal((spec.steps, 2))
    exact = lambda w, t: np.asarray(gradient(w), dtype=float)  # noqa: E731
    noisy = lambda w, t: exact(w, t) + noise[t]  # noqa: E731
    out = []
    for name, grad in (("GD", exact), ("noisy GD", noisy)):
        w = descend(grad, start, float(spec.learning_rate), 0.0, spec.steps)[-1]
        out.append(SaddleRun(name, (float(w[0]), float(w[1])), float(loss(w))))
    return tuple(out)


@dataclass(frozen=True)
class Demo:
    """Every computed demonstration of one spec."""

    deterministic: tuple[Run, Run]
    stochastic: tuple[Run, Run, Run]
    epoch: tuple[EpochResult, ...]
    variance: tuple[VarianceRow, ...]
    saddle: tuple[SaddleRun, SaddleRun]


def demonstrate(spec: DemoSpec, saddle_gradient: Callable, saddle_loss: Callable) -> Demo:
    """Run everything from one seeded data set."""
    data = make_data(spec)
    return Demo(deterministic_runs(spec, data), stochastic_runs(spec, data), one_epoch(spec, data),
                gradient_variance(spec, data), saddle_runs(spec, saddle_gradient, saddle_loss))
