"""Problem kind ``attention``: values and gradients against PyTorch (float64 SDPA and autograd), multi-head
shapes and parameters against nn.MultiheadAttention, the variance rule against sympy.stats and Monte
Carlo, the exact-or-decimal policy, carried-forward recomputation, and bad specs one line."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import reference_attention as ref
import sympy as sp
from peers import needs_torch
from spec_cases import answers_by_name, derived_problem

from symderiv.derive import derive_table
from symderiv.errors import SpecError
from symderiv.kinds import ability
from symderiv.kinds.attention.gradient import softmax_jacobian
from symderiv.kinds.attention.parse import MAX_TOKENS
from symderiv.kinds.attention.values import DIGITS, EXACT_SCORES
from symderiv.kinds.attention.variance import MU_K, MU_Q, SIGMA_K, SIGMA_Q, UNIT, dot_variance, term_variance
from symderiv.render.latex import render_latex
from symderiv.render.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = tomllib.loads((ROOT / "derivations" / "homework2.toml").read_text())
ATTENTION = next({k: v for k, v in p.items() if k not in ("kind", "title")} for p in HOMEWORK["problem"]
                 if p["kind"] == "attention")


def problem_of(spec: dict):
    return derived_problem("attention", spec)


answers = answers_by_name


def floats(m) -> np.ndarray:
    return np.array(sp.Matrix(m).evalf(30).tolist(), dtype=np.float64)


def allowed_of(spec: dict, queries: int, keys: int) -> list[list[bool]]:
    mask = spec.get("mask")
    if mask is None:
        return [[True] * keys for _ in range(queries)]
    if mask == "causal":
        return [[j <= i for j in range(keys)] for i in range(queries)]
    return [[bool(v) for v in row] for row in mask]


def qkv(spec: dict) -> tuple:
    if "Q" in spec:
        return spec["Q"], spec["K"], spec["V"]
    x = sp.Matrix(spec["X"])
    return tuple((x * sp.Matrix(spec[w])).tolist() for w in ("W_Q", "W_K", "W_V"))


def scale_of(spec: dict, d_k: int) -> float:
    return float(sp.Rational(str(spec["scale"]))) if "scale" in spec else 1 / np.sqrt(d_k)


def random_case(rng: random.Random, tokens: int, d_k: int) -> dict:
    """Small integer matrices (as a course writes them), a mask, sometimes a scale, an upstream gradient."""
    d_v = rng.randint(1, 3)
    draw = lambda rows, cols: [[rng.randint(-2, 2) for _ in range(cols)] for _ in range(rows)]  # noqa: E731
    keys = tokens + rng.choice([0, 0, 1])
    spec = {"Q": draw(tokens, d_k), "K": draw(keys, d_k), "V": draw(keys, d_v)}
    mask = rng.choice([None, "causal", "random"])
    if mask == "random":
        rows = [[rng.random() < 0.6 for _ in range(keys)] for _ in range(tokens)]
        spec["mask"] = [row if any(row) else [True] + row[1:] for row in rows]
    elif mask == "causal":
        spec["mask"] = "causal"
    if rng.random() < 0.3:
        spec["scale"] = 0.5
    spec["gradient"] = {"upstream": draw(tokens, d_v)}
    return spec


CASES = [ATTENTION] + [random_case(random.Random(seed), tokens, d_k)
                       for seed, (tokens, d_k) in enumerate([(2, 2), (3, 2), (3, 4), (4, 3), (5, 2), (6, 3)])]
PROJECTED = {"X": [[1, 0, 2], [0, 1, -1], [1, 1, 0], [2, 0, 1]], "W_Q": [[1, 0], [0, 1], [1, 1]],
             "W_K": [[0, 1], [1, 0], [1, -1]], "W_V": [[1], [2], [0]], "mask": "causal", "gradient": {"loss": "sum"}}


# --- against PyTorch ------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("spec", CASES + [PROJECTED], ids=[f"case{i}" for i in range(len(CASES))] + ["projected"])
def test_forward_and_gradient_match_torch(spec):
    found = answers(problem_of(spec))
    q, k, v = qkv(spec)
    allowed = allowed_of(spec, len(q), len(k))
    scale = scale_of(spec, len(q[0]))
    upstream = spec["gradient"].get("upstream") or [[1] * len(v[0]) for _ in q]
    out, dq, dk, dv = ref.sdpa(q, k, v, allowed, scale, upstream)
    np.testing.assert_allclose(floats(found["weights"]), ref.weights(q, k, allowed, scale), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(floats(found["output"]), out, rtol=1e-12, atol=1e-14)
    for name, expected in (("dL_dQ", dq), ("dL_dK", dk), ("dL_dV", dv)):
        np.testing.assert_allclose(floats(found[name]), expected, rtol=1e-10, atol=1e-12, err_msg=name)


@needs_torch
def test_projections_are_x_times_w():
    found = answers(problem_of(PROJECTED))
    for name, w in (("Q", "W_Q"), ("K", "W_K"), ("V", "W_V")):
        assert found[name] == sp.Matrix(PROJECTED["X"]) * sp.Matrix(PROJECTED[w])


@needs_torch
@pytest.mark.parametrize("settings", [{"embed_dim": 512, "num_heads": 8},
                                      {"embed_dim": 12, "num_heads": 3, "bias": False},
                                      {"embed_dim": 8, "num_heads": 2, "kdim": 4, "vdim": 6, "length": 3,
                                       "source_length": 5, "batch": 2}])
def test_multi_head_shapes_and_parameters_match_torch(settings):
    settings = {"length": 10, **settings}
    found = answers(problem_of({**ATTENTION, "heads": settings}))
    params, out_shape, attn_shape, head = ref.mha(**settings)
    assert found["params"] == params and found["head_dim"] == head
    assert tuple(found["output_shape"]) == out_shape and tuple(found["scores_shape"]) == attn_shape
    assert tuple(found["q_heads_shape"]) == attn_shape[:3] + (head,)
    names = {s.name: s for s in found["params_formula"].free_symbols}
    values = {names["E"]: settings["embed_dim"]} | ({names["k_dim"]: settings["kdim"], names["v_dim"]: settings["vdim"]}
                                                     if "kdim" in settings else {})
    assert found["params_formula"].subs(values) == params


@needs_torch
def test_softmax_jacobian_against_autograd():
    """The derived da_1/ds_1 = a_1 (1 - a_1) and da_1/ds_2 = -a_1 a_2, at a point, against autograd."""
    import torch

    s = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64, requires_grad=True)
    a = torch.softmax(s, dim=0)
    a[0].backward()
    own, other = softmax_jacobian()
    weights = {entry: float(a.detach()[int(entry.indices[0]) - 1]) for entry in (own * other).atoms(sp.Indexed)}
    assert float(own.subs(weights)) == pytest.approx(float(s.grad[0]), rel=1e-12)
    assert float(other.subs(weights)) == pytest.approx(float(s.grad[1]), rel=1e-12)


# --- the variance argument ------------------------------------------------------------------

def test_variance_rule_against_sympy_stats():
    """The stated rule (sigma_q^2 + mu_q^2)(sigma_k^2 + mu_k^2) - mu_q^2 mu_k^2 against sympy.stats on
    uniform entries with nonzero means, and the unit case against standard normals."""
    from sympy.stats import Normal, Uniform, variance

    q, k = Uniform("q", 0, 2), Uniform("k", 1, 4)
    rule = term_variance().subs({MU_Q: 1, MU_K: sp.Rational(5, 2), SIGMA_Q: 1 / sp.sqrt(3), SIGMA_K: sp.sqrt(3) / 2})
    assert sp.simplify(rule - variance(q * k)) == 0
    assert variance(Normal("q", 0, 1) * Normal("k", 0, 1)) == term_variance().subs(UNIT) == 1
    assert dot_variance() == sp.Symbol("d_k", integer=True, positive=True)


def test_variance_of_the_dot_product_by_monte_carlo():
    """Var(q . k) = d_k for d_k = 16, within five standard errors of a 200000-sample estimate."""
    estimate, error = ref.dot_variance_sampled(16, 200_000)
    assert abs(estimate - 16) < 5 * error


def test_std_answer_and_table():
    problem = problem_of(ATTENTION)
    found = answers(problem)
    assert found["std"] == 2 and found["scaled_variance"] == 1
    table = problem.questions[1].steps[-1].table
    d_k, slope = table.rows[-1][0], table.rows[-1][3]
    assert d_k == 1024 and float(slope) == pytest.approx(np.exp(-32) / (1 + np.exp(-32)) ** 2, rel=1e-3)


# --- exact or decimal -----------------------------------------------------------------------

def test_homework_stays_exact():
    found = answers(problem_of(ATTENTION))
    for name in ("weights", "output", "dL_dS", "dL_dQ", "dL_dK", "dL_dV"):
        assert not found[name].atoms(sp.Float), name
    assert found["weights"][2, 0] == sp.E / (sp.E + 2 * sp.exp(sp.Rational(1, 2)))


def test_large_cases_are_decimals_with_thirty_digits():
    spec = random_case(random.Random(7), 5, 3)
    assert 5 * len(spec["K"]) > EXACT_SCORES
    found = answers(problem_of(spec))
    floats_ = found["weights"].atoms(sp.Float)
    assert floats_ and all(f._prec >= sp.Float(1, DIGITS)._prec for f in floats_)


def test_rows_of_the_weights_sum_to_one_exactly_or_to_thirty_digits():
    for spec in CASES:
        weights = answers(problem_of(spec))["weights"]
        for i in range(weights.rows):
            assert abs(sp.N(sum(weights.row(i)) - 1, 40)) < 1e-28


# --- grading: errors carried forward --------------------------------------------------------

@needs_torch
def test_recompute_from_pinned_scores_is_their_softmax():
    problem = problem_of(ATTENTION)
    pinned = sp.Matrix([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    again = ability(problem, "recompute")(problem, {"1.1.scores": pinned})
    allowed = allowed_of(ATTENTION, 3, 3)
    expected = ref.weights([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.eye(3).tolist(), allowed, 1.0)
    np.testing.assert_allclose(floats(again["1.1.weights"]), expected, rtol=1e-12)
    assert again["1.4.params"] == answers(problem)["params"]


def test_recompute_with_the_keys_own_values_reproduces_the_key():
    """Pinning the key's own weights recomputes everything after them to the key's values."""
    problem = problem_of(ATTENTION)
    key = {a.id: a.value for q in problem.questions for a in q.answers}
    again = ability(problem, "recompute")(problem, {"1.1.weights": key["1.1.weights"]})
    for i in ("1.1.output", "1.3.dL_dV", "1.3.dL_dS", "1.3.dL_dQ", "1.3.dL_dK"):
        assert max(abs(sp.N(e, 40)) for e in again[i] - key[i]) < 1e-25, i


# --- the sheet ------------------------------------------------------------------------------

def test_verify_hook_agrees_and_can_fail():
    for spec in CASES + [PROJECTED]:
        problem = problem_of(spec)
        result = ability(problem, "verify")(problem)
        assert result.ok, [c for c in result.checks if not c.ok]
    from dataclasses import replace

    problem = problem_of(ATTENTION)
    values = dict(problem.data.values)
    values["dL_dQ"] = values["dL_dQ"] * 2
    broken = replace(problem, data=replace(problem.data, values=values))
    assert [c.name for c in ability(problem, "verify")(broken).checks if not c.ok] == ["dL/dQ"]


def test_question_numbering_follows_the_tables():
    plain = {k: v for k, v in ATTENTION.items() if k not in ("gradient", "heads")}
    assert [q.title for q in problem_of(plain).questions] == ["Scaled dot-product attention",
                                                              "Why the scores are scaled"]
    only_heads = {**plain, "heads": ATTENTION["heads"]}
    assert "3.head_dim" in {a.id.split(".", 1)[1] for q in problem_of(only_heads).questions for a in q.answers}


def test_sheet_prints_and_is_deterministic():
    sheet = derive_table({"problem": [{"kind": "attention", **ATTENTION}]})
    tex = render_latex(sheet)
    assert tex == render_latex(derive_table({"problem": [{"kind": "attention", **ATTENTION}]}))
    text = tex + render_markdown(sheet)
    for word in ("SymPy", "sympy", "embed_dim", "num_heads", "batch_first", "None"):
        assert word not in text, word


def test_weights_figure_is_a_heat_map():
    from symderiv.render import figures

    figure = problem_of(ATTENTION).questions[0].figures[0]
    tikz, text = figures.render(figure, sp.latex), figures.describe(figure, sp.latex)
    assert tikz.count("black!35") == 3 and text.count("| masked") == 3    # the causal mask hides 3 of 9


def test_formula_answers_become_kernels():
    from symderiv.kernels import compile_kernels

    kernels = compile_kernels(derive_table({"problem": [{"kind": "attention", **ATTENTION}]}))
    assert kernels["problem1_params_formula"](E=512) == 4 * 512**2 + 4 * 512
    assert kernels["problem1_variance"](d_k=64) == 64


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX not installed")
def test_homework_problem_typesets_within_the_page(tmp_path):
    """Homework 2's attention problem as a PDF: no line more than 5pt wider than the text (figures included)."""
    from symderiv.render import pdf

    sheet = derive_table({"problem": [{"kind": "attention", **ATTENTION}]})
    pdf.compile_in(tmp_path, render_latex(sheet), "attention")
    log = (tmp_path / f"{pdf.JOB}.log").read_text("latin-1")
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) < 5.0, overfull


