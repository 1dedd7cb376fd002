"""Networks of every layer type: conv2d, max and average pooling, flatten, batch norm, dropout.

Independent checks: PyTorch autograd on the same spec (``tests/reference_layers.py``:
``conv2d``, ``max_pool2d``, ``avg_pool2d``, ``batch_norm`` in training mode, dropout as the
given mask), the self-verification's finite differences, and the generated kernels run
on rows of random inputs against autograd again. Shapes are small so the tests stay fast.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import reference_layers as rl
import sympy as sp

from symderiv.calculus.values import as_tensor
from symderiv.derive import derive_sheet, parse_sheet
from symderiv.kernels import compile_kernels
from symderiv.kinds.network.verify import verify_network
from symderiv.spec import Fields

torch = pytest.importorskip("torch", reason="PyTorch is a peer, not a dependency: pip install -e '.[peers]'")


def sheet_of(problem: dict):
    return derive_sheet(parse_sheet(Fields({"problem": [{"kind": "network", **problem}]}, "test.toml"), "t"))


def numbers(rng, *shape, scale: float = 1.0):
    """Random exact numbers (eighths), as nested lists: ties are unlikely, never impossible."""
    return (np.round(rng.normal(size=shape) * 8 * scale) / 8 + rng.integers(1, 7, size=shape) / 97).round(6).tolist()


def image_net(rng, act="relu", pool="maxpool", stride=1, padding=0, dilation=1, channels=1, bias=True,
              loss="cross_entropy", out_act="softmax") -> dict:
    """conv2d -> pooling -> flatten -> dense on one image."""
    conv = {"type": "conv2d", "W": numbers(rng, 2, channels, 2, 2), "activation": act, "stride": stride,
            "padding": padding, "dilation": dilation}
    if bias:
        conv["b"] = numbers(rng, 2)
    side = (5 + 2 * padding - dilation * 1 - 1) // stride + 1
    pooled = (side - 2) // 1 + 1
    layers = [conv, {"type": pool, "size": 2, "stride": 1}, {"type": "flatten"},
              {"W": numbers(rng, 3, 2 * pooled * pooled, scale=0.5), "b": numbers(rng, 3), "activation": out_act}]
    y = [0, 1, 0] if out_act == "softmax" else numbers(rng, 3)
    return {"x": numbers(rng, channels, 5, 5), "y": y, "loss": loss, "layer": layers}


def batch_vector_net(rng, keep=0.5) -> dict:
    """dense -> batch norm -> dropout -> dense, on a batch of 3 examples."""
    mask = rng.integers(0, 2, size=(3, 4)).tolist()
    return {"batch": True, "x": numbers(rng, 3, 2), "y": [[0.25, 0.5], [1, 0], [0.75, 0.125]],
            "loss": "cross_entropy",
            "layer": [{"W": numbers(rng, 4, 2), "b": numbers(rng, 4), "activation": "tanh"},
                      {"type": "batchnorm", "gamma": numbers(rng, 4), "beta": numbers(rng, 4), "eps": 0.001},
                      {"type": "dropout", "mask": mask, "keep": keep},
                      {"W": numbers(rng, 2, 4), "b": numbers(rng, 2), "activation": "sigmoid"}]}


def batch_image_net(rng) -> dict:
    """conv2d (no bias) -> batch norm -> dropout -> average pooling -> flatten -> dense, 2 images."""
    mask = rng.integers(0, 2, size=(2, 2, 3, 3)).tolist()
    return {"batch": True, "x": numbers(rng, 2, 1, 4, 4), "y": [[1, 0], [0, 1]], "loss": "cross_entropy",
            "layer": [{"type": "conv2d", "W": numbers(rng, 2, 1, 2, 2), "activation": "identity"},
                      {"type": "batchnorm"},
                      {"type": "dropout", "mask": mask, "keep": 0.8},
                      {"type": "avgpool", "size": 2, "stride": 1},
                      {"type": "flatten"},
                      {"W": numbers(rng, 2, 8, scale=0.5), "b": [0, 0], "activation": "softmax"}]}


SPECS = {
    "conv-relu-maxpool": lambda rng: image_net(rng),
    "conv-tanh-avgpool-stride-padding": lambda rng: image_net(rng, "tanh", "avgpool", stride=2, padding=1,
                                                             loss="squared_error", out_act="identity"),
    "conv-dilation-two-channels-no-bias": lambda rng: image_net(rng, "leaky_relu", dilation=2, channels=2,
                                                               bias=False),
    "batch-dense-batchnorm-dropout": batch_vector_net,
    "batch-conv-batchnorm-dropout-avgpool": batch_image_net,
}


_COMPILED: dict[int, dict] = {}


def kernels_of(sheet) -> dict:
    """The sheet's compiled kernels, made once per sheet (printing them is the slow part)."""
    if id(sheet) not in _COMPILED:
        _COMPILED[id(sheet)] = compile_kernels(sheet)
    return _COMPILED[id(sheet)]


