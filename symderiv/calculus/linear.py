"""Linear layers: dense (``a = W z + b``) and 2-D convolution (``a = W \\star z + b``).

A convolution, as deep-learning frameworks compute it, is a cross-correlation: output
entry ``(f, i, j)`` is the filter's bias plus the sum, over channels and kernel taps, of
the weights times the window of the zero-padded input that starts at ``(s(i-1)+1,
s(j-1)+1)`` (taps ``d`` apart). Its gradients follow from that window sum, and the sheet
shows how: differentiating one output entry with respect to one weight gives the input
entry under it, so ``dL/dW`` is a correlation of the input with ``dL/da``; with respect to
one input entry it gives the weight over it, so ``dL/dz`` is a full convolution of
``dL/da`` with the flipped kernel.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from symderiv.calculus.core import Call, Config, Name, Op, Printed, Show, Tensor, tensor, total
from symderiv.calculus.printing import formula, partial

# -- dense ----------------------------------------------------------------------------------

GRAD = sp.Symbol("grad")


def _dense_forward(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    W, z, b = ins["W"], ins["input"], ins["b"]
    if z.ndim == 1:
        return tensor((W.shape[0],), lambda i: total(W[i[0], j] * z[j] for j in range(W.shape[1])) + b[i[0]])
    return tensor((W.shape[0], z.shape[1]),
                  lambda ik: total(W[ik[0], j] * z[j, ik[1]] for j in range(W.shape[1])) + b[ik[0]])


def _dense_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    W, z = ins["W"], ins["input"]
    if z.ndim == 1:
        return {"W": tensor(W.shape, lambda ij: g[ij[0]] * z[ij[1]]),
                "b": tensor(g.shape, lambda i: g[i]),
                "input": tensor(z.shape, lambda j: total(W[i, j[0]] * g[i] for i in range(W.shape[0])))}
    examples = range(z.shape[1])
    return {"W": tensor(W.shape, lambda ij: total(g[ij[0], k] * z[ij[1], k] for k in examples)),
            "b": tensor((W.shape[0],), lambda i: total(g[i[0], k] for k in examples)),
            "input": tensor(z.shape, lambda jk: total(W[i, jk[0]] * g[i, jk[1]] for i in range(W.shape[0])))}


def _dense_rule(p: Printed) -> sp.Basic:
    if p.config.batch:
        return formula(r"{0} {1} + {2} \mathbf{{1}}^{{\top}}", "{0} {1} + {2} 1^T", p["W"], p["input"], p["b"])
    return sp.MatAdd(sp.MatMul(p["W"], p["input"]), p["b"])


def _dense_grad_rule(wrt: str, p: Printed) -> sp.Basic:
    if wrt == "W":
        return sp.MatMul(p["grad"], sp.Transpose(p["input"]))
    if wrt == "b":
        return formula(r"{0} \mathbf{{1}}", "{0} 1", p["grad"]) if p.config.batch else p["grad"]
    return sp.MatMul(sp.Transpose(p["W"]), p["grad"])


_DENSE_TEXT = {
    "W": "Weights: the upstream gradient times the transposed layer input (an outer product).",
    "b": "Biases: the pre-activation holds each bias once, with derivative 1, so the gradient passes unchanged.",
    "input": "Back to the layer's input: multiply by the transposed weights.",
}

_BATCH_TEXT = {
    "W": "Weights: the upstream gradient times the transposed layer input; the matrix product adds up "
         "the outer products of all the examples.",
    "b": "Biases: the pre-activation of every example holds each bias once, with derivative 1, so the gradient "
         "is the upstream gradient added up over the examples (times a column of ones).",
}


def _dense_array_vjp(wrt: str, cfg: Config) -> Any:
    if wrt == "W":
        return Call("_outer", ("grad", "input"), sink="_put_outer")
    if wrt == "b":
        return Call("_sum_examples", ("grad",)) if cfg.batch else GRAD
    return Call("_matvec_t", ("W", "grad"))


DENSE = Op(
    name="dense", label="dense", words="dense layer", inputs=("input", "W", "b"), grads=("W", "b", "input"),
    shape=lambda shapes, cfg: (shapes["W"][0],) + shapes["input"][1:],
    forward=_dense_forward, vjp=_dense_vjp,
    show=Show(
        forward_text=lambda l: f"Pre-activation of layer {l}: the affine map of the layer's input.",
        grad_text=lambda wrt, cfg: (_BATCH_TEXT if cfg.batch else _DENSE_TEXT).get(wrt, _DENSE_TEXT[wrt]),
        rule=_dense_rule, grad_rule=_dense_grad_rule,
    ),
    array=lambda cfg: Call("_affine", ("W", "input", "b")),
    array_vjp=_dense_array_vjp,
)


# -- 2-D convolution ----------------------------------------------------------------------------

def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """Output length along one axis: ``floor((n + 2p - d(k - 1) - 1)/s) + 1`` (may be <= 0)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _conv2d_shape(shapes: Mapping[str, tuple[int, ...]], cfg: Config) -> tuple[int, ...]:
    x, w = shapes["input"], shapes["W"]
    sizes = tuple(out_size(x[-2 + a], w[2 + a], cfg.stride[a], cfg.padding[a], cfg.dilation[a]) for a in (0, 1))
    return x[:-3] + (w[0],) + sizes


