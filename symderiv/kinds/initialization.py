"""Problem kind ``initialization``: why LeCun, He and Xavier/Glorot scale the weights as they do.

Spec fields (see README, "kind = initialization")::

    kind = "initialization"
    activation = "relu"            # linear, tanh (its linear regime near 0) or relu
    fan_in = 256                   # the layer of Q.2 to Q.4
    fan_out = 128
    [problem.stack]                # optional, Q.5: a deep stack of equal layers
    width = 256                    # n inputs and n outputs per layer
    depth = 10                     # k layers
    weight_variance = "lecun"      # sigma^2: a number, or "lecun", "he", "xavier" (for this width)
    # weight_std = 0.05            # or sigma itself, instead of weight_variance
    input_variance = 1             # Var(x_i) of the inputs (mean 0)

Questions: the variance through one layer and the activation's gain (Q.1); the weight
variance that keeps the forward signal's variance (Q.2) and the backward gradient's
variance (Q.3) constant; the compromise of both, and its uniform bound (Q.4); the second
moment after k layers under a given scale (Q.5, a formula in k and a number, with a plot).
Every scale is solved for symbolically; the tests check the variances by Monte Carlo.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import sympy as sp

from symderiv.kinds.optimizer_steps.display import shown
from symderiv.kinds.registry import Check, Kind, Verification, register
from symderiv.model import Answer, Figure, Problem, Question, Step
from symderiv.spec import Fields

#: Largest fan-in, fan-out and width.
MAX_WIDTH = 10 ** 6
#: Deepest stack (each layer is a point of the plot).
MAX_DEPTH = 100
#: Most digits (numerator or denominator) of the exact second moment after k layers: it is printed.
MAX_DIGITS = 120

n_in, n_out = sp.Symbol("n_in", integer=True, positive=True), sp.Symbol("n_out", integer=True, positive=True)
n, k, l_ = sp.Symbol("n", integer=True, positive=True), sp.Symbol("k", integer=True, nonnegative=True), \
    sp.Symbol("l", integer=True, positive=True)
sigma = sp.Symbol("sigma", positive=True)
s2 = sp.Symbol("sigma2", positive=True)         # sigma^2 as the unknown of the equations
c, c_back = sp.Symbol("c", positive=True), sp.Symbol("c_back", positive=True)
q, q0 = sp.Symbol("q", nonnegative=True), sp.Symbol("q_0", nonnegative=True)
a_bound = sp.Symbol("a", positive=True)
z, u = sp.Symbol("z", real=True), sp.Symbol("u", real=True)
i = sp.Symbol("i", integer=True, positive=True)
Var, E = sp.Function("Var"), sp.Function("E")
W, a, x, zz, delta = (sp.Symbol(name) for name in ("W", "a", "x", "z_j", "delta"))
qi = sp.IndexedBase("q")

NOTATION = (("c_back", r"c'"), ("delta", r"\delta"), ("dL_da", r"\frac{\partial L}{\partial a_i}"),
            ("n_in", r"n_{\text{in}}"), ("n_out", r"n_{\text{out}}"), ("r_backward", r"r_{\text{bwd}}"),
            ("r_forward", r"r_{\text{fwd}}"), ("sigma2", r"\sigma^{2}"), ("z_j", "z_{j}"))


def eq(lhs: sp.Basic, rhs: sp.Basic) -> sp.Equality:
    return sp.Eq(lhs, rhs, evaluate=False)


def mul(*factors: sp.Basic) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


# ------------------------------------------------------------------------- activations


@cache  # a fixed integral, read by every problem: computed once per process
def gaussian_moments() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """For z ~ N(0, s^2): E[z^2 1(z > 0)], E[z^2] and P(z > 0), by integration."""
    s = sp.Symbol("s", positive=True)
    density = sp.exp(-z ** 2 / (2 * s ** 2)) / (sp.sqrt(2 * sp.pi) * s)
    half = sp.integrate(z ** 2 * density, (z, 0, sp.oo))
    full = sp.integrate(z ** 2 * density, (z, -sp.oo, sp.oo))
    return half / full, full / s ** 2, sp.integrate(density, (z, 0, sp.oo))


@dataclass(frozen=True)
class Activation:
    """An activation's two gains: c = E[phi(z)^2] / Var(z) (forward) and c' = E[phi'(z)^2]
    (backward), each with the steps that derive it for the sheet."""

    key: str
    name: str
    forward: Callable[[], tuple[sp.Expr, Step]]
    backward: Callable[[], tuple[sp.Expr, Step]]
    regime: str


def _linear_forward() -> tuple[sp.Expr, Step]:
    gain = sp.cancel(z ** 2 / z ** 2)
    return gain, Step(("A linear unit passes z on: ", eq(a, z), ", so ", eq(E(a ** 2), E(z ** 2)), ", which is ",
                       Var(z), " since z has mean 0."), c, E(a ** 2) / Var(z), value=gain)


def _linear_backward() -> tuple[sp.Expr, Step]:
    gain = sp.diff(z, z) ** 2
    return gain, Step("Its derivative is 1 everywhere.", c_back, E(sp.Derivative(z, z) ** 2), value=gain)


def _tanh_forward() -> tuple[sp.Expr, Step]:
    series = sp.series(sp.tanh(z), z, 0, 5)
    gain = sp.series(sp.tanh(z) ** 2, z, 0, 4).removeO().coeff(z, 2)
    return gain, Step(("Near 0, tanh is z to first order: ", eq(sp.tanh(z), series), ". In this linear regime "
                       "(small pre-activations) ", eq(E(sp.tanh(z) ** 2), E(z ** 2)), " up to terms of order ",
                       E(z ** 4), ", so the gain is that of a linear unit."), c, E(sp.tanh(z) ** 2) / Var(z),
                      value=gain)


def _tanh_backward() -> tuple[sp.Expr, Step]:
    derivative = sp.diff(sp.tanh(z), z)
    gain = derivative.subs(z, 0) ** 2
    return gain, Step(("Its derivative at 0 is ", eq(sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0), gain), " (from ",
                       eq(sp.Derivative(sp.tanh(z), z), derivative), "), so near 0:"),
                      c_back, E(sp.Derivative(sp.tanh(z), z) ** 2), value=gain)


def _relu_forward() -> tuple[sp.Expr, Step]:
    ratio, _, _ = gaussian_moments()
    return ratio, Step(("ReLU keeps z where it is positive: ", eq(a, sp.Max(z, 0)), ", so ",
                        eq(E(a ** 2), E(z ** 2 * sp.Heaviside(z))), ". The weights are symmetric about 0, so z is "
                        "too, and exactly half of ", E(z ** 2), " comes from z > 0, whatever z's distribution. For "
                        "a normal z the integrals agree:"), c,
                       sp.Integral(z ** 2 * sp.exp(-z ** 2 / 2), (z, 0, sp.oo)) /
                       sp.Integral(z ** 2 * sp.exp(-z ** 2 / 2), (z, -sp.oo, sp.oo)), value=ratio)


def _relu_backward() -> tuple[sp.Expr, Step]:
    _, _, half = gaussian_moments()
    return half, Step(("Its derivative is 1 where z > 0 and 0 elsewhere, so its square has mean ",
                       sp.Symbol("P(z > 0)"), ", one half by symmetry:"), c_back,
                      E(sp.Heaviside(z) ** 2), value=half)


ACTIVATIONS: dict[str, Activation] = {act.key: act for act in (
    Activation("linear", "linear", _linear_forward, _linear_backward, "a linear layer"),
    Activation("tanh", "tanh", _tanh_forward, _tanh_backward, "tanh in its linear regime near 0"),
    Activation("relu", "ReLU", _relu_forward, _relu_backward, "ReLU"),
)}

#: The named scales of a stack of width n: the variance each gives the weights.
SCALES = {"lecun": ("LeCun", 1 / n), "he": ("He", 2 / n), "xavier": ("Xavier/Glorot", 2 / (n + n))}


# -------------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class StackSpec:
    width: int
    depth: int
    variance: sp.Rational        # sigma^2 of every layer
    label: str                   # how the scale was given ("He", "sigma^2 = 1/100"...)
    input_variance: sp.Rational


@dataclass(frozen=True)
class InitSpec:
    activation: Activation
    fan_in: int
    fan_out: int
    stack: StackSpec | None


def parse(f: Fields) -> InitSpec:
    """Validate: the activation, whole fans, and the optional stack."""
    f.check_known({"activation", "fan_in", "fan_out", "stack"})
    act = ACTIVATIONS[f.str("activation", choices=ACTIVATIONS)]
    fans = (f.integer("fan_in", low=1, high=MAX_WIDTH), f.integer("fan_out", low=1, high=MAX_WIDTH))
    stack = _stack(f.sub("stack"), act) if f.has("stack") else None
    return InitSpec(act, fans[0], fans[1], stack)


def _stack(f: Fields, act: Activation) -> StackSpec:
    f.check_known({"width", "depth", "weight_variance", "weight_std", "input_variance"})
    width, depth = f.integer("width", low=1, high=MAX_WIDTH), f.integer("depth", low=1, high=MAX_DEPTH)
    variance, label = _scale(f, width)
    spec = StackSpec(width, depth, variance, label, f.number("input_variance", 1, low=0, open_low=True))
    value = second_moment_value(spec, act)
    digits = max(len(str(abs(value.p))), len(str(value.q)))
    if digits > MAX_DIGITS:
        raise f.fail("depth", f"after {depth} layers the exact second moment has {digits} digits; at most "
                              f"{MAX_DIGITS} print, so use fewer layers or a scale with fewer digits")
    return spec


def _scale(f: Fields, width: int) -> tuple[sp.Rational, str]:
    """sigma^2 from ``weight_variance`` (a number or a scale's name) or ``weight_std``: exactly one."""
    if f.has("weight_variance") == f.has("weight_std"):
        raise f.fail("weight_variance", "give either weight_variance (a number, or lecun, he, xavier) or "
                                        "weight_std, not both" if f.has("weight_std") else
                     "missing: give weight_variance (a number, or lecun, he, xavier) or weight_std")
    if f.has("weight_std"):
        std = f.number("weight_std", low=0, open_low=True)
        return std ** 2, "given"
    raw = f.raw("weight_variance")
    if isinstance(raw, str) and raw in SCALES:
        name, rule = SCALES[raw]
        return sp.Rational(rule.subs(n, width)), name
    return f.number("weight_variance", low=0, open_low=True), "given"


# ------------------------------------------------------------------- Q.1: one layer


@cache  # a fixed derivation, the same for every problem
def one_layer() -> tuple[sp.Expr, sp.Expr]:
    """Var(W a) for independent W (mean 0, variance sigma^2) and a; then the sum over n_in terms."""
    product = E(W ** 2) * E(a ** 2) - E(W) ** 2 * E(a) ** 2
    term = product.subs({E(W): 0, E(W ** 2): sigma ** 2})
    total = sp.Sum(term, (i, 1, n_in)).doit()
    return term, total


def layer_question(spec: InitSpec, qid: str) -> Question:
    term, total = one_layer()
    forward_gain, gain_step = spec.activation.forward()
    terms = sp.Sum(mul(sp.Indexed("W", i), sp.Indexed("a", i)), (i, 1, n_in))
    steps = (
        Step(("A unit sums its ", n_in, " weighted inputs, ", eq(zz, terms), ", with the weights independent of the "
              "inputs and of each other, of mean 0 and variance ", sigma ** 2, ". One term first: for independent "
              "factors the mean of the product is the product of the means."), Var(mul(W, a)),
             E(W ** 2) * E(a ** 2) - E(W) ** 2 * E(a) ** 2, value=term),
        Step(("The terms have mean 0 and are uncorrelated (each has its own weight), so their variances add:"),
             Var(zz), sp.Sum(Var(mul(W, a)), (i, 1, n_in)), sp.Sum(term, (i, 1, n_in)), value=total),
        gain_step,
        Step(("So the second moment of the next layer's inputs is the gain times this variance: per layer, ",
              sp.Symbol("q"), " (the mean square of a layer's inputs) is multiplied by the factor"),
             sp.Symbol("r"), mul(c, n_in, sigma ** 2), value=forward_gain * n_in * sigma ** 2),
    )
    answers = (Answer(f"{qid}.variance_rule", Var(zz), total.subs(E(a ** 2), q),
                      ("with ", eq(q, E(a ** 2)), " the mean square of the inputs.")),
               Answer(f"{qid}.gain", c, forward_gain, (eq(E(a ** 2), mul(c, Var(z))), " for ",
                                                       spec.activation.regime, ".")))
    prompt = (f"A dense layer with {spec.activation.regime}: derive the variance of a pre-activation from the "
              "variance of the weights and the inputs, and the activation's gain.",)
    return Question(qid, "Variance through one layer", prompt, (), steps, answers)


# ------------------------------------------------------------- Q.2, Q.3: keep a variance


def std_step(variance: sp.Expr) -> Step:
    return Step("The weights' standard deviation is its square root.", sigma, sp.sqrt(s2),
                substituted=shown(sp.sqrt(s2), {s2: variance}), value=sp.sqrt(variance))


def per_layer(gain: sp.Expr, fan: sp.Symbol) -> sp.Expr:
    """The factor per layer, ``gain fan sigma^2``, as written (a gain of 1 left out)."""
    return mul(fan, s2) if gain == 1 else mul(gain, fan, s2)


def keep(equation: sp.Expr) -> sp.Expr:
    """The sigma^2 for which ``equation`` (a factor per layer) equals 1, solved symbolically."""
    (solution,) = sp.solve(sp.Eq(equation, 1), s2)
    return solution


def forward_question(spec: InitSpec, qid: str) -> Question:
    gain, _ = spec.activation.forward()
    factor = per_layer(gain, n_in)
    formula = keep(factor)
    value = formula.subs(n_in, spec.fan_in)
    name = "He" if spec.activation.key == "relu" else "LeCun"
    steps = (Step(("The forward variance stays the same from layer to layer when the factor of Q",
                   qid.rsplit(".", 1)[0], ".1 is 1. Solve for the weights' variance:"),
                  math=(eq(factor, 1), eq(s2, formula))),
             Step(("This is ", name, " initialization. With the layer's fan-in:"), s2, formula,
                  substituted=shown(formula, {n_in: sp.Integer(spec.fan_in)}), value=value),
             std_step(value))
    answers = (Answer(f"{qid}.sigma2_formula", s2, formula, f"{name} initialization: it keeps the forward variance."),
               Answer(f"{qid}.sigma2", s2, value), Answer(f"{qid}.sigma", sigma, sp.sqrt(value)))
    return Question(qid, "Keeping the forward variance", ("Find the weights' variance that keeps the variance of "
                                                          "the pre-activations the same from layer to layer.",),
                    ((n_in, sp.Integer(spec.fan_in)),), steps, answers)


def backward_question(spec: InitSpec, qid: str) -> Question:
    gain, gain_step = spec.activation.backward()
    dl_da = sp.Symbol("dL_da")
    factor = per_layer(gain, n_out)
    formula = keep(factor)
    value = formula.subs(n_out, spec.fan_out)
    steps = (
        Step(("Backward, the gradient at an input sums over the ", n_out, " units it feeds: ",
              eq(dl_da, sp.Sum(mul(sp.Indexed("W", i), sp.Indexed("delta", i)), (i, 1, n_out))),
              ", with ", delta, " the gradients at the pre-activations. The same argument as in the forward pass:"),
             Var(dl_da), sp.Sum(Var(mul(W, delta)), (i, 1, n_out)), value=n_out * sigma ** 2 * Var(delta)),
        Step(("Through the activation the gradient is multiplied by its derivative, ",
              eq(sp.Indexed("delta", i), mul(sp.Function(r"\varphi'")(z), dl_da)),
              ", whose mean square is the backward gain ", c_back,
              ": per layer the gradient's variance is multiplied by ", mul(c_back, n_out, sigma ** 2), ".")),
        gain_step,
        Step("The backward variance stays the same when that factor is 1:", math=(eq(factor, 1), eq(s2, formula))),
        Step("With the layer's fan-out:", s2, formula, substituted=shown(formula, {n_out: sp.Integer(spec.fan_out)}),
             value=value),
        std_step(value))
    answers = (Answer(f"{qid}.gain", c_back, gain), Answer(f"{qid}.sigma2_formula", s2, formula,
                                                           "It keeps the backward variance."),
               Answer(f"{qid}.sigma2", s2, value), Answer(f"{qid}.sigma", sigma, sp.sqrt(value)))
    return Question(qid, "Keeping the backward variance", ("Find the weights' variance that keeps the variance of "
                                                           "the gradients the same from layer to layer.",),
                    ((n_out, sp.Integer(spec.fan_out)),), steps, answers)


# ------------------------------------------------------------- Q.4: the compromise


@cache  # a fixed integral
def uniform_variance() -> sp.Expr:
    """Var of U(-a, a): the integral of u^2 / (2a) over [-a, a]."""
    return sp.integrate(u ** 2 / (2 * a_bound), (u, -a_bound, a_bound))


def uniform_step(formula: sp.Expr, bound: sp.Expr) -> Step:
    """The bound a of U(-a, a) whose variance a^2/3 is the compromise's sigma^2."""
    return Step(("Drawn from a uniform distribution ", sp.Symbol("U(-a, a)"), " instead, the weights have the "
                 "variance of the integral below; setting it to ", sigma ** 2, " gives the bound a:"),
                Var(sp.Symbol("U")), sp.Integral(u ** 2 / (2 * a_bound), (u, -a_bound, a_bound)),
                value=uniform_variance(),
                math=(eq(a_bound, sp.Pow(mul(3, s2), sp.Rational(1, 2), evaluate=False)), eq(a_bound, bound)),
                note=("In general ", eq(a_bound, sp.sqrt(3 * formula)), "."))


def compromise_question(spec: InitSpec, qid: str) -> Question:
    fwd, _ = spec.activation.forward()
    back, _ = spec.activation.backward()
    general = keep((mul(c, n_in, s2) + mul(c_back, n_out, s2)) / 2)
    formula = sp.cancel(general.subs({c: fwd, c_back: back}))
    fans = {n_in: sp.Integer(spec.fan_in), n_out: sp.Integer(spec.fan_out)}
    value = formula.subs(fans)
    bound = sp.solve(sp.Eq(uniform_variance(), value), a_bound)[0]
    ratios = (sp.cancel(fwd * n_in * formula), sp.cancel(back * n_out * formula))
    named = "Xavier/Glorot initialization" if spec.activation.key != "relu" else \
        "the same compromise with ReLU's gains (twice Glorot's variance)"
    r_fwd, r_bwd = sp.Symbol("r_forward"), sp.Symbol("r_backward")
    steps = (
        Step(("Both conditions hold only when ", eq(n_in, n_out), ". The compromise asks the mean of the two factors "
              "to be 1 (equivalently, ", 1 / sigma ** 2, " is the mean of the two conditions'):"),
             math=(eq((mul(c, n_in, s2) + mul(c_back, n_out, s2)) / 2, 1), eq(s2, general)),
             note=("With the gains ", eq(c, fwd), " and ", eq(c_back, back), " this is ", named, ".")),
        Step("With the gains and the layer's fans:", s2, general, shown(general, {c: fwd, c_back: back}), formula,
             substituted=shown(formula, fans), value=value),
        Step(("Forward and backward, the factors per layer are then no longer 1 but stay near it:"),
             math=(eq(r_fwd, ratios[0]), eq(r_fwd, ratios[0].subs(fans)), eq(r_bwd, ratios[1]),
                   eq(r_bwd, ratios[1].subs(fans)))),
        uniform_step(formula, bound))
    answers = (Answer(f"{qid}.sigma2_formula", s2, formula), Answer(f"{qid}.sigma2", s2, value),
               Answer(f"{qid}.bound", a_bound, bound, "The bound of a uniform distribution with this variance."),
               Answer(f"{qid}.forward_factor", r_fwd, ratios[0].subs(fans)),
               Answer(f"{qid}.backward_factor", r_bwd, ratios[1].subs(fans)))
    return Question(qid, "The compromise of both", ("Both conditions cannot hold when the fans differ: derive the "
                                                    "compromise, its uniform bound, and what it does per layer.",),
                    ((n_in, sp.Integer(spec.fan_in)), (n_out, sp.Integer(spec.fan_out))), steps, answers)


# ------------------------------------------------------------------ Q.5: a deep stack


@cache  # a fixed recurrence
def recurrence_solution() -> sp.Expr:
    """q_l = r q_(l-1), q_0 given: q_k = q_0 r^k (rsolve)."""
    qf, r = sp.Function("q"), sp.Symbol("r", positive=True)
    return sp.rsolve(qf(k + 1) - r * qf(k), qf(k), {qf(0): q0})


def second_moment_value(stack: StackSpec, act: Activation) -> sp.Rational:
    gain, _ = act.forward()
    return sp.Rational(stack.input_variance * (gain * stack.width * stack.variance) ** stack.depth)


def stack_question(spec: InitSpec, stack: StackSpec, qid: str) -> Question:
    gain, _ = spec.activation.forward()
    r = sp.Symbol("r", positive=True)
    factor = gain * stack.width * stack.variance
    general = recurrence_solution()
    formula = general.subs({r: factor, q0: stack.input_variance})
    value = second_moment_value(stack, spec.activation)
    var_z = stack.width * stack.variance * formula.subs(k, stack.depth - 1)
    steps = (
        Step(("Per layer, the mean square of the activations is multiplied by the factor of Q",
              qid.rsplit(".", 1)[0], ".1; the inputs have ", eq(q0, stack.input_variance), ". Solving the "
              "recurrence:"), math=(eq(qi[l_], mul(r, qi[l_ - 1])), eq(qi[k], general))),
        Step(("Here the factor is:"), r, mul(c, n, sigma ** 2),
             substituted=shown(mul(c, n, sigma ** 2), {c: gain, n: sp.Integer(stack.width),
                                                       sigma ** 2: stack.variance}), value=factor),
        Step(("After k layers:"), qi[k], general, value=formula),
        Step(("At the depth ", eq(k, stack.depth), ":"), qi[stack.depth], shown(formula, {k: sp.Integer(stack.depth)}),
             value=value, note=_trend(factor) + _regime(spec, stack, factor)),
        Step(("The last layer's pre-activations have ", mul(n, sigma ** 2), " times the mean square of its inputs:"),
             Var(sp.Symbol(f"z_{stack.depth}")), mul(n, sigma ** 2, qi[stack.depth - 1]),
             substituted=shown(mul(n, sigma ** 2, qi[stack.depth - 1]),
                               {n: sp.Integer(stack.width), sigma ** 2: stack.variance,
                                qi[stack.depth - 1]: formula.subs(k, stack.depth - 1)}), value=var_z))
    answers = (Answer(f"{qid}.factor", r, factor), Answer(f"{qid}.formula", qi[k], formula),
               Answer(f"{qid}.second_moment", qi[stack.depth], value),
               Answer(f"{qid}.var_z", Var(sp.Symbol(f"z_{stack.depth}")), var_z))
    givens = ((n, sp.Integer(stack.width)), (k, sp.Integer(stack.depth)), (sigma ** 2, stack.variance),
              (q0, stack.input_variance))
    scale = f" ({stack.label})" if stack.label != "given" else ""
    prompt = (f"A stack of {stack.depth} layers of width {stack.width} with {spec.activation.regime}, weights of "
              "variance ", sigma ** 2, f"{scale} as given: find the mean square of the activations after k layers, "
              "as a formula in k and at the given depth.")
    return Question(qid, "A deep stack", prompt, givens, steps, answers, figures=(depth_figure(spec, stack),))


def _trend(factor: sp.Rational) -> tuple:
    if factor == 1:
        return ("The factor is 1: the signal keeps its size at every depth.",)
    word = "grows" if factor > 1 else "shrinks"
    return (f"The factor is not 1: the signal {word} geometrically with depth, by ", factor, " per layer.")


#: A mean square above this is no longer small for tanh (tanh(z) differs from z by over 3% at z = 0.3).
TANH_LINEAR = sp.Rational(1, 10)


def _regime(spec: InitSpec, stack: StackSpec, factor: sp.Rational) -> tuple:
    """For tanh, a warning where the run leaves the small-signal regime the gains were derived in."""
    largest = max(stack.input_variance, stack.input_variance * factor ** stack.depth)
    if spec.activation.key != "tanh" or largest <= TANH_LINEAR:
        return ()
    return (" The mean square reaches ", largest, ", beyond the small values where tanh is nearly linear: there "
            "tanh saturates at 1 in size, so a real network stays below this formula.")


def depth_figure(spec: InitSpec, stack: StackSpec) -> Figure:
    """q_l against l for the given scale, and for the scale that keeps it (a flat line)."""
    gain, _ = spec.activation.forward()
    factor = gain * stack.width * stack.variance
    given = tuple((layer, stack.input_variance * factor ** layer) for layer in range(stack.depth + 1))
    flat = tuple((layer, stack.input_variance) for layer in range(stack.depth + 1))
    caption = (f"Mean square of the activations against depth: weights of variance {stack.variance} "
               f"against the variance that keeps it, {1 / (gain * stack.width)}.")
    return Figure("line_plot", caption, (("xlabel", "layer l"), ("ylabel", "mean square of the activations"),
                                         ("logy", True), ("series", (("given scale", given), ("keeping scale", flat)))))


# --------------------------------------------------------------------------- derive


def derive(spec: InitSpec, number: int, title: str) -> Problem:
    q_ = lambda index: f"{number}.{index}"  # noqa: E731
    questions = [layer_question(spec, q_(1)), forward_question(spec, q_(2)), backward_question(spec, q_(3)),
                 compromise_question(spec, q_(4))]
    if spec.stack is not None:
        questions.append(stack_question(spec, spec.stack, q_(5)))
    intro = (f"A network of dense layers with {spec.activation.regime}, zero biases, and weights drawn independently "
             "with mean 0. How large should the weights' variance be so that signals keep their size through the "
             "layers, forward and backward?")
    return Problem(number, title, "initialization", tuple(questions), intro=intro, notation=NOTATION, data=spec)


def verify_problem(problem: Problem) -> Verification:
    """The stack's second moment by iterating the recurrence in exact fractions (not the solved
    formula), and each solved variance put back into its condition."""
    spec: InitSpec = problem.data
    checks = []
    gain, _ = spec.activation.forward()
    back, _ = spec.activation.backward()
    for question, factor in ((problem.questions[1], gain * spec.fan_in), (problem.questions[2], back * spec.fan_out)):
        found = next(a.value for a in question.answers if a.id == f"{question.id}.sigma2")
        checks.append(Check(f"{question.id}.sigma2", factor * found == 1, f"factor {factor} * {found}"))
    if spec.stack is not None:
        stack, value = spec.stack, spec.stack.input_variance
        for _ in range(stack.depth):
            value = gain * stack.width * stack.variance * value
        derived = next(a.value for a in problem.questions[4].answers if a.id.endswith(".second_moment"))
        checks.append(Check(f"{problem.questions[4].id}.second_moment", derived == value, f"{derived} vs {value}"))
    return Verification("variances checked against their conditions and the iterated recurrence", tuple(checks))


KIND = register(Kind("initialization", "Initialization: keeping the variance", parse, derive, doc=__doc__ or "",
                     verify=verify_problem))
