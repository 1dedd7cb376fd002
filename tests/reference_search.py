"""Independent references for the cost of hyperparameter search, used only by tests.

Nothing here imports symderiv: the least number of random-search trials is found by
counting up in exact arithmetic, and the chance of a hit is estimated by simulation.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def least_n_by_loop(q: Fraction, p: Fraction) -> int:
    """The least N with 1 - (1 - q)^N >= p, found by counting up in exact arithmetic."""
    trials, hit = 0, Fraction(0)
    while hit < p:
        trials += 1
        hit = 1 - (1 - q) ** trials
    return trials


def monte_carlo_hit(q: float, trials: int, rng: np.random.Generator, runs: int) -> tuple[float, float]:
    """Estimate P(at least one success in ``trials`` Bernoulli(q) draws) and its standard error."""
    first_success = rng.geometric(q, size=runs)          # index of the first good combination
    hits = first_success <= trials
    estimate = hits.mean()
    return estimate, math.sqrt(max(estimate * (1 - estimate), 1e-12) / runs)
