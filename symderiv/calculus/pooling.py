"""Pooling and flattening: max and average pooling over windows, and ``vec``.

Windows are ``size`` apart by ``stride`` (no padding), per channel. Max pooling's local
derivative is 1 at the window's maximum and 0 elsewhere; where a window holds its
maximum more than once the gradient goes to the first in reading order (row by row),
as PyTorch does. That is written as a product of step functions, so the same rule is
exact on the sheet and a mask in the kernels: entry ``e`` of a window is its first
maximum when it is greater than every entry before it and at least every entry after.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from symderiv.calculus.core import Call, Config, Op, Printed, Show, Tensor, tensor, total
from symderiv.calculus.printing import applied, formula, literal, partial
from symderiv.model import Table


def _pool_shape(shapes: Mapping[str, tuple[int, ...]], cfg: Config) -> tuple[int, ...]:
    x = shapes["input"]
    sizes = tuple((x[-2 + a] - cfg.size[a]) // cfg.stride[a] + 1 for a in (0, 1))
    return x[:-2] + sizes


def windows(x_shape: tuple[int, ...], cfg: Config):
    """``(output index, [input indices of its window in reading order])`` of every window."""
    out_shape = _pool_shape({"input": x_shape}, cfg)
    for index in np.ndindex(*out_shape):
        *lead, i, j = index
        cells = [tuple(lead) + (cfg.stride[0] * i + p, cfg.stride[1] * j + q)
                 for p in range(cfg.size[0]) for q in range(cfg.size[1])]
        yield index, cells


def first_max(x: Tensor, cells: list[tuple[int, ...]], k: int) -> sp.Basic:
    """1 when cell ``k`` holds the window's first maximum, else 0 (exact; a mask in kernels)."""
    v = x[cells[k]]
    exact = bool(v.is_number)  # for symbols, SymPy would ask the sign of every difference
    before = [sp.Heaviside(v - x[e], 0, evaluate=exact) for e in cells[:k]]
    after = [sp.Heaviside(v - x[e], 1, evaluate=exact) for e in cells[k + 1:]]
    return sp.Mul(*before, *after)


