"""Independent, naive references for dense networks, used only by tests.

Nothing here imports symderiv's derivation: the forward pass is written out in NumPy
(and in PyTorch where installed), gradients come from central differences or autograd.
"""
from __future__ import annotations

import numpy as np

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
