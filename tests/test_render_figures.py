"""Figures show the derivation's numbers: the drawings are read back and checked against
the data (and the convolution windows are re-multiplied from what is shaded)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import sympy as sp

from symderiv.model import Figure, Problem, Question, Sheet
from symderiv.render import figures, pdf
from symderiv.render.latex import render_latex
from symderiv.render.printer import SheetPrinter

MATH = SheetPrinter().doprint
I3 = sp.ImmutableMatrix([[6, 0, 1], [3, 4, 1], [4, 7, 0]])
K2 = sp.ImmutableMatrix([[1, 0], [0, -1]])


def cross_correlation(inp: sp.Matrix, kernel: sp.Matrix, stride: int, padding: int, dilation: int) -> sp.Matrix:
    """A naive loop: what deep-learning frameworks call convolution (no kernel flip)."""
    padded = sp.zeros(inp.rows + 2 * padding, inp.cols + 2 * padding)
    padded[padding:padding + inp.rows, padding:padding + inp.cols] = inp
    span = [dilation * (k - 1) + 1 for k in kernel.shape]
    out = [(padded.shape[a] - span[a]) // stride + 1 for a in (0, 1)]
    return sp.Matrix(out[0], out[1], lambda i, j: sum(
        padded[i * stride + a * dilation, j * stride + b * dilation] * kernel[a, b]
        for a in range(kernel.rows) for b in range(kernel.cols)))


def window_figure(stride=1, padding=0, dilation=1, inp=I3, kernel=K2) -> Figure:
    out = sp.ImmutableMatrix(cross_correlation(inp, kernel, stride, padding, dilation))
    return Figure("sliding_window", "windows", (("input", inp), ("kernel", kernel), ("output", out),
                                             ("stride", stride), ("padding", padding), ("dilation", dilation)))


def network_figure(widths=(2, 3, 2, 1)) -> Figure:
    """A hand-made network figure: value 10*layer + unit forward, 100 + ... as gradients."""
    forward = tuple(tuple(sp.Integer(10 * l + i) for i in range(w)) for l, w in enumerate(widths))
    preact = tuple(tuple(sp.Integer(v if i % 2 else -v) for i, v in enumerate(z)) for z in forward[1:])
    grads = tuple(tuple(sp.Rational(-(100 * l + i), 7) for i in range(w)) for l, w in enumerate(widths))
    return Figure("layered_graph", "net", (("widths", widths), ("activations", ("relu",) * (len(widths) - 1)),
                                     ("forward", forward), ("preact", preact), ("grads", grads)))


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="no renderer.*layered_graph"):
        figures.render(Figure("pie_chart", "x", ()), MATH)


def test_network_shows_every_forward_value_and_gradient():
    fig = network_figure()
    tikz = figures.render(fig, MATH)
    units = dict(re.findall(r"\\node\[unit\] \((n\d+-\d+)\) at \S+ \{\$(.*?)\$\};", tikz))
    grads = dict(re.findall(r"\\node\[grad\] at \((n\d+-\d+)\.south\) \{\$(.*?)\$\};", tikz))
    for l, (z, g) in enumerate(zip(fig.get("forward"), fig.get("grads"))):
        for i in range(len(z)):
            assert units[f"n{l}-{i}"] == MATH(z[i]) and grads[f"n{l}-{i}"] == MATH(g[i])
    edges = re.findall(r"\\draw\[edge\]", tikz)
    assert len(edges) == sum(a * b for a, b in zip(fig.get("widths"), fig.get("widths")[1:]))


def test_network_shows_the_preactivation_only_where_the_activation_changed_it():
    tikz = figures.render(network_figure(), MATH)
    shown = re.findall(r"\\node\[pre\] at \((n\d+)-(\d+)\.north\)", tikz)
    assert shown and all(int(i) % 2 == 0 for _, i in shown)  # preact = -z at even units only


def test_a_wide_layer_is_elided():
    tikz = figures.render(network_figure((2, 20, 1)), MATH)
    assert len(re.findall(r"\((n1-\d+)\) at", tikz)) == 6 and r"\vdots" in tikz
    assert len(re.findall(r"\\draw\[edge\]", tikz)) == 2 * 5 + 5 * 1  # no edges to the gap


K23 = sp.ImmutableMatrix([[1, 2, 0], [0, -1, 3]])


@pytest.mark.parametrize("stride, padding, dilation, kernel", [(1, 0, 1, K2), (2, 1, 1, K2), (1, 1, 2, K2),
                                                               (1, 1, 1, K23)])
def test_sliding_window_shades_the_cells_that_make_each_output(stride, padding, dilation, kernel):
    fig = window_figure(stride, padding, dilation, kernel=kernel)
    tikz = figures.render(fig, MATH)
    labels = re.findall(r"\$Y_\{(\d+),(\d+)\} = (.*?)\$", tikz)
    out = fig.get("output")
    assert [(int(i), int(j)) for i, j, _ in labels] == [(i + 1, j + 1) for i in range(out.rows)
                                                          for j in range(out.cols)]
    padded = sp.zeros(I3.rows + 2 * padding, I3.cols + 2 * padding)
    padded[padding:padding + I3.rows, padding:padding + I3.cols] = I3
    for (i, j, label), cells in zip(labels, window_cells(tikz, padded.shape)):
        # the shaded cells, multiplied with the kernel in reading order, give the label
        value = sum(padded[r, q] * k for (r, q), k in zip(sorted(cells), kernel))
        assert label == MATH(value) == MATH(out[int(i) - 1, int(j) - 1])


def window_cells(tikz: str, shape: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Per small copy of the input (one per output label): its shaded cells, as (row, column)
    of the padded input, read from the drawing's coordinates."""
    c, out = figures.COPY_CELL, []
    for chunk in re.split(r"\\node\[font=\\footnotesize, below\]", tikz)[:-1]:
        nodes = re.findall(r"\\node\[cell[^\]]*\] at \(([-\d.]+),([-\d.]+)\)", chunk)[-shape[0] * shape[1]:]
        x0 = min(float(x) for x, _ in nodes) - c / 2
        y0 = max(float(y) for _, y in nodes) + c / 2
        boxes = re.findall(r"\\fill\[blue, fill opacity=0\.15\] \(([-\d.]+),([-\d.]+)\) rectangle", chunk)
        out.append([(round((y0 - float(y)) / c), round((float(x) - x0) / c)) for x, y in boxes])
    return out


