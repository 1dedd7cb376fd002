"""Batch normalization (training mode) and inverted dropout with a given mask.

Batch normalization is four rows, so that its gradient is no special case: the mean
``mu``, the (biased) variance ``var``, the normalized ``xhat = (x - mu)/sqrt(var + eps)``
and ``z = gamma xhat + beta``. The input reaches the loss along three paths (through
``xhat`` directly, through ``var`` and through ``mu``), and ``mu`` along two; the graph adds
the contributions of every path, which is the whole of batch norm's backward pass.

Statistics are per feature: per row of a batch of vectors (one column per example), per
channel of a batch of images (over examples, rows and columns), as PyTorch's BatchNorm1d
and BatchNorm2d in training mode. ``m`` is the number of values per feature.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from symderiv.calculus.core import Call, Config, Op, Printed, Show, Tensor, tensor, total, vector
from symderiv.calculus.printing import formula


def feature_axis(shape: tuple[int, ...]) -> int:
    """Rows of a batch of vectors ``(n, B)``; channels of a batch of images ``(B, C, H, W)``."""
    return 0 if len(shape) == 2 else 1


def groups(shape: tuple[int, ...]) -> list[list[tuple[int, ...]]]:
    """For each feature, the indices of its values."""
    axis = feature_axis(shape)
    found: list[list[tuple[int, ...]]] = [[] for _ in range(shape[axis])]
    for index in np.ndindex(*shape):
        found[index[axis]].append(index)
    return found


def per_feature(shapes: Mapping[str, tuple[int, ...]], cfg: Config) -> tuple[int, ...]:
    return (shapes["input"][feature_axis(shapes["input"])],)


def _count(x: Tensor) -> sp.Integer:
    return sp.Integer(x.size // x.shape[feature_axis(x.shape)])


def _mean(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    x = ins["input"]
    return vector([total(x[e] for e in g) / _count(x) for g in groups(x.shape)])


def _mean_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    x = ins["input"]
    axis = feature_axis(x.shape)
    return {"input": tensor(x.shape, lambda e: g[e[axis]] / _count(x))}


def _var(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    x, mu = ins["input"], ins["mean"]
    return vector([total((x[e] - mu[f]) ** 2 for e in g) / _count(x) for f, g in enumerate(groups(x.shape))])


def _var_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    x, mu, m = ins["input"], ins["mean"], _count(ins["input"])
    axis = feature_axis(x.shape)
    dmu = [g[f] * (-2 * total(x[e] - mu[f] for e in cells) / m) for f, cells in enumerate(groups(x.shape))]
    return {"input": tensor(x.shape, lambda e: g[e[axis]] * 2 * (x[e] - mu[e[axis]]) / m),
            "mean": vector(dmu)}


def _norm(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    x, mu, var = ins["input"], ins["mean"], ins["var"]
    axis = feature_axis(x.shape)
    return tensor(x.shape, lambda e: (x[e] - mu[e[axis]]) / sp.sqrt(var[e[axis]] + cfg.eps))


def _norm_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    x, mu, var = ins["input"], ins["mean"], ins["var"]
    axis, cells = feature_axis(x.shape), groups(x.shape)
    root = [sp.sqrt(v + cfg.eps) for v in var]
    half, power = -sp.Rational(1, 2), sp.Rational(-3, 2)
    dvar = [total(g[e] * (x[e] - mu[f]) for e in cells[f]) * half * (var[f] + cfg.eps) ** power
            for f in range(len(cells))]
    dmu = [-total(g[e] for e in cells[f]) / root[f] for f in range(len(cells))]
    return {"var": vector(dvar), "mean": vector(dmu),
            "input": tensor(x.shape, lambda e: g[e] / root[e[axis]])}


def _scale(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    xh, gamma, beta = ins["input"], ins["gamma"], ins["beta"]
    axis = feature_axis(xh.shape)
    return tensor(xh.shape, lambda e: gamma[e[axis]] * xh[e] + beta[e[axis]])


def _scale_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    xh, gamma = ins["input"], ins["gamma"]
    axis, cells = feature_axis(xh.shape), groups(xh.shape)
    return {"gamma": vector([total(g[e] * xh[e] for e in c) for c in cells]),
            "beta": vector([total(g[e] for e in c) for c in cells]),
            "input": tensor(xh.shape, lambda e: g[e] * gamma[e[axis]])}


# -- how the sheet writes them: per feature, k runs over the m values of a feature -----------------

def _m(p: Printed) -> sp.Integer:
    return _count(p.entries["input"])


def _sum_k(body: str) -> str:
    return r"\textstyle\sum_{{k}} " + body


_SHOW_MEAN = Show(
    forward_text=lambda l: (f"Batch normalization of layer {l}, the mean of each feature over the batch "
                            "(k runs over the m values of a feature: every example, and every position of "
                            "an image channel)."),
    grad_text=lambda wrt, cfg: "Back through the mean: every value of a feature gets 1/m of the mean's gradient.",
    rule=lambda p: formula(r"\frac{{1}}{{{1}}} " + _sum_k("{0}_{{k}}"), "1/{1} sum_k {0}_k", p["input"], _m(p)),
    grad_rule=lambda wrt, p: formula(r"\frac{{1}}{{{1}}} {0}", "1/{1} {0}", p["grad"], _m(p)),
    numbers=False,
)

_SHOW_VAR = Show(
    forward_text=lambda l: "The variance of each feature over the batch (dividing by m, as in training).",
    grad_text=lambda wrt, cfg: {
        "mean": ("The variance depends on the mean too; this path adds a multiple of the sum of the deviations, "
                 "which is 0."),
        "input": "Back through the variance: each value's deviation from the mean, times 2/m.",
    }[wrt],
    rule=lambda p: formula(r"\frac{{1}}{{{2}}} " + _sum_k(r"\left({0}_{{k}} - {1}\right)^{{2}}"),
                           "1/{2} sum_k ({0}_k - {1})^2", p["input"], p["mean"], _m(p)),
    grad_rule=lambda wrt, p: (
        formula(r"\frac{{2}}{{{3}}} {0} \odot " + _sum_k(r"\left({2} - {1}_{{k}}\right)"),
                "2/{3} {0} o sum_k ({2} - {1}_k)", p["grad"], p["input"], p["mean"], _m(p)) if wrt == "mean" else
        formula(r"\frac{{2}}{{{3}}} {0} \odot \left({1}_{{k}} - {2}\right)", "2/{3} {0} o ({1}_k - {2})",
                p["grad"], p["input"], p["mean"], _m(p))),
    numbers=False,
)

_SHOW_NORM = Show(
    forward_text=lambda l: ("Normalize: subtract the mean and divide by the standard deviation (epsilon keeps it "
                            "away from 0)."),
    grad_text=lambda wrt, cfg: {
        "var": "The variance's gradient, along its one path: through the normalized values.",
        "mean": "The mean's gradient along the path through the normalized values.",
        "input": "The direct path from the normalized values to the input.",
    }[wrt],
    rule=lambda p: formula(r"\left({0}_{{k}} - {1}\right) \oslash \sqrt{{{2} + {3}}}",
                           "({0}_k - {1}) / sqrt({2} + {3})", p["input"], p["mean"], p["var"], p.config.eps),
    grad_rule=lambda wrt, p: {
        "var": lambda: formula(r"-\frac{{1}}{{2}} " + _sum_k(r"{0}_{{k}} \odot \left({1}_{{k}} - {2}\right)")
                               + r" \odot \left({3} + {4}\right)^{{-3/2}}",
                               "-1/2 sum_k {0}_k o ({1}_k - {2}) o ({3} + {4})^(-3/2)",
                               p["grad"], p["input"], p["mean"], p["var"], p.config.eps),
        "mean": lambda: formula(r"-" + _sum_k(r"{0}_{{k}}") + r" \oslash \sqrt{{{1} + {2}}}",
                                "-sum_k {0}_k / sqrt({1} + {2})", p["grad"], p["var"], p.config.eps),
        "input": lambda: formula(r"{0} \oslash \sqrt{{{1} + {2}}}", "{0} / sqrt({1} + {2})",
                                 p["grad"], p["var"], p.config.eps),
    }[wrt](),
    numbers=False,
)

_SHOW_SCALE = Show(
    forward_text=lambda l: "Scale and shift each feature by its learned gamma and beta.",
    grad_text=lambda wrt, cfg: {
        "gamma": "Gamma: the upstream gradient times the normalized values, added up over the batch.",
        "beta": "Beta: the upstream gradient added up over the batch.",
        "input": "The normalized values: the upstream gradient times gamma.",
    }[wrt],
    rule=lambda p: formula(r"{1} \odot {0}_{{k}} + {2}", "{1} o {0}_k + {2}", p["input"], p["gamma"], p["beta"]),
    grad_rule=lambda wrt, p: {
        "gamma": lambda: formula(_sum_k(r"{0}_{{k}} \odot {1}_{{k}}"), "sum_k {0}_k o {1}_k", p["grad"], p["input"]),
        "beta": lambda: formula(_sum_k(r"{0}_{{k}}"), "sum_k {0}_k", p["grad"]),
        "input": lambda: formula(r"{0} \odot {1}", "{0} o {1}", p["grad"], p["gamma"]),
    }[wrt](),
)

_OPTS = lambda cfg: (("eps", cfg.eps),)  # noqa: E731

BN_MEAN = Op("bn_mean", r"\mu", "batch mean", ("input",), ("input",), per_feature, _mean, _mean_vjp, _SHOW_MEAN,
             array=lambda cfg: Call("_bn_mean", ("input",)),
             array_vjp=lambda wrt, cfg: Call("_bn_mean_grad", ("grad", "input")))
BN_VAR = Op("bn_var", r"\sigma^2", "batch variance", ("input", "mean"), ("mean", "input"), per_feature, _var, _var_vjp,
            _SHOW_VAR,
            array=lambda cfg: Call("_bn_var", ("input", "mean")),
            array_vjp=lambda wrt, cfg: Call("_bn_var_grad_mean" if wrt == "mean" else "_bn_var_grad_x",
                                            ("grad", "input", "mean")))
BN_NORM = Op("bn_norm", r"\hat{x}", "normalization", ("input", "mean", "var"), ("var", "mean", "input"),
             lambda shapes, cfg: shapes["input"], _norm, _norm_vjp, _SHOW_NORM,
             array=lambda cfg: Call("_bn_norm", ("input", "mean", "var"), _OPTS(cfg)),
             array_vjp=lambda wrt, cfg: Call(f"_bn_norm_grad_{'x' if wrt == 'input' else wrt}",
                                             ("grad", "input", "mean", "var"), _OPTS(cfg)))
BN_SCALE = Op("bn_scale", r"\gamma", "scale and shift", ("input", "gamma", "beta"), ("gamma", "beta", "input"),
              lambda shapes, cfg: shapes["input"], _scale, _scale_vjp, _SHOW_SCALE,
              array=lambda cfg: Call("_bn_scale", ("input", "gamma", "beta")),
              array_vjp=lambda wrt, cfg: Call(f"_bn_scale_grad_{'x' if wrt == 'input' else wrt}",
                                              ("grad", "input", "gamma")))


# -- inverted dropout ----------------------------------------------------------------------------------

def _dropout(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
    return tensor(ins["input"].shape, lambda e: ins["mask"][e] * ins["input"][e] / cfg.keep)


def _dropout_vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    return {"input": tensor(g.shape, lambda e: ins["mask"][e] * g[e] / cfg.keep)}


DROPOUT = Op(
    "dropout", r"\operatorname{dropout}", "dropout", ("input", "mask"), ("input",),
    lambda shapes, cfg: shapes["input"], _dropout, _dropout_vjp,
    Show(
        forward_text=lambda l: (f"Dropout (layer {l}): the given mask keeps some entries and zeroes the others; "
                                "the kept ones are divided by the keep probability p so that the expected value "
                                "is unchanged (inverted dropout)."),
        grad_text=lambda wrt, cfg: ("Back through dropout: the same mask and the same division by p; a dropped "
                               "entry gets no gradient."),
        rule=lambda p: formula(r"\frac{{1}}{{{2}}} {0} \odot {1}", "1/{2} {0} o {1}", p["mask"], p["input"],
                               p.config.keep),
        grad_rule=lambda wrt, p: formula(r"\frac{{1}}{{{2}}} {0} \odot {1}", "1/{2} {0} o {1}", p["mask"], p["grad"],
                                         p.config.keep),
    ),
    array=lambda cfg: Call("_dropout", ("input", "mask"), (("keep", cfg.keep),)),
    array_vjp=lambda wrt, cfg: Call("_dropout", ("grad", "mask"), (("keep", cfg.keep),)),
)
