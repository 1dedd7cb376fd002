"""Sheets a student can read for any numbers: generated specs off the integer path (sigmoid,
tanh, softmax, leaky ReLU, decimals, widths up to 6, depths up to 4, fractions and decimals in
every other kind) must fit the page (no overfull line over 5 pt, nothing shrunk below half
size), typeset in MathJax, draw network figures without overlapping labels, and say nothing
about the engine in their prose.

The networks are small because exact sigmoid and tanh values are slow to derive for now;
each sheet builds in a few seconds.
"""
from __future__ import annotations

import random
import re
import shutil
from itertools import combinations
from pathlib import Path

import pytest
import reference_mathjax

from symderiv.derive import derive_table
from symderiv.model import Sheet
from symderiv.render import figures
from symderiv.render.latex import render_handout_latex, render_latex
from symderiv.render.markdown import render_handout_markdown, render_markdown
from symderiv.render.pdf import compile_in
from symderiv.render.printer import SheetPrinter

NEED_TEX = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
NEED_MATHJAX = pytest.mark.skipif(reference_mathjax.missing() is not None,
                                  reason=f"MathJax unavailable: {reference_mathjax.missing()}")

#: An overfull line up to this much (pt) is invisible; beyond it text runs into the margin.
TOLERANCE = 5.0
#: Nothing (boxed answers, tables, figures) may be scaled below this.
LEAST_SCALE = 0.5


def decimals(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(-1, 1), 2) for _ in range(n)]


def network(widths: tuple[int, ...], acts: tuple[str, ...], loss: str, seed: int, **extra) -> dict:
    """A network problem with two-decimal weights, biases and input (a spec as people write them)."""
    rng = random.Random(seed)
    layers = [{"W": [decimals(rng, widths[i]) for _ in range(widths[i + 1])], "b": decimals(rng, widths[i + 1]),
               "activation": act} for i, act in enumerate(acts)]
    if loss == "cross_entropy":
        y = [1] + [0] * (widths[-1] - 1) if acts[-1] == "softmax" else [1] * widths[-1]
    else:
        y = decimals(rng, widths[-1])
    return {"kind": "network", "x": decimals(rng, widths[0]), "y": y, "loss": loss, "layer": layers, **extra}


NETWORKS = [
    network((2, 2, 2), ("sigmoid", "sigmoid"), "half_squared_error", 1),
    network((3, 3, 3), ("tanh", "softmax"), "cross_entropy", 2),
    network((2, 4, 1), ("leaky_relu", "identity"), "squared_error", 3, leaky_slope=0.1),
    network((6, 6, 2), ("relu", "identity"), "mean_squared_error", 4),
    network((2, 3, 3, 3, 1), ("relu", "tanh", "relu", "identity"), "squared_error", 5),
    network((2, 3, 1), ("relu", "sigmoid"), "cross_entropy", 6),
    network((3, 6, 6, 2), ("relu", "sigmoid", "identity"), "squared_error", 7),
]

#: Wide matrices: a two-filter convolution whose ReLU step (six wide matrices side by side) and
#: whose 1x8 weight gradient are wider than the line unless typeset stacked, and a dense layer
#: of 8x8 decimals.
LAYERS = [
    {"kind": "network", "x": [[[0.5, -1, 2, 0], [1.5, 0.25, -0.5, 1], [0, 2, 1, -1], [1, -0.75, 0.5, 2]]],
     "y": [1], "loss": "half_squared_error",
     "layer": [{"type": "conv2d", "W": [[[[0.5, -1], [0.25, 1]]], [[[1, 0], [-0.5, 0.75]]]], "b": [0.1, -0.2],
                "activation": "relu"},
               {"type": "maxpool", "size": 2, "stride": 1, "remainder": "drop"},
               {"type": "flatten"},
               {"W": [[0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.6, -0.1]], "b": 0.05, "activation": "sigmoid"}]},
    # 8x8 matrices of 4-digit decimals (W, dL/dW) are wider than the line: scaled to fit, not below half size
    network((8, 8, 1), ("sigmoid", "identity"), "half_squared_error", 8),
]

