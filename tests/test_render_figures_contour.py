"""The ``contour_path`` figure: marching squares against curves known in closed form."""
from __future__ import annotations

import math

import pytest
import sympy as sp

from symderiv.model import Figure
from symderiv.render import figures
from symderiv.render.printer import to_latex


def grid(f, lo=-2.0, hi=2.0, n=41):
    xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    return xs, xs, [[f(x, y) for x in xs] for y in xs]


def test_a_circle_is_traced_on_the_circle_and_closes():
    xs, ys, values = grid(lambda x, y: x * x + y * y)
    segments = figures.contour_segments(xs, ys, values, 1.0)
    radii = [math.hypot(*p) for segment in segments for p in segment]
    assert len(segments) > 20
    assert max(abs(r - 1) for r in radii) < 0.01        # linear interpolation on a 0.1 grid
    lines = figures.join_segments(segments)
    assert len(lines) == 1 and lines[0][0] == lines[0][-1], "one closed loop"


def test_two_levels_of_a_tilted_plane_are_straight_lines():
    xs, ys, values = grid(lambda x, y: 2 * x - y)
    for level in (0.5, -1.25):
        points = [p for s in figures.contour_segments(xs, ys, values, level) for p in s]
        assert points and all(abs(2 * x - y - level) < 1e-12 for x, y in points)   # exact for a linear f
        assert len(figures.join_segments(figures.contour_segments(xs, ys, values, level))) == 1


def test_a_saddle_cell_gives_two_pieces_and_missing_values_are_skipped():
    # corners bottom-left, bottom-right, top-right, top-left: high, low, high, low; centre high
    pieces = figures._cell_segments([(0, 0, 1.0), (1, 0, -1.0), (1, 1, 1.0), (0, 1, -1.0)], 0.25)
    assert len(pieces) == 2
    xs, ys, values = grid(lambda x, y: x * x + y * y, n=5)
    values[2][2] = None                                  # f undefined at the centre
    assert all((0.0, 0.0) not in s for s in figures.contour_segments(xs, ys, values, 0.5))


@pytest.fixture
def figure():
    xs, ys, values = grid(lambda x, y: x * x + 4 * y * y)
    paths = (("Adam", ((1.0, 1.0), (0.9, 0.9), (0.8, 0.7))), ("SGD", ((1.0, 1.0), (0.8, -0.6))))
    return Figure("contour_path", "paths", (("xlabel", sp.Symbol("w1")), ("ylabel", sp.Symbol("w2")),
                                            ("xs", tuple(xs)), ("ys", tuple(ys)),
                                            ("values", tuple(map(tuple, values))), ("levels", (1.0, 2.5, 5.0)),
                                            ("paths", paths)))


def test_tikz_draws_every_level_and_path(figure):
    tex = figures.render(figure, to_latex)
    assert tex.count("unbounded coords=jump") == 3
    assert "\\addlegendentry{Adam}" in tex and "\\addlegendentry{SGD}" in tex
    assert "(0.8,-0.6)" in tex and "$w_{1}$" in tex and "axis equal image" in tex


def test_markdown_lists_the_points_and_levels(figure):
    text = figures.describe(figure, to_latex)
    assert "| Adam, step |" in text and "| $2$ | $0.8$ | $0.7$ |" in text
    assert "f = $1$, $2.5$, $5$" in text  # floats print by the number policy: 1.0 as 1
