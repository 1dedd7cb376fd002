"""Activations: one row per element-wise function, and softmax, a vector operation.

Each element-wise activation is a scalar function ``f(v)`` with its derivative written
beside it, as micrograd writes each operation's local derivative beside its forward
computation. Adding an activation is adding one row to :data:`ACTIVATIONS`; its layer
operation (:func:`elementwise`) follows from the row.

The derivative of ReLU at 0 is a *convention*: the homework (and PyTorch) take
``ReLU'(0) = 0``. SymPy's own derivative of ``Max(0, v)`` is ``Heaviside(v)`` with
``Heaviside(0) = 1/2``, which agrees with neither, so the rules below never
differentiate ``Max``: they use ``Heaviside(v, H0)`` with ``H0`` the chosen convention.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symderiv.algebra import decimal_text
from symderiv.calculus.core import Call, Config, Name, Op, Printed, Settings, Show, Tensor, entrywise, total
from symderiv.calculus.printing import entrywise_product, formula
from symderiv.calculus.values import columns_of, map_values, same_shape


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: ``f(v)`` and ``f'(v)`` (given ``v`` and ``f(v)``).

    ``kinked`` says the derivative at 0 is a convention (ReLU-like functions), so the
    sheet can warn when a forward value lands exactly there. ``label`` is the name of the
    function as printed (``\\operatorname{ReLU}``, ``\\sigma``), ``words`` as a student
    reads it in a sentence.
    """

    name: str
    label: str
    words: str
    f: Callable[[sp.Expr, Settings], sp.Expr]
    df: Callable[[sp.Expr, sp.Expr, Settings], sp.Expr]
    kinked: bool = False

    @property
    def latex(self) -> str:
        """The operator's LaTeX: ``\\sigma`` for sigma, else an operator name."""
        return r"\sigma" if self.label == "sigma" else rf"\operatorname{{{self.label}}}"


def _relu(v: sp.Expr, s: Settings) -> sp.Expr:
    return sp.Max(0, v)


def _step(v: sp.Expr, s: Settings) -> sp.Expr:
    """``H(v)`` with ``H(0)`` the convention; built unevaluated for a symbol (asking SymPy
    about the sign of a matrix entry costs milliseconds), evaluated for a number."""
    return sp.Heaviside(v, s.relu_at_zero, evaluate=bool(v.is_number))


def _drelu(v: sp.Expr, out: sp.Expr, s: Settings) -> sp.Expr:
    return _step(v, s)


def _leaky(v: sp.Expr, s: Settings) -> sp.Expr:
    return sp.Max(v, s.leaky_slope * v)


def _dleaky(v: sp.Expr, out: sp.Expr, s: Settings) -> sp.Expr:
    return s.leaky_slope + (1 - s.leaky_slope) * _step(v, s)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", "ReLU", "ReLU", _relu, _drelu, kinked=True),
        Activation("leaky_relu", "LeakyReLU", "leaky ReLU", _leaky, _dleaky, kinked=True),
        Activation("sigmoid", "sigma", "sigmoid", lambda v, s: 1 / (1 + sp.exp(-v)), lambda v, o, s: o * (1 - o)),
        Activation("tanh", "tanh", "tanh", lambda v, s: sp.tanh(v), lambda v, o, s: 1 - o**2),
        Activation("identity", "id", "identity", lambda v, s: v, lambda v, o, s: sp.Integer(1)),
    )
}

#: Roles as SymPy symbols, for element-wise array code printed from a row's own rule.
INPUT, OUT, GRAD = sp.Symbol("input"), sp.Symbol("out"), sp.Symbol("grad")


def _kinks(act: Activation) -> Callable[[Mapping[str, Tensor], Tensor, Config], tuple]:
    """Entries whose input sits exactly on the kink at 0, where f' is a convention."""
    def kinks(values: Mapping[str, Tensor], out: Tensor, cfg: Config) -> tuple:
        if not act.kinked:
            return ()
        a, slope = values["input"], act.df(sp.Integer(0), sp.Integer(0), cfg.settings)
        shown = decimal_text(slope) or str(slope)
        message = (f"is exactly 0, the kink of {act.words}: its derivative there is taken to be {shown} "
                   f"by convention (as PyTorch does for ReLU'(0) = 0), and the gradients through it depend on that "
                   "convention.")
        return tuple(("input", index, message) for index in np.ndindex(*a.shape) if a[index] == 0)
    return kinks


def _derivative(act: Activation, cfg: Config) -> Callable[[sp.Basic, sp.Basic], sp.Basic]:
    return lambda v, o: act.df(v, o, cfg.settings)