def _source(cfg: Config, i: int, j: int, p: int, q: int) -> tuple[int, int]:
    """The input position (0-based, unpadded) under tap ``(p, q)`` of window ``(i, j)``."""
    return (cfg.stride[0] * i + cfg.dilation[0] * p - cfg.padding[0],
            cfg.stride[1] * j + cfg.dilation[1] * q - cfg.padding[1])


def _taps(W: Tensor, x: Tensor, cfg: Config, f: int, i: int, j: int):
    """``(weight index, input index)`` of every tap of window ``(i, j)`` that lands inside
    the input (taps on the zero padding contribute nothing)."""
    _, C, kh, kw = W.shape
    H, Wd = x.shape[-2:]
    for c in range(C):
        for p in range(kh):
            for q in range(kw):
                u, v = _source(cfg, i, j, p, q)
                if 0 <= u < H and 0 <= v < Wd:
                    yield (f, c, p, q), (c, u, v)


def _examples(x: Tensor) -> list[tuple]:
    """Leading index of each example: ``()`` for one image, ``(n,)`` for a batch."""
    return [()] if x.ndim == 3 else [(n,) for n in range(x.shape[0])]


def _conv2d_forward(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    W, x, b = ins["W"], ins["input"], ins.get("b")
    shape = _conv2d_shape({"input": x.shape, "W": W.shape}, cfg)

    def entry(index: tuple[int, ...]) -> sp.Basic:
        *n, f, i, j = index
        s = total(W[w] * x[tuple(n) + xi] for w, xi in _taps(W, x[tuple(n)] if n else x, cfg, f, i, j))
        return s + b[f] if b is not None else s
    return tensor(shape, entry)


def _conv2d_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    """Every tap's product is differentiated where it is: each output entry sends
    ``g * x`` to its weight and ``g * W`` to its input entry (the window sums, read backward)."""
    W, x = ins["W"], ins["input"]
    dW: dict = {w: [] for w in np.ndindex(*W.shape)}
    dx: dict = {e: [] for e in np.ndindex(*x.shape)}
    for n in _examples(x):
        image = x[n] if n else x
        for f, i, j in np.ndindex(*g.shape[-3:]):
            gi = g[n + (f, i, j)]
            for w, xi in _taps(W, image, cfg, f, i, j):
                dW[w].append(gi * x[n + xi])
                dx[n + xi].append(W[w] * gi)
    result = {"W": tensor(W.shape, lambda w: total(dW[w])), "input": tensor(x.shape, lambda e: total(dx[e]))}
    if "b" in ins:
        result["b"] = tensor((W.shape[0],), lambda f: total(g[n + (f[0], i, j)] for n in _examples(x)
                                                             for i, j in np.ndindex(*g.shape[-2:])))
    return result


# The index-level rules the sheet derives, for any sizes (indices count from 1). They are
# derived once per stride, dilation and layout with placeholder names, then renamed.
f_, c_, i_, j_, p_, q_, u_, v_, n_ = sp.symbols("f c i j p q u v n", integer=True, positive=True)
c1, p1, q1 = sp.symbols("c' p' q'", integer=True, positive=True)
F_, C_, KH, KW, HO, WO, B_ = sp.symbols("F C k_h k_w H' W' B", integer=True, positive=True)
_W, _ZT, _A, _B, _WT = (sp.Symbol(f"@{name}[]") for name in ("W", "z~", "a", "b", "W~"))


@dataclass(frozen=True)
class _Layout:
    """What the index-level rules depend on: stride, dilation, examples, bias."""

    stride: tuple[int, int]
    dilation: tuple[int, int]
    batch: bool
    bias: bool

    @property
    def lead(self) -> tuple:
        return (n_,) if self.batch else ()


def _window(k: _Layout, c, pp, qq) -> sp.Basic:
    """The padded input entry under tap ``(pp, qq)`` of window ``(i, j)``, channel ``c``."""
    s, d = k.stride, k.dilation
    rows, cols = s[0] * (i_ - 1) + d[0] * (pp - 1) + 1, s[1] * (j_ - 1) + d[1] * (qq - 1) + 1
    return sp.IndexedBase(_ZT)[k.lead + (c, rows, cols)]


def _window_sum(k: _Layout, c, pp, qq) -> sp.Basic:
    body = sp.Sum(sp.IndexedBase(_W)[f_, c, pp, qq] * _window(k, c, pp, qq), (c, 1, C_), (pp, 1, KH), (qq, 1, KW))
    return sp.IndexedBase(_B)[f_] + body if k.bias else body


def _out(k: _Layout) -> sp.Basic:
    return sp.IndexedBase(_A)[k.lead + (f_, i_, j_)]


def _inside(expr: sp.Basic) -> sp.Basic:
    """Each ``Piecewise`` by its first branch: the case where the index lies within range
    (the sheet states the rule for such indices)."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])


def _outer_sums(k: _Layout, body: sp.Basic) -> sp.Basic:
    limits = [(i_, 1, HO), (j_, 1, WO)]
    if k.batch:
        limits.insert(0, (n_, 1, B_))
    return sp.Sum(body, *limits)


@lru_cache(maxsize=64)
def _generic_derivation(wrt: str, k: _Layout) -> tuple[sp.Basic, ...]:
    """How ``dL/dW``, ``dL/db`` and ``dL/dz`` follow from the window sum: SymPy differentiates
    one output entry and sums over the outputs (the chain rule)."""
    renamed = _window_sum(k, c1, p1, q1)
    L, out = sp.Symbol("L"), _out(k)
    first = sp.Eq(out, _window_sum(k, c_, p_, q_), evaluate=False)
    if wrt == "b":
        return (first, sp.Eq(partial(L, sp.IndexedBase(_B)[f_]), _outer_sums(k, partial(L, out)), evaluate=False))
    if wrt == "W":
        weight = sp.IndexedBase(_W)[f_, c_, p_, q_]
        local = _inside(sp.diff(renamed, weight).doit())
        return (first, sp.Eq(partial(out, weight), local, evaluate=False),
                sp.Eq(partial(L, weight), _outer_sums(k, partial(L, out) * local), evaluate=False))
    entry = sp.IndexedBase(_ZT)[k.lead + (c_, u_, v_)]
    local = _inside(sp.diff(renamed, entry).doit())
    by_output = sp.Sum(partial(L, out) * local, (f_, 1, F_), (i_, 1, HO), (j_, 1, WO))
    rows = [first, sp.Eq(partial(out, entry), local, evaluate=False),
            sp.Eq(partial(L, entry), by_output, evaluate=False)]
    if k.stride == (1, 1) and k.dilation == (1, 1):
        rows += _full_convolution(k, entry, by_output)
    return tuple(rows)


def _full_convolution(k: _Layout, entry: sp.Basic, by_output: sp.Sum) -> list[sp.Basic]:
    """With stride and dilation 1: SymPy changes the summation index from the output
    position to the kernel tap (``p = u - i + 1``; ``dL/da`` is 0 outside its range, the
    kernel outside its taps), then flips the tap (``p -> k_h + 1 - p``)."""
    by_tap = by_output.change_index(i_, -i_ + u_ + 1, p_).change_index(j_, -j_ + v_ + 1, q_)
    by_tap = sp.Sum(by_tap.function, (f_, 1, F_), (p_, 1, KH), (q_, 1, KW))
    flipped = by_tap.change_index(p_, -p_ + KH + 1).change_index(q_, -q_ + KW + 1)
    W, Wt = sp.IndexedBase(_W), sp.IndexedBase(_WT)
    flipped = flipped.xreplace({W[f_, c_, KH - p_ + 1, KW - q_ + 1]: Wt[f_, c_, p_, q_]})
    definition = sp.Eq(Wt[f_, c_, p_, q_], W[f_, c_, KH + 1 - p_, KW + 1 - q_], evaluate=False)
    L = sp.Symbol("L")
    return [sp.Eq(partial(L, entry), by_tap, evaluate=False), definition,
            sp.Eq(partial(L, entry), flipped, evaluate=False)]


def _layout(p: Printed) -> _Layout:
    return _Layout(p.config.stride, p.config.dilation, p.config.batch, "b" in p.symbols)


def _renamed(p: Printed, relations: tuple[sp.Basic, ...]) -> tuple[sp.Basic, ...]:
    """Generic relations in this layer's names, with its sizes stated."""
    names = {_W: p.indexed("W").label, _ZT: p.indexed("input", "~").label, _A: p.indexed("out").label,
             _WT: p.indexed("W", "~").label}
    if "b" in p.symbols:
        names[_B] = p.indexed("b").label
    return tuple(r.xreplace(names) for r in relations)


def _sizes(p: Printed) -> sp.Basic:
    F, C, kh, kw = p.entries["W"].shape
    Ho, Wo = p.entries["out"].shape[-2:]
    symbols, values = [F_, C_, KH, KW, HO, WO], [F, C, kh, kw, Ho, Wo]
    if p.config.batch:
        symbols.append(B_)
        values.append(p.entries["out"].shape[0])
    return sp.Eq(sp.Tuple(*symbols), sp.Tuple(*values), evaluate=False)


def _conv2d_forward_math(p: Printed) -> tuple[sp.Basic, ...]:
    k = _layout(p)
    return _renamed(p, (sp.Eq(_out(k), _window_sum(k, c_, p_, q_), evaluate=False),)) + (_sizes(p),)


def _conv2d_derivation(wrt: str, p: Printed) -> tuple[sp.Basic, ...]:
    return _renamed(p, _generic_derivation(wrt, _layout(p)))


_CONV2D_TEXT = {
    "W": ("Kernel: differentiate the window sum with respect to one weight (only the one product that holds "
          "it remains) and add up over every output entry that uses it: the gradient of the kernel is a "
          "correlation of the padded input with the upstream gradient."),
    "b": ("Biases: every output entry of a filter holds its bias once, so its gradient adds up that filter's "
          "upstream gradient."),
    "input": ("Back to the layer's input: differentiating the window sum with respect to one input entry gives "
              "the weight over it in every window that covers it. With stride and dilation 1 this is a full "
              "convolution: the upstream gradient padded with zeros, correlated with the kernel flipped in both "
              "directions. "
              "The gradient of the input is that of the padded input without its border."),
}


def _conv2d_names(p: Printed) -> tuple[Name, ...]:
    return (Name(f"{p.names['input']}~[]", rf"\tilde{{{p.plain['input']}}}"),
            Name(f"{p.names['W']}~[]", rf"\tilde{{{p.plain['W']}}}"))


def _options(cfg: Config) -> tuple[tuple[str, Any], ...]:
    return (("stride", cfg.stride), ("padding", cfg.padding), ("dilation", cfg.dilation))


def _conv2d_array_vjp(wrt: str, cfg: Config) -> Call:
    if wrt == "W":
        return Call("_conv2d_grad_w", ("input", "grad", "W"), _options(cfg))
    if wrt == "b":
        return Call("_conv2d_grad_b", ("grad",))
    return Call("_conv2d_grad_x", ("grad", "W", "input"), _options(cfg))


def _conv2d_rule(p: Printed) -> sp.Basic:
    if "b" in p.symbols:
        return formula(r"{0} \star {1} + {2}", "{0} * {1} + {2}", p["W"], p["input"], p["b"])
    return formula(r"{0} \star {1}", "{0} * {1}", p["W"], p["input"])


def _conv2d_grad_rule(wrt: str, p: Printed) -> sp.Basic:
    if wrt == "W":
        return formula(r"{0} \star {1}", "{0} * {1}", p["input"], p["grad"])
    if wrt == "b":
        return formula(r"\textstyle\sum_{{i,j}} {0}", "sum_ij {0}", p["grad"])
    return formula(r"\operatorname{{full}}\left({0}\right) \star \operatorname{{flip}}\left({1}\right)",
                   "full({0}) * flip({1})", p["grad"], p["W"])


CONV2D = Op(
    name="conv2d", label=r"\star", words="2-D convolution", inputs=("input", "W", "b"), grads=("W", "b", "input"),
    shape=_conv2d_shape, forward=_conv2d_forward, vjp=_conv2d_vjp,
    show=Show(
        forward_text=lambda l: (f"Convolution of layer {l}: each output entry is its filter's bias plus the sum, "
                                "over the channels and the kernel, of the weights times the window of the "
                                "zero-padded input under them."),
        grad_text=lambda wrt, cfg: _CONV2D_TEXT[wrt],
        rule=_conv2d_rule, grad_rule=_conv2d_grad_rule,
        forward_math=_conv2d_forward_math, derivation=_conv2d_derivation, names=_conv2d_names,
    ),
    array=lambda cfg: Call("_conv2d", ("input", "W", "b"), _options(cfg)),
    array_vjp=_conv2d_array_vjp,
)
