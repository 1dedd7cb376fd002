"""Problem kind ``architecture``: shapes, parameters and FLOPs against PyTorch modules, receptive
fields against autograd and tap enumeration, formulas against brute force, bad specs one line."""
from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
import reference_architecture as ref
import sympy as sp
from peers import needs_torch
from spec_cases import answers_by_name, derived_problem

from symderiv.derive import derive_table
from symderiv.errors import SpecError
from symderiv.kinds import ability
from symderiv.kinds.architecture.parse import MAX_LAYERS
from symderiv.render.latex import render_latex
from symderiv.render.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = tomllib.loads((ROOT / "derivations" / "homework2.toml").read_text())
NETWORK = next({k: v for k, v in p.items() if k not in ("kind", "title")} for p in HOMEWORK["problem"]
               if p["kind"] == "architecture")


def problem_of(spec: dict):
    return derived_problem("architecture", spec)


answers = answers_by_name


def flat(shape) -> tuple[int, ...]:
    return tuple(int(v) for v in shape)


def random_stack(rng: random.Random) -> dict:
    """A stack a course might draw: conv/pool/norm/activation layers, maybe a residual add, then a classifier."""
    side = rng.choice([7, 8, 11, 16])
    layers = []
    for _ in range(rng.randint(2, 6)):
        kind = rng.choice(["conv2d", "conv2d", "maxpool2d", "avgpool2d", "batchnorm2d", "relu", "add"])
        if kind == "conv2d":
            k, d = rng.choice([1, 2, 3, 5]), rng.choice([1, 1, 2])
            layer = {"type": kind, "out_channels": rng.choice([2, 4, 6]), "kernel_size": k,
                     "stride": rng.choice([1, 2]), "padding": rng.randint(0, 2), "dilation": d,
                     "groups": rng.choice([1, 2]),
                     "bias": rng.random() < 0.7}
        elif kind in ("maxpool2d", "avgpool2d"):
            k = rng.choice([2, 3])
            layer = {"type": kind, "kernel_size": k, "stride": rng.choice([1, 2]), "padding": rng.randint(0, k // 2)}
        elif kind == "add":
            layer = {"type": "add", "from": rng.randint(0, len(layers))}
        else:
            layer = {"type": kind}
        layers.append(layer)
    layers += [{"type": "flatten"}, {"type": "linear", "out_features": 3}]
    return {"input": [2, side, side], "layer": layers}


def valid_stacks(count: int, seed: int = 1) -> list[dict]:
    """``count`` random stacks that parse (the others are bad input by design: shapes, groups, jumps)."""
    rng, out = random.Random(seed), []
    while len(out) < count:
        spec = random_stack(rng)
        try:
            problem_of(spec)
        except SpecError:
            continue
        out.append(spec)
    return out


STACKS = [NETWORK] + valid_stacks(12)


# --- against PyTorch ------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("spec", STACKS, ids=[f"stack{i}" for i in range(len(STACKS))])
def test_shapes_and_parameters_match_torch_modules(spec):
    found = answers(problem_of(spec))
    for index, (shape, params) in enumerate(ref.shapes_and_params(spec), start=1):
        assert flat(found[f"shape{index}"]) == shape, index
        assert found[f"params{index}"] == params, index
    assert found["params_total"] == sum(p for _, p in ref.shapes_and_params(spec))


@needs_torch
@pytest.mark.parametrize("spec", STACKS[:6], ids=[f"stack{i}" for i in range(6)])
def test_macs_are_half_the_flops_torch_counts(spec):
    """FlopCounterMode counts 2 FLOPs per multiply-accumulate of a conv or linear layer, 0 for the others."""
    found = answers(problem_of(spec))
    counted = ref.flops(spec)
    assert [found[f"macs{i}"] * 2 for i in range(1, len(counted) + 1)] == counted
    assert found["macs_total"] * 2 == sum(counted)


@needs_torch
def test_batch_scales_macs_and_memory_but_not_parameters():
    spec = {**NETWORK, "batch": 4, "dtype": "float16"}
    found, single = answers(problem_of(spec)), answers(problem_of(NETWORK))
    assert found["macs_total"] * 2 == sum(ref.flops(spec, batch=4))
    assert found["params_total"] == single["params_total"]
    assert found["memory_total"] == single["memory_total"] * 4 // 2     # 4 examples, 2 bytes instead of 4


def test_memory_is_entries_times_bytes():
    found = answers(problem_of(NETWORK))
    shapes = [flat(found[f"shape{i}"]) for i in range(1, len(NETWORK["layer"]) + 1)]
    sizes = [int(sp.prod(s)) * 4 for s in shapes]
    assert [found[f"memory{i}"] for i in range(1, len(sizes) + 1)] == sizes
    assert found["memory_total"] == sum(sizes)


# --- receptive fields -----------------------------------------------------------------------

def reaches(problem):
    return problem.data.reaches


def spatial_layers(spec: dict) -> list[int]:
    problem = problem_of(spec)
    return [layer.index for layer in problem.data.layers if reaches(problem)[layer.index] is not None]


@pytest.mark.parametrize("spec", STACKS, ids=[f"stack{i}" for i in range(len(STACKS))])
def test_receptive_field_interval_matches_tap_enumeration(spec):
    """The recurrence's window of every position equals the span of the taps composed back to the input."""
    problem = problem_of(spec)
    for index in spatial_layers(spec):
        layer = problem.data.layers[index - 1]
        for axis in (0, 1):
            reach = reaches(problem)[index][axis]
            for position in {0, layer.shape[1 + axis] - 1}:
                pixels = ref.taps(spec, index, axis, position)
                assert reach.at(position) == (min(pixels), max(pixels)), (index, axis, position)
                assert reach.size == max(pixels) - min(pixels) + 1


@needs_torch
@pytest.mark.parametrize("spec", STACKS[:5], ids=[f"stack{i}" for i in range(5)])
def test_receptive_field_is_what_autograd_sees(spec):
    """For the centre pixel of every spatial layer, the input pixels with a nonzero gradient are
    exactly the composed taps that fall inside the input; where the window lies inside the input
    their span is the receptive field r of the sheet."""
    problem = problem_of(spec)
    found = answers(problem)
    side = spec["input"][1]
    stack = ref.field_stack(spec)
    for index in spatial_layers(spec):
        layer = problem.data.layers[index - 1]
        row, col = (layer.shape[1] - 1) // 2, (layer.shape[2] - 1) // 2
        rows, cols = ref.receptive_pixels(stack, index, row, col)
        assert rows == {t for t in ref.taps(spec, index, 0, row) if 0 <= t < side}, index
        assert cols == {t for t in ref.taps(spec, index, 1, col) if 0 <= t < side}, index
        lo, hi = reaches(problem)[index][0].at(row)
        if 0 <= lo and hi < side:
            assert max(rows) - min(rows) + 1 == found[f"rf{index}"], index


@needs_torch
def test_homework_receptive_fields_by_autograd():
    """Homework 2: conv4's centre pixel sees the 26-pixel window the sheet derives (clipped to the input)."""
    problem = problem_of(NETWORK)
    found = answers(problem)
    rows, _ = ref.receptive_pixels(ref.field_stack(NETWORK), 9, 1, 1)
    lo, hi = reaches(problem)[9][0].at(1)
    assert (hi - lo + 1, found["rf9"], found["jump9"]) == (26, 26, 8)
    assert rows == set(range(max(lo, 0), min(hi, 31) + 1))


def test_dilation_leaves_holes_but_not_in_the_span():
    """One dilated conv: r counts the span d(k - 1) + 1, though only k pixels contribute."""
    spec = {"input": [1, 9, 9], "layer": [{"type": "conv2d", "out_channels": 1, "kernel_size": 3, "dilation": 2}]}
    found = answers(problem_of(spec))
    assert found["rf1"] == 5 and ref.taps(spec, 1, 0, 0) == {0, 2, 4}


def test_recurrence_formula_reproduces_every_layer():
    """r_l = r_(l-1) + d (k - 1) j_(l-1), j_l = j_(l-1) s: the formula answers, evaluated layer by layer."""
    problem = problem_of(NETWORK)
    found = answers(problem)
    rule, jump = found["rf_rule"], found["jump_rule"]
    names = {s.name: s for s in rule.free_symbols | jump.free_symbols}
    r, j = 1, 1
    for layer in problem.data.layers:
        if reaches(problem)[layer.index] is None:
            break
        if layer.axes is not None:
            a = layer.axes[0]
            values = {names["r_prev"]: r, names["j_prev"]: j, names["d"]: a.d, names["k"]: a.k, names["s"]: a.s}
            r, j = int(rule.subs(values)), int(jump.subs(values))
        elif layer.spec.source is not None:
            r = max(r, found.get(f"rf{layer.spec.source}", 1))
        assert (r, j) == (found[f"rf{layer.index}"], found[f"jump{layer.index}"]), layer.index


# --- formulas against brute force -----------------------------------------------------------

def test_size_formula_counts_window_positions():
    formula = answers(problem_of(NETWORK))["size"]
    names = {s.name: s for s in formula.free_symbols}
    for n, k, s, p, d in itertools.product(range(1, 10), range(1, 4), range(1, 4), range(3), range(1, 3)):
        if d * (k - 1) + 1 <= n + 2 * p:
            starts = [t for t in range(0, n + 2 * p, s) if t + d * (k - 1) < n + 2 * p]
            value = formula.subs({names["H_in"]: n, names["k"]: k, names["s"]: s, names["p"]: p, names["d"]: d})
            assert value == len(starts), (n, k, s, p, d)


@needs_torch
def test_parameter_formulas_against_torch():
    import torch.nn as nn

    found = answers(problem_of(NETWORK))
    conv, linear = found["params_conv2d"], found["params_linear"]
    names = {s.name: s for s in conv.free_symbols | linear.free_symbols}
    for c_in, c_out, g, kh, kw in [(4, 6, 2, 3, 1), (8, 8, 8, 3, 3), (3, 16, 1, 5, 5)]:
        module = nn.Conv2d(c_in, c_out, (kh, kw), groups=g)
        values = {names["C_in"]: c_in, names["C_out"]: c_out, names["g"]: g, names["k_h"]: kh, names["k_w"]: kw}
        assert conv.subs(values) == sum(p.numel() for p in module.parameters())
    assert linear.subs({names["F_in"]: 7, names["F_out"]: 3}) == sum(p.numel() for p in nn.Linear(7, 3).parameters())


def test_formula_answers_become_kernels():
    from symderiv.kernels import compile_kernels

    kernels = compile_kernels(derive_table({"problem": [{"kind": "architecture", **NETWORK}]}))
    assert kernels["problem1_params_conv2d"](C_in=16, C_out=32, g=4, k_h=3, k_w=3) == 32 * 4 * 9 + 32
    assert kernels["problem1_size"](H_in=32, p=1, d=1, k=3, s=2) == 16
    assert kernels["problem1_rf_rule"](r_prev=3, j_prev=2, d=2, k=3) == 11


# --- the sheet ------------------------------------------------------------------------------

def test_verify_hook_agrees():
    for spec in STACKS:
        result = ability(problem_of(spec), "verify")(problem_of(spec))
        assert result.ok and len(result.checks) > 3, [c for c in result.checks if not c.ok]


def test_verify_hook_can_fail():
    """A stack with one wrong output size (as a slip in the formula would give) fails its check."""
    problem = problem_of(NETWORK)
    first = problem.data.layers[0]
    broken = replace(first, shape=(first.shape[0], first.shape[1] + 1, first.shape[2]))
    spec = replace(problem.data, layers=(broken,) + problem.data.layers[1:])
    result = ability(problem, "verify")(replace(problem, data=spec))
    assert [c.name for c in result.checks if not c.ok] == ["layer 1 output size"]


def test_sheet_prints_and_is_deterministic():
    sheet = derive_table({"problem": [{"kind": "architecture", **NETWORK}]})
    tex, again = render_latex(sheet), render_latex(derive_table({"problem": [{"kind": "architecture", **NETWORK}]}))
    assert tex == again and "receptive" in tex.lower()
    text = tex + render_markdown(sheet)
    for word in ("SymPy", "sympy", "out_channels", "kernel_size", "None"):
        assert word not in text, word


def test_summary_table_holds_the_answers():
    problem = problem_of(NETWORK)
    table = problem.questions[-1].steps[0].table
    found = answers(problem)
    assert [row[3] for row in table.rows[:-1]] == [found[f"params{i}"] for i in range(1, len(NETWORK["layer"]) + 1)]
    assert table.rows[-1][3] == found["params_total"]


def test_receptive_field_figure_draws_every_changing_layer():
    from symderiv.render import figures

    question = problem_of(NETWORK).questions[4]
    figure = question.figures[0]
    tikz, text = figures.render(figure, sp.latex), figures.describe(figure, sp.latex)
    assert tikz.count("very thick") == len(figure.get("layers")) == 6
    assert "layer 9 (conv4)" in text and "r = 26" in tikz


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX not installed")
def test_homework_problem_typesets_within_the_page(tmp_path):
    """Homework 2's architecture problem as a PDF: no line more than 5pt wider than the text (figures included)."""
    from symderiv.render import pdf

    sheet = derive_table({"problem": [{"kind": "architecture", **NETWORK}]})
    pdf.compile_in(tmp_path, render_latex(sheet), "architecture")
    log = (tmp_path / f"{pdf.JOB}.log").read_text("latin-1")
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) < 5.0, overfull


# --- bad input ------------------------------------------------------------------------------

def stack(*layers, **top) -> dict:
    return {"input": [3, 8, 8], "layer": list(layers), **top}


CONV = {"type": "conv2d", "out_channels": 4, "kernel_size": 3}

BAD = [
    (stack({"type": "conv2d", "out_channels": 4, "kernel_size": 9}), "layer[1].kernel_size", "does not fit"),
    (stack({**CONV, "dilation": 4}), "layer[1].kernel_size", "does not fit"),
    (stack({**CONV, "groups": 2}), "layer[1].groups", "do not divide in_channels = 3"),
    (stack({**CONV, "out_channels": 3, "in_channels": 3}, {**CONV, "groups": 2}), "layer[2].groups",
     "do not divide in_channels = 3"),
    (stack({**CONV, "in_channels": 4}), "layer[1].in_channels", "has 3 channels"),
    (stack(CONV, {"type": "add", "from": 0}), "layer[2].from", "needs equal shapes"),
    (stack({**CONV, "padding": 1, "stride": 2}, {**CONV, "padding": 1}, {"type": "add", "from": 1},
           {"type": "add", "from": 0}), "layer[4].from", "equal shapes"),
    (stack({"type": "add", "from": 2}), "layer[1].from", "<= 0"),
    (stack({"type": "add", "from": "nope"}), "layer[1].from", "no earlier layer"),
    (stack({"type": "linear", "out_features": 3}), "layer[1].type", "flatten"),
    (stack({"type": "flatten"}, CONV), "layer[2].type", "needs a C x H x W input"),
    (stack({"type": "dense"}), "layer[1].type", "PyTorch's name: linear"),
    (stack({"type": "maxpool2d", "kernel_size": 2, "padding": 2}), "layer[1].padding", "half the window"),
    (stack({**CONV, "padding": "same", "stride": 2}), "layer[1].padding", "stride 1"),
    (stack({**CONV, "padding": "full"}), "layer[1].padding", "expected"),
    (stack({**CONV, "bias": 1}), "layer[1].bias", "true or false"),
    (stack({**CONV, "colour": 1}), "layer[1].colour", "unknown field"),
    (stack({**CONV, "name": "x y"}), "layer[1].name", "letter"),
    (stack({**CONV, "name": "c"}, {**CONV, "name": "c"}), "layer[2].name", "already used"),
    (stack(CONV, dtype="float8"), "dtype", "unknown value"),
    (stack(CONV, batch=0), "batch", ">= 1"),
    ({"input": [3, 8], "layer": [CONV]}, "input", "[channels, height, width]"),
    ({"input": [3, 8, 0], "layer": [CONV]}, "input[3]", ">= 1"),
    (stack(*[{"type": "relu"}] * (MAX_LAYERS + 1)), "layer", f"at most {MAX_LAYERS}"),
    # positions that do not line up: a 4 x 4 map one pixel apart plus a padded stride-2 one of the same size
    ({"input": [1, 8, 8], "layer": [{"type": "conv2d", "out_channels": 1, "kernel_size": 5, "name": "a"},
                                    {"type": "conv2d", "out_channels": 1, "kernel_size": 1, "stride": 2, "padding": 2},
                                    {"type": "add", "from": "a"}]}, "layer[3].from", "different jumps"),
]


@pytest.mark.parametrize("spec,field,words", BAD, ids=[f"{b[1]}:{b[2]}" for b in BAD])
def test_bad_input_names_the_field(spec, field, words):
    with pytest.raises(SpecError) as info:
        problem_of(spec)
    assert info.value.field == f"problem[1].{field}", str(info.value)
    assert words in info.value.problem, str(info.value)


def test_cli_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[problem]]\nkind = "architecture"\ninput = [3, 8, 8]\n[[problem.layer]]\ntype = "conv2d"\n'
                    'out_channels = 4\nkernel_size = 3\ngroups = 2\n')
    out = subprocess.run([sys.executable, "-m", "symderiv", "key", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "problem[1].layer[1].groups" in out.stderr