# --- bad input ------------------------------------------------------------------------------

BASE = {"Q": [[1, 0], [0, 1]], "K": [[1, 0], [0, 1], [1, 1]], "V": [[1], [2], [3]]}

BAD = [
    ({**BASE, "K": [[1, 0, 0]]}, "K", "has 3 columns, but must have 2 (as many as Q"),
    ({**BASE, "V": [[1], [2]]}, "V", "has 2 rows, but must have 3"),
    ({"Q": BASE["Q"], "K": BASE["K"]}, "V", "give Q, K and V"),
    ({**BASE, "X": [[1]]}, "Q", "not both"),
    ({"X": [[1, 2]], "W_Q": [[1], [1]], "W_K": [[1, 2], [1, 0]], "W_V": [[1], [1]]}, "W_K", "as many as W_Q"),
    ({"X": [[1, 2]], "W_Q": [[1], [1], [0]], "W_K": [[1], [1]], "W_V": [[1], [1]]}, "W_Q", "one per column of X"),
    ({**BASE, "mask": [[1, 0, 1]]}, "mask", "2 x 3 table"),
    ({**BASE, "mask": [[1, 0], [1, 1]]}, "mask", "2 x 3 table"),
    ({**BASE, "mask": [[1, 0, 1], [0, 0, 0]]}, "mask[2]", "masks every key"),
    ({**BASE, "mask": [[1, 0, 2], [1, 1, 1]]}, "mask[1][3]", "true/false"),
    ({**BASE, "mask": "future"}, "mask", "causal"),
    ({**BASE, "scale": 0}, "scale", "> 0"),
    ({**BASE, "scale": "1/sqrt(2)"}, "scale", "expected a number"),
    ({**BASE, "gradient": {"upstream": [[1, 2], [3, 4]]}}, "gradient.upstream", "the output's shape, 2 x 1"),
    ({**BASE, "gradient": {"upstream": [[1], [2]], "loss": "sum"}}, "gradient.upstream", "either"),
    ({**BASE, "gradient": {"loss": "mean"}}, "gradient.loss", "unknown value"),
    ({**BASE, "heads": {"embed_dim": 10, "num_heads": 3}}, "heads.num_heads", "do not divide"),
    ({**BASE, "heads": {"embed_dim": 8, "num_heads": 2, "bias": "yes"}}, "heads.bias", "true or false"),
    ({**BASE, "heads": {"embed_dim": 0, "num_heads": 1}}, "heads.embed_dim", ">= 1"),
    ({**BASE, "Q": [[1, 0]] * (MAX_TOKENS + 1)}, "Q", f"at most {MAX_TOKENS} rows"),
    ({**BASE, "Q": [[1, "a"], [0, 1]]}, "Q[1][2]", "expected a number"),
    ({**BASE, "temperature": 2}, "temperature", "unknown field"),
]


@pytest.mark.parametrize("spec,field,words", BAD, ids=[f"{b[1]}:{b[2]}" for b in BAD])
def test_bad_input_names_the_field(spec, field, words):
    with pytest.raises(SpecError) as info:
        problem_of(spec)
    assert info.value.field == f"problem[1].{field}", str(info.value)
    assert words in info.value.problem, str(info.value)


def test_cli_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[problem]]\nkind = "attention"\nQ = [[1, 0]]\nK = [[1, 0], [0, 1]]\nV = [[1], [2]]\n'
                    'mask = [[false, false]]\n')
    out = subprocess.run([sys.executable, "-m", "symderiv", "key", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "problem[1].mask[1]" in out.stderr
