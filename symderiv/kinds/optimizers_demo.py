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

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symderiv.model import Figure, Step, Table

#: g(w_1, w_2, t) -> (g_1, g_2): the gradient used at step t, in Python floats.
Gradient = Callable[[float, float, int], tuple[float, float]]

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
    saddle_learning_rate: sp.Rational
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


#: Rows gathered at once when the batches' moments are computed (bounds the memory).
CHUNK_ROWS = 1 << 18


def batch_moments(data: Data, batches: np.ndarray) -> np.ndarray:
    """Per batch (a row of ``batches``), the means of x1 x1, x1 x2, x2 x2, x1 y, x2 y over its rows.

    The mean gradient of a batch B is linear in w: (1/b) sum x_i (x_i . w - y_i) = M_B w - c_B,
    with M_B = (1/b) sum x_i x_i^T and c_B = (1/b) sum x_i y_i. Computed for every step at
    once, they leave each step of a run a few float operations, whatever the batch size.
    """
    steps, b = batches.shape
    out = np.empty((steps, 5))
    chunk = max(1, CHUNK_ROWS // b)
    for t0 in range(0, steps, chunk):
        rows = batches[t0:t0 + chunk]
        x1, x2, y = data.X[rows, 0], data.X[rows, 1], data.y[rows]
        for k, (u, v) in enumerate(((x1, x1), (x1, x2), (x2, x2), (x1, y), (x2, y))):
            out[t0:t0 + chunk, k] = np.mean(u * v, axis=1)
    return out


def linear_gradient(moments: np.ndarray) -> Gradient:
    """g_t(w) = M_t w - c_t from one row of moments per step (one row: the same every step)."""
    rows = moments.tolist()
    if len(rows) == 1:
        a, b, d, c1, c2 = rows[0]
        return lambda w1, w2, t: (a * w1 + b * w2 - c1, b * w1 + d * w2 - c2)

    def gradient(w1: float, w2: float, t: int) -> tuple[float, float]:
        a, b, d, c1, c2 = rows[t]
        return a * w1 + b * w2 - c1, b * w1 + d * w2 - c2
    return gradient


def full_gradient(data: Data) -> Gradient:
    """Gradient descent's gradient: the mean over all N rows."""
    return linear_gradient(batch_moments(data, np.arange(len(data.y))[None, :]))


def sampled_gradient(data: Data, batches: np.ndarray) -> Gradient:
    """The mean gradient over the rows of batch ``t`` (``batches`` is steps x b indices)."""
    return linear_gradient(batch_moments(data, batches))


def batches(spec: DemoSpec, purpose: int, steps: int, size: int) -> np.ndarray:
    """Row indices drawn uniformly with replacement: b independent samples per step."""
    return rng(spec, purpose).integers(0, spec.samples, (steps, size))


def descend(gradient: Gradient, w0: np.ndarray, alpha: float, beta: float, steps: int) -> np.ndarray:
    """The path of m <- beta m + g(w), w <- w - alpha m (beta = 0 is plain (S)GD).

    Two coordinates per step: plain Python floats, where NumPy's cost per call would be
    most of the work (a run of 100,000 steps takes a tenth of a second).
    """
    w1, w2 = float(w0[0]), float(w0[1])
    m1 = m2 = 0.0
    path = [(w1, w2)]
    for t in range(steps):
        g1, g2 = gradient(w1, w2, t)
        m1, m2 = beta * m1 + g1, beta * m2 + g2
        w1, w2 = w1 - alpha * m1, w2 - alpha * m2
        path.append((w1, w2))
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
    """A run on the saddle function: its final point and loss (not finite if the run diverged)."""

    name: str
    final: tuple[float, float]
    loss: float

    @property
    def diverged(self) -> bool:
        return not (np.isfinite(self.loss) and np.all(np.isfinite(self.final)))


def saddle_runs(spec: DemoSpec, gradient: Callable, loss: Callable) -> tuple[SaddleRun, SaddleRun]:
    """GD and noisy GD (gradient + N(0, noise^2) per coordinate) from (w_0[0], 0).

    ``gradient`` and ``loss`` are the saddle function's, evaluated on a NumPy 2-vector.
    """
    start = np.array([float(spec.start[0]), 0.0])
    noise = float(spec.noise) * rng(spec, SADDLE).standard_normal((spec.steps, 2))
    out = []
    for name, grad in (("GD", _perturbed(gradient, None)), ("noisy GD", _perturbed(gradient, noise))):
        with np.errstate(over="ignore", invalid="ignore"):  # a large noise can throw w off: reported, not hidden
            w = descend(grad, start, float(spec.saddle_learning_rate), 0.0, spec.steps)[-1]
            out.append(SaddleRun(name, (float(w[0]), float(w[1])), float(loss(w))))
    return out[0], out[1]


def _perturbed(gradient: Callable, noise: np.ndarray | None) -> Gradient:
    """h's gradient at (w_1, w_2), plus ``noise[t]`` when given. A gradient too large for a
    float is infinite: the run then diverges, and the sheet says so."""
    added = noise.tolist() if noise is not None else None

    def g(w1: float, w2: float, t: int) -> tuple[float, float]:
        try:
            g1, g2 = gradient((w1, w2))
        except OverflowError:
            return math.inf, math.inf
        return (g1, g2) if added is None else (g1 + added[t][0], g2 + added[t][1])
    return g


@dataclass(frozen=True)
class Demo:
    """Every computed demonstration of one spec."""

    deterministic: tuple[Run, Run]
    stochastic: tuple[Run, Run, Run]
    epoch: tuple[EpochResult, ...]
    variance: tuple[VarianceRow, ...]
    saddle: tuple[SaddleRun, SaddleRun]
    samples: int
    draws: int


def demonstrate(spec: DemoSpec, saddle_gradient: Callable, saddle_loss: Callable) -> Demo:
    """Run everything from one seeded data set."""
    data = make_data(spec)
    return Demo(deterministic_runs(spec, data), stochastic_runs(spec, data), one_epoch(spec, data),
                gradient_variance(spec, data), saddle_runs(spec, saddle_gradient, saddle_loss), spec.samples,
                spec.draws)


# ---------------------------------------------------------------------------- presentation
# The runs' numbers as sheet records. Every sentence is assembled from a comparison of
# computed values, so the prose cannot claim what the run did not show.

#: Significant digits of every float printed in the sheet.
DIGITS = 4
#: Points per plotted series at most, and the significant digits of plotted values.
MAX_POINTS, PLOT_DIGITS = 200, 6
#: Log plots stop below this loss: there the least-squares gradient is float64 rounding.
PLOT_FLOOR = 1e-20

# Names the sentences print (the same names the derivation uses).
_w0, _w1, _w2, _f, _h, _sigma = sp.symbols("w_0 w_1 w_2 f h sigma")


def num(value: float) -> sp.Number:
    """A computed float as a SymPy Float of DIGITS significant digits (deterministic print); 0 as 0."""
    return sp.Float(float(value), DIGITS) if value != 0 else sp.S.Zero


def versus(a: float, b: float, lower: str = "lower", higher: str = "higher") -> tuple:
    """Prose comparing ``a`` with ``b``: '3.2 times lower than', 'equal to', ..."""
    if a == b:
        return ("equal to",)
    if a < b:
        return (num(b / a) if a > 0 else sp.oo, f" times {lower} than")
    return (num(a / b) if b > 0 else sp.oo, f" times {higher} than")


def _tolerance(spec: DemoSpec) -> sp.Le:
    return sp.Le(_f, num(float(spec.tolerance)))


def reached_cell(step: int | None, total: int) -> sp.Integer | str:
    return sp.Integer(step) if step is not None else f"not within {total}"


def _reached_words(run: Run, tolerance: float, total: int) -> tuple:
    step = run.reached(tolerance)
    return (f"in {step} steps",) if step is not None else (f"not within {total} steps",)


def epoch_step(spec: DemoSpec, demo: Demo) -> Step:
    """Equal work (one epoch): GD's one exact step against many cheap sampled ones."""
    rows = tuple((r.name, sp.Integer(r.steps), sp.Integer(r.evaluations), num(r.loss)) for r in demo.epoch)
    by_name = {r.name: r for r in demo.epoch}
    sgd, gd = by_name["SGD"], by_name["GD"]
    verdict = ("many cheap noisy steps did more than one exact step." if sgd.loss < gd.loss
               else "here one exact step did at least as well.")
    note = ("With the same work SGD's loss is ", *versus(sgd.loss, gd.loss), " GD's: ", verdict)
    return Step(("Computed: each method gets one epoch of work (", sp.Integer(spec.samples), " per-sample gradients; "
                 "whole batches, so slightly more when b does not divide N) at the stochastic learning rate, from ",
                 _w0, "; the loss ", _f, " after it:"),
                table=Table(("method", "steps", "gradient evaluations", "f after one epoch"), rows), note=note)


def saddle_step(demo: Demo, saddle_value: sp.Basic) -> Step:
    """Exact GD stuck at the saddle against noisy GD, which leaves it."""
    exact, noisy = demo.saddle
    left = not noisy.diverged and abs(noisy.final[1]) > 0.5 and noisy.loss < float(saddle_value) / 2
    verdict = ("the noise carried it off the saddle into a minimum." if left else
               "the noise made it diverge: lower saddle_learning_rate or noise." if noisy.diverged else
               "the noise did not carry it off the saddle within the run.")
    note = ("Exact GD ends with ", *_saddle_end(exact), " (the saddle's value of h is ", saddle_value,
            "); noisy GD ends with ", *_saddle_end(noisy), ": ", verdict)
    return Step("Computed: exact GD, and GD with zero-mean Gaussian noise added to each gradient coordinate (standard "
                "deviation = the spec's noise level, standing in for SGD's sampling noise), at the end of the run:",
                table=Table(("method", "final w1", "final w2", "final h"), tuple(_saddle_row(r) for r in demo.saddle)),
                note=note)


def _saddle_row(run: SaddleRun) -> tuple:
    if run.diverged:
        return (run.name, "diverged", "diverged", "diverged")
    return (run.name, num(run.final[0]), num(run.final[1]), num(run.loss))


def _saddle_end(run: SaddleRun) -> tuple:
    if run.diverged:
        return ("no finite point (it diverged)",)
    w2 = sp.Eq(_w2, 0) if run.final[1] == 0.0 else sp.Eq(sp.Abs(_w2), num(abs(run.final[1])))
    return (w2, " exactly" if run.final[1] == 0.0 else "", " and ", sp.Eq(_h, num(run.loss)))


def variance_step(demo: Demo) -> Step:
    """The measured variance of the batch mean against sigma^2 / b."""
    sigma2 = demo.variance[0].sigma2
    ratios = [r.measured / (r.sigma2 / r.batch) for r in demo.variance]
    rows = tuple((sp.Integer(r.batch), num(r.measured), num(r.sigma2 / r.batch), num(q))
                 for r, q in zip(demo.variance, ratios))
    worst = max(abs(q - 1) for q in ratios)
    note = ("The ratio measured/formula stays between ", num(min(ratios)), " and ", num(max(ratios)), ": ",
            ("within 10% at every b, as ", _sigma ** 2 / sp.Symbol("b"), " predicts.") if worst <= 0.1 else
            ("off by more than 10% at some b: more draws are needed to check ", _sigma ** 2 / sp.Symbol("b"), "."))
    return Step(("Computed: at ", _w0, " the per-sample gradients of the ", sp.Integer(demo.samples), " rows have "
                 "total variance (trace of their covariance) ", sp.Eq(_sigma ** 2, num(sigma2)), ". Over ",
                 sp.Integer(demo.draws), " random batches per size, each of b rows drawn independently (with "
                 "replacement), the measured variance of the batch mean against the formula:"),
                table=Table(("b", "measured", "formula", "measured / formula"), rows),
                note=_flatten(note))


def _flatten(parts: tuple) -> tuple:
    """Prose with nested tuples spliced in."""
    return tuple(q for p in parts for q in (p if isinstance(p, tuple) else (p,)))


def noise_step(spec: DemoSpec, demo: Demo) -> Step:
    """GD, SGD and mini-batch GD at one learning rate: the noise floor of each."""
    tol, total = float(spec.tolerance), spec.steps
    rows = tuple((r.name, sp.Integer(r.batch), num(np.mean(r.tail())), num(np.std(r.tail())), num(r.loss[-1]),
                  reached_cell(r.reached(tol), total)) for r in demo.stochastic)
    _, sgd, mini = demo.stochastic
    note = ("Over the second half, mini-batch GD's loss has a standard deviation ",
            *versus(float(np.std(mini.tail())), float(np.std(sgd.tail())), "smaller", "larger"),
            " SGD's, and a mean ", *versus(float(np.mean(mini.tail())), float(np.mean(sgd.tail()))), " SGD's.")
    return Step(("Computed: GD, SGD and mini-batch GD from ", _w0, " for ", sp.Integer(total), " steps at the same "
                 "learning rate. A constant step leaves the sampled runs fluctuating at a noise floor, summarised "
                 "over the second half of each run; the last column is the first step with ", _tolerance(spec), ":"),
                table=Table(("method", "gradients per step", "mean f (2nd half)", "std f (2nd half)", "final f",
                             "steps to tolerance"), rows), note=note)


def momentum_step(spec: DemoSpec, demo: Demo) -> Step:
    """GD against momentum on f at the same learning rate: speed and zig-zag."""
    tol, total = float(spec.tolerance), spec.steps
    rows = tuple((r.name, num(r.beta), reached_cell(r.reached(tol), total), sp.Integer(r.sign_changes(r.reached(tol))),
                  num(r.travel(1)), num(r.travel(0)), num(r.loss[-1])) for r in demo.deterministic)
    gd, mom = demo.deterministic
    fast, slow = mom.reached(tol), gd.reached(tol)
    ratio: tuple = ()
    if fast is not None and slow is not None:
        ratio = (" (momentum needed ", *versus(fast, slow, "fewer", "more"), " GD)")
    note = ("Momentum reached ", _tolerance(spec), " ", *_reached_words(mom, tol, total), ", GD ",
            *_reached_words(gd, tol, total), *ratio, ". Until then the steep coordinate ", _w2, " changed sign ",
            sp.Integer(mom.sign_changes(mom.reached(tol))), " times under momentum and ",
            sp.Integer(gd.sign_changes(gd.reached(tol))), " times under GD, and momentum's total travel across "
            "the steep direction is ", *versus(mom.travel(1), gd.travel(1), "shorter", "longer"), " GD's.")
    return Step(("Computed: GD and momentum with the full gradient (no sampling noise, so only the rule differs), "
                 "from ", _w0, " at the same learning rate. Sign changes of ", _w2, " are counted up to the step "
                 "that reached ", _tolerance(spec), " (or the end); travel is the sum of the absolute changes of "
                 "one coordinate over the run:"),
                table=Table(("method", "beta", "steps to tolerance", "sign changes of w2", "travel across (w2)",
                             "travel along (w1)", "final f"), rows), note=note)


def series(run: Run) -> tuple:
    """(step, loss) pairs, at most MAX_POINTS, rounded for byte-stable output; above PLOT_FLOOR only (log axis)."""
    n = len(run.loss)
    stride = -(-n // MAX_POINTS)
    picks = sorted(set(range(0, n, stride)) | {n - 1})
    return tuple((t, float(f"{run.loss[t]:.{PLOT_DIGITS}g}")) for t in picks if run.loss[t] >= PLOT_FLOOR)


def loss_figure(runs: tuple[Run, ...], caption: str) -> Figure:
    return Figure("line_plot", caption, (("xlabel", "step"), ("ylabel", "loss f"), ("logy", True),
                                         ("series", tuple((r.name, series(r)) for r in runs))))


def noise_figure(demo: Demo) -> Figure:
    return loss_figure(demo.stochastic, "GD, SGD and mini-batch GD at the same learning rate: the loss f per step "
                                        "(log scale).")


def momentum_figure(demo: Demo) -> Figure:
    return loss_figure(demo.deterministic, "GD and momentum on the ill-conditioned quadratic at the same learning "
                                           f"rate: the loss f per step (log scale; values below {PLOT_FLOOR:g}, "
                                           "where the gradient is lost in double-precision rounding, are not drawn).")
