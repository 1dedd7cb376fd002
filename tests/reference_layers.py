"""Independent references for networks of any layer type, used only by tests.

Nothing here imports symderiv: a network spec (the dict a TOML file holds) is run in
PyTorch with its own layers (``conv2d``, ``max_pool2d``, ``avg_pool2d``, ``batch_norm`` in
training mode, dropout as the given mask over the keep probability) and differentiated by
autograd in float64. Examples are rows, as PyTorch has them (a batch of vectors is
``(B, n)``; symderiv carries it as ``(n, B)``: the tests transpose).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np


def number(v) -> float:
    return float(Fraction(v)) if isinstance(v, str) else float(v)


def array(value) -> np.ndarray:
    """Nested lists of numbers (ints, floats, fraction strings) as a float array."""
    if isinstance(value, list):
        return np.array([array(v) for v in value], dtype=float)
    return np.array(number(value), dtype=float)


def _pair(value, default):
    value = default if value is None else value
    return tuple(value) if isinstance(value, list) else (value, value)


def torch_network(problem: dict) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and the gradient of every input (x and each layer's parameters) by autograd."""
    import torch
    import torch.nn.functional as F

    batch = problem.get("batch", False)
    x = torch.tensor(array(problem["x"]), dtype=torch.float64)
    x = x if batch else x.unsqueeze(0)
    x.requires_grad_(True)
    params = {"x": x}
    z = x
    for l, layer in enumerate(problem["layer"], start=1):
        z = _layer(torch, F, z, layer, l, params)
    y = torch.tensor(array(problem["y"]), dtype=torch.float64).reshape(z.shape)
    loss = _loss(torch, problem.get("loss", "squared_error"), z, y, problem["layer"][-1].get("activation"))
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in params.items()}
    if not batch:
        grads["x"] = grads["x"][0]
    return float(loss.detach()), grads


def _tensor(torch, value, name, params, l):
    t = torch.tensor(array(value), dtype=torch.float64, requires_grad=True)
    params[f"{name}{l}"] = t
    return t


def _layer(torch, F, z, layer: dict, l: int, params: dict):
    kind = layer.get("type", "dense")
    if kind == "dense":
        W = _tensor(torch, layer["W"] if isinstance(layer["W"][0], list) else [layer["W"]], "W", params, l)
        b = _tensor(torch, layer["b"] if isinstance(layer["b"], list) else [layer["b"]], "b", params, l)
        return _activate(torch, z @ W.T + b, layer.get("activation", "identity"))
    if kind == "conv2d":
        W = _tensor(torch, layer["W"], "W", params, l)
        b = _tensor(torch, layer["b"], "b", params, l) if "b" in layer else None
        a = F.conv2d(z, W, b, stride=_pair(layer.get("stride"), 1), padding=_pair(layer.get("padding"), 0),
                     dilation=_pair(layer.get("dilation"), 1))
        return _activate(torch, a, layer.get("activation", "identity"))
    if kind in ("maxpool", "avgpool"):
        size = _pair(layer["size"], None)
        stride = _pair(layer.get("stride"), None) if "stride" in layer else size
        pool = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
        return pool(z, size, stride)
    if kind == "flatten":
        return z.reshape(z.shape[0], -1)
    if kind == "batchnorm":
        features = z.shape[1]
        gamma = _tensor(torch, layer.get("gamma", [1] * features), "gamma", params, l)
        beta = _tensor(torch, layer.get("beta", [0] * features), "beta", params, l)
        return F.batch_norm(z, None, None, gamma, beta, training=True, eps=number(layer.get("eps", 1e-5)))
    if kind == "dropout":
        mask = torch.tensor(array(layer["mask"]), dtype=torch.float64).reshape(z.shape)
        return z * mask / number(layer["keep"])
    raise ValueError(kind)


def _activate(torch, a, name: str):
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda v: v,
            "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.01),
            "softmax": lambda v: torch.softmax(v, dim=1)}[name](a)


def _loss(torch, name: str, z, y, output: str):
    if name == "cross_entropy" and output == "sigmoid":
        per = -(y * torch.log(z) + (1 - y) * torch.log(1 - z)).sum(dim=1)
    elif name == "cross_entropy":
        per = -(y * torch.log(z)).sum(dim=1)
    else:
        se = ((z - y) ** 2).sum(dim=1)
        per = {"squared_error": se, "half_squared_error": se / 2, "mean_squared_error": se / z.shape[1]}[name]
    return per.mean()
