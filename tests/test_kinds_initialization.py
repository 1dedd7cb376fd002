"""Problem kind ``initialization``: every derived variance against Monte Carlo on random layers
(seeded, within 5 standard errors computed from the trials), the gains against quadrature, and bad
specs against one-line errors naming the field."""
from __future__ import annotations

import functools
import math
import re

import mpmath
import numpy as np
import pytest
import reference_initialization as mc
import sympy as sp
from spec_cases import assert_names_the_field, cases

from symderiv.derive import derive_table
from symderiv.kernels import compile_kernels
from symderiv.kinds import ability
from symderiv.kinds.initialization import MAX_DEPTH
from symderiv.render.markdown import render_markdown


@functools.cache
def sheet(activation="relu", fan_in=256, fan_out=128, stack=None):
    problem = {"kind": "initialization", "activation": activation, "fan_in": fan_in, "fan_out": fan_out}
    if stack is not None:
        problem["stack"] = dict(stack)
    return derive_table({"problem": [problem]})


def value(s, answer_id) -> float:
    return float(s.answer(answer_id).value)


def precise(est: mc.Estimate, value_: float, share: float = 0.03) -> None:
    """The estimate agrees within 5 standard errors, and is precise enough for that to mean something."""
    assert est.stderr < share * abs(value_), f"Monte Carlo too noisy to decide: {est}"
    assert est.agrees(value_), f"derived {value_}, Monte Carlo {est.mean} +- {est.stderr}"


# --- Monte Carlo -------------------------------------------------------------------------------

ACTS = ["linear", "tanh", "relu"]


@pytest.mark.parametrize("act", ACTS)
def test_the_forward_scale_keeps_the_variance(act):
    s = sheet(act, 200, 50)
    z_var = 1e-4 if act == "tanh" else 1.0            # tanh: its linear regime
    est = mc.forward_ratio(act, 200, 50, value(s, "1.2.sigma2"), z_var)
    precise(est, 1.0)
    assert value(s, "1.2.sigma") == pytest.approx(math.sqrt(value(s, "1.2.sigma2")))


def test_tanh_outside_its_linear_regime_loses_variance():
    """The derivation is for small pre-activations: at unit variance tanh's gain is far below 1."""
    est = mc.forward_ratio("tanh", 200, 50, value(sheet("tanh", 200, 50), "1.2.sigma2"), 1.0)
    assert est.mean < 0.5 and est.agrees(est.mean)


@pytest.mark.parametrize("act", ACTS)
def test_the_backward_scale_keeps_the_gradient_variance(act):
    s = sheet(act, 50, 200)
    if act == "tanh":      # near 0 tanh' is 1: the linear regime is the linear unit's derivative
        act = "linear"
    precise(mc.backward_ratio(act, 50, 200, value(s, "1.3.sigma2")), 1.0)


@pytest.mark.parametrize("act", ["linear", "relu"])
def test_the_compromise_factors_match_monte_carlo(act):
    s = sheet(act, 256, 128)
    variance = value(s, "1.4.sigma2")
    precise(mc.forward_ratio(act, 256, 128, variance), value(s, "1.4.forward_factor"))
    precise(mc.backward_ratio(act, 256, 128, variance), value(s, "1.4.backward_factor"))
    if act == "linear":
        assert variance == pytest.approx(2 / (256 + 128))      # Glorot's published scale, as a sanity anchor


def test_the_uniform_bound_gives_the_variance():
    s = sheet("linear", 300, 100)
    precise(mc.uniform_variance(value(s, "1.4.bound")), value(s, "1.4.sigma2"), share=0.01)


STACKS = [
    ("relu", {"width": 64, "depth": 6, "weight_variance": "lecun", "input_variance": 2}),
    ("relu", {"width": 64, "depth": 6, "weight_variance": "he", "input_variance": 1}),
    ("linear", {"width": 48, "depth": 5, "weight_std": 0.16, "input_variance": 0.5}),
    ("tanh", {"width": 64, "depth": 4, "weight_variance": "xavier", "input_variance": 0.0001}),
]


@pytest.mark.parametrize("act,stack", STACKS, ids=[f"{a}-{s.get('weight_variance', 'std')}" for a, s in STACKS])
def test_the_stack_matches_monte_carlo(act, stack):
    s = sheet(act, 10, 10, tuple(stack.items()))
    variance = value(s, "1.5.factor") / ({"relu": 0.5}.get(act, 1.0) * stack["width"])
    last, pre = mc.stack(act, stack["width"], stack["depth"], variance, stack["input_variance"])
    precise(last, value(s, "1.5.second_moment"), share=0.05)
    precise(pre, value(s, "1.5.var_z"), share=0.05)


# --- independent checks of the derivation ----------------------------------------------------------


