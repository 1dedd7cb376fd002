"""The optimizers as data: one row per method, its hyperparameters and its update lines.

Every method is a list of :class:`Update` lines ``target_t = rule``, applied in order
at every step t and entry by entry (squares, roots and divisions act on each entry of
the vectors). The rules are written as PyTorch's ``torch.optim`` computes them
(``dampening = 0``, no ``amsgrad``, no ``centered``, no ``lr_decay``): the same SymPy
expression is printed on the sheet and evaluated for the numbers, so the printed rule
is the rule that made the numbers. Adding a method is one more row of :data:`METHODS`.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symderiv.model import Prose

t = sp.Symbol("t", integer=True, positive=True)
w, g, m, v, s = (sp.IndexedBase(name) for name in ("w", "g", "m", "v", "s"))
m_hat, v_hat = sp.IndexedBase("m_hat"), sp.IndexedBase("v_hat")
eta = sp.Symbol("eta", positive=True)
mu = sp.Symbol("mu", positive=True)
beta1, beta2 = sp.Symbol("beta_1", nonnegative=True), sp.Symbol("beta_2", nonnegative=True)
epsilon = sp.Symbol("epsilon", positive=True)
lam = sp.Symbol("lambda", nonnegative=True)
alpha = sp.Symbol("alpha", nonnegative=True)

#: The gradient of the objective at the previous parameters, ``nabla f(w_{t-1})``.
GradF = sp.Function(r"\nabla f")

#: The squared length of the parameter vector, in the L2 penalty (lambda/2) |w|^2.
NORM = sp.Symbol("norm_w_squared", nonnegative=True)

NOTATION = (("epsilon", r"\varepsilon"), ("m_hat", r"\hat{m}"), ("norm_w_squared", r"\lVert w \rVert^{2}"),
            ("v_hat", r"\hat{v}"))


def eq(lhs: sp.Basic, rhs: sp.Basic) -> sp.Equality:
    """``lhs = rhs`` as written, never decided."""
    return sp.Eq(lhs, rhs, evaluate=False)


def mul(*factors: sp.Basic) -> sp.Expr:
    """A product kept in the order written: ``(1 - beta_1) g_t``, not ``g_t (1 - beta_1)``."""
    return sp.Mul(*factors, evaluate=False)


def add(*terms: sp.Basic) -> sp.Expr:
    """A sum kept in the order written: ``sqrt(v_t) + epsilon``."""
    return sp.Add(*terms, evaluate=False)


def prev(base: sp.IndexedBase) -> sp.Indexed:
    return base[t - 1]


def now(base: sp.IndexedBase) -> sp.Indexed:
    return base[t]


@dataclass(frozen=True)
class Hyper:
    """A hyperparameter field: its PyTorch name, its symbol, its bounds and what it is."""

    field: str
    symbols: tuple[sp.Symbol, ...]
    low: sp.Rational
    open_low: bool
    high: sp.Rational | None
    open_high: bool
    meaning: str


HYPER = {h.field: h for h in (
    Hyper("lr", (eta,), sp.Integer(0), True, None, False, "learning rate"),
    Hyper("momentum", (mu,), sp.Integer(0), True, sp.Integer(1), True, "momentum"),
    Hyper("betas", (beta1, beta2), sp.Integer(0), False, sp.Integer(1), True, "decay rates of the moment averages"),
    Hyper("eps", (epsilon,), sp.Integer(0), True, None, False, "added to the root so it is never 0"),
    Hyper("weight_decay", (lam,), sp.Integer(0), False, None, False, "weight decay"),
    Hyper("alpha", (alpha,), sp.Integer(0), False, sp.Integer(1), True, "decay rate of the squared-gradient average"),
)}


@dataclass(frozen=True)
class Update:
    """One line of a method: ``target_t = rule`` (in t, the previous step's values and the
    hyperparameters); ``text`` says what it does, for the sheet."""

    target: sp.IndexedBase
    rule: sp.Expr
    text: Prose

    @property
    def name(self) -> str:
        """The answer id stem: ``m_hat`` for the answers ``m_hat1``, ``m_hat2``..."""
        return str(self.target.label)


@dataclass(frozen=True)
class Method:
    """An optimizer: its spec name, its title, its hyperparameters with PyTorch's defaults,
    its state lines, its step (``w_t = w_{t-1} - direction``, or ``+`` with ``sign = 1``),
    and whether weight decay is decoupled (AdamW) or added to the gradient (L2)."""

    key: str
    title: str
    defaults: tuple[tuple[str, object], ...]
    states: tuple[Update, ...]
    direction: sp.Expr
    step_text: Prose
    about: Prose
    decoupled: bool = False
    sign: int = -1

    def default(self, field: str) -> object:
        return dict(self.defaults)[field]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.defaults)

    def lines(self, decay: bool) -> tuple[Update, ...]:
        """Every line of one step: the gradient, the states, the parameters. ``decay``: the
        weight decay is not 0 (else its terms are left out of the rules)."""
        gradient = Update(g, gradient_rule(decay and not self.decoupled), _GRADIENT_TEXT)
        step = Update(w, step_rule(self.direction, decay and self.decoupled, self.sign), self.step_text)
        return (gradient, *self.states, step)


def gradient_rule(decay: bool) -> sp.Expr:
    """g_t: the objective's gradient, plus lambda w_{t-1} under L2 weight decay."""
    raw = GradF(prev(w))
    return add(raw, mul(lam, prev(w))) if decay else raw