OTHERS = [
    {"kind": "search",
     "grid": {"epochs_per_combination": 12, "minutes_per_epoch": 1.5,
              "hyperparameter": [{"name": "eta", "values": 7}, {"name": "lambda2", "values": 3},
                                 {"name": "dropout", "values": 4}]},
     "random": {"success_rate": "1/3", "confidence": [0.9, "2/3", 0.999]}},
    {"kind": "optimizers", "demo": {"kappa": 12.5, "learning_rate": 0.15, "momentum": 0.85,
                                    "stochastic_learning_rate": 0.1, "batch_size": 5, "samples": 60,
                                    "steps": 150, "draws": 200, "noise": 0.3, "start": [0.5, -1.25]}},
    {"kind": "conv",
     "size": [{"input": [32, 20, 3], "kernel": [5, 3], "filters": 8, "padding": "same", "dilation": [2, 1]}],
     "apply": {"input": [[[0.5, 1, -1.5], [2, 0.25, 1], [1, -1, 0]], [[1, 0, 2], [-0.5, 1, 1], [0, 3, 1]]],
               "kernel": [[[[1, 0.5], [0, -1]], [[0.25, 1], [1, 0]]], [[[2, 0], [0, 2]], [[1, 1], [-1, 0]]]],
               "stride": 1, "padding": 1}},
    {"kind": "gradflow", "chain": {"upstream": "1/3", "local": [0.2, "2/3", 1.5]},
     "residual": {"upstream": 0.25},
     "depths": {"upstream": "2/3", "local": 0.9, "plain": [1, 2, 3, 4, 5, 6, 7, 8], "residual": [2, 4, 8],
                "block": 2}},
]


@pytest.fixture(scope="module")
def sheets() -> dict:
    return {"networks": derive_table({"sheet": {"name": "networks"}, "problem": NETWORKS}, name="networks"),
            "others": derive_table({"sheet": {"name": "others", "paper": "a4"}, "problem": OTHERS}, name="others"),
            "layers": derive_table({"sheet": {"name": "layers"}, "problem": LAYERS}, name="layers")}


def typeset_log(tex: str, workdir: Path) -> str:
    workdir.mkdir(parents=True)
    compile_in(workdir, tex, "generated")
    return (workdir / "sheet.log").read_text("latin-1")


def overfull(log: str) -> list[float]:
    return [float(v) for v in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


def scales(log: str) -> list[float]:
    """How far ``\\sdshrink`` scaled each box it had to (target width over natural width)."""
    return [float(to) / float(natural) for natural, to in re.findall(r"sdshrink: ([\d.]+)pt to ([\d.]+)pt", log)]


@NEED_TEX
@pytest.mark.parametrize("name", ["networks", "others", "layers"])
def test_generated_sheets_fit_the_page(sheets, tmp_path, name):
    for label, render in (("sheet", render_latex), ("handout", render_handout_latex)):
        log = typeset_log(render(sheets[name]), tmp_path / label)
        assert [w for w in overfull(log) if w > TOLERANCE] == [], f"{name} {label}: lines wider than the page"
        assert min(scales(log), default=1.0) >= LEAST_SCALE, f"{name} {label}: shrunk below {LEAST_SCALE}"


@NEED_MATHJAX
def test_generated_markdown_typesets_in_mathjax(sheets):
    items = []
    for sheet in sheets.values():
        for render in (render_markdown, render_handout_markdown):
            items += reference_mathjax.formulas(render(sheet))
    assert len(items) > 500
    assert reference_mathjax.typeset_errors(items) == []


def test_network_figures_have_no_overlapping_labels(sheets):
    """From the coordinates the figure emits: no two labels (values, gradients, pre-activations,
    layer heads) and no label and unit overlap, in the solution and in the handout drawing."""
    found = 0
    for problem in sheets["networks"].problems:
        math = SheetPrinter(dict(problem.notation), decimals=problem.decimals).doprint
        for fig in (f for q in problem.questions for f in q.figures if f.kind == "layered_graph"):
            for blank in (False, True):
                boxes = figures.graph_boxes(figures.graph_layout(fig, math, blank))
                clashes = [(a.text, b.text) for a, b in combinations(boxes, 2) if a.overlaps(b)]
                assert clashes == [], f"problem {problem.number}: {clashes[:3]}"
            found += 1
    assert found == len(NETWORKS)


def test_overlap_check_sees_labels_that_touch():
    a = figures.Box(0, 0, 1, 0.4, "a")
    assert a.overlaps(figures.Box(0.9, 0.3, 1, 0.4, "b")) and not a.overlaps(figures.Box(1.01, 0, 1, 0.4, "c"))


#: Words of the implementation that the prose of a sheet must not use.
ENGINE_WORDS = re.compile(r"\b(SymPy|sympy|Piecewise|rsolve|solveset|float64|numpy|lambdify)\b|\w+_\w+")


def prose_of(markdown: str) -> str:
    """Markdown without its math and its answer ids (code spans)."""
    text = re.sub(r"^\s*\$\$\n.*?\n\s*\$\$$", "", markdown, flags=re.S | re.M)
    text = re.sub(r"(?<!\\)\$(?:[^$\\]|\\.)+?(?<!\\)\$", "", text)
    return re.sub(r"`[^`]*`", "", text).replace("\\_", "_")


def test_prose_explains_mathematics_not_the_implementation(sheets, homework1):
    for problems in (sheets["others"].problems, homework1.problems[1:]):
        for problem in problems:
            text = prose_of(render_markdown(Sheet("one", "One problem", (problem,))))
            assert ENGINE_WORDS.findall(text) == [], (problem.title, ENGINE_WORDS.findall(text)[:5])
