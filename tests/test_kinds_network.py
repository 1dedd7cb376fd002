"""Problem kind ``network``: every derived value against independent references."""
from __future__ import annotations

import re
import tomllib
from fractions import Fraction

import numpy as np
import pytest
import reference_network as ref
import sympy as sp
from peers import HAVE_TORCH, needs_torch

from symderiv.derive import derive_sheet, parse_sheet
from symderiv.kinds.network.graph import build_graph
from symderiv.kinds.network.spec import dense_spec
from symderiv.kinds.network.verify import verify_network
from symderiv.spec import Fields


def sheet_of(problem: dict):
    """Derive a one-problem sheet from a spec table built in the test."""
    return derive_sheet(parse_sheet(Fields({"problem": [{"kind": "network", **problem}]}, "test.toml"), "t"))


def arrays_of(problem: dict) -> dict:
    """The spec's numbers as float arrays, read straight from the spec table."""
    num = lambda v: float(Fraction(v)) if isinstance(v, str) else float(v)  # noqa: E731
    vec = lambda v: np.array([num(e) for e in (v if isinstance(v, list) else [v])])  # noqa: E731
    out = {"x": vec(problem["x"]), "y": vec(problem["y"])}
    for l, layer in enumerate(problem["layer"], start=1):
        out[f"W{l}"] = np.array([[num(e) for e in row] for row in layer["W"]], dtype=float)
        out[f"b{l}"] = vec(layer["b"])
    return out


def engine_gradients(sheet, arrays: dict) -> dict:
    solved = sheet.problems[0].data
    return {k: np.array(solved.value(f"dL_d{k}").evalf(30).tolist(), dtype=float).reshape(v.shape)
            for k, v in arrays.items() if k != "y"}


def random_problem(rng, widths, acts, loss) -> dict:
    rat = lambda: f"{int(rng.integers(-24, 25))}/8"  # noqa: E731
    layers = [{"W": [[rat() for _ in range(widths[l])] for _ in range(widths[l + 1])],
               "b": [rat() for _ in range(widths[l + 1])], "activation": act} for l, act in enumerate(acts)]
    if loss == "cross_entropy" and acts[-1] == "softmax":
        y = [0] * widths[-1]
        y[int(rng.integers(widths[-1]))] = 1
    elif loss == "cross_entropy":
        y = [f"{int(rng.integers(1, 8))}/8" for _ in range(widths[-1])]
    else:
        y = [rat() for _ in range(widths[-1])]
    return {"x": [rat() for _ in range(widths[0])], "y": y, "loss": loss, "layer": layers}


CASES = [
    ((2, 3, 2, 1), ("relu", "relu", "relu"), "squared_error"),
    ((3, 4, 2), ("leaky_relu", "identity"), "half_squared_error"),
    ((2, 3, 3), ("tanh", "sigmoid"), "mean_squared_error"),
    ((3, 2, 2), ("sigmoid", "sigmoid"), "cross_entropy"),
    ((2, 4, 3), ("tanh", "softmax"), "cross_entropy"),
    ((4, 3, 3, 2), ("relu", "leaky_relu", "identity"), "squared_error"),
    ((1, 2, 1), ("identity", "tanh"), "half_squared_error"),
    ((2, 2, 3), ("sigmoid", "softmax"), "squared_error"),
]


@pytest.fixture(scope="module")
def homework_problem() -> dict:
    with open("derivations/homework1.toml", "rb") as handle:
        return tomllib.load(handle)["problem"][0]


def test_homework_forward_values_match_numpy(homework1, homework_problem):
    arrays, z = arrays_of(homework_problem), None
    z = arrays["x"]
    for l in range(1, len(homework_problem["layer"]) + 1):
        a = arrays[f"W{l}"] @ z + arrays[f"b{l}"]
        z = np.maximum(a, 0)
        assert np.array(homework1.answer(f"1.1.a{l}").value, dtype=float).ravel().tolist() == a.tolist()
    assert float(homework1.answer("1.1.y_hat").value[0, 0]) == z[0]
    assert float(homework1.answer("1.1.loss").value) == (z[0] - arrays["y"][0]) ** 2


def test_homework_gradients_match_finite_differences(homework1, homework_problem):
    arrays = arrays_of(homework_problem)
    expected = ref.fd_gradients(arrays, ["relu"] * 3, "squared_error")
    for name, grad in expected.items():
        key = "dL_dx" if name == "x" else f"dL_d{name}"
        got = np.array(homework1.answer(f"1.3.{key}").value, dtype=float).reshape(grad.shape)
        np.testing.assert_allclose(got, grad, rtol=1e-6, atol=1e-6)