def engine_gradient(solved, name: str) -> np.ndarray:
    q = solved.graph.quantity(name)
    value = np.vectorize(float, otypes=[float])(as_tensor(solved.value(name), q.shape))
    return value.T if solved.spec.batch and name == "dL_dx" and value.ndim == 2 else value


@pytest.fixture(scope="module", params=sorted(SPECS))
def case(request):
    problem = SPECS[request.param](np.random.default_rng(sorted(SPECS).index(request.param)))
    return problem, sheet_of(problem)


def test_every_gradient_matches_torch_autograd(case):
    problem, sheet = case
    solved = sheet.problems[0].data
    loss, grads = rl.torch_network(problem)
    assert float(solved.value("L")) == pytest.approx(loss, rel=1e-12)
    for name, expected in grads.items():
        got = engine_gradient(solved, "dL_dx" if name == "x" else f"dL_d{name}")
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=name)


def test_self_verification_agrees(case):
    checks = verify_network(case[1].problems[0].data)
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok][:3]


@pytest.mark.parametrize("method", ["auto", "matrix"])
def test_kernels_reproduce_the_sheet_and_autograd_on_rows(case, method):
    problem, sheet = case
    solved = sheet.problems[0].data
    kernel = functools.partial(kernels_of(sheet)["problem1_gradients"], method=method)
    default = kernel()
    for name in ("L", "y_hat", "dL_dx") + tuple(f"dL_d{k}" for k in rl.torch_network(problem)[1] if k != "x"):
        q = solved.graph.quantity(name)
        exact = np.vectorize(float, otypes=[float])(as_tensor(solved.value(name), q.shape))
        np.testing.assert_allclose(default[name], exact, rtol=1e-12, atol=1e-12, err_msg=name)
    rng = np.random.default_rng(11)
    x = np.stack([np.array(rl.array(problem["x"])) + rng.normal(size=np.shape(rl.array(problem["x"])))
                  for _ in range(3)])
    rows = kernel(x=x if not solved.spec.batch or x.ndim != 3 else np.swapaxes(x, 1, 2))
    for r in range(3):
        one = dict(problem, x=x[r].tolist())
        _, grads = rl.torch_network(one)
        for name, expected in grads.items():
            got = rows["dL_dx" if name == "x" else f"dL_d{name}"][r]
            got = got.T if name == "x" and solved.spec.batch and got.ndim == 2 else got
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name}, row {r}")


def test_summed_gradients_of_shared_weights_equal_the_sum_over_rows(case):
    problem, sheet = case
    kernel = kernels_of(sheet)["problem1_gradients"]
    x = np.array(rl.array(problem["x"]))
    rows = np.stack([x * (1 + 0.1 * r) for r in range(4)])
    rows = np.swapaxes(rows, 1, 2) if sheet.problems[0].data.spec.batch and rows.ndim == 3 else rows
    for method in ("auto", "matrix"):
        each, summed = kernel(x=rows, method=method), kernel(x=rows, method=method, reduce=True, chunk=3)
        for name in summed:
            if name.startswith("dL_d") and name != "dL_dx" and summed[name].shape != each[name].shape:
                np.testing.assert_allclose(summed[name], each[name].sum(axis=0), rtol=1e-10, atol=1e-12,
                                           err_msg=f"{method} {name}")