def _show(act: Activation) -> Show:
    def named(prime: str) -> Callable[[Printed], Name]:
        return lambda p: Name(f"{act.name}{prime}({p.names['input']})", f"{act.latex}{prime}({p.latex['input']})")

    return Show(
        forward_text=lambda l: f"Activation of layer {l} ({act.words}), applied entry by entry.",
        grad_text=lambda wrt, cfg: ("Through the activation: multiply by its local derivative "
                               "(element-wise for element-wise activations)."),
        rule=lambda p: p["shown"],
        grad_rule=lambda wrt, p: entrywise_product(p["grad"], p["local"]),
        shown=named(""),
        local=named("'"),
        local_value=lambda values, cfg: map_values(_derivative(act, cfg), values["input"], values["out"]),
        applied=lambda values, cfg: map_values(sp.Function(act.label), values["input"]),
    )


def elementwise(act: Activation) -> Op:
    """The layer operation of an element-wise activation: ``z = f(a)``, ``dL/da = dL/dz f'(a)``."""
    return Op(
        name=act.name, label=act.latex, words=act.words, inputs=("input",), grads=("input",),
        shape=lambda shapes, cfg: shapes["input"],
        forward=lambda ins, cfg: entrywise(lambda v: act.f(v, cfg.settings), ins["input"]),
        vjp=lambda g, ins, out, cfg: {"input": entrywise(lambda gi, v, o: gi * act.df(v, o, cfg.settings),
                                                         g, ins["input"], out)},
        show=_show(act),
        array=lambda cfg: act.f(INPUT, cfg.settings),
        array_vjp=lambda wrt, cfg: GRAD * act.df(INPUT, OUT, cfg.settings),
        kinks=_kinks(act),
    )


# -- softmax: a vector operation ----------------------------------------------------------

def softmax(v) -> list[sp.Expr]:
    """``exp(v_i) / sum_k exp(v_k)``: exact, no max-shift (SymPy needs no stabilising)."""
    total_ = sp.Add(*[sp.exp(vi) for vi in v])
    return [sp.exp(vi) / total_ for vi in v]


def _stable(v) -> list[sp.Expr]:
    """The same values as floating point should compute them: shifted by the maximum, so
    no ``exp`` overflows (the factor ``exp(-max v)`` cancels)."""
    m = sp.Max(*v, evaluate=all(vi.is_number for vi in v))
    return softmax([vi - m for vi in v])


def _by_column(f: Callable[[list], list], t: Tensor) -> Tensor:
    """``f`` applied to each column (each example) of a vector or a batch matrix."""
    out = np.empty(t.shape, dtype=object)
    for index, column in columns_of(t):
        out[index] = f(list(column))
    return out


def softmax_vjp(grad_out, out, i: int) -> sp.Expr:
    """Entry ``i`` of ``J^T g`` for softmax: ``z_i (g_i - sum_k g_k z_k)``."""
    return out[i] * (grad_out[i] - total(g * o for g, o in zip(grad_out, out)))


def _softmax_grad(g: Tensor, ins: Mapping[str, Tensor], out: Tensor, cfg: Config) -> dict[str, Tensor]:
    result = np.empty(out.shape, dtype=object)
    for index, column in columns_of(out):
        gs, zs = list(g[index]), list(column)
        result[index] = [softmax_vjp(gs, zs, i) for i in range(len(zs))]
    return {"input": result}


def _softmax_rule(p: Printed) -> sp.Basic:
    if not p.config.batch:
        return sp.MatMul(sp.Transpose(p["local"]), p["grad"])
    return formula(r"{0} \odot \left({1} - \mathbf{{1}} \mathbf{{1}}^{{\top}} \left({1} \odot {0}\right)\right)",
                   "{0} o ({1} - 1 1^T ({1} o {0}))", p["out"], p["grad"])


def _jacobian(values: Mapping[str, Any], cfg: Config) -> Any:
    z = values["out"]
    return None if cfg.batch else sp.ImmutableMatrix(sp.diag(*z) - z * z.T)


SOFTMAX = Op(
    name="softmax", label=r"\operatorname{softmax}", words="softmax", inputs=("input",), grads=("input",),
    shape=same_shape,
    forward=lambda ins, cfg: _by_column(softmax, ins["input"]),
    float_forward=lambda ins, cfg: _by_column(_stable, ins["input"]),
    vjp=_softmax_grad,
    show=Show(
        forward_text=lambda l: f"Softmax of layer {l}.",
        grad_text=lambda wrt, cfg: ("Through the activation: multiply by its local derivative "
                               "(element-wise for element-wise activations)."),
        rule=lambda p: p["shown"],
        grad_rule=lambda wrt, p: _softmax_rule(p),
        shown=lambda p: Name(f"softmax({p.names['input']})", rf"\operatorname{{softmax}}({p.latex['input']})"),
        local=lambda p: None if p.config.batch else Name(
            f"J_softmax({p.names['input']})", rf"\mathbf{{J}}_{{\operatorname{{softmax}}}}({p.latex['input']})",
            (p.entries["input"].shape[0],) * 2),
        local_value=_jacobian,
        applied=lambda values, cfg: sp.Function("softmax")(values["input"]),
    ),
    array=lambda cfg: Call("_softmax", ("input",)),
    array_vjp=lambda wrt, cfg: Call("_softmax_vjp", ("grad", "out")),
)
