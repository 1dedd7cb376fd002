"""The numbers of the path figure: the objective on a grid around the runs, and the paths.

The derivation supplies numbers only (``render.figures`` draws them): for two variables a
``contour_path`` figure (f on a grid, the contour levels, each run's points), for one
variable a ``line_plot`` of f with the run's points on it. The levels are the values of
f at the iterates, so each iterate sits on a drawn contour line.
"""
from __future__ import annotations

import warnings

import numpy as np
import sympy as sp

from symderiv.kinds.optimizer_steps.parse import Objective
from symderiv.kinds.optimizer_steps.run import Run
from symderiv.model import Figure

#: Grid points per axis of the contour figure, and points of the 1-D curve.
GRID = 41
#: Most contour levels drawn (evenly chosen among the iterates' values).
MAX_LEVELS = 8
#: Fewest levels: a short run gets levels spread over the grid's values besides its own.
MIN_LEVELS = 5


def path_figure(objective: Objective, runs: tuple[Run, ...], caption: str) -> Figure | None:
    """The figure for these runs: contours for two variables, a curve for one, else none."""
    paths = tuple((run.optimizer.method.title, tuple(tuple(float(x) for x in p) for p in run.path)) for run in runs)
    if len(objective.variables) == 2:
        return contour_figure(objective, paths, caption)
    if len(objective.variables) == 1:
        return curve_figure(objective, paths, caption)
    return None


def evaluate(objective: Objective, *axes: np.ndarray) -> np.ndarray:
    """f on a grid (NaN where it is not a finite real number), rounded to 12 digits so
    the printed figure does not depend on the last bits of a platform's exp or log."""
    fn = sp.lambdify(objective.variables, objective.expr, modules="numpy")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.broadcast_to(np.asarray(fn(*axes), dtype=complex), np.broadcast(*axes).shape)
    real = np.where(np.isfinite(values) & (values.imag == 0), values.real, np.nan)
    return np.array([float(f"{v:.12g}") if np.isfinite(v) else np.nan for v in real.ravel()]).reshape(real.shape)


def window(points: list[tuple[float, ...]], axis: int) -> tuple[float, float]:
    """The range of one axis: the points' range, padded by 15% (a flat range by half a unit)."""
    lo, hi = min(p[axis] for p in points), max(p[axis] for p in points)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - 0.15 * span, hi + 0.15 * span


def square(x: tuple[float, float], y: tuple[float, float]) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both windows widened to at least 3/4 of the wider one (about their middles), so that a
    figure drawn to scale is not a sliver."""
    least = 0.75 * max(x[1] - x[0], y[1] - y[0])
    widened = []
    for lo, hi in (x, y):
        grow = max(0.0, least - (hi - lo)) / 2
        widened.append((lo - grow, hi + grow))
    return widened[0], widened[1]


def contour_figure(objective: Objective, paths: tuple, caption: str) -> Figure:
    points = [p for _, path in paths for p in path]
    xs, ys = (np.linspace(*bounds, GRID) for bounds in square(window(points, 0), window(points, 1)))
    grid = evaluate(objective, xs[None, :], ys[:, None])
    path_values = evaluate(objective, np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    data = (("xlabel", objective.variables[0]), ("ylabel", objective.variables[1]),
            ("xs", tuple(float(x) for x in xs)), ("ys", tuple(float(y) for y in ys)),
            ("values", tuple(tuple(None if np.isnan(v) else float(v) for v in row) for row in grid)),
            ("levels", levels(path_values, grid)), ("paths", paths))
    return Figure("contour_path", caption, data)


def levels(path_values: np.ndarray, grid: np.ndarray) -> tuple[float, ...]:
    """The iterates' values of f (at most MAX_LEVELS), topped up from the grid's quantiles."""
    finite = grid[np.isfinite(grid)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    own = sorted({float(f"{v:.6g}") for v in path_values if np.isfinite(v) and lo < v < hi})
    if len(own) > MAX_LEVELS:
        own = [own[round(i * (len(own) - 1) / (MAX_LEVELS - 1))] for i in range(MAX_LEVELS)]
    if len(own) < MIN_LEVELS and finite.size:
        extra = [float(f"{v:.6g}") for v in np.quantile(finite, (0.1, 0.3, 0.5, 0.7, 0.9))]
        own = sorted(set(own) | {v for v in extra if lo < v < hi})
    return tuple(own)


def curve_figure(objective: Objective, paths: tuple, caption: str) -> Figure:
    """f against its one variable, with each run's iterates (w_t, f(w_t)) joined in order."""
    points = [p for _, path in paths for p in path]
    xs = np.linspace(*window(points, 0), 2 * GRID - 1)
    curve = evaluate(objective, xs)
    series = [("f", tuple((float(x), float(y)) for x, y in zip(xs, curve) if np.isfinite(y)))]
    for label, path in paths:
        values = evaluate(objective, np.array([p[0] for p in path]))
        series.append((label, tuple((p[0], float(v)) for p, v in zip(path, values))))
    data = (("xlabel", str(objective.variables[0])), ("ylabel", "f"), ("logy", False), ("series", tuple(series)))
    return Figure("line_plot", caption, data)
