"""Specs and oracles shared by the export tests (the oracles never import symderiv).

``small_spec`` writes homework 1's network problem alone (fast to derive), optionally with
draws; ``network_answers`` recomputes a ReLU network's answers with NumPy from the
numbers of a spec's TOML table (forward pass, squared error, backprop by hand), keyed by
answer id, so every exported value can be checked against something independent.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SMALL = '''[sheet]
name = "small"
title = "A small network"

[[problem]]
kind = "network"
title = "Backpropagation"
x = [2, 1]
y = 10
loss = "squared_error"
relu_at_zero = 0

[[problem.layer]]
W = [[1, 0], [3, 4], [1, 2]]
b = [0, -2, 5]
activation = "relu"

[[problem.layer]]
W = [[2, 6, 1], [0, 3, 1]]
b = [-23, -11]
activation = "relu"

[[problem.layer]]
W = [[-2, 3]]
b = 18
activation = "relu"
'''

DRAWN = '''[sheet]
name = "drawn"
title = "A drawn network"

[[problem]]
kind = "network"
title = "Backpropagation"
x = ["randint(1, 3)", "randint(1, 3)"]
y = "randint(0, 30)"
loss = "squared_error"
relu_at_zero = 0

[problem.variants]
integral = true
no_kink = true
max_abs = 1000
distinguishable = true

[[problem.layer]]
W = "randint(-1, 3, shape=[3, 2])"
b = "randint(-3, 3, shape=[3])"
activation = "relu"

[[problem.layer]]
W = [["randint(-2, 3)", "randint(-2, 3, exclude=[0])", "randint(-2, 3)"]]
b = "randint(0, 10)"
activation = "relu"
'''


def write(folder: Path, text: str, name: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def network_answers(problem: dict) -> dict[str, np.ndarray]:
    """Problem 1's numeric answers (``1.1.*``, ``1.3.*``) from a network problem's table,
    as column vectors / matrices, ReLU'(0) = 0."""
    z = np.array(problem["x"], dtype=float).reshape(-1, 1)
    y = np.array(problem["y"] if isinstance(problem["y"], list) else [problem["y"]], dtype=float).reshape(-1, 1)
    layers = [(np.array(layer["W"], dtype=float), np.array(layer["b"], dtype=float).reshape(-1, 1))
              for layer in problem["layer"]]
    out, inputs, pre = {}, [z], []
    for l, (W, b) in enumerate(layers, start=1):
        a = W @ z + b
        z = np.maximum(a, 0)
        last = l == len(layers)
        out[f"1.1.a{l}"], out["1.1.y_hat" if last else f"1.1.z{l}"] = a, z
        pre.append(a)
        inputs.append(z)
    out["1.1.loss"] = np.sum((z - y) ** 2)
    g = 2 * (z - y)
    for l in range(len(layers), 0, -1):
        ga = g * (pre[l - 1] > 0)
        out[f"1.3.dL_dW{l}"], out[f"1.3.dL_db{l}"] = ga @ inputs[l - 1].T, ga
        g = layers[l - 1][0].T @ ga
    out["1.3.dL_dx"] = g
    return out


def homework1_network() -> dict:
    """Homework 1's network problem, read as plain TOML."""
    return tomllib.loads((ROOT / "derivations" / "homework1.toml").read_text())["problem"][0]


def same(a, b) -> bool:
    """Numbers or arrays equal to float precision (a 1x1 matrix is its number)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.size == b.size and np.allclose(a.reshape(-1), b.reshape(-1), rtol=1e-12, atol=1e-12) and \
        (a.ndim < 2 or b.ndim < 2 or a.size == 1 or a.shape == b.shape)