def test_conv_steps_derive_the_correlation_and_the_full_convolution():
    sheet = sheet_of(image_net(np.random.default_rng(3)))
    q2 = sheet.problems[0].questions[1]
    text = " ".join(str(s.text) for s in q2.steps)
    assert "correlation" in text and "full convolution" in text and "flipped" in text
    relations = [m for s in q2.steps for m in s.math]
    assert any(isinstance(r.rhs, sp.Sum) and "W1~" in str(r.rhs) for r in relations)  # the flipped kernel


def test_max_pool_ties_go_to_the_first_maximum_as_in_torch():
    problem = image_net(np.random.default_rng(4))
    problem["x"] = [[[1, 1, 0, 2, 2], [1, 1, 0, 2, 2], [0, 3, 3, 0, 1], [1, 0, 1, 0, 1], [2, 2, 1, 1, 0]]]
    problem["layer"][0]["W"] = [[[[1, 0], [0, 0]]], [[[0, 0], [0, 1]]]]
    problem["layer"][0]["b"] = [0, 0]
    sheet = sheet_of(problem)
    notes = " ".join(str(p) for note in sheet.problems[0].questions[2].notes for p in note)
    assert "first" in notes and "reading order" in notes
    solved = sheet.problems[0].data
    _, grads = rl.torch_network(problem)
    for name, expected in grads.items():
        got = engine_gradient(solved, "dL_dx" if name == "x" else f"dL_d{name}")
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=name)
    table = [s.table for s in sheet.problems[0].questions[2].steps if s.table is not None]
    assert table and table[0].header[1].startswith("maximum")


# ---- bad input: one line naming the field and the shapes, exit 2 ------------------------------

def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def spec_text(problem: dict) -> str:
    lines = ['[sheet]', 'name = "bad"', '[[problem]]', 'kind = "network"']
    lines += [f"{k} = {_toml(v)}" for k, v in problem.items() if k != "layer"]
    for layer in problem["layer"]:
        lines += ["[[problem.layer]]"] + [f"{k} = {_toml(v)}" for k, v in layer.items()]
    return "\n".join(lines) + "\n"


def _good() -> dict:
    return image_net(np.random.default_rng(0))


def _set(problem: dict, layer: int, **fields) -> dict:
    problem["layer"][layer - 1].update(fields)
    return problem


def _insert(problem: dict, at: int, layer: dict) -> dict:
    """The problem with ``layer`` put in as layer ``at`` (1-based)."""
    return dict(problem, layer=problem["layer"][:at - 1] + [layer] + problem["layer"][at - 1:])


def _batch_norm_gamma(problem: dict) -> dict:
    net = batch_vector_net(np.random.default_rng(0))
    return dict(net, layer=[net["layer"][0], {"type": "batchnorm", "gamma": [1, 1]}, net["layer"][3]])


