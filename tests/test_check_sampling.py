"""symderiv.check.sampling: points drawn where the question's symbols live."""
from __future__ import annotations

import random

import sympy as sp

from symderiv.check.sampling import band, draw, sample_points, variables


def test_bands_from_assumptions_then_givens() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    q, P, g, a = sp.symbols("q P g a")
    givens = {"q": sp.Rational(1, 20), "P[1]": sp.Rational(19, 20), "a": sp.Integer(36)}
    assert band(n, givens) == "positive_integer"
    assert band(q, givens) == band(P, givens) == "unit"
    assert band(a, givens) == "positive_integer"
    assert band(g, givens) == "any"
    assert band(sp.Symbol("alpha", positive=True), {}) == "positive"


def test_draws_stay_in_their_band() -> None:
    rng = random.Random(0)
    q, n = sp.Symbol("q"), sp.Symbol("n", integer=True, nonnegative=True)
    assert all(0 < draw(q, rng, "unit") < 1 for _ in range(200))
    assert all(draw(n, rng).is_Integer and 0 <= draw(n, rng) <= 30 for _ in range(200))
    assert all(draw(q, rng, "positive") > 0 for _ in range(200))


def test_points_skip_where_the_reference_is_undefined() -> None:
    P = sp.Symbol("P")
    reference = sp.log(1 - P)
    points = list(sample_points(reference, reference, samples=10, seed=1, givens={}, check=lambda: None))
    assert len(points) == 10 and all(p.values[P] < 1 for p in points)


def test_variables_are_symbols_and_matrix_entries() -> None:
    y = sp.MatrixSymbol("y", 2, 1)
    x = sp.Symbol("x")
    assert variables(2 * y[0, 0] + x) == {x, y[0, 0]}
    assert variables(sp.ImmutableMatrix([1, 2])) == set()
