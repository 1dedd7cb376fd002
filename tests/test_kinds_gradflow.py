"""Problem kind ``gradflow``: every gradient against autograd on real scalar networks and an exact loop."""
from __future__ import annotations

import math
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from peers import needs_torch, torch
from reference_gradflow import exact_forward_mode

from symderiv.derive import derive_sheet, parse_sheet
from symderiv.errors import SpecError
from symderiv.kinds import gradflow  # (registers the kind even when another kind loaded first)
from symderiv.render.latex import render_latex
from symderiv.spec import Fields

HOMEWORK = {
    "chain": {"upstream": 0.01, "local": [0.005, 0.1]},
    "residual": {"upstream": 0.01},
    "depths": {"upstream": 0.5, "local": 0.5, "plain": [1, 2, 3, 4, 5, 6], "residual": [2, 4, 6], "block": 2},
}


def problem(chain_up="1/100", local=("1/200", "1/10"), res_up="1/100", g="1/2", d="1/2",
            plain=(1, 2, 3), residual=(2, 4), block=2) -> dict:
    return {"chain": {"upstream": chain_up, "local": list(local)}, "residual": {"upstream": res_up},
            "depths": {"upstream": g, "local": d, "plain": list(plain), "residual": list(residual), "block": block}}


def sheet_of(*problems: dict):
    table = {"problem": [{"kind": "gradflow", **p} for p in problems]}
    return derive_sheet(parse_sheet(Fields(table, "test.toml"), "t"))


def answers(sheet) -> dict:
    return {a.id: a.value for a in sheet.answers()}


def num(value) -> Fraction:
    return Fraction(str(value))


# ------------------------------------------------------------------ independent references

class Layer:
    """A real nonlinear scalar layer whose slope at its operating point is the given local derivative.

    ``f(u) = a * g(u - u0 + c) + b`` with g one of tanh, sin, a cubic; ``a`` is chosen so
    that ``f'(u0) = slope``. Autograd differentiates the actual function, not our formula.
    """

    SHAPES = (                      # torch looked up when called: the module imports without it
        (lambda v: torch.tanh(v), lambda v: 1 - np.tanh(v) ** 2),
        (lambda v: torch.sin(v), np.cos),
        (lambda v: v ** 3 + v, lambda v: 3 * v ** 2 + 1),
    )

    def __init__(self, slope: float, at: float, rng: np.random.Generator) -> None:
        self.g, dg = self.SHAPES[int(rng.integers(len(self.SHAPES)))]
        self.c, self.b, self.at = float(rng.uniform(-0.7, 0.7)), float(rng.normal()), at
        self.a = slope / float(dg(self.c))

    def __call__(self, u):
        return self.a * self.g(u - self.at + self.c) + self.b


def _forward(layers_slopes, value, rng):
    """Build the layers along the forward pass (each one's operating point is its actual input)."""
    layers = []
    for slope in layers_slopes:
        layer = Layer(float(slope), float(value), rng)
        layers.append(layer)
        value = float(layer(torch.tensor(value, dtype=torch.float64)))
    return layers, value


def autograd_chain(upstream, local_outermost_first, residual: bool, rng) -> float:
    """dL/dx of x -> z1 -> ... -> zm, with L = upstream * (zm [+ x]) so dL/d(output) = upstream."""
    x0 = float(rng.normal())
    layers, _ = _forward(list(reversed(local_outermost_first)), x0, rng)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    z = x
    for layer in layers:
        z = layer(z)
    out = z + x if residual else z
    (float(upstream) * out).backward()
    return float(x.grad)


