"""Figures drawn from a derivation's own numbers: TikZ and pgfplots, vector graphics in the PDF.

A :class:`~symderiv.model.Figure` carries numbers only; this module decides how they
look. Each kind has two renderers in :data:`KINDS`: a TikZ drawing for the typeset
sheet and a short Markdown description (a table of the same numbers) for the Markdown
sheet, where there are no images. Labels from the derivation are plain text and are
escaped like every other text; numbers print through the sheet's math printer.

Kinds and their data (``Figure.get(name)``):

``layered_graph``  widths, activations, forward (z per layer, layer 0 = x), preact (a per
                   layer 1..L), grads (dL/dz per layer 0..L; layer 0 = dL/dx)
``padded_grid``    n, p, k, s, starts (1-based start positions in the padded input: a tuple
                   or a range); optional p_after (padding after, default p), k_eff (dilated
                   window). A padded side above MAX_GRID is drawn as an outline, not cell by cell
``sliding_window`` input, kernel, output (matrices), stride, padding; optional dilation, and
                   channel (c, 1-based): the drawing is of input channel c and its kernel, and
                   its "output" is that channel's share S_c of the first filter's output
``line_plot``      xlabel, ylabel, logy, series ((label, ((x, y), ...)), ...)
"""
from __future__ import annotations

import math as pymath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symderiv.algebra import as_sympy
from symderiv.model import Figure
from symderiv.render.text import escape, escape_md

Math = Callable[[sp.Basic], str]

PREAMBLE = r"""\usepackage{tikz}
\usepackage{pgfplots}
\pgfplotsset{compat=1.16}
"""

#: A layer wider than this is drawn as its first and last few units with a gap between.
MAX_UNITS = 8

#: A Markdown table of a long series shows about this many evenly spaced rows.
MAX_ROWS = 12

#: A padded_grid with a longer padded side is drawn as an outline: no cell lines, no start dots.
MAX_GRID = 64


def number(value: Any, math: Math) -> str:
    """A figure label for a value: exact numbers exactly, floats to 4 significant digits."""
    if isinstance(value, (float, sp.Float)):
        return math(sp.Float(float(value), 4))
    return math(as_sympy(value))