def step_rule(direction: sp.Expr, decoupled_decay: bool, sign: int = -1) -> sp.Expr:
    """w_t = w_{t-1} -/+ direction, shrunk first by (1 - eta lambda) under decoupled decay."""
    start = mul(add(1, -mul(eta, lam)), prev(w)) if decoupled_decay else prev(w)
    return add(start, direction if sign > 0 else -direction)


def _ratio(num: sp.Expr, den: sp.Expr) -> sp.Expr:
    """eta num / (sqrt(den) + epsilon), the adaptive step."""
    return mul(eta, num) / add(sp.sqrt(den), epsilon)


_GRADIENT_TEXT = "The gradient at the current parameters."
_PER_BUFFER = "Step against the buffer."

SGD = Method("sgd", "SGD", (("lr", 0.001), ("weight_decay", 0)), (), mul(eta, now(g)),
             "Step against the gradient.",
             "Plain gradient descent steps against the gradient, scaled by the learning rate.")

MOMENTUM = Method(
    "momentum", "SGD with momentum", (("lr", 0.001), ("momentum", 0.9), ("weight_decay", 0)),
    (Update(v, add(mul(mu, prev(v)), now(g)), "Accumulate the gradient in the momentum buffer."),),
    mul(eta, now(v)), _PER_BUFFER,
    ("SGD with momentum, in the form PyTorch uses: the buffer ", v[t], " sums the gradients with geometrically "
     "decaying weights, and the step is the learning rate times the buffer."))

MOMENTUM_CLASSIC = Method(
    "momentum", "SGD with momentum (classic form)", MOMENTUM.defaults,
    (Update(v, add(mul(mu, prev(v)), -mul(eta, now(g))), "Update the velocity."),),
    now(v), "Move by the velocity.",
    ("SGD with momentum in the classic form: the velocity ", v[t], " already contains the learning rate, and "
     "the step adds it. With a constant learning rate this gives the same parameters as the form PyTorch uses, "
     "whose buffer is this velocity divided by minus the learning rate."), sign=1)

NESTEROV = Method(
    "nesterov", "Nesterov momentum", MOMENTUM.defaults, MOMENTUM.states,
    mul(eta, add(now(g), mul(mu, now(v)))), "Look ahead: step against the gradient plus the momentum times the buffer.",
    ("Nesterov momentum in the form PyTorch uses: the gradient is taken at the current parameters, and the step "
     "adds the momentum times the new buffer to it, which stands in for a gradient taken one momentum step "
     "ahead."))

ADAGRAD = Method(
    "adagrad", "AdaGrad", (("lr", 0.01), ("eps", 1e-10), ("weight_decay", 0)),
    (Update(s, add(prev(s), now(g) ** 2), "Add the squared gradient to the running sum."),),
    _ratio(now(g), now(s)), "Divide the step by the root of the sum.",
    ("AdaGrad divides each entry's step by the root of the sum of all its squared gradients so far: the sum "
     "only grows, so the steps shrink."))

RMSPROP = Method(
    "rmsprop", "RMSProp", (("lr", 0.01), ("alpha", 0.99), ("eps", 1e-8), ("weight_decay", 0)),
    (Update(v, add(mul(alpha, prev(v)), mul(add(1, -alpha), now(g) ** 2)),
            ("Average the squared gradient, with decay rate ", alpha, ".")),),
    _ratio(now(g), now(v)), "Divide the step by the root of the average.",
    ("RMSProp divides each entry's step by the root of a decaying average of its squared gradients: unlike "
     "AdaGrad's sum, old gradients are forgotten, so the steps do not shrink for good."))

_MOMENTS = (
    Update(m, add(mul(beta1, prev(m)), mul(add(1, -beta1), now(g))), "First moment: average the gradient."),
    Update(v, add(mul(beta2, prev(v)), mul(add(1, -beta2), now(g) ** 2)),
           "Second moment: average the squared gradient."),
    Update(m_hat, now(m) / add(1, -beta1 ** t),
           ("Bias correction: the averages start at 0, so early on they are too small by the factor ",
            add(1, -beta1 ** t), "; dividing by it corrects the first moment.")),
    Update(v_hat, now(v) / add(1, -beta2 ** t),
           ("The same correction for the second moment, with the factor ", add(1, -beta2 ** t), ".")))


def _adam(key: str, title: str, decay: object, decoupled: bool, about: Prose) -> Method:
    defaults = (("lr", 0.001), ("betas", [0.9, 0.999]), ("eps", 1e-8), ("weight_decay", decay))
    return Method(key, title, defaults, _MOMENTS, _ratio(now(m_hat), now(v_hat)),
                  "Step with the corrected moments.", about, decoupled)


ADAM = _adam("adam", "Adam", 0, False, (
    "Adam keeps decaying averages of the gradient (first moment) and of its square (second moment), corrects "
    "both for starting at 0, and steps along the first divided by the root of the second: each entry's step is "
    "about the learning rate in size, whatever the scale of its gradient."))
ADAMW = _adam("adamw", "AdamW", 0.01, True, (
    "AdamW is Adam with decoupled weight decay: the decay shrinks the parameters directly, by the factor ",
    add(1, -mul(eta, lam)), " each step, instead of being added to the gradient, where Adam's division by the "
    "root of the second moment would rescale it."))

#: Every method by spec name; momentum's classic form is chosen by ``form = "classic"``.
METHODS: dict[str, Method] = {method.key: method for method in (SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM,
                                                               ADAMW)}
FORMS: dict[str, Method] = {"pytorch": MOMENTUM, "classic": MOMENTUM_CLASSIC}