@needs_torch
def test_homework_gradients_match_torch(homework1, homework_problem):
    arrays = arrays_of(homework_problem)
    for name, grad in ref.torch_gradients(arrays, ["relu"] * 3, "squared_error").items():
        key = "dL_dx" if name == "x" else f"dL_d{name}"
        got = np.array(homework1.answer(f"1.3.{key}").value, dtype=float).reshape(grad.shape)
        np.testing.assert_array_equal(got, grad)


@pytest.mark.parametrize("widths,acts,loss", CASES)
def test_random_networks_match_finite_differences(widths, acts, loss):
    rng = np.random.default_rng(sum(widths) * 31 + len(acts))
    for _ in range(2):
        problem = random_problem(rng, widths, acts, loss)
        arrays = arrays_of(problem)
        got = engine_gradients(sheet_of(problem), arrays)
        for name, grad in ref.fd_gradients(arrays, list(acts), loss).items():
            np.testing.assert_allclose(got[name], grad, rtol=1e-5, atol=1e-6, err_msg=f"{acts} {loss} {name}")


@needs_torch
@pytest.mark.parametrize("widths,acts,loss", CASES)
def test_random_networks_match_torch(widths, acts, loss):
    rng = np.random.default_rng(sum(widths) * 17 + 3)
    problem = random_problem(rng, widths, acts, loss)
    arrays = arrays_of(problem)
    got = engine_gradients(sheet_of(problem), arrays)
    for name, grad in ref.torch_gradients(arrays, list(acts), loss).items():
        np.testing.assert_allclose(got[name], grad, rtol=1e-12, atol=1e-12, err_msg=f"{acts} {loss} {name}")


KINK = {"x": [1, 1], "y": 3, "loss": "squared_error",
        "layer": [{"W": [[1, -1], [2, 1]], "b": [0, 1], "activation": "relu"},
                  {"W": [[1, 1]], "b": 0, "activation": "identity"}]}


def test_a_forward_value_on_the_kink_is_flagged_and_follows_the_convention():
    sheet = sheet_of(KINK)
    notes = " ".join(str(part) for note in sheet.problems[0].questions[0].notes for part in note)
    assert "kink" in notes and "convention" in notes
    arrays = arrays_of(KINK)
    if HAVE_TORCH:  # torch also takes relu'(0) = 0
        expected = ref.torch_gradients(arrays, ["relu", "identity"], "squared_error")
        np.testing.assert_array_equal(engine_gradients(sheet, arrays)["W1"], expected["W1"])
    one = sheet_of({**KINK, "relu_at_zero": 1})
    assert one.problems[0].data.value("dL_dW1")[0, :] != sheet.problems[0].data.value("dL_dW1")[0, :]
    assert all(c.ok for c in verify_network(one.problems[0].data))


def test_rules_have_the_shapes_of_their_quantities():
    graph = build_graph(dense_spec((3, 5, 4, 2), ("tanh", "relu", "softmax"), "cross_entropy"))
    for q in graph.forward + graph.backward:
        rule = q.shown if q.shown is not None else q.rule
        if q.name != "L":
            assert rule.shape == q.symbol.shape, q.name


def test_derivation_grows_linearly_with_depth():
    """Named intermediates: doubling the depth doubles the work (the naive way is ~3.5x per layer)."""
    ops = [sum(sp.count_ops(e) for _, e in build_graph(dense_spec((4,) * (d + 1), ("relu",) * d)).program())
           for d in (4, 8, 16)]
    assert 1.8 < ops[1] / ops[0] < 2.2 and 1.8 < ops[2] / ops[1] < 2.2, ops


# ---- softmax or sigmoid with cross-entropy: the shortcut y_hat - y, derived ------------------

def _loss_derivative_numbers(relation, a, yh_values, y_values, yh_entries, y_entries) -> float:
    values = dict(zip(yh_entries, yh_values)) | dict(zip(y_entries, y_values))
    return float(relation.rhs.xreplace(values))