def autograd_residual_net(upstream, slope, depth: int, block: int, rng) -> float:
    """dL/dx of depth/block residual blocks y <- F(y) + y, F a chain of ``block`` layers of the given slope."""
    x0, plan, value = float(rng.normal()), [], None
    value = x0
    for _ in range(depth // block):
        layers, out = _forward([slope] * block, value, rng)
        plan.append(layers)
        value = out + value
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y = x
    for layers in plan:
        h = y
        for layer in layers:
            h = layer(h)
        y = h + y
    (float(upstream) * y).backward()
    return float(x.grad)


def close(got: sp.Expr, want: float) -> bool:
    return abs(float(got) - want) <= 1e-9 * max(1.0, abs(want))


# ----------------------------------------------------------------------- Q.2 to Q.4: one chain

CHAINS = [(("1/100", ("1/200", "1/10"), "1/100"))] + [
    (f"{int(r.integers(-9, 10)) or 1}/{int(r.integers(1, 9))}",
     tuple(f"{int(r.integers(-9, 10)) or 3}/{int(r.integers(1, 9))}" for _ in range(1 + seed % 5)),
     f"{int(r.integers(-9, 10)) or 2}/{int(r.integers(1, 9))}")
    for seed in range(30) for r in [np.random.default_rng(100 + seed)]]


@needs_torch
@pytest.mark.parametrize("chain_up, local, res_up", CHAINS)
def test_chain_and_residual_against_autograd(chain_up, local, res_up):
    got = answers(sheet_of(problem(chain_up, local, res_up)))
    rng = np.random.default_rng(len(local))
    plain = autograd_chain(num(chain_up), [num(v) for v in local], False, rng)
    res = autograd_chain(num(res_up), [num(v) for v in local], True, rng)
    assert close(got["1.2.dL_dx"], plain)
    assert close(got["1.3.dL_dx"], res)
    assert close(got["1.4.ratio"], res / plain)


def test_homework_chain_exact():
    got = answers(sheet_of(HOMEWORK))
    product = Fraction("0.01") * Fraction("0.005") * Fraction("0.1")
    assert got["1.2.dL_dx"] == sp.Rational(product)
    with_skip = Fraction("0.01") * (Fraction("0.005") * Fraction("0.1") + 1)
    assert got["1.3.dL_dx"] == sp.Rational(with_skip)
    assert got["1.4.ratio"] == sp.Rational(with_skip / product)


@pytest.mark.parametrize("chain_up, local, res_up, sentence", [
    ("1/100", ("2", "3"), "1/100", "residual gradient is larger"),   # 7/100 against 6/100
    ("1", ("2", "3"), "1/100", "plain gradient is larger"),          # 7/100 against 6
    ("2", ("1",), "1", "same size"),                                  # 2 against 2
])
def test_comparison_sentence_follows_the_numbers(chain_up, local, res_up, sentence):
    """The sentence and its factor, against the ratio of the two products worked out here."""
    question = sheet_of(problem(chain_up, local, res_up)).problems[0].questions[3]
    note = "".join(p for p in question.steps[0].note if isinstance(p, str))
    assert sentence in note
    product = math.prod(num(v) for v in local)
    ratio = num(res_up) * (product + 1) / (num(chain_up) * product)
    factors = [p for p in question.steps[0].note if isinstance(p, sp.Basic)]
    if sentence != "same size":
        assert factors[0] == sp.Rational(max(abs(ratio), 1 / abs(ratio)))


def test_residual_step_is_sympys_derivative():
    """The shown dy/dx is SymPy's derivative of F(x) + x, then the chain's product plus 1."""
    step = sheet_of(HOMEWORK).problems[0].questions[2].steps[0]
    x, F = sp.Symbol("x"), sp.Function("F")
    assert step.rule == sp.Derivative(F(x) + x, x)
    assert sp.simplify(step.rule.doit() - step.chain) == 0
    names = {s.name: s for s in step.expanded.free_symbols}
    assert sp.expand(step.expanded - names["dz2/dz1"] * names["dz1/dx"] - 1) == 0


# -------------------------------------------------------------------------- Q.5, Q.6: depth

DEPTH_CASES = [(d, g, block) for d in ("1/4", "1/2", "9/10", "3/2", "-1/2", "1/3", "2")
               for g in ("1/2", "-3") for block in (1, 2, 3)]


def depth_answers(d: str, g: str, block: int) -> tuple[dict, tuple[int, ...], tuple[int, ...]]:
    plain, residual = tuple(range(1, 9)), tuple(range(block, 10, block))
    return answers(sheet_of(problem(g=g, d=d, plain=plain, residual=residual, block=block))), plain, residual


@pytest.mark.parametrize("d, g, block", DEPTH_CASES)
def test_depth_closed_forms_against_exact_loops(d, g, block):
    got, plain, residual = depth_answers(d, g, block)
    for depth in plain:
        assert got[f"1.5.dL_dx_n{depth}"] == sp.Rational(exact_forward_mode(num(g), num(d), depth, None))
    for depth in residual:
        assert got[f"1.6.dL_dx_n{depth}"] == sp.Rational(exact_forward_mode(num(g), num(d), depth, block))


@needs_torch
@pytest.mark.parametrize("d, g, block", DEPTH_CASES)
def test_depth_closed_forms_against_autograd(d, g, block):
    got, plain, residual = depth_answers(d, g, block)
    rng = np.random.default_rng(block)
    for depth in plain:
        assert close(got[f"1.5.dL_dx_n{depth}"], autograd_chain(num(g), [num(d)] * depth, False, rng))
    for depth in residual:
        assert close(got[f"1.6.dL_dx_n{depth}"], autograd_residual_net(num(g), num(d), depth, block, rng))


def test_homework_depth_ids():
    got = answers(sheet_of(HOMEWORK))
    assert [k for k in got if k.startswith("1.5.")] == ["1.5.formula"] + [f"1.5.dL_dx_n{n}" for n in range(1, 7)]
    assert [k for k in got if k.startswith("1.6.")] == ["1.6.formula"] + [f"1.6.dL_dx_n{n}" for n in (2, 4, 6)]


def test_formula_answers_give_every_depth_answer():
    """The general formulas of 5.5 and 5.6, evaluated at each depth, are that depth's answers."""
    got, spec = answers(sheet_of(HOMEWORK)), HOMEWORK["depths"]
    g, d, n, m = sp.symbols("g d n m")
    for q, depths in (("1.5", spec["plain"]), ("1.6", spec["residual"])):
        formula = got[f"{q}.formula"]
        values = {s.name: s for s in formula.free_symbols}
        for depth in depths:
            at = {values["g"]: num(spec["upstream"]), values["d"]: num(spec["local"]), values["n"]: depth}
            if "m" in values:
                at[values["m"]] = spec["block"]
            assert formula.subs(at) == got[f"{q}.dL_dx_n{depth}"]


def test_comparison_table_and_figure():
    question = sheet_of(HOMEWORK).problems[0].questions[5]
    table = question.steps[-1].table
    for n, plain, res, ratio, *_ in table.rows:
        assert plain == sp.Rational(exact_forward_mode(Fraction(1, 2), Fraction(1, 2), int(n), None))
        assert res == sp.Rational(exact_forward_mode(Fraction(1, 2), Fraction(1, 2), int(n), 2))
        assert ratio == res / plain
    (figure,) = question.figures
    assert figure.kind == "line_plot" and figure.get("logy") is True
    series = dict(figure.get("series"))
    assert [n for n, _ in series["plain"]] == list(range(1, 7))
    assert [n for n, _ in series["residual"]] == [2, 4, 6]
    for name, block in (("plain", None), ("residual", 2)):
        for n, value in series[name]:
            assert value == sp.Rational(exact_forward_mode(Fraction(1, 2), Fraction(1, 2), n, block))


def test_figure_uses_a_log_axis_only_for_positive_values():
    negative = sheet_of(problem(d="-1/2", residual=(2,))).problems[0].questions[5].figures[0]
    positive = sheet_of(problem(d="1/2", residual=(2,))).problems[0].questions[5].figures[0]
    assert negative.get("logy") is False and positive.get("logy") is True


def test_decay_table_against_powers():
    """Q.1's illustration: every cell is d^k, and the last row is the limit (0 for |d| < 1)."""
    spec = problem() | {"illustration": {"local": [0.25, "3/2"], "depths": [1, 3, 7]}}
    table = sheet_of(spec).problems[0].questions[0].steps[-1].table
    for row in table.rows[:-1]:
        k = int(row[0])
        assert row[1].doit() == sp.Rational(1, 4) ** k and row[3].doit() == sp.Rational(3, 2) ** k
    assert table.rows[-1][1] == 0 and table.rows[-1][3] == sp.oo


@pytest.mark.parametrize("base", ["1/4", "-1/2", "9/10", "-99/100", "1/1000", "1", "-1", "3/2", "-2"])
def test_stated_power_limit_against_sympy_limit(base):
    """The table's last row states lim d^k = 0 for |d| < 1 instead of running sympy.limit: it must agree."""
    d = sp.Rational(base)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    assert gradflow.power_limit(d) == sp.limit(d**k, k, sp.oo)


# ------------------------------------------------------------------------------- bad input

def with_depths(**change) -> dict:
    spec = problem()
    spec["depths"] = spec["depths"] | change
    return spec


def without(part: str, field: str | None = None) -> dict:
    spec = problem()
    if field is None:
        del spec[part]
    else:
        del spec[part][field]
    return spec


BAD = [
    (with_depths(residual=[2, 3]), "depths.residual[2]", "multiple"),
    (with_depths(residual=[4], block=3), "depths.residual[1]", "multiple"),
    (with_depths(plain=[0, 1]), "depths.plain[1]", ">= 1"),
    (with_depths(plain=[-2]), "depths.plain[1]", ">= 1"),
    (with_depths(plain=[2.5]), "depths.plain[1]", "whole"),
    (with_depths(plain=[1, 1]), "depths.plain[2]", "repeated"),
    (with_depths(residual=[0]), "depths.residual[1]", ">= 1"),
    (with_depths(block=0), "depths.block", ">= 1"),
    (with_depths(block=1.5), "depths.block", "whole"),
    (with_depths(local=0), "depths.local", "nonzero"),
    (with_depths(upstream=0), "depths.upstream", "nonzero"),
    (with_depths(plain=[]), "depths.plain", "non-empty"),
    (without("depths", "block"), "depths.block", "missing"),
    (without("depths", "plain"), "depths.plain", "missing"),
    (without("depths"), "depths", "missing"),
    (without("chain"), "chain", "missing"),
    (without("chain", "local"), "chain.local", "missing"),
    (without("residual", "upstream"), "residual.upstream", "missing"),
    (problem(local=("1/2", 0)), "chain.local[2]", "nonzero"),
    (problem(chain_up=0), "chain.upstream", "nonzero"),
    (problem() | {"extra": 1}, "extra", "unknown"),
    (problem() | {"illustration": {"depths": [0]}}, "illustration.depths[1]", ">= 1"),
    (problem() | {"illustration": {"local": "x"}}, "illustration.local[1]", "number"),
    # bounds: every depth is an exact power printed in a table, and the figure evaluates up to the deepest
    (with_depths(plain=[gradflow.MAX_DEPTH + 1]), "depths.plain[1]", f"<= {gradflow.MAX_DEPTH}"),
    (with_depths(plain=[1, 100000000]), "depths.plain[2]", f"<= {gradflow.MAX_DEPTH}"),
    (with_depths(residual=[2, 10 ** 17]), "depths.residual[2]", f"<= {gradflow.MAX_DEPTH}"),
    (with_depths(block=gradflow.MAX_DEPTH + 1), "depths.block", f"{gradflow.MAX_DEPTH}"),
    (problem() | {"illustration": {"depths": [100000000]}}, "illustration.depths[1]", f"<= {gradflow.MAX_DEPTH}"),
    (with_depths(plain=list(range(1, gradflow.MAX_LISTED + 2))), "depths.plain", f"at most {gradflow.MAX_LISTED}"),
    (with_depths(local="9/10", plain=[600]), "depths.plain[1]", "digits"),
    (with_depths(local="9/10", plain=[1], residual=[2, 600]), "depths.residual[2]", "digits"),
    (problem(local=["1/2"] * (gradflow.MAX_LAYERS + 1)), "chain.local", f"at most {gradflow.MAX_LAYERS}"),
    (problem() | {"illustration": {"local": [2] * (gradflow.MAX_ILLUSTRATED + 1)}}, "illustration.local",
     f"at most {gradflow.MAX_ILLUSTRATED}"),
    (problem() | {"illustration": {"depths": list(range(1, gradflow.MAX_LISTED + 2))}}, "illustration.depths",
     f"at most {gradflow.MAX_LISTED}"),
]


@pytest.mark.parametrize("spec, field, words", BAD)
def test_bad_input_names_the_field(spec, field, words):
    with pytest.raises(SpecError) as err:
        sheet_of(spec)
    assert f"problem[1].{field}:" in str(err.value) and words in str(err.value)


def test_limits_are_allowed_and_the_figure_is_sampled():
    """The deepest allowed chains derive; the plot holds at most MAX_POINTS depths per series, the
    first and the deepest among them, each value the exact loop's."""
    top = gradflow.MAX_DEPTH
    question = sheet_of(problem(plain=(1, top), residual=(2, top), block=2)).problems[0].questions[5]
    series = dict(question.figures[0].get("series"))
    for name, first, block in (("plain", 1, None), ("residual", 2, 2)):
        depths = [n for n, _ in series[name]]
        assert len(depths) <= gradflow.MAX_POINTS and depths[0] == first and depths[-1] == top
        assert depths == sorted(set(depths))
        for n, value in series[name][::40] + series[name][-1:]:
            assert value == sp.Rational(exact_forward_mode(Fraction(1, 2), Fraction(1, 2), n, block))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_sheet_typesets(tmp_path):
    """The homework instance, a longer chain with negative slopes, and depths at the limits (numbers of
    nearly MAX_DIGITS digits) compile without a LaTeX error."""
    deep = tuple(range(gradflow.MAX_DEPTH - 2 * gradflow.MAX_LISTED + 2, gradflow.MAX_DEPTH + 1, 2))
    sheet = sheet_of(HOMEWORK, problem(local=("-2", "1/3", "5"), res_up="1", d="-3/2", plain=(1, 2, 5),
                                       residual=(3, 6), block=3),
                     problem(d="1/2", plain=deep, residual=deep, block=1))
    (tmp_path / "s.tex").write_text(render_latex(sheet), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "s.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
