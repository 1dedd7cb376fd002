"""Losses: one row each, and the shortcuts a loss takes through the output activation.

A loss ``L(yhat, y)`` is a sum over the entries of one example's prediction; with a
mini-batch (``Config.batch``) it is the mean over the examples (the columns).

Cross-entropy after softmax (targets summing to 1) and after sigmoid has a famous
shortcut: the gradient of the loss with respect to the output layer's pre-activation is
``yhat - y``. :class:`Fused` derives it with SymPy for the network at hand (the steps
are shown on the sheet) and the graph uses it instead of the two separate rules.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy as sp

from symderiv.calculus.core import Config, Op, Printed, Show, Tensor, tensor, vector
from symderiv.calculus.printing import partial
from symderiv.calculus.values import columns_of


@dataclass(frozen=True)
class Fused:
    """The gradient through output activation and loss together: ``dL/da = (yhat - y)/B``.

    ``applies(y)`` says whether the targets allow it (``None``) or why not (a note for the
    sheet); ``derivation(a, yhat, y)`` are the relations that derive it for one entry.
    """

    applies: Callable[[Tensor], str | None]
    derivation: Callable[[Sequence[sp.Basic], Sequence[sp.Basic], Sequence[sp.Basic]], tuple[sp.Basic, ...]]
    text: str
    derivation_text: str


@dataclass(frozen=True)
class Loss:
    """A loss over one example's output vector, summed over its entries.

    ``outputs`` lists the output activations the loss is defined for (None: any);
    ``fused`` the shortcut rule after some of them, by activation name.
    """

    name: str
    words: str
    f: Callable[[Sequence[sp.Expr], Sequence[sp.Expr], str], sp.Expr]
    outputs: tuple[str, ...] | None = None
    fused: Mapping[str, Fused] = field(default_factory=dict)


def _squared(yh: Sequence[sp.Expr], y: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*[(a - b) ** 2 for a, b in zip(yh, y)])


def _cross_entropy(yh: Sequence[sp.Expr], y: Sequence[sp.Expr], output: str) -> sp.Expr:
    """Categorical after softmax; per-entry binary (Bernoulli) after sigmoid."""
    if output == "sigmoid":
        return -sp.Add(*[b * sp.log(a) + (1 - b) * sp.log(1 - a) for a, b in zip(yh, y)])
    return -sp.Add(*[b * sp.log(a) for a, b in zip(yh, y)])


def _sums_to_one(y: Tensor) -> str | None:
    if all(sp.Add(*column) == 1 for _, column in columns_of(y)):
        return None
    return ("The targets do not sum to 1, so the shortcut {y_hat} - {y} for the gradient of the output layer's "
            "pre-activation does not hold: it goes through the softmax Jacobian, as derived.")


def _softmax_derivation(a: Sequence[sp.Basic], yh: Sequence[sp.Basic], y: Sequence[sp.Basic]) -> tuple:
    """``dL/da_1`` of ``-sum_k y_k log softmax_k(a)``, differentiated by SymPy, then rewritten
    in ``yhat`` and simplified with ``sum_k y_k = 1``."""
    S = sp.Symbol("S")
    total = sp.Add(*[sp.exp(v) for v in a])
    loss = -sp.Add(*[yk * (ak - sp.log(total)) for yk, ak in zip(y, a)])
    d = sp.diff(loss, a[0]).xreplace({total: S}).subs(sp.exp(a[0]), yh[0] * S)
    collected = sp.collect(sp.expand(d), yh[0], evaluate=False)
    grouped = sp.Add(sp.Mul(yh[0], collected[yh[0]], evaluate=False), collected.get(sp.S.One, 0), evaluate=False)
    lhs = partial(sp.Symbol("L"), a[0])
    return (sp.Eq(sp.Symbol("L"), -sp.Add(*[yk * sp.log(h) for yk, h in zip(y, yh)]), evaluate=False),
            sp.Eq(lhs, d, evaluate=False), sp.Eq(lhs, grouped, evaluate=False),
            sp.Eq(sp.Add(*y), 1, evaluate=False), sp.Eq(lhs, yh[0] - y[0], evaluate=False))


def _sigmoid_derivation(a: Sequence[sp.Basic], yh: Sequence[sp.Basic], y: Sequence[sp.Basic]) -> tuple:
    """``dL/da_1`` of the binary cross-entropy after sigmoid, with ``sigma' = sigma (1 - sigma)``."""
    s = sp.Function("sigma")(a[0])
    loss = -(y[0] * sp.log(s) + (1 - y[0]) * sp.log(1 - s))
    d = sp.diff(loss, a[0]).subs(sp.Derivative(s, a[0]), s * (1 - s))
    terms = sp.Add(*[sp.cancel(t) for t in sp.Add.make_args(d)]).subs(s, yh[0])
    lhs = partial(sp.Symbol("L"), a[0])
    return (sp.Eq(lhs, terms, evaluate=False), sp.Eq(lhs, sp.expand(terms), evaluate=False))