def test_padded_grid_marks_every_start_and_the_padding():
    starts = tuple(range(1, 36 + 6 - 3 + 2, 2))
    fig = Figure("padded_grid", "grid", (("n", 36), ("p", 3), ("k", 3), ("s", 2), ("starts", starts)))
    tikz = figures.render(fig, MATH)
    lists = re.findall(r"\\foreach \\[ij] in \{([\d, ]+)\}", tikz)
    assert [tuple(int(v) + 1 for v in lst.split(",")) for lst in lists] == [starts, starts]
    assert "(0,0) rectangle (42,42)" in tikz and "(3,3) rectangle (39,39)" in tikz
    assert "$20$ per row" in tikz


def grid_figure(n: int, p: int, k: int, s: int, lazy: bool = True) -> tuple[Figure, list[int]]:
    """A padded_grid figure and its starts, counted here by trying every cell of the padded side."""
    starts = [t for t in range(1, n + 2 * p + 1, s) if t + k - 1 <= n + 2 * p]
    data = range(1, starts[-1] + 1, s) if lazy else tuple(starts)
    return Figure("padded_grid", "grid", (("n", n), ("p", p), ("k", k), ("s", s), ("starts", data))), starts


@pytest.mark.parametrize("n, drawn", [(figures.MAX_GRID - 2, True), (figures.MAX_GRID - 1, False),
                                      (10_000, False)])
def test_padded_grid_is_drawn_cell_by_cell_only_when_small(n, drawn):
    """Up to MAX_GRID cells a side: cell lines and a dot per start; beyond: an outline to scale, the
    first and last windows where they sit, and the count of starts in the legend."""
    fig, starts = grid_figure(n, 1, 3, 3)
    tikz = figures.render(fig, MATH)
    assert ("\\foreach" in tikz) is drawn and (" grid (" in tikz) is drawn
    m, first, last = n + 2, starts[0] - 1, starts[-1] - 1
    assert f"(0,0) rectangle ({m},{m})" in tikz and f"(1,1) rectangle ({n + 1},{n + 1})" in tikz
    assert f"({first},{first}) rectangle ({first + 3},{first + 3})" in tikz
    assert f"({last},{last}) rectangle ({last + 3},{last + 3})" in tikz
    assert f"${len(starts)}$ per row" in tikz and len(tikz) < 3000