BAD = [
    ("kernel larger than padded input", lambda p: _set(p, 1, W=numbers(np.random.default_rng(1), 2, 1, 6, 6)),
     "layer[1].W", "larger than the padded input 5x5"),
    ("conv channels", lambda p: _set(p, 1, W=numbers(np.random.default_rng(1), 2, 3, 2, 2)), "layer[1].W",
     "has 3 channels but its input has 1"),
    ("conv bias per filter", lambda p: _set(p, 1, b=[0, 1, 2]), "layer[1].b", "3 entries but W has 2 filters"),
    ("pool does not cover", lambda p: _set(p, 2, size=3, stride=2), "layer[2].size", "do not cover the 4x4 input"),
    ("pool larger than input", lambda p: _set(p, 2, size=5), "layer[2].size", "larger than the 4x4 input"),
    ("flatten then dense mismatch", lambda p: _set(p, 4, W=numbers(np.random.default_rng(1), 3, 7)), "layer[4].W",
     "has 7 columns but its input has 18 entries"),
    ("dense on an image", lambda p: dict(p, layer=[p["layer"][0], p["layer"][3]]), "layer[2].type",
     "needs a vector input, got a 2x4x4 image"),
    ("ends in an image", lambda p: dict(p, layer=p["layer"][:2]), "layer[2]", "must end in a vector"),
    ("unknown type", lambda p: _set(p, 2, type="minpool"), "layer[2].type", "minpool"),
    ("softmax on a conv", lambda p: _set(p, 1, activation="softmax"), "layer[1].activation", "softmax"),
    ("dropout mask shape", lambda p: _insert(p, 4, {"type": "dropout", "mask": [1, 0], "keep": 0.5}),
     "layer[4].mask", "has shape 2 but the layer's input has shape 18"),
    ("dropout mask not 0/1", lambda p: _insert(p, 4, {"type": "dropout", "mask": [1, 2] * 9, "keep": 0.5}),
     "layer[4].mask", "0 (dropped) or 1 (kept), got 2"),
    ("batch norm on one example", lambda p: _insert(p, 2, {"type": "batchnorm"}), "layer[2].type",
     "batch of at least 2 examples"),
    ("batch norm gamma length", _batch_norm_gamma, "layer[2].gamma", "has 2 entries but the input has 4"),
    ("too large", lambda p: dict(p, x=[[[0] * 20] * 20]), "x", "at most 16"),
]


@pytest.mark.parametrize("label,change,field,words", BAD, ids=[b[0] for b in BAD])
def test_bad_layer_specs_are_one_line_exit_2(tmp_path, capsys, label, change, field, words):
    from symderiv.cli import main

    spec, out = tmp_path / "bad.toml", tmp_path / "out"
    spec.write_text(spec_text(change(_good())))
    assert main(["build", str(spec), "-o", str(out), "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"problem[1].{field}" in err and words in err, err
    assert not out.exists()


def test_the_derived_full_convolution_gives_autograds_input_gradient():
    """The last relation of the input's derivation, evaluated with the layer's numbers (sizes
    put in, sums expanded), is torch's dL/dx: the printed rule is right, not only the numbers."""
    from symderiv.calculus.printing import Formula

    problem = image_net(np.random.default_rng(8))
    sheet = sheet_of(problem)
    solved = sheet.problems[0].data
    relation = solved.graph.quantity("dL_dz0").derivation[-1]
    W = np.array(rl.array(problem["layer"][0]["W"]))
    grad_a = engine_gradient(solved, "dL_da1")
    F, C, kh, kw = W.shape
    Ho, Wo = grad_a.shape[-2:]
    sizes = {sp.Symbol(n, integer=True, positive=True): v for n, v in
             (("F", F), ("C", C), ("k_h", kh), ("k_w", kw), ("H'", Ho), ("W'", Wo))}

    def value(e):
        if isinstance(e, Formula):  # dL/da at (f, i, j), 1-based; 0 outside the output
            f, i, j = (int(k) - 1 for k in e.operands[1].indices)
            return sp.Float(grad_a[f, i, j]) if 0 <= i < Ho and 0 <= j < Wo else sp.Integer(0)
        f, c, p, q = (int(k) - 1 for k in e.indices)  # the flipped kernel W~
        return sp.Float(W[f, c, kh - 1 - p, kw - 1 - q])

    _, expected = rl.torch_network(problem)
    c_, u_, v_ = sp.symbols("c u v", integer=True, positive=True)
    for u, v in ((0, 0), (0, 4), (2, 2), (3, 1), (4, 4)):  # corners (padding of the gradient) and inside
        rhs = relation.rhs.xreplace(sizes).xreplace({c_: 1, u_: u + 1, v_: v + 1}).doit()
        rhs = rhs.xreplace({e: value(e) for e in rhs.atoms(Formula)})
        rhs = rhs.xreplace({e: value(e) for e in rhs.atoms(sp.Indexed)})
        assert float(rhs) == pytest.approx(expected["x"][0, u, v], abs=1e-12)
