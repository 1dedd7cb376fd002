"""Independent, naive references for dense networks, used only by tests.

Nothing here imports symderiv's derivation: the forward pass is written out in NumPy
(and in PyTorch where installed), gradients come from central differences or autograd.
"""
from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path

import numpy as np

#: Homework 1's spec, read as plain TOML (not through symderiv).
HOMEWORK = Path(__file__).resolve().parents[1] / "derivations" / "homework1.toml"

ACT = {
    "relu": lambda v, s: np.maximum(v, 0.0),
    "leaky_relu": lambda v, s: np.where(v > 0, v, s * v),
    "sigmoid": lambda v, s: 1 / (1 + np.exp(-v)),
    "tanh": lambda v, s: np.tanh(v),
    "identity": lambda v, s: v,
    "softmax": lambda v, s: np.exp(v) / np.sum(np.exp(v)),
}


def loss(name: str, yh: np.ndarray, y: np.ndarray, out: str) -> float:
    if name == "cross_entropy" and out == "sigmoid":
        return float(-np.sum(y * np.log(yh) + (1 - y) * np.log(1 - yh)))
    if name == "cross_entropy":
        return float(-np.sum(y * np.log(yh)))
    se = float(np.sum((yh - y) ** 2))
    return {"squared_error": se, "half_squared_error": se / 2, "mean_squared_error": se / yh.size}[name]


def forward(params: dict, acts: list[str], loss_name: str, slope: float = 0.01) -> float:
    """params: x, y (1-D), W1, b1 (1-D), ... as float arrays."""
    z = params["x"]
    for l, act in enumerate(acts, start=1):
        z = ACT[act](params[f"W{l}"] @ z + params[f"b{l}"], slope)
    return loss(loss_name, z, params["y"], acts[-1])


def fd_gradients(params: dict, acts: list[str], loss_name: str, h: float = 1e-6) -> dict:
    """Central differences of the loss for every array but y."""
    grads = {}
    for name, arr in params.items():
        if name == "y":
            continue
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            up, down = ({k: v.copy() for k, v in params.items()} for _ in range(2))
            step = h * max(1.0, abs(arr[idx]))
            up[name][idx] += step
            down[name][idx] -= step
            g[idx] = (forward(up, acts, loss_name) - forward(down, acts, loss_name)) / (2 * step)
        grads[name] = g
    return grads


def torch_gradients(params: dict, acts: list[str], loss_name: str, slope: float = 0.01) -> dict:
    """Autograd in float64 (torch's relu'(0) = 0, as the homework's convention)."""
    import torch

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k != "y")) for k, v in params.items()}
    f = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda v: v,
         "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, slope),
         "softmax": lambda v: torch.softmax(v, dim=0)}
    z = t["x"]
    for l, act in enumerate(acts, start=1):
        z = f[act](t[f"W{l}"] @ z + t[f"b{l}"])
    y = t["y"]
    if loss_name == "cross_entropy":
        value = -(y * torch.log(z) + (1 - y) * torch.log(1 - z)).sum() if acts[-1] == "sigmoid" \
            else -(y * torch.log(z)).sum()
    else:
        se = ((z - y) ** 2).sum()
        value = {"squared_error": se, "half_squared_error": se / 2, "mean_squared_error": se / z.numel()}[loss_name]
    value.backward()
    return {k: v.grad.numpy() for k, v in t.items() if k != "y"}


# ---- homework 1's ReLU network in exact arithmetic, with pinned intermediates -----------


def spec_numbers(path: Path = HOMEWORK) -> dict:
    """The first problem of homework 1 (the network), read from the spec file itself."""
    problem = tomllib.loads(path.read_text())["problem"][0]
    layers = [(layer["W"], layer["b"] if isinstance(layer["b"], list) else [layer["b"]]) for layer in problem["layer"]]
    y = problem["y"] if isinstance(problem["y"], list) else [problem["y"]]
    return {"x": [Fraction(v) for v in problem["x"]], "y": [Fraction(v) for v in y], "layers": layers}