def coordinate(value: Any) -> float | None:
    """A plotting coordinate as a float (None if it is not a finite number)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if pymath.isfinite(out) else None


def block(picture: str, caption: str) -> str:
    """A numbered, non-floating figure: it stays next to the question it illustrates
    (``\\sdshrink``, from the sheet's preamble, scales a picture wider than the line down)."""
    return ("\\begin{center}\\begin{minipage}{\\linewidth}\\centering\n"
            f"\\sdshrink{{\\linewidth}}{{{picture}}}\n"
            "\\par\\smallskip\\refstepcounter{figure}{\\small\\textbf{Figure~\\thefigure.} "
            f"{escape(caption)}\\par}}\n\\end{{minipage}}\\end{{center}}")


# --- layered graph: a network, values on the units, gradients beside them ---------------


def shown_units(width: int) -> list[int | None]:
    """Which units of a layer are drawn; ``None`` marks the gap of an elided wide layer."""
    if width <= MAX_UNITS:
        return list(range(width))
    return [0, 1, 2, None, width - 2, width - 1]


#: Estimated widths (cm) of one character of a label: \\small (unit values) and
#: \\footnotesize (gradients, pre-activations, layer heads); and the height of a label line.
SMALL_CHAR, FOOT_CHAR, LINE = 0.21, 0.18, 0.42

#: The gap between a unit and the label above or below it (1pt, in cm).
GAP = 0.035

#: Layer heads name activations as a reader does.
ACTIVATION_NAMES = {"relu": "ReLU", "leaky_relu": "leaky ReLU"}


def label_width(tex: str, per_char: float) -> float:
    """An estimate of the printed width of a label (cm): its visible characters, a command
    counting as one (``\\cdot``), ``\\frac`` and grouping as none, exponents at 0.7."""
    text = re.sub(r"\\frac|\\left|\\right|\\mathbf|[{}]", "", tex)
    text = re.sub(r"\\[A-Za-z]+\s*", "#", text).replace(" ", "")
    exponent = sum(len(m) for m in re.findall(r"\^(-?\d+)", text))
    return per_char * (len(text.replace("^", "")) - 0.3 * exponent) + 0.1


@dataclass(frozen=True)
class Box:
    """A label's box (cm): centre ``x``, ``y``, width ``w``, height ``h``; ``text`` for messages."""

    x: float
    y: float
    w: float
    h: float
    text: str

    def overlaps(self, other: Box) -> bool:
        return abs(self.x - other.x) * 2 < self.w + other.w and abs(self.y - other.y) * 2 < self.h + other.h


@dataclass(frozen=True)
class GraphLayout:
    """Where a layered graph puts everything, computed from the labels it shows: the unit
    diameter fits the longest value, the columns fit the widest label, the rows fit a unit
    with a label above and below. :func:`graph_boxes` lists the boxes (the tests check that
    no two overlap); the drawing uses the same numbers."""

    values: tuple[tuple[str | None, ...], ...]     # per layer, per drawn unit: z (None: the gap)
    grads: tuple[tuple[str | None, ...], ...]
    pres: tuple[tuple[str | None, ...], ...]       # a where it differs from z, else None
    heads: tuple[str, ...]
    d: float
    dx: float
    dy: float

    def at(self, layer: int, row: int) -> tuple[float, float]:
        rows = len(self.values[layer])
        return layer * self.dx, ((rows - 1) / 2 - row) * self.dy

    @property
    def top(self) -> float:
        return max((len(v) - 1) * self.dy / 2 for v in self.values)


def _drawn(fig: Figure, name: str, math: Math) -> tuple[tuple[str | None, ...], ...]:
    """The printed labels of one datum per layer and drawn unit (None for the gap)."""
    return tuple(tuple(None if i is None else number(values[i], math) for i in shown_units(len(values)))
                 for values in fig.get(name))


def _pre_label(fig: Figure, math: Math, layer: int, unit: int | None) -> str | None:
    """``a = ...`` above a unit whose activation changed its value; None elsewhere."""
    if unit is None or not _clipped(fig, layer, unit):
        return None
    return f"a = {number(fig.get('preact')[layer - 1][unit], math)}"


def graph_layout(fig: Figure, math: Math, blank: bool = False) -> GraphLayout:
    """The layout of a ``layered_graph`` figure (see :class:`GraphLayout`)."""
    values, grads = _drawn(fig, "forward", math), _drawn(fig, "grads", math)
    pres = tuple(tuple(_pre_label(fig, math, l, i) for i in shown_units(len(fig.get("forward")[l])))
                 for l in range(len(values)))
    if blank:
        values = tuple(tuple(None if v is None else "" for v in layer) for layer in values)
        grads = pres = tuple(tuple(None for _ in layer) for layer in values)
    heads = ("input",) + tuple(f"layer {l} ({ACTIVATION_NAMES.get(act, act)})"
                               for l, act in enumerate(fig.get("activations"), 1))
    inside = max((label_width(v, SMALL_CHAR) for layer in values for v in layer if v), default=0.0)
    d = max(0.9, (inside ** 2 + LINE ** 2) ** 0.5 + 0.1)
    side = max([label_width(t, FOOT_CHAR) for layer in grads + pres for t in layer if t] +
               [label_width(h, FOOT_CHAR * 1.1) for h in heads] + [d], default=d)
    return GraphLayout(values, grads, pres, heads, d, side + 0.5, d + 2 * LINE + 0.3)


def graph_boxes(layout: GraphLayout) -> list[Box]:
    """Every unit, value label and head of a layout as a box (the gap's dots included)."""
    out = []
    for l, layer in enumerate(layout.values):
        for row, value in enumerate(layer):
            x, y = layout.at(l, row)
            out.append(Box(x, y, layout.d, layout.d, value or "unit"))
            below, above = layout.grads[l][row], layout.pres[l][row]
            offset = layout.d / 2 + LINE / 2 + GAP  # TikZ's below=1pt / above=1pt
            if below:
                out.append(Box(x, y - offset, label_width(below, FOOT_CHAR), LINE, below))
            if above:
                out.append(Box(x, y + offset, label_width(above, FOOT_CHAR), LINE, above))
    out += [Box(l * layout.dx, layout.top + layout.d / 2 + LINE * 2, label_width(h, FOOT_CHAR * 1.1), LINE, h)
            for l, h in enumerate(layout.heads)]
    return out


def _graph_nodes(layout: GraphLayout) -> list[str]:
    out = []
    for l, layer in enumerate(layout.values):
        for row, value in enumerate(layer):
            x, y = layout.at(l, row)
            name, at = f"n{l}-{row}", f"({x:.2f},{y:.2f})"
            if value is None:
                out.append(f"\\node ({name}) at {at} {{$\\vdots$}};")
                continue
            out.append(f"\\node[unit] ({name}) at {at} {{${value}$}};" if value else
                       f"\\node[unit] ({name}) at {at} {{}};")
            if layout.grads[l][row]:
                out.append(f"\\node[grad] at ({name}.south) {{${layout.grads[l][row]}$}};")
            if layout.pres[l][row]:
                out.append(f"\\node[pre] at ({name}.north) {{${layout.pres[l][row]}$}};")
    return out


def _clipped(fig: Figure, layer: int, unit: int) -> bool:
    """Whether the activation changed this unit's value (a != z): then a is worth showing."""
    if layer == 0:
        return False
    return as_sympy(fig.get("preact")[layer - 1][unit]) != as_sympy(fig.get("forward")[layer][unit])


def _graph_edges(fig: Figure) -> list[str]:
    """Every unit to every unit of the next layer (the gap of an elided layer has none)."""
    rows = [[r for r, i in enumerate(shown_units(len(v))) if i is not None] for v in fig.get("forward")]
    return [f"\\draw[edge] (n{l - 1}-{a}) -- (n{l}-{b});"
            for l in range(1, len(rows)) for a in rows[l - 1] for b in rows[l]]


def _graph_heads(layout: GraphLayout) -> list[str]:
    y = layout.top + layout.d / 2 + LINE * 2
    return [f"\\node[head] at ({l * layout.dx:.2f},{y:.2f}) {{{escape(h)}}};" for l, h in enumerate(layout.heads)]


def _graph_legend(fig: Figure, layout: GraphLayout) -> str:
    items = ["inside: $z$ (forward)", "{\\color{red!75!black} below: $\\partial L/\\partial z$ "
             "(backward; at the input $\\partial L/\\partial \\mathbf{x}$)}"]
    if any(p for layer in layout.pres for p in layer):
        items.append("{\\color{black!55} above: the pre-activation $a$ where it differs from $z$}")
    at = f"({(len(layout.values) - 1) * layout.dx / 2:.2f},{-layout.top - layout.d / 2 - LINE * 1.5:.2f})"
    text = " \\quad ".join(items[:2]) + "".join(" \\\\ " + item for item in items[2:])
    return f"\\node[font=\\footnotesize, anchor=north, align=center] at {at} {{{text}}};"


def graph_styles(d: float) -> str:
    """TikZ styles of a layered graph with units of diameter ``d`` cm."""
    return ("[unit/.style={circle, draw, thick, minimum size=" + f"{d:.2f}" + "cm, inner sep=0pt, font=\\small},"
            "grad/.style={below=1pt, text=red!75!black, font=\\footnotesize},"
            "pre/.style={above=1pt, text=black!55, font=\\footnotesize},"
            "head/.style={font=\\footnotesize\\bfseries},"
            "edge/.style={->, black!30, shorten >=1pt}]")


def tikz_layered_graph(fig: Figure, math: Math, blank: bool = False) -> str:
    """The network as a graph: z inside each unit, dL/dz below it (red), a above it (grey)
    where the activation changed it; ``blank``: the units only (a handout). Sizes and spacing
    come from the labels (:func:`graph_layout`); a picture wider than the text is scaled down
    as a whole, so nothing that does not overlap here overlaps on the page."""
    layout = graph_layout(fig, math, blank)
    body = _graph_nodes(layout) + _graph_edges(fig) + _graph_heads(layout)
    if not blank:
        body.append(_graph_legend(fig, layout))
    return f"\\begin{{tikzpicture}}{graph_styles(layout.d)}\n" + "\n".join(body) + "\n\\end{tikzpicture}"


def handout_layered_graph(fig: Figure, math: Math) -> str:
    return tikz_layered_graph(fig, math, blank=True)


def handout_markdown_graph(fig: Figure, math: Math) -> str:
    widths = " - ".join(str(len(v)) for v in fig.get("forward"))
    acts = ", ".join(escape_md(str(a)) for a in fig.get("activations"))
    return f"Layers of widths {widths} (input first), activations {acts}."


def markdown_layered_graph(fig: Figure, math: Math) -> str:
    """The same numbers as a table, one row per layer."""
    rows = ["| layer | activation | $a$ | $z$ | $\\partial L/\\partial z$ |", "|---|---|---|---|---|"]
    acts = ("input",) + tuple(str(a) for a in fig.get("activations"))
    preact = (None,) + tuple(fig.get("preact"))
    for l, (z, grad) in enumerate(zip(fig.get("forward"), fig.get("grads"))):
        a = "" if preact[l] is None else _vector(preact[l], math)
        rows.append(f"| {l} | {escape_md(acts[l])} | {a} | {_vector(z, math)} | {_vector(grad, math)} |")
    return "\n".join(rows)


def _vector(values, math: Math) -> str:
    return "$(" + ", ".join(number(v, math) for v in values) + ")$"


# --- convolution: the padded grid and the filter's start positions ---------------------


def optional(fig: Figure, name: str, default: Any) -> Any:
    """A datum a figure may leave out (e.g. ``dilation``, which defaults to 1)."""
    return dict(fig.data).get(name, default)


@dataclass(frozen=True)
class Grid:
    """One axis of a padded input (the drawing is square): ``before + n + after`` cells,
    a window ``span`` cells long (``k`` dilated) starting at the 1-based ``starts``."""

    n: int
    before: int
    after: int
    k: int
    span: int
    s: int
    starts: Sequence[int]

    @property
    def size(self) -> int:
        return self.before + self.n + self.after


def grid(fig: Figure) -> Grid:
    """The grid of a ``padded_grid`` figure, checked: every start must leave room for the window."""
    n, p, k, s = (int(fig.get(name)) for name in "npks")
    starts = fig.get("starts")
    starts = starts if isinstance(starts, range) else tuple(int(v) for v in starts)
    g = Grid(n, p, int(optional(fig, "p_after", p)), k, int(optional(fig, "k_eff", k)), s, starts)
    if not g.starts or min(g.starts) < 1 or max(g.starts) + g.span - 1 > g.size:
        raise ValueError(f"padded_grid: starts {g.starts} do not fit {g.size} cells with a {g.span}-cell window")
    return g


def _grid_cells(g: Grid, c: float) -> tuple[list[str], list[str]]:
    """Cell lines, and a dot at every start: only for a grid small enough to read cell by cell."""
    if g.size > MAX_GRID:
        return [], []
    cells = ", ".join(str(v - 1) for v in g.starts)
    return ([f"\\draw[black!35, very thin, xstep={c:.4f}cm, ystep={c:.4f}cm] (0,0) grid ({g.size},{g.size});"],
            [f"\\foreach \\i in {{{cells}}} \\foreach \\j in {{{cells}}} "
             f"\\fill[blue!70!black] (\\j+0.5,\\i+0.5) circle ({min(0.3, 0.07 / c):.3f});"])


def tikz_padded_grid(fig: Figure, math: Math) -> str:
    """The padded input (padding grey), a dot where the filter can start, first/last window.
    A grid wider than MAX_GRID cells is drawn to scale as an outline; the legend counts its starts."""
    g = grid(fig)
    m, c = g.size, min(0.4, 5.4 / g.size)
    first, last = g.starts[0] - 1, g.starts[-1] - 1
    inner = f"({g.before},{g.before}) rectangle ({g.before + g.n},{g.before + g.n})"
    cell_lines, dots = _grid_cells(g, c)
    lines = [f"\\begin{{tikzpicture}}[x={c:.4f}cm, y=-{c:.4f}cm]",
             f"\\fill[black!18] (0,0) rectangle ({m},{m});",
             f"\\fill[white] {inner};", *cell_lines,
             f"\\draw[thick] {inner};", *dots,
             f"\\draw[blue!70!black, very thick] ({first},{first}) rectangle ({first + g.span},{first + g.span});",
             f"\\draw[red!75!black, very thick] ({last},{last}) rectangle ({last + g.span},{last + g.span});",
             _grid_legend(g), "\\end{tikzpicture}"]
    return "\n".join(lines)


def _grid_legend(g: Grid) -> str:
    pad = f"${g.before}$" if g.before == g.after else f"${g.before}$ before, ${g.after}$ after"
    dot = "{\\color{blue!70!black}$\\bullet$} a start of the filter"
    starts = dot if g.size <= MAX_GRID else "starts of the filter (too many cells to mark one by one)"
    entries = [f"input ${g.n} \\times {g.n}$ (white), padding {pad} (grey)",
               f"{starts}: ${len(g.starts)}$ per row, stride ${g.s}$",
               f"{{\\color{{blue!70!black}}first}} and {{\\color{{red!75!black}}last}} "
               f"${g.span} \\times {g.span}$ window"]
    text = " \\\\ ".join(entries)
    return f"\\node[anchor=north west, align=left, font=\\footnotesize] at ({g.size + 1},0) {{{text}}};"


def markdown_padded_grid(fig: Figure, math: Math) -> str:
    g = grid(fig)
    shown = ", ".join(str(v) for v in g.starts) if len(g.starts) <= 8 else (
        f"{g.starts[0]}, {g.starts[1]}, {g.starts[2]}, ..., {g.starts[-1]}")
    return (f"The ${g.n} \\times {g.n}$ input, padded by ${g.before}$ before and ${g.after}$ after to "
            f"${g.size} \\times {g.size}$; a ${g.span} \\times {g.span}$ window with stride ${g.s}$ starts at "
            f"rows and columns {shown} (${len(g.starts)}$ positions each way).")


# --- convolution: the sliding window --------------------------------------------------

#: How the window figure names input, kernel and output (as the convolution question writes them).
WINDOW_NAMES = ("I", "K", "Y")


def window_names(fig: Figure) -> tuple[str, str, str]:
    """Input, kernel and output names: ``I``, ``K``, ``Y``; for channel c of several,
    ``I_c``, ``K^{(1)}_c`` and the channel's share ``S_c`` (the shares add up to ``Y^{(1)}``)."""
    c = optional(fig, "channel", None)
    if c is None:
        return WINDOW_NAMES
    return f"I_{{{c}}}", f"K^{{(1)}}_{{{c}}}", f"S_{{{c}}}"


@dataclass(frozen=True)
class Window:
    """A ``sliding_window`` figure's data: matrices, stride, padding (every side), dilation, names."""

    input: sp.MatrixBase
    kernel: sp.MatrixBase
    output: sp.MatrixBase
    s: int
    p: int
    d: int
    names: tuple[str, str, str] = WINDOW_NAMES

    def cells(self, i: int, j: int) -> list[tuple[int, int]]:
        """The padded-input cells (row, column; 0-based) under the kernel for output (i, j)."""
        kh, kw = self.kernel.shape
        return [(i * self.s + a * self.d, j * self.s + b * self.d) for a in range(kh) for b in range(kw)]


def entry_name(name: str, i: int, j: int) -> str:
    """Entry (i, j) (0-based) of a named matrix: ``Y_{1,2}``, or ``S_{2;1,2}`` for a subscripted name."""
    if name.endswith("}") and "_{" in name:
        return f"{name[:-1]};{i + 1},{j + 1}}}"
    return f"{name}_{{{i + 1},{j + 1}}}"


def window(fig: Figure) -> Window:
    return Window(fig.get("input"), fig.get("kernel"), fig.get("output"), int(fig.get("stride")),
                  int(fig.get("padding")), int(optional(fig, "dilation", 1)), window_names(fig))


def _matrix_cells(mat: sp.MatrixBase, math: Math, x0: float, y0: float, c: float, pad: int = 0) -> list[str]:
    """The cells of a matrix as TikZ nodes, top-left corner at (x0, y0); ``pad`` rings of grey 0."""
    rows, cols = mat.shape
    out = []
    for i in range(rows + 2 * pad):
        for j in range(cols + 2 * pad):
            inside = pad <= i < rows + pad and pad <= j < cols + pad
            value = math(mat[i - pad, j - pad]) if inside else "0"
            style = "cell" if inside else "cell, fill=black!12, text=black!50"
            at = f"({x0 + (j + 0.5) * c:.2f},{y0 - (i + 0.5) * c:.2f})"
            out.append(f"\\node[{style}, minimum size={c - 0.02:.2f}cm] at {at} {{${value}$}};")
    return out


#: Cell size (cm) of the small copies of the input in the window figure.
COPY_CELL = 0.45

#: Most cells in all copies together (one copy per output entry); beyond it TeX runs out of
#: memory, so the figure shows input, kernel and output only (the steps list every window).
MAX_COPY_CELLS = 2500


def _window_copy(w: Window, math: Math, i: int, j: int, x: float, y: float) -> list[str]:
    """A small copy of the (padded) input with the cells under the kernel shaded and outlined."""
    c = COPY_CELL
    out = _matrix_cells(w.input, math, x, y, c, w.p)
    for r, q in w.cells(i, j):
        box = f"({x + q * c:.2f},{y - r * c:.2f}) rectangle ({x + (q + 1) * c:.2f},{y - (r + 1) * c:.2f})"
        out += [f"\\fill[blue, fill opacity=0.15] {box};", f"\\draw[blue!70!black, thick] {box};"]
    size = (w.input.shape[0] + 2 * w.p) * c
    out.append(f"\\node[font=\\footnotesize, below] at ({x + (w.input.shape[1] + 2 * w.p) * c / 2:.2f},"
               f"{y - size:.2f}) {{${entry_name(w.names[2], i, j)} = {math(w.output[i, j])}$}};")
    return out


def _window_copies(w: Window, math: Math, y0: float) -> list[str]:
    """One copy of the input per output entry, laid out like the output (none if too many cells)."""
    if len(w.output) * (w.input.shape[0] + 2 * w.p) * (w.input.shape[1] + 2 * w.p) > MAX_COPY_CELLS:
        return []
    dx, dy = ((w.input.shape[a] + 2 * w.p) * COPY_CELL + 1.0 for a in (1, 0))
    return [line for i in range(w.output.shape[0]) for j in range(w.output.shape[1])
            for line in _window_copy(w, math, i, j, j * dx, y0 - i * dy)]


def tikz_sliding_window(fig: Figure, math: Math, blank: bool = False) -> str:
    """Top: input, kernel, output. Below: every window position, laid out like the output.
    ``blank``: input and kernel only (a handout)."""
    w, c = window(fig), 0.6
    shown = (w.input, w.kernel) if blank else (w.input, w.kernel, w.output)
    widths = [(w.input.shape[1] + 2 * w.p) * c, w.kernel.shape[1] * c, w.output.shape[1] * c]
    xs = [0.0, widths[0] + 1.2, widths[0] + widths[1] + 2.4]
    body = []
    for x, mat, name, pad in zip(xs, shown, w.names, (w.p, 0, 0)):
        body += _matrix_cells(mat, math, x, 0.0, c, pad)
        body.append(f"\\node[above] at ({x + (mat.shape[1] + 2 * pad) * c / 2:.2f},0) {{${name}$}};")
    body.append(f"\\node at ({xs[1] - 0.6:.2f},{-c:.2f}) {{$\\star$}};")
    if not blank:
        body.append(f"\\node at ({xs[2] - 0.6:.2f},{-c:.2f}) {{$=$}};")
        depth = max(w.input.shape[0] + 2 * w.p, w.kernel.shape[0], w.output.shape[0]) * c + 0.9
        body += _window_copies(w, math, -depth)
    styles = "[cell/.style={draw=black!40, inner sep=0pt, font=\\footnotesize}]"
    return f"\\begin{{tikzpicture}}{styles}\n" + "\n".join(body) + "\n\\end{tikzpicture}"


def handout_sliding_window(fig: Figure, math: Math) -> str:
    return tikz_sliding_window(fig, math, blank=True)


def handout_markdown_window(fig: Figure, math: Math) -> str:
    w = window(fig)
    names = w.names
    return (f"${names[0]} = {math(w.input)}$ and ${names[1]} = {math(w.kernel)}$ (padding ${w.p}$, "
            f"stride ${w.s}$, dilation ${w.d}$).")


def markdown_sliding_window(fig: Figure, math: Math) -> str:
    w = window(fig)
    rows = ["| output entry | cells of the padded input (row, column) | value |", "|---|---|---|"]
    for i in range(w.output.shape[0]):
        for j in range(w.output.shape[1]):
            cells = ", ".join(f"({r + 1}, {q + 1})" for r, q in w.cells(i, j))
            rows.append(f"| ${entry_name(w.names[2], i, j)}$ | {cells} | ${math(w.output[i, j])}$ |")
    kh, kw = w.kernel.shape
    head = (f"A ${kh} \\times {kw}$ kernel slides over the ${w.input.shape[0]} \\times {w.input.shape[1]}$ "
            f"input (padding ${w.p}$, stride ${w.s}$, dilation ${w.d}$):")
    return head + "\n\n" + "\n".join(rows)


# --- line plots -------------------------------------------------------------------------


def series_points(fig: Figure) -> list[tuple[str, list[tuple[float, float]]]]:
    """Each series' finite points (on a log axis, the positive ones only)."""
    logy = bool(fig.get("logy"))
    out = []
    for label, points in fig.get("series"):
        pairs = [(coordinate(x), coordinate(y)) for x, y in points]
        kept = [(x, y) for x, y in pairs if x is not None and y is not None and (y > 0 or not logy)]
        if kept:
            out.append((str(label), kept))
    if not out:
        raise ValueError(f"line_plot {fig.caption!r}: no points to draw")
    return out


def tikz_line_plot(fig: Figure, math: Math) -> str:
    """A pgfplots axis: one line per series, log scale when ``logy``."""
    options = ["width=0.8\\linewidth", "height=6.5cm", f"xlabel={{{escape(str(fig.get('xlabel')))}}}",
               f"ylabel={{{escape(str(fig.get('ylabel')))}}}", "grid=major", "grid style={black!12}",
               "legend style={at={(0.5,1.03)}, anchor=south, legend columns=-1, font=\\footnotesize,"
               " /tikz/every even column/.append style={column sep=0.8em}}",
               "tick label style={font=\\footnotesize}", "label style={font=\\small}"]
    if fig.get("logy"):
        options.append("ymode=log")
    series = series_points(fig)
    xs = sorted({x for _, points in series for x, _ in points})
    if len(xs) <= 12 and all(x == int(x) for x in xs):
        options.append("xtick={" + ",".join(str(int(x)) for x in xs) + "}")  # whole steps: no 2.5 ticks
    plots = []
    for label, points in series:
        mark = "mark=*, mark size=1.4pt" if len(points) <= 30 else "no markers"
        coords = " ".join(f"({x:.6g},{y:.6g})" for x, y in points)
        plots.append(f"\\addplot+[{mark}, thick] coordinates {{{coords}}};\n\\addlegendentry{{{escape(label)}}}")
    axis = "\\begin{axis}[" + ",\n  ".join(options) + "]\n" + "\n".join(plots) + "\n\\end{axis}"
    return "\\begin{tikzpicture}\n" + axis + "\n\\end{tikzpicture}"


def sample(n: int, most: int = MAX_ROWS) -> list[int]:
    """Up to ``most`` evenly spaced indices of ``range(n)``, always the first and the last."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def markdown_line_plot(fig: Figure, math: Math) -> str:
    """The series as one table: a row per x, a column per series (long runs: evenly spaced rows)."""
    series = fig.get("series")
    columns = [{coordinate(x): y for x, y in points} for _, points in series]
    xs = sorted({x for column in columns for x in column if x is not None})
    head = [escape_md(str(fig.get("xlabel")))] + [escape_md(str(label)) for label, _ in series]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i in sample(len(xs)):
        cells = [f"${number(c[xs[i]], math)}$" if xs[i] in c else "" for c in columns]
        x = int(xs[i]) if xs[i].is_integer() else xs[i]
        rows.append(f"| ${number(x, math)}$ | " + " | ".join(cells) + " |")
    scale = " (log scale in the typeset sheet)" if fig.get("logy") else ""
    title = f"{escape_md(str(fig.get('ylabel')))} against {escape_md(str(fig.get('xlabel')))}{scale}"
    shown = "" if len(xs) <= MAX_ROWS else f", {len(sample(len(xs)))} of {len(xs)} rows"
    return f"{title}{shown}:\n\n" + "\n".join(rows)


# --- dispatch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureKind:
    """How one kind of figure is drawn (TikZ) and described (Markdown); ``handout`` (TikZ,
    Markdown), where given, draws only what the question gives (nothing derived): a figure
    kind without it is left out of handouts."""

    tikz: Callable[[Figure, Math], str]
    markdown: Callable[[Figure, Math], str]
    handout: tuple[Callable[[Figure, Math], str], Callable[[Figure, Math], str], str] | None = None


KINDS: dict[str, FigureKind] = {
    "layered_graph": FigureKind(tikz_layered_graph, markdown_layered_graph,
                                (handout_layered_graph, handout_markdown_graph, "The layers and their units.")),
    "padded_grid": FigureKind(tikz_padded_grid, markdown_padded_grid),
    "sliding_window": FigureKind(tikz_sliding_window, markdown_sliding_window,
                                 (handout_sliding_window, handout_markdown_window, "Input and kernel.")),
    "line_plot": FigureKind(tikz_line_plot, markdown_line_plot),
}


def kind(figure: Figure) -> FigureKind:
    """The renderers of a figure's kind; an unknown kind is a bug in a derivation."""
    if figure.kind not in KINDS:
        raise ValueError(f"figure kind {figure.kind!r} has no renderer; known: {', '.join(sorted(KINDS))}")
    return KINDS[figure.kind]


def render(figure: Figure, math: Math, handout: bool = False) -> str:
    """LaTeX for one :class:`~symderiv.model.Figure`: a numbered TikZ picture with its caption
    (in a handout, its drawing of the givens only, or nothing)."""
    drawing = kind(figure).handout
    if not handout:
        return block(kind(figure).tikz(figure, math), figure.caption)
    return block(drawing[0](figure, math), drawing[2]) if drawing else ""


def describe(figure: Figure, math: Math, handout: bool = False) -> str:
    """Markdown for one figure: its caption and a table or sentence of its numbers (in a
    handout, of the givens only, or nothing)."""
    drawing = kind(figure).handout
    if not handout:
        return f"*Figure: {escape_md(figure.caption)}*\n\n{kind(figure).markdown(figure, math)}"
    return f"*Figure: {escape_md(drawing[2])}*\n\n{drawing[1](figure, math)}" if drawing else ""


# --- contour paths: an optimizer's path on the contour lines of a 2-D objective ----------
#
# ``contour_path`` data: xlabel, ylabel (SymPy symbols, printed as math); xs, ys (the grid's
# coordinates, increasing); values (rows by y: f at (xs[i], ys[j]), None where f is not a
# finite real number); levels (the contour values); paths ((label, ((x, y), ...)), ...).
# The contour lines are traced here by marching squares: they are how the figure looks,
# not numbers of the derivation.

Point = tuple[float, float]


def _crossing(a: tuple[float, float, float], b: tuple[float, float, float], level: float) -> Point:
    """Where f = level on the grid edge from ``a`` to ``b`` (x, y, value), interpolated linearly;
    the same point bit for bit from either of the two cells that share the edge."""
    a, b = min(a, b), max(a, b)
    share = (level - a[2]) / (b[2] - a[2])
    return a[0] + share * (b[0] - a[0]), a[1] + share * (b[1] - a[1])


def _cell_segments(corners: list[tuple[float, float, float]], level: float) -> list[tuple[Point, Point]]:
    """The contour's pieces in one grid cell; ``corners`` go round it (bottom-left first)."""
    above = [c[2] >= level for c in corners]
    cut = {k: _crossing(corners[k], corners[(k + 1) % 4], level) for k in range(4) if above[k] != above[(k + 1) % 4]}
    if len(cut) == 2:
        first, second = cut.values()
        return [(first, second)]
    if len(cut) == 4:  # a saddle: the centre decides which corners are cut off
        centre = sum(c[2] for c in corners) / 4 >= level
        return [(cut[(k - 1) % 4], cut[k]) for k in range(4) if above[k] != centre]
    return []


def contour_segments(xs: Sequence[float], ys: Sequence[float], values: Sequence[Sequence[float | None]],
                     level: float) -> list[tuple[Point, Point]]:
    """Marching squares: every piece of the contour line f = level (cells with a missing value are skipped)."""
    out = []
    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            corners = [(xs[a], ys[b], values[b][a]) for a, b in ((i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1))]
            if all(v is not None for _, _, v in corners):
                out += _cell_segments([(x, y, float(v)) for x, y, v in corners if v is not None], level)
    return out


def join_segments(segments: list[tuple[Point, Point]]) -> list[list[Point]]:
    """The pieces joined into polylines where they share an end point."""
    ends: dict[Point, list[int]] = {}
    for index, (a, b) in enumerate(segments):
        ends.setdefault(a, []).append(index)
        ends.setdefault(b, []).append(index)
    used, lines = set(), []
    for index in range(len(segments)):
        if index in used:
            continue
        used.add(index)
        line = list(segments[index])
        for forward in (True, False):
            while True:
                tip = line[-1] if forward else line[0]
                nxt = next((k for k in ends[tip] if k not in used), None)
                if nxt is None:
                    break
                used.add(nxt)
                a, b = segments[nxt]
                point = b if a == tip else a
                line = line + [point] if forward else [point] + line
        lines.append(line)
    return lines


def _contour_plots(fig: Figure) -> list[str]:
    xs, ys, values = fig.get("xs"), fig.get("ys"), fig.get("values")
    out = []
    for level in fig.get("levels"):
        lines = join_segments(contour_segments(xs, ys, values, float(level)))
        if lines:
            coords = " (nan,nan) ".join(" ".join(f"({x:.5g},{y:.5g})" for x, y in line) for line in lines)
            out.append(f"\\addplot[black!30, thin, forget plot, unbounded coords=jump] coordinates {{{coords}}};")
    return out


def _path_plots(fig: Figure, math: Math) -> list[str]:
    out = []
    for label, points in fig.get("paths"):
        coords = " ".join(f"({x:.6g},{y:.6g})" for x, y in points)
        out.append(f"\\addplot+[thick, mark=*, mark size=1.4pt] coordinates {{{coords}}};\n"
                   f"\\addlegendentry{{{escape(str(label))}}}")
    x0, y0 = fig.get("paths")[0][1][0]
    out.append(f"\\node[anchor=south west, font=\\footnotesize] at (axis cs:{x0:.6g},{y0:.6g}) "
               f"{{${math(sp.Symbol('w_0'))}$}};")
    return out


def tikz_contour_path(fig: Figure, math: Math) -> str:
    """A pgfplots axis over the grid: grey contour lines, each path a line with a dot per point."""
    xs, ys = fig.get("xs"), fig.get("ys")
    ratio = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    labels = [f"xlabel={{${math(fig.get('xlabel'))}$}}", f"ylabel={{${math(fig.get('ylabel'))}$}}"]
    options = ["width=0.75\\linewidth", "height=7cm", "clip mode=individual", f"xmin={xs[0]:.6g}",
               f"xmax={xs[-1]:.6g}", f"ymin={ys[0]:.6g}", f"ymax={ys[-1]:.6g}", *labels,
               "tick label style={font=\\footnotesize}",
               "legend style={at={(0.5,1.03)}, anchor=south, legend columns=-1, font=\\footnotesize,"
               " /tikz/every even column/.append style={column sep=0.8em}}"]
    if 1 / 3 <= ratio <= 3:
        options.append("axis equal image")
    body = _contour_plots(fig) + _path_plots(fig, math)
    axis = "\\begin{axis}[" + ",\n  ".join(options) + "]\n" + "\n".join(body) + "\n\\end{axis}"
    return "\\begin{tikzpicture}\n" + axis + "\n\\end{tikzpicture}"


def markdown_contour_path(fig: Figure, math: Math) -> str:
    """Each path as a table of its points, and the contour levels in a sentence."""
    x, y = f"${math(fig.get('xlabel'))}$", f"${math(fig.get('ylabel'))}$"
    parts = []
    for label, points in fig.get("paths"):
        rows = [f"| {escape_md(str(label))}, step | {x} | {y} |", "|---|---|---|"]
        rows += [f"| ${i}$ | ${number(points[i][0], math)}$ | ${number(points[i][1], math)}$ |"
                 for i in sample(len(points))]
        parts.append("\n".join(rows))
    levels = ", ".join(f"${number(v, math)}$" for v in fig.get("levels"))
    parts.append(f"Contour lines of the typeset figure: f = {levels}.")
    return "\n\n".join(parts)


KINDS["contour_path"] = FigureKind(tikz_contour_path, markdown_contour_path)



# --- receptive fields: the input pixels each layer's centre position sees ------------------
#
# ``receptive_field``  height, width (the input), layers: ((label, (row_lo, row_hi), (col_lo, col_hi)), ...):
#                      0-based pixels, inclusive; outside 0 .. side-1 is padding

#: Outline colours of the windows, in layer order (cycled).
FIELD_COLOURS = ("blue!70!black", "red!75!black", "green!50!black", "orange!90!black", "violet!80!black",
                 "teal!80!black", "brown!80!black", "black!70")


def _field_extent(fig: Figure) -> tuple[int, int, int, int]:
    """Rows and columns to draw: the input and every window (which may reach into the padding)."""
    layers = fig.get("layers")
    top = min([0] + [rows[0] for _, rows, _ in layers])
    bottom = max([int(fig.get("height")) - 1] + [rows[1] for _, rows, _ in layers])
    left = min([0] + [cols[0] for _, _, cols in layers])
    right = max([int(fig.get("width")) - 1] + [cols[1] for _, _, cols in layers])
    return top, bottom, left, right


def _field_size(rows: tuple[int, int], cols: tuple[int, int]) -> str:
    height, width = rows[1] - rows[0] + 1, cols[1] - cols[0] + 1
    return f"{height}" if height == width else f"{height} \\times {width}"


def tikz_receptive_field(fig: Figure, math: Math) -> str:
    """The input as a grid (an outline when large), each layer's window as a coloured rectangle."""
    h, w = int(fig.get("height")), int(fig.get("width"))
    top, bottom, left, right = _field_extent(fig)
    c = min(0.4, 6.0 / max(bottom - top + 1, right - left + 1))
    lines = [f"\\begin{{tikzpicture}}[x={c:.4f}cm, y=-{c:.4f}cm]",
             f"\\fill[black!10] ({left},{top}) rectangle ({right + 1},{bottom + 1});",
             f"\\fill[white] (0,0) rectangle ({w},{h});"]
    if max(h, w) <= MAX_GRID:
        lines.append(f"\\draw[black!25, very thin, xstep={c:.4f}cm, ystep={c:.4f}cm] (0,0) grid ({w},{h});")
    lines.append(f"\\draw[thick] (0,0) rectangle ({w},{h});")
    legend = []
    for index, (label, rows, cols) in enumerate(fig.get("layers")):
        colour = FIELD_COLOURS[index % len(FIELD_COLOURS)]
        lines.append(f"\\draw[{colour}, very thick] ({cols[0]},{rows[0]}) rectangle ({cols[1] + 1},{rows[1] + 1});")
        legend.append(f"{{\\color{{{colour}}}$\\blacksquare$}} {escape(str(label))}: "
                      f"$r = {_field_size(rows, cols)}$")
    text = " \\\\ ".join(legend)
    lines += [f"\\node[anchor=north west, align=left, font=\\footnotesize] at ({right + 2},{top}) {{{text}}};",
              "\\end{tikzpicture}"]
    return "\n".join(lines)


def markdown_receptive_field(fig: Figure, math: Math) -> str:
    """The windows as a table of pixel ranges (0-based, as the derivation counts them)."""
    rows = ["| layer | input rows | input columns | receptive field |", "|---|---|---|---|"]
    for label, r, q in fig.get("layers"):
        rows.append(f"| {escape_md(str(label))} | ${r[0]}$ to ${r[1]}$ | ${q[0]}$ to ${q[1]}$ "
                    f"| ${_field_size(r, q)}$ |")
    h, w = fig.get("height"), fig.get("width")
    head = (f"The ${h} \\times {w}$ input, rows $0$ to ${int(h) - 1}$ and columns $0$ to ${int(w) - 1}$; "
            "the others are padding:")
    return head + "\n\n" + "\n".join(rows)


KINDS["receptive_field"] = FigureKind(tikz_receptive_field, markdown_receptive_field)


# --- a heat map of weights in [0, 1] ---------------------------------------------------------
#
# ``heat_map``  weights (rows of numbers in [0, 1]), allowed (rows of booleans: False = crossed out),
#               rows, columns (what a row and a column stand for: "query", "key")


def _weight_cell(value: Any, allowed: bool, i: int, j: int, math: Math) -> list[str]:
    """One cell: shaded by its weight with the weight printed, or crossed out."""
    box = f"({j},{i}) rectangle ({j + 1},{i + 1})"
    if not allowed:
        return [f"\\fill[black!8] {box};", f"\\draw[black!35] ({j + 0.2},{i + 0.2}) -- ({j + 0.8},{i + 0.8}) "
                                           f"({j + 0.8},{i + 0.2}) -- ({j + 0.2},{i + 0.8});"]
    share = max(0.0, min(1.0, coordinate(value) or 0.0))
    ink = "white" if share > 0.55 else "black"
    return [f"\\fill[blue!{round(100 * share)}!white] {box};",
            f"\\node[text={ink}, font=\\footnotesize] at ({j + 0.5},{i + 0.5}) {{${number(share, math)}$}};"]


def tikz_heat_map(fig: Figure, math: Math) -> str:
    """Rows down, columns across; darker cells carry more weight."""
    weights, allowed = fig.get("weights"), fig.get("allowed")
    rows, cols = len(weights), len(weights[0])
    row_name, col_name = escape(str(fig.get("rows"))), escape(str(fig.get("columns")))
    body = [c for i in range(rows) for j in range(cols) for c in _weight_cell(weights[i][j], allowed[i][j], i, j, math)]
    body.append(f"\\draw[black!40, step=1] (0,0) grid ({cols},{rows});")
    body += [f"\\node[font=\\footnotesize, above] at ({j + 0.5},0) {{{col_name} {j + 1}}};" for j in range(cols)]
    body += [f"\\node[font=\\footnotesize, left] at (0,{i + 0.5}) {{{row_name} {i + 1}}};" for i in range(rows)]
    return "\\begin{tikzpicture}[x=1.3cm, y=-0.8cm]\n" + "\n".join(body) + "\n\\end{tikzpicture}"


def markdown_heat_map(fig: Figure, math: Math) -> str:
    """The weights as a table (crossed-out cells marked "masked")."""
    weights, allowed = fig.get("weights"), fig.get("allowed")
    row_name, col_name = escape_md(str(fig.get("rows"))), escape_md(str(fig.get("columns")))
    head = f"| {row_name} | " + " | ".join(f"{col_name} {j + 1}" for j in range(len(weights[0]))) + " |"
    rows = [head, "|---|" + "---|" * len(weights[0])]
    for i, row in enumerate(weights):
        cells = [f"${number(coordinate(v) or 0.0, math)}$" if allowed[i][j] else "masked" for j, v in enumerate(row)]
        rows.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


KINDS["heat_map"] = FigureKind(tikz_heat_map, markdown_heat_map)