_SOFTMAX_WHY = ("Softmax and cross-entropy together: the loss differentiated through the softmax, for entry 1 "
                "(the others alike). Since the targets add up to 1, what is left is {y_hat} - {y}.")
_SIGMOID_WHY = ("Sigmoid and binary cross-entropy together: the loss differentiated through the sigmoid (whose "
                "derivative is the sigmoid times one minus itself), for entry 1 (the others alike); what is left "
                "is {y_hat} - {y}.")
_SHORTCUT = "The output layer's pre-activation, by the shortcut just derived: {y_hat} - {y}."

LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("squared_error", "squared error", lambda yh, y, o: _squared(yh, y)),
        Loss("half_squared_error", "half squared error", lambda yh, y, o: _squared(yh, y) / 2),
        Loss("mean_squared_error", "mean squared error", lambda yh, y, o: _squared(yh, y) / len(yh)),
        Loss("cross_entropy", "cross entropy", _cross_entropy, ("softmax", "sigmoid"), {
            "softmax": Fused(_sums_to_one, _softmax_derivation, _SHORTCUT, _SOFTMAX_WHY),
            "sigmoid": Fused(lambda y: None, _sigmoid_derivation, _SHORTCUT, _SIGMOID_WHY),
        }),
    )
}


def loss_value(loss: Loss, output: str, yh: Tensor, y: Tensor) -> sp.Expr:
    """The loss of a prediction: summed over entries, averaged over the examples of a batch."""
    per_example = [loss.f(list(col), list(y[index]), output) for index, col in columns_of(yh)]
    return per_example[0] if yh.ndim == 1 else sp.Add(*per_example) / len(per_example)


def _derivative(value: sp.Expr, by: sp.Basic) -> sp.Expr:
    """``d value / d by``, differentiating only the terms that hold ``by`` (a loss is a sum
    over entries: each entry's derivative reads one or a few terms)."""
    coeff, rest = value.as_coeff_Mul() if isinstance(value, sp.Mul) else (sp.S.One, value)
    terms = [t for t in sp.Add.make_args(rest) if t.has(by)]
    return coeff * sp.diff(sp.Add(*terms), by)


@lru_cache(maxsize=64)
def gradient(value: sp.Expr, yh: tuple[sp.Basic, ...]) -> tuple[sp.Expr, ...]:
    """The loss's derivative with respect to every entry of the prediction (made once)."""
    return tuple(sp.factor_terms(_derivative(value, e)) for e in yh)


def _value(t: Tensor) -> sp.Expr:
    """The one entry of a 0-d array."""
    value: sp.Expr = t[()]
    return value


def loss_op(loss: Loss, output: str) -> Op:
    """The loss as a row: ``L = loss(yhat, y)``, ``dL/dyhat`` by differentiating it."""
    def forward(ins: Mapping[str, Tensor], cfg: Config) -> Tensor:
        return tensor((), lambda i: loss_value(loss, output, ins["input"], ins["y"]))

    def vjp(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
        yh = ins["input"]
        cells = gradient(_value(forward(ins, cfg)), tuple(yh.flat))
        return {"input": vector(g[()] * c for c in cells).reshape(yh.shape)}

    def grad_rule(wrt: str, p: Printed) -> Any:
        yh = p.entries["input"]
        cells = gradient(_value(forward(p.entries, p.config)), tuple(yh.flat))
        return sp.ImmutableMatrix(yh.shape[0], 1 if yh.ndim == 1 else yh.shape[1], list(cells))

    return Op(
        name=loss.name, label=loss.words, words=loss.words, inputs=("input", "y"), grads=("input",),
        shape=lambda shapes, cfg: (),
        forward=forward, vjp=vjp,
        show=Show(forward_text=lambda l: f"The loss ({loss.words}).",
                  grad_text=lambda wrt, cfg: "Differentiate the loss with respect to the prediction.",
                  rule=lambda p: forward(p.entries, p.config)[()], grad_rule=grad_rule),
    )