def _max_forward(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    x = ins["input"]
    found = {index: _largest([x[e] for e in cells]) for index, cells in windows(x.shape, cfg)}
    return tensor(_pool_shape({"input": x.shape}, cfg), lambda i: found[i])


def _largest(values: list) -> sp.Basic:
    """``Max`` of a window: evaluated for numbers, left as written for symbols (SymPy would
    compare every pair)."""
    return sp.Max(*values, evaluate=all(v.is_number for v in values))


def _scatter(x: Tensor, g: Tensor, cfg: Config, weight) -> Tensor:
    """``dL/dx``: each window sends ``g * weight(cells, k)`` to its ``k``-th cell."""
    parts: dict = {e: [] for e in np.ndindex(*x.shape)}
    for index, cells in windows(x.shape, cfg):
        for k, e in enumerate(cells):
            parts[e].append(g[index] * weight(cells, k))
    return tensor(x.shape, lambda e: total(parts[e]))


def _max_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    x = ins["input"]
    return {"input": _scatter(x, g, cfg, lambda cells, k: first_max(x, cells, k))}


def _avg_forward(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    x, k = ins["input"], cfg.size[0] * cfg.size[1]
    found = {index: total(x[e] for e in cells) / k for index, cells in windows(x.shape, cfg)}
    return tensor(_pool_shape({"input": x.shape}, cfg), lambda i: found[i])


def _avg_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    k = sp.Integer(cfg.size[0] * cfg.size[1])
    return {"input": _scatter(ins["input"], g, cfg, lambda cells, i: 1 / k)}


def _ties(values: Mapping[str, Tensor], out: Tensor, cfg: Config) -> tuple:
    x = values["input"]
    found = []
    for index, cells in windows(x.shape, cfg):
        top = max(x[e] for e in cells)
        if sum(x[e] == top for e in cells) > 1:
            found.append(("out", index, "comes from a window whose maximum appears more than once: its gradient "
                          "goes to the first of them in reading order (row by row), as PyTorch does."))
    return tuple(found)


def _routes(values: Mapping[str, Any], cfg: Config) -> Table:
    """Where each window's gradient goes (1-based positions), for the numbers step."""
    x, g = values["input"], values["grad"]
    rows = []
    for index, cells in windows(x.shape, cfg):
        k = next(k for k in range(len(cells)) if first_max(x, cells, k) == 1)
        rows.append((_position(index), _position(cells[k]), x[cells[k]], g[index]))
    return Table(("output entry", "maximum of its window at", "maximum", "its gradient goes there"), tuple(rows))


def _position(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i + 1) for i in index) + ")"


def _pool_math(op: str, p: Printed) -> tuple[sp.Basic, ...]:
    i, j, r, s = sp.symbols("i j r s", integer=True, positive=True)
    kh, kw = p.config.size
    sh, sw = p.config.stride
    lead = tuple(sp.symbols("n c", integer=True, positive=True)[2 - (p.entries["input"].ndim - 2):])
    x = p.indexed("input")[lead + (sh * (i - 1) + r, sw * (j - 1) + s)]
    out = p.indexed("out")[lead + (i, j)]
    if op == "max":
        body = formula(literal(rf"\max_{{1 \le r \le {kh},\ 1 \le s \le {kw}}}") + " {0}", "max_rs {0}", x)
    else:
        body = sp.Sum(x, (r, 1, kh), (s, 1, kw)) / (kh * kw)
    return (sp.Eq(out, body, evaluate=False),)


def _pool_derivation(op: str, p: Printed) -> tuple[sp.Basic, ...]:
    i, j = sp.symbols("i j", integer=True, positive=True)
    lead = tuple(sp.symbols("n c", integer=True, positive=True)[2 - (p.entries["input"].ndim - 2):])
    L, out = sp.Symbol("L"), p.indexed("out")[lead + (i, j)]
    u, v = sp.symbols("u v", integer=True, positive=True)
    entry = p.indexed("input")[lead + (u, v)]
    if op == "max":
        local = formula(r"\begin{{cases}} 1 & \text{{if }} {0} \text{{ is the first maximum of window }} (i, j) \\"
                        r" 0 & \text{{otherwise}} \end{{cases}}",
                        "1 if {0} is the first maximum of window (i, j) else 0", entry)
    else:
        k = p.config.size[0] * p.config.size[1]
        local = formula(literal(rf"\begin{{cases}} \frac{{1}}{{{k}}} & \text{{if }}") + " {0} "
                        + literal(r"\text{ is in window } (i, j) \\ 0 & \text{otherwise} \end{cases}"),
                        "1/k if {0} is in window (i, j) else 0", entry)
    total_ = formula(r"\sum_{{(i, j)}} {0} {1}", "sum_ij {0} {1}", partial(L, out), partial(out, entry))
    return (sp.Eq(partial(out, entry), local, evaluate=False), sp.Eq(partial(L, entry), total_, evaluate=False))


def _windows(cfg: Config) -> tuple[tuple[str, tuple[int, int]], ...]:
    return (("size", cfg.size), ("stride", cfg.stride))


def _pool(op: str, words: str, forward, vjp, grad_text: str) -> Op:
    label = rf"\operatorname{{{op}pool}}"
    return Op(
        name=f"{op}pool", label=label, words=words, inputs=("input",), grads=("input",),
        shape=_pool_shape, forward=forward, vjp=vjp,
        show=Show(
            forward_text=lambda l: (f"{words.capitalize()} of layer {l}: each output entry is the "
                                    f"{'largest entry' if op == 'max' else 'mean'} of its window, channel by channel."),
            grad_text=lambda wrt, cfg: grad_text,
            rule=lambda p: formula(literal(label) + r"_{{{1}}}\left({0}\right)", f"{op}pool_{{1}}({{0}})", p["input"],
                                   sp.Integer(p.config.size[0])),
            grad_rule=lambda wrt, p: formula(literal(rf"\operatorname{{{op}unpool}}") + r"\left({0}\right)",
                                             f"{op}unpool({{0}})", p["grad"]),
            forward_math=lambda p: _pool_math(op, p),
            derivation=lambda wrt, p: _pool_derivation(op, p),
            detail=_routes if op == "max" else (lambda values, cfg: None),
            numbers=False,
        ),
        array=lambda cfg: Call(f"_{op}pool", ("input",), _windows(cfg)),
        array_vjp=lambda wrt, cfg: Call(f"_{op}pool_grad", ("input", "out", "grad") if op == "max" else
                                        ("input", "grad"), _windows(cfg)),
        kinks=_ties if op == "max" else (lambda values, out, cfg: ()),
    )


MAXPOOL = _pool("max", "max pooling", _max_forward, _max_vjp,
                "Back through max pooling: each window's gradient goes to the position of its maximum and every "
                "other entry of the window gets 0; where the maximum appears more than once it goes to the first "
                "in reading order (row by row), as PyTorch does. An entry in several windows adds up what it gets.")
AVGPOOL = _pool("avg", "average pooling", _avg_forward, _avg_vjp,
                "Back through average pooling: each window's gradient is shared equally by its entries (each gets "
                "the gradient divided by the window's size); an entry in several windows adds up its shares.")


# -- flatten ------------------------------------------------------------------------------------

def _flat_shape(shapes: Mapping[str, tuple[int, ...]], cfg: Config) -> tuple[int, ...]:
    x = shapes["input"]
    if cfg.batch:
        return (int(np.prod(x[1:])), x[0])
    return (int(np.prod(x)),)


def _flatten(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    x = ins["input"]
    if cfg.batch:
        return x.reshape(x.shape[0], -1).T.copy()
    return x.reshape(-1).copy()


def _unflatten(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    x = ins["input"]
    if cfg.batch:
        return {"input": g.T.reshape(x.shape).copy()}
    return {"input": g.reshape(x.shape).copy()}


def _flatten_math(p: Printed) -> tuple[sp.Basic, ...]:
    c, i, j = sp.symbols("c i j", integer=True, positive=True)
    H, W = p.entries["input"].shape[-2:]
    position = (c - 1) * H * W + (i - 1) * W + j
    if p.config.batch:
        n = sp.Symbol("n", integer=True, positive=True)
        return (sp.Eq(p.indexed("out")[position, n], p.indexed("input")[n, c, i, j], evaluate=False),)
    return (sp.Eq(p.indexed("out")[position], p.indexed("input")[c, i, j], evaluate=False),)


FLATTEN = Op(
    name="flatten", label=r"\operatorname{vec}", words="flatten", inputs=("input",), grads=("input",),
    shape=_flat_shape, forward=_flatten, vjp=_unflatten,
    show=Show(
        forward_text=lambda l: (f"Flatten (layer {l}): the entries are read channel by channel, each channel row "
                                "by row, into one vector (one column per example)."),
        grad_text=lambda wrt, cfg: ("Back through flatten: nothing is computed, each gradient entry goes back to "
                               "the position it was read from."),
        rule=lambda p: applied(r"\operatorname{vec}", "vec", p["input"]),
        grad_rule=lambda wrt, p: applied(r"\operatorname{vec}^{-1}", "unvec", p["grad"]),
        forward_math=_flatten_math,
    ),
    array=lambda cfg: Call("_flatten", ("input",), (("batch", cfg.batch),)),
    array_vjp=lambda wrt, cfg: Call("_unflatten", ("grad", "input"), (("batch", cfg.batch),)),
)