def test_softmax_cross_entropy_uses_the_derived_shortcut():
    problem = {"x": [0.5, -1], "y": [0, 1, 0], "loss": "cross_entropy",
               "layer": [{"W": [[1, 0.5], [-1, 2]], "b": [0, 0.25], "activation": "tanh"},
                         {"W": [[1, 0], [0, 1], [1, -1]], "b": [0, 0, 0], "activation": "softmax"}]}
    solved = sheet_of(problem).problems[0].data
    grad = solved.graph.quantity("dL_da2")
    assert grad.fused is not None and "y_hat" in str(grad.rule) and grad.derivation
    # the SymPy derivative in the derivation is right: against central differences of the CE loss
    rng = np.random.default_rng(5)
    a, y = rng.normal(size=3), rng.dirichlet(np.ones(3))
    soft = np.exp(a) / np.exp(a).sum()
    loss = lambda v: -np.sum(y * np.log(np.exp(v) / np.exp(v).sum()))  # noqa: E731
    h = 1e-6
    fd = (loss(a + [h, 0, 0]) - loss(a - [h, 0, 0])) / (2 * h)
    yh_e = list(entries_of(solved, "y_hat"))
    y_e = list(entries_of(solved, "y"))
    for relation in grad.derivation[1:3]:
        assert _loss_derivative_numbers(relation, a, soft, y, yh_e, y_e) == pytest.approx(fd, rel=1e-6)
    assert grad.derivation[-1].rhs == yh_e[0] - y_e[0]
    # and the numbers are autograd's (the shortcut gives the same gradient)
    if HAVE_TORCH:
        arrays = arrays_of(problem)
        for name, expected in ref.torch_gradients(arrays, ["tanh", "softmax"], "cross_entropy").items():
            np.testing.assert_allclose(engine_gradients(sheet_of(problem), arrays)[name], expected, rtol=1e-12)


def entries_of(solved, name: str):
    from symderiv.kinds.network.graph import entries

    return entries(solved.graph.quantity(name)).flat


def test_soft_targets_not_summing_to_one_keep_the_jacobian_and_say_so():
    problem = {"x": [0.5, -1], "y": [0.5, 0.25, 0], "loss": "cross_entropy",
               "layer": [{"W": [[1, 0.5], [-1, 2], [0, 1]], "b": [0, 0.25, 0], "activation": "softmax"}]}
    sheet = sheet_of(problem)
    solved = sheet.problems[0].data
    assert solved.graph.quantity("dL_da1").fused is None
    notes = " ".join(str(p) for note in sheet.problems[0].questions[1].notes for p in note)
    assert "do not sum to 1" in notes
    if HAVE_TORCH:
        arrays = arrays_of(problem)
        for name, expected in ref.torch_gradients(arrays, ["softmax"], "cross_entropy").items():
            np.testing.assert_allclose(engine_gradients(sheet, arrays)[name], expected, rtol=1e-12)


def test_sigmoid_binary_cross_entropy_uses_the_shortcut():
    problem = {"x": [1, 2], "y": [0.25, 1], "loss": "cross_entropy",
               "layer": [{"W": [[0.5, -1], [1, 0.25]], "b": [0, 0.5], "activation": "sigmoid"}]}
    solved = sheet_of(problem).problems[0].data
    grad = solved.graph.quantity("dL_da1")
    assert grad.fused is not None
    yh, y = list(entries_of(solved, "y_hat")), list(entries_of(solved, "y"))
    assert sp.expand(grad.derivation[-1].rhs - (yh[0] - y[0])) == 0
    arrays = arrays_of(problem)
    for name, expected in ref.fd_gradients(arrays, ["sigmoid"], "cross_entropy").items():
        np.testing.assert_allclose(engine_gradients(sheet_of(problem), arrays)[name], expected, rtol=1e-6)


# ---- prose for students ---------------------------------------------------------------------

FORBIDDEN = ("SymPy", "sympy", "Piecewise", "float64", "relu_at_zero", "leaky_relu", "leaky_slope", "y_hat",
             "dL/d", "numpy", "Heaviside", "z(0)")


def prose_of(markdown: str) -> str:
    """The sheet's words: no displayed or inline math, no answer ids in backticks."""
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    return re.sub(r"`[^`]*`", " ", text).replace("\\_", "_")


@pytest.mark.parametrize("acts,loss", [(("leaky_relu", "sigmoid"), "cross_entropy"),
                                       (("tanh", "softmax"), "cross_entropy"), (("relu", "identity"), "squared_error")])
def test_sheet_prose_has_no_implementation_words(acts, loss):
    from symderiv.render.markdown import render_markdown

    problem = random_problem(np.random.default_rng(3), (2, 3, 2), acts, loss)
    problem["x"] = [1, 0]  # a ReLU-like kink note may appear; it must read well too
    words = prose_of(render_markdown(sheet_of(problem)))
    assert [w for w in FORBIDDEN if w in words] == []


def test_homework_prose_has_no_implementation_words(homework1):
    from symderiv.render.markdown import render_markdown

    words = prose_of(render_markdown(homework1).split("## Problem 2")[0])
    assert [w for w in FORBIDDEN if w in words] == []