def test_padded_grid_draws_a_range_of_starts_as_the_same_tuple():
    assert figures.render(grid_figure(40, 3, 5, 2)[0], MATH) == \
        figures.render(grid_figure(40, 3, 5, 2, lazy=False)[0], MATH)
    assert figures.describe(grid_figure(40, 3, 5, 2)[0], MATH) == \
        figures.describe(grid_figure(40, 3, 5, 2, lazy=False)[0], MATH)


def test_sliding_window_leaves_out_the_copies_when_too_many_cells():
    """20 x 20 input, 1 x 1 kernel: 400 copies of 400 cells is past MAX_COPY_CELLS; the input, kernel
    and output are still drawn, every entry of them."""
    inp = sp.ImmutableMatrix(20, 20, lambda i, j: (7 * i + 3 * j) % 10)
    tikz = figures.render(window_figure(inp=inp, kernel=sp.ImmutableMatrix([[2]])), MATH)
    assert "fill opacity" not in tikz and "Y_{1,1} =" not in tikz
    assert len(re.findall(r"\\node\[cell", tikz)) == 400 + 1 + 400
    assert "fill opacity" in figures.render(window_figure(), MATH)


def test_padded_grid_rejects_starts_that_do_not_fit():
    fig = Figure("padded_grid", "grid", (("n", 5), ("p", 0), ("k", 3), ("s", 1), ("starts", (1, 2, 3, 4))))
    with pytest.raises(ValueError, match="do not fit"):
        figures.render(fig, MATH)


def line_figure(logy=True, label="plain") -> Figure:
    series = ((label, tuple((n, sp.Rational(1, 2) ** n) for n in range(1, 7))),
              ("residual", ((2, sp.Rational(5, 8)), (4, sp.Integer(0)), (6, 0.9765625))))
    return Figure("line_plot", "plot", (("xlabel", "depth n"), ("ylabel", "dL/dx"), ("logy", logy),
                                        ("series", series)))


def test_line_plot_coordinates_are_the_data():
    tikz = figures.render(line_figure(), MATH)
    plots = re.findall(r"coordinates \{(.*?)\}", tikz)
    first = [tuple(map(float, p.split(","))) for p in re.findall(r"\(([^()]*)\)", plots[0])]
    assert first == [(n, 0.5 ** n) for n in range(1, 7)]
    assert "ymode=log" in tikz and "xtick={1,2,3,4,5,6}" in tikz


def test_log_plot_leaves_out_what_a_log_axis_cannot_show():
    tikz = figures.render(line_figure(logy=True), MATH)
    assert "(4,0)" not in tikz and "(6,0.976562)" in tikz
    assert "(4,0)" in figures.render(line_figure(logy=False), MATH)


def test_labels_are_escaped():
    tikz = figures.render(line_figure(label=r"\input{/etc/passwd} 50%"), MATH)
    assert r"\input" not in tikz and r"\textbackslash{}input\{/etc/passwd\} 50\%" in tikz


def test_markdown_description_holds_the_numbers():
    text = figures.describe(window_figure(), MATH)
    assert "| $Y_{1,1}$ | (1, 1), (1, 2), (2, 1), (2, 2) | $2$ |" in text
    net = figures.describe(network_figure(), MATH)
    assert "| 2 | relu | $(-20, 21)$ | $(20, 21)$ |" in net


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason=f"TeX not installed: {pdf.INSTALL}")
def test_every_kind_typesets(tmp_path):
    hostile = r"\write18{touch PWNED} ^^5c $x$ 100%"
    grid = Figure("padded_grid", hostile, (("n", 6), ("p", 1), ("k", 3), ("s", 2), ("starts", (1, 3, 5))))
    q = Question("1.1", "Figures", "All kinds.", figures=(
        network_figure(), grid, window_figure(2, 1, 1), line_figure(label=hostile), line_figure(logy=False),
        grid_figure(10_000, 0, 3, 1)[0]))
    sheet = Sheet("figs", "Figures", (Problem(1, "Figures", "figures", (q,)),))
    (tmp_path / "figs.pdf").write_bytes(pdf.compile_in(tmp_path, render_latex(sheet), "figs"))
    text = subprocess.run(["pdftotext", str(tmp_path / "figs.pdf"), "-"], capture_output=True, text=True).stdout
    assert len(re.findall(r"Figure\s+\d+\.", text)) == 6 and " ".join(text.split()).count(hostile) >= 2
    assert not list(tmp_path.rglob("PWNED"))