def test_the_gains_agree_with_quadrature():
    """ReLU's gains as numeric integrals over the standard normal density (mpmath's quadrature)."""
    density = lambda t: mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
    relu_forward = float(mpmath.quad(lambda t: t * t * density(t), [0, mpmath.inf]))
    relu_backward = float(mpmath.quad(density, [0, mpmath.inf]))
    assert value(sheet("relu"), "1.1.gain") == pytest.approx(relu_forward, rel=1e-12)
    assert value(sheet("relu"), "1.3.gain") == pytest.approx(relu_backward, rel=1e-12)
    h = 1e-4
    tanh_slope = (math.tanh(h) - math.tanh(-h)) / (2 * h)
    assert value(sheet("tanh"), "1.3.gain") == pytest.approx(tanh_slope ** 2, rel=1e-7)
    assert value(sheet("tanh"), "1.1.gain") == pytest.approx(math.tanh(h) ** 2 / h ** 2, rel=1e-7)


def test_the_formula_in_k_is_a_kernel_and_agrees_with_the_number():
    stack = {"width": 100, "depth": 12, "weight_variance": 0.015, "input_variance": 1}
    s = sheet("relu", 100, 100, tuple(stack.items()))
    kernels = compile_kernels(s)
    ratio = 0.5 * 100 * 0.015
    assert kernels["problem1_formula"]() == pytest.approx(ratio ** 12)
    assert kernels["problem1_formula"](k=np.arange(4)) == pytest.approx(ratio ** np.arange(4))
    assert value(s, "1.5.second_moment") == pytest.approx(ratio ** 12)


def test_verify_hook_agrees_and_can_fail():
    s = sheet("relu", 256, 128, (("width", 64), ("depth", 5), ("weight_variance", "he")))
    problem = s.problems[0]
    assert ability(problem, "verify")(problem).ok
    q2 = problem.questions[1]
    wrong = tuple(a if not a.id.endswith("sigma2") else type(a)(a.id, a.symbol, a.value * 2) for a in q2.answers)
    broken = type(problem)(problem.number, problem.title, problem.kind,
                           (problem.questions[0], type(q2)(q2.id, q2.title, q2.prompt, q2.givens, q2.steps, wrong),
                            *problem.questions[2:]), data=problem.data)
    assert not ability(broken, "verify")(broken).ok


def test_prose_names_no_tool_and_no_field():
    text = re.sub(r"\$[^$]*\$", "", render_markdown(sheet("relu", 256, 128, (("width", 64), ("depth", 5),
                                                                              ("weight_std", 0.1)))))
    for word in ("SymPy", "sympy", "float64", "fan_in", "fan_out", "weight_std", "weight_variance", "input_variance"):
        assert word not in text, word


# --- bad specs ---------------------------------------------------------------------------------

GOOD = {"kind": "initialization", "activation": "relu", "fan_in": 256, "fan_out": 128,
        "stack": {"width": 64, "depth": 10, "weight_variance": "he"}}


def stack_(**changes):
    stack = {**GOOD["stack"], **changes}
    return {**GOOD, "stack": {k: v for k, v in stack.items() if v is not None}}


BAD = [
    ("unknown activation", {**GOOD, "activation": "gelu"}, "activation", "unknown value"),
    ("zero fan-in", {**GOOD, "fan_in": 0}, "fan_in", ">= 1"),
    ("fractional fan-out", {**GOOD, "fan_out": 2.5}, "fan_out", "whole number"),
    ("unknown field", {**GOOD, "fans": 3}, "fans", "unknown field"),
    ("unknown scale", stack_(weight_variance="kaiming"), "stack.weight_variance", "expected a number"),
    ("zero variance", stack_(weight_variance=0), "stack.weight_variance", "> 0"),
    ("both scales", stack_(weight_std=0.1), "stack.weight_variance", "not both"),
    ("no scale", stack_(weight_variance=None), "stack.weight_variance", "missing"),
    ("too deep", stack_(depth=MAX_DEPTH + 1), "stack.depth", f"<= {MAX_DEPTH}"),
    ("too many digits", stack_(weight_variance=0.0123, depth=100), "stack.depth", "digits"),
    ("negative input variance", stack_(input_variance=-1), "stack.input_variance", "> 0"),
]


@pytest.mark.parametrize(**cases(BAD))
def test_bad_spec_names_the_field(problem, field, message):
    assert_names_the_field(problem, field, message)


def test_named_scales_are_the_published_ones():
    for name, expected in (("lecun", sp.Rational(1, 64)), ("he", sp.Rational(2, 64)), ("xavier", sp.Rational(1, 64))):
        s = sheet("linear", 64, 64, (("width", 64), ("depth", 1), ("weight_variance", name)))
        assert s.problems[0].questions[4].givens[2][1] == expected