def naive_network(pins: dict[str, list] | None = None) -> dict[str, list]:
    """Forward pass, squared-error loss and backprop with loops over Fractions, with any of
    a1, z1, a2, z2, a3, y_hat held at pinned values. ReLU'(0) = 0."""
    pins, numbers = pins or {}, spec_numbers()
    out, z, zs, As = {}, numbers["x"], [numbers["x"]], []
    depth = len(numbers["layers"])
    for l, (W, b) in enumerate(numbers["layers"], start=1):
        a = pins.get(f"a{l}", [sum(Fraction(w) * zj for w, zj in zip(row, z)) + bi for row, bi in zip(W, b)])
        z = pins.get("y_hat" if l == depth else f"z{l}", [max(v, 0) for v in a])
        out[f"a{l}"], out["y_hat" if l == depth else f"z{l}"] = a, z
        As.append(a)
        zs.append(z)
    out["loss"] = sum((yh - yv) ** 2 for yh, yv in zip(z, numbers["y"]))
    g = [2 * (yh - yv) for yh, yv in zip(z, numbers["y"])]
    for l in range(depth, 0, -1):
        W = numbers["layers"][l - 1][0]
        ga = [gi * (1 if ai > 0 else 0) for gi, ai in zip(g, As[l - 1])]
        out[f"dL_dW{l}"] = [[gi * zj for zj in zs[l - 1]] for gi in ga]
        out[f"dL_db{l}"] = ga
        g = [sum(Fraction(W[i][j]) * ga[i] for i in range(len(ga))) for j in range(len(W[0]))]
    out["dL_dx"] = g
    return out


# ---- high precision: central differences at 60 digits (mpmath), for the numerics policy ----

def mp_forward(params: dict, acts: list[str], loss_name: str, slope=None):
    """The loss at mpmath precision; params hold lists (vectors) and lists of rows (W)."""
    import mpmath

    slope = mpmath.mpf(1) / 100 if slope is None else slope
    f = {"relu": lambda v: max(v, 0), "leaky_relu": lambda v: v if v > 0 else slope * v,
         "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)), "tanh": mpmath.tanh, "identity": lambda v: v}
    z = list(params["x"])
    for l, act in enumerate(acts, start=1):
        a = [sum(w * zj for w, zj in zip(row, z)) + b for row, b in zip(params[f"W{l}"], params[f"b{l}"])]
        if act == "softmax":
            total = sum(mpmath.exp(v) for v in a)
            z = [mpmath.exp(v) / total for v in a]
        else:
            z = [f[act](v) for v in a]
    y = params["y"]
    if loss_name == "cross_entropy" and acts[-1] == "sigmoid":
        return -sum(t * mpmath.log(p) + (1 - t) * mpmath.log(1 - p) for p, t in zip(z, y))
    if loss_name == "cross_entropy":
        return -sum(t * mpmath.log(p) for p, t in zip(z, y))
    se = sum((p - t) ** 2 for p, t in zip(z, y))
    return {"squared_error": se, "half_squared_error": se / 2, "mean_squared_error": se / len(z)}[loss_name]


def mp_gradients(params: dict, acts: list[str], loss_name: str, dps: int = 60) -> dict:
    """Central differences (step 1e-25) of the loss at ``dps`` digits: every W entry, b entry
    and x entry, as mpmath numbers accurate to about 30 digits."""
    import copy

    import mpmath

    out = {}
    with mpmath.workdps(dps):
        number = lambda v: mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator  # noqa: E731
        exact = {k: ([[number(v) for v in row] for row in val] if k.startswith("W") else [number(v) for v in val])
                 for k, val in params.items()}
        for name, val in exact.items():
            if name == "y":
                continue
            cells = [(i, j) for i in range(len(val)) for j in range(len(val[i]))] if name.startswith("W") else \
                [(i, None) for i in range(len(val))]
            grads = []
            for i, j in cells:
                h = mpmath.mpf("1e-25")
                up, down = copy.deepcopy(exact), copy.deepcopy(exact)
                for table, sign in ((up, 1), (down, -1)):
                    if j is None:
                        table[name][i] += sign * h
                    else:
                        table[name][i][j] += sign * h
                grads.append((mp_forward(up, acts, loss_name) - mp_forward(down, acts, loss_name)) / (2 * h))
            out[name] = grads
    return out
