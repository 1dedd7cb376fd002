"""Problem kind ``optimizers``: SGD, mini-batch gradient descent and SGD with momentum.

Spec fields (see README, "Spec format"); every field of ``[problem.demo]`` is optional::

    kind = "optimizers"
    [problem.demo]
    seed = 0                          # seeds the data and every sampled batch
    kappa = 50                        # A = diag(1, kappa): the quadratic's condition number
    start = [1, 1]                    # w_0 of every run
    learning_rate = 0.038             # alpha of GD and momentum (full gradient); < 2/kappa
    momentum = 0.7                    # beta, in [0, 1)
    stochastic_learning_rate = 0.01   # alpha of the sampled runs; < 2/(1 + kappa)
    saddle_learning_rate = 0.05       # alpha of the runs on the saddle function; < 1
    batch_size = 8                    # b, 1 <= b <= samples
    samples = 256                     # N rows of least-squares data (even)
    noise = 0.5                       # standard deviation of the label noise
    steps = 300                       # T steps per run
    tolerance = 1e-6                  # a run has converged when f(w_t) <= tolerance
    draws = 4000                      # random batches per size in the variance table

Three questions: each update rule as a recurrence, with its advantages derived by SymPy
(cost per step and per epoch, the variance of the mini-batch mean, the momentum's
geometric sum and its limit, the per-direction contraction factors) and then shown by
seeded runs (:mod:`symderiv.kinds.optimizers_demo`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from symderiv.algebra import substitute
from symderiv.kinds import optimizers_demo as demo
from symderiv.kinds.registry import Kind, register
from symderiv.model import Answer, Problem, Question, Step, Table
from symderiv.spec import Fields

# The symbols the derivation and the answer key are written in.
t = sp.Symbol("t", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True, positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
N, b = sp.Symbol("N", positive=True), sp.Symbol("b", positive=True)
alpha, beta = sp.Symbol("alpha", positive=True), sp.Symbol("beta", positive=True)
sigma, gamma = sp.Symbol("sigma", positive=True), sp.Symbol("gamma", positive=True)
g, lam, z = sp.Symbol("g"), sp.Symbol("lambda", positive=True), sp.Symbol("z")
kappa = sp.Symbol("kappa", positive=True)
W, x, m, X, c = (sp.IndexedBase(name) for name in ("W", "x", "m", "X", "c"))
w, w1, w2 = sp.Symbol("W"), sp.Symbol("w_1", real=True), sp.Symbol("w_2", real=True)
l, L, C, U = sp.Function("l"), sp.Function("L"), sp.Function("C"), sp.Function("U")
Var, E, f, h = sp.Function("Var"), sp.Function("E"), sp.Function("f"), sp.Function("h")
ghat, m_inf, w2_next, gain = sp.Symbol("ghat_t"), sp.Symbol("m_inf"), sp.Symbol("w_2next"), sp.Symbol("gain")
nabla_h, p_z, det_M = sp.Symbol("nabla_h"), sp.Symbol("p(z)"), sp.Symbol("det_zI_M")
A, wv, M = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("w", 2, 1), sp.MatrixSymbol("M", 2, 2)
NEXT = sp.Add(t, 1, evaluate=False)  # prints "t + 1", not "1 + t"

#: How the names SymPy would print badly are written.
NOTATION = (("det_zI_M", r"\det(z I - M)"), ("gain", r"\frac{\alpha m_{\infty}}{\alpha g}"),
            ("ghat_t", r"\hat{g}_{t}"), ("m_inf", r"m_{\infty}"), ("nabla_h", r"\nabla h"),
            ("w_2next", r"w_{2}^{+}"))


def eq(lhs: sp.Basic, rhs: sp.Basic) -> sp.Equality:
    """``lhs = rhs`` as written, for print: never decided (deciding costs time, and a decided
    equation would print as True or False)."""
    return sp.Eq(lhs, rhs, evaluate=False)


def mul(*factors: sp.Basic) -> sp.Mul:
    """A product kept in the given order (alpha m, not m alpha) for print."""
    return sp.Mul(*factors, evaluate=False)


def grad(weights: sp.Basic, sample: sp.Basic) -> sp.Derivative:
    """The per-sample gradient dl(W, x)/dW, unevaluated: what every update rule averages."""
    return sp.Derivative(l(weights, sample), weights)


def cost(batch: sp.Basic) -> sp.Sum:
    """Gradient evaluations of one update that averages ``batch`` per-sample gradients."""
    return sp.Sum(1, (i, 1, batch))


def updates(batch: sp.Basic) -> sp.Basic:
    """Updates per epoch (N gradient evaluations) at this batch size: N / C(batch)."""
    return N / cost(batch).doit()


# ---------------------------------------------------------------------------- spec

#: Most sampled rows of a mini-batch run (steps * batch_size), and of the variance table's
#: largest batch size (draws * batch_size): each row is gathered once, so these bound the time.
MAX_STEP_ROWS = 10 ** 7
MAX_DRAW_ROWS = 10 ** 6


@dataclass(frozen=True)
class OptimizersSpec:
    """A validated ``optimizers`` problem: the demonstration's parameters."""

    demo: demo.DemoSpec


def parse(f: Fields) -> OptimizersSpec:
    """Validate the spec; every field has a default (homework 1's values)."""
    f.check_known({"demo"})
    d = f.sub("demo") if f.has("demo") else Fields({}, f.source, f.where("demo"))
    d.check_known({"seed", "kappa", "start", "learning_rate", "momentum", "stochastic_learning_rate",
                   "saddle_learning_rate", "batch_size", "samples", "noise", "steps", "tolerance", "draws"})
    kap = d.number("kappa", 50, low=1, high=10 ** 6)
    samples = _samples(d)
    batch = d.integer("batch_size", 8, low=1, high=samples)
    return OptimizersSpec(demo.DemoSpec(
        d.integer("seed", 0, low=0, high=2 ** 63 - 1), kap, _start(d),
        _rate(d, "learning_rate", "0.038", "2/kappa", 2 / kap, "beyond it GD diverges along the steep direction"),
        d.number("momentum", "0.7", low=0, high=1, open_high=True),
        _rate(d, "stochastic_learning_rate", "0.01", "2/(1 + kappa)", 2 / (1 + kap),
              "one sample's curvature is 1 + kappa, so an SGD step would overshoot"),
        _rate(d, "saddle_learning_rate", "0.05", "1", sp.Integer(1), "h has curvature 2 at its minima"),
        batch, samples, d.number("noise", "0.5", low=0, high=1000), _steps(d, batch),
        d.number("tolerance", 1e-6, low=0, open_low=True), _draws(d, batch)))



def _samples(d: Fields) -> int:
    n = d.integer("samples", 256, low=2, high=100_000)
    if n % 2:
        raise d.fail("samples", f"must be even (half the rows flip the second feature's sign), got {n}")
    return n


def _start(d: Fields) -> tuple[sp.Rational, sp.Rational]:
    start = d.vector("start", [1, 1])
    if start.rows != 2:
        raise d.fail("start", f"expected 2 numbers (w_1, w_2), got {start.rows}")
    if start.is_zero_matrix:
        raise d.fail("start", "must not be the minimum (0, 0): there would be nothing to optimize")
    return (start[0], start[1])


def _rate(d: Fields, name: str, default: str, label: str, bound: sp.Rational, why: str) -> sp.Rational:
    """A positive learning rate below the stability limit ``label`` = ``bound`` of its runs."""
    rate = d.number(name, default, low=0, open_low=True)
    if rate >= bound:
        raise d.fail(name, f"must be < {label} = {bound} ({why}), got {rate}")
    return rate


def _steps(d: Fields, batch: int) -> int:
    steps = d.integer("steps", 300, low=1, high=100_000)
    if steps * batch > MAX_STEP_ROWS:
        raise d.fail("steps", f"steps * batch_size must be <= 10^7 (the rows a mini-batch run samples), "
                              f"got {steps * batch:,}")
    return steps


def _draws(d: Fields, batch: int) -> int:
    draws = d.integer("draws", 4000, low=10, high=10 ** 6)
    if draws * batch > MAX_DRAW_ROWS:
        raise d.fail("draws", f"draws * batch_size must be <= 10^6 (the rows the variance table samples), "
                              f"got {draws * batch:,}")
    return draws


# ---------------------------------------------------------------------------- Q.1 SGD


def sgd_rule_steps() -> tuple[Step, Step]:
    """GD's and SGD's updates as recurrences."""
    gd_rule = eq(W[NEXT], W[t] - alpha * sp.Sum(grad(W[t], x[i]), (i, 1, N)) / N)
    sgd_rule = eq(W[NEXT], W[t] - mul(alpha, grad(W[t], x[t])))
    return (Step(("Full-batch gradient descent (GD) averages the per-sample gradient over all ", N, " samples."),
                 math=(gd_rule,)),
            Step(("SGD replaces the average by the gradient of one sample ", x[t], ", drawn at random each step."),
                 math=(sgd_rule,)))


def cost_steps(n: int) -> tuple[Step, ...]:
    """C = the number of gradient terms of an update; U = N / C updates per epoch."""
    return (Step("Cost of one GD step, counted in per-sample gradient evaluations: one per term of its sum.",
                 C(N), cost(N), value=cost(N).doit()),
            Step("Cost of one SGD step: its sum has a single term.", C(1), cost(1), value=cost(1).doit()),
            Step(("An epoch is ", N, " gradient evaluations (one pass over the data); the number of updates it "
                  "buys is the epoch divided by the cost of one update. For GD:"), U(N), N / C(N), value=updates(N)),
            Step("For SGD:", U(1), N / C(1), value=updates(1),
                 note=("SGD makes ", N, " times as many updates as GD for the same work. With the demonstration's ",
                       eq(N, n), ": ", eq(U(1), updates(1).subs(N, n)), " against ",
                       eq(U(N), updates(N).subs(N, n)), ".")))


def unbiased_step() -> Step:
    """The mean of the per-sample gradient over a uniform index is the full gradient."""
    mean_loss = sp.Sum(l(w, x[i]), (i, 1, N)) / N
    index = sp.Symbol("I")
    return Step(("The index ", index, " of SGD's sample is uniform (probability ", 1 / N, " each), so the mean of "
                 "its gradient is the average gradient, which is the gradient of the mean loss ", L(w),
                 ": the derivative of a sum is the sum of the derivatives."), E(grad(w, x[index])),
                sp.Sum(grad(w, x[i]) / N, (i, 1, N)),
                math=(eq(sp.Derivative(L(w), w), sp.Derivative(mean_loss, w)),
                      eq(sp.Derivative(mean_loss, w), sp.Derivative(mean_loss, w).doit())),
                note="So SGD's gradient is unbiased and its noise has mean zero: on average SGD moves like GD. "
                     "The size of the fluctuation is derived in the next question.")


@dataclass(frozen=True)
class Saddle:
    """h(w) = w_1^2/2 + (w_2^2 - 1)^2/4: a saddle at the origin between minima at (0, +-1)."""

    expr: sp.Basic
    gradient: sp.ImmutableMatrix
    points: tuple[tuple[tuple[sp.Basic, sp.Basic], sp.Basic, tuple[sp.Basic, ...]], ...]

    def numeric(self) -> tuple:
        """h's gradient and value as functions of a 2-vector (for the demonstration).

        h is a polynomial, so the generated code is plain arithmetic that works on NumPy
        scalars and calls no module function: lambdify's cheap "math" namespace gives the
        same code as "numpy", whose ``from numpy import *`` loads numpy.testing and f2py.
        """
        grad_fn = sp.lambdify((w1, w2), list(self.gradient), "math")
        loss_fn = sp.lambdify((w1, w2), self.expr, "math")
        return (lambda v: grad_fn(v[0], v[1])), (lambda v: loss_fn(v[0], v[1]))

    @property
    def saddle_value(self) -> sp.Basic:
        return self.expr.subs({w1: 0, w2: 0})


def saddle() -> Saddle:
    """The saddle function's critical points, values and Hessian eigenvalues (SymPy solves the gradient)."""
    expr = w1 ** 2 / 2 + (w2 ** 2 - 1) ** 2 / 4
    gradient = sp.ImmutableMatrix([sp.diff(expr, v) for v in (w1, w2)])
    hessian = sp.hessian(expr, (w1, w2))
    points = []
    # check=False: the roots of a polynomial system are exact; checking each by substitution only
    # costs time (the tests check them against a numeric gradient and Hessian).
    for sol in sorted(sp.solve(list(gradient), [w1, w2], dict=True, check=False), key=lambda s: (s[w1], s[w2])):
        eig = tuple(sorted(hessian.subs(sol).eigenvals(), reverse=True))
        points.append(((sol[w1], sol[w2]), expr.subs(sol), eig))
    return Saddle(expr, gradient, tuple(points))


def saddle_steps(s: Saddle, spec: demo.DemoSpec) -> tuple[Step, Step]:
    """Where exact GD gets stuck: on the line w_2 = 0 the w_2 component of the gradient vanishes."""
    rows = tuple((sp.Tuple(*p), v, sp.Tuple(*e), "saddle" if min(e) < 0 < max(e) else "minimum")
                 for p, v, e in s.points)
    table = Table(("critical point", "value of h", "Hessian eigenvalues", "type"), rows)
    update = w2 - mul(alpha, s.gradient[1])
    on_line, critical = eq(w2, 0), eq(nabla_h, sp.ImmutableMatrix([0, 0]))
    return (Step(("Noise and saddle points: take ", h(w1, w2), ". Solving ", critical,
                  " gives its critical points; the eigenvalues of the Hessian at each one classify it (both "
                  "positive: a minimum; of both signs: a saddle)."), h(w1, w2), s.expr,
                 math=(eq(nabla_h, s.gradient),), table=table),
            Step(("Exact GD started on the line ", on_line, " stays on it: the new ", w2, " (written ", w2_next,
                  ") is zero when ", on_line, ", so by induction ", on_line, " at every step and GD can only "
                  "slide along ", w1, " into the saddle. The runs below use ", eq(alpha, spec.saddle_learning_rate),
                  " and start at ", eq(sp.Tuple(w1, w2), sp.Tuple(spec.start[0], 0)),
                  " for ", sp.Integer(spec.steps), " steps."),
                 w2_next, update, substituted=substitute(update, {w2: sp.Integer(0)}), value=update.subs(w2, 0)))


def sgd_question(spec: demo.DemoSpec, qid: str, s: Saddle, shown: demo.Demo) -> Question:
    """Q.1: SGD against full-batch GD: cost per step and per epoch, unbiasedness, leaving a saddle."""
    steps = (*sgd_rule_steps(), *cost_steps(spec.samples), demo.epoch_step(spec, shown), unbiased_step(),
             *saddle_steps(s, spec), demo.saddle_step(shown, s.saddle_value))
    answers = (Answer(f"{qid}.cost_gd", C(N), N, "gradient evaluations per GD step"),
               Answer(f"{qid}.cost_sgd", C(1), sp.Integer(1), "gradient evaluation per SGD step"),
               Answer(f"{qid}.updates_gd", U(N), sp.Integer(1), "GD update per epoch"),
               Answer(f"{qid}.updates_sgd", U(1), N, "SGD updates per epoch"))
    prompt = ("State the SGD update and back its advantages over full-batch gradient descent: the cost of "
              "one step, and the noise that can carry it off saddle points.",)
    givens = ((N, sp.Integer(spec.samples)), (alpha, spec.stochastic_learning_rate))
    return Question(qid, "Stochastic gradient descent (SGD)", prompt, givens, steps, answers)


# ---------------------------------------------------------------------------- Q.2 mini-batch


def minibatch_rule_step() -> Step:
    return Step(("Mini-batch GD averages the gradients of ", b, " samples, then steps along that mean."),
                math=(eq(ghat, sp.Sum(grad(W[t], x[i]), (i, 1, b)) / b),
                      eq(W[NEXT], W[t] - mul(alpha, ghat))))


def minibatch_cost_steps(spec: demo.DemoSpec) -> tuple[Step, Step]:
    """C(b) = b and U(b) = N/b, their special cases (SGD, GD) and the spec's numbers."""
    n, bb = sp.Integer(spec.samples), sp.Integer(spec.batch_size)
    special = tuple(eq(fn(v), expr.subs(b, v)) for fn, expr in ((C, cost(b).doit()), (U, updates(b)))
                    for v in (sp.Integer(1), N))
    short = "." if spec.samples % spec.batch_size == 0 else " (b does not divide N: an epoch ends with a short batch)."
    return (Step("Cost of one mini-batch step: one gradient evaluation per term of its sum.", C(b), cost(b),
                 value=cost(b).doit()),
            Step(("Updates per epoch. Setting ", eq(b, 1), " gives back SGD and ", eq(b, N),
                  " gives back GD (the numbers of the previous question):"), U(b), N / C(b), value=updates(b),
                 math=special, note=("With the demonstration's ", eq(N, n), " and ", eq(b, bb), ": ",
                                     eq(U(bb), updates(b).subs({N: n, b: bb})), " updates per epoch, each "
                                     "costing ", eq(C(bb), bb), " gradient evaluations" + short)))


#: The weights of the two-variable instance of the variance rule shown on the sheet.
C1, C2 = sp.symbols("c_1 c_2", real=True)


def variance_rule() -> sp.Basic:
    """Var(c_1 X_1 + c_2 X_2) for independent X_i of variance sigma^2: c_1^2 sigma^2 + c_2^2 sigma^2.

    A fixed identity, stated rather than computed: for independent variables the
    covariances vanish, so Var(sum c_i X_i) = sum c_i^2 Var(X_i). Computing it with
    sympy.stats (Meijer G integrals of a normal density) cost seconds per build; the
    tests check the identity against sympy.stats and by exact enumeration instead.
    """
    return sp.expand(sum(coeff ** 2 * sigma ** 2 for coeff in (C1, C2)))


@cache  # a fixed result that several steps and answers read: derived once per process
def minibatch_variance() -> sp.Basic:
    """Var of the mean of b independent terms of variance sigma^2: sum of (1/b)^2 sigma^2 over b terms."""
    return sp.summation((1 / b) ** 2 * sigma ** 2, (i, 1, b))


def variance_steps() -> tuple[Step, Step, Step]:
    """Var of the mean of b independent gradients: sigma^2 / b; SGD is b = 1."""
    x1, x2 = sp.symbols("X_1 X_2", real=True)
    two = sp.Add(mul(C1, x1), mul(C2, x2), evaluate=False)
    variance = minibatch_variance()
    sgd = variance.subs(b, 1)
    return (Step(("Variance of a weighted sum of independent variables, each of variance ", sigma ** 2,
                  ": for independent variables the variance of a sum is the sum of the variances, and a weight "
                  "scales a variance by its square. For two of them:"), Var(two), value=variance_rule(),
                 note=("Each independent term contributes its weight squared times its variance, for any number "
                       "of terms: ", eq(Var(sp.Sum(mul(c[i], X[i]), (i, 1, b))),
                                        sp.Sum(c[i] ** 2 * Var(X[i]), (i, 1, b))), ".")),
            Step(("The mini-batch mean has weights ", eq(c[i], 1 / b), " on ", b, " independent per-sample "
                  "gradients ", X[i], " of variance ", sigma ** 2, " (per coordinate; summed over the coordinates, ",
                  sigma ** 2, " is the total variance). The sum has ", b, " equal terms."),
                 Var(sp.Sum(X[i], (i, 1, b)) / b), sp.Sum(c[i] ** 2 * Var(X[i]), (i, 1, b)),
                 substituted=sp.Sum((1 / b) ** 2 * sigma ** 2, (i, 1, b)), value=variance),
            Step(("SGD is ", eq(b, 1), ": its variance is ", sgd, ". The mini-batch variance is ", 1 / b,
                  " of it and the standard deviation ", 1 / sp.sqrt(b), " of it, while the cost is ", b,
                  " times SGD's: the product of variance and cost does not depend on ", b, "."),
                 mul(Var(ghat), 1 / Var(X[1])), variance / sgd, value=sp.cancel(variance / sgd),
                 math=(eq(sp.sqrt(Var(ghat)), sp.sqrt(variance)),
                       eq(mul(Var(ghat), C(b)), variance * cost(b).doit()))))


def minibatch_question(spec: demo.DemoSpec, qid: str, shown: demo.Demo) -> Question:
    """Q.2: the mini-batch rule, its cost, the variance of its gradient, and the measured noise."""
    steps = (minibatch_rule_step(), *minibatch_cost_steps(spec), *variance_steps(),
             demo.variance_step(shown), demo.noise_step(spec, shown))
    answers = (Answer(f"{qid}.cost", C(b), cost(b).doit(), "gradient evaluations per step"),
               Answer(f"{qid}.updates", U(b), updates(b), "updates per epoch"),
               Answer(f"{qid}.variance", Var(ghat), minibatch_variance(),
                      ("for ", b, " independent samples of per-sample variance ", sigma ** 2, "; SGD (",
                       eq(b, 1), ") has ", sigma ** 2, ".")))
    prompt = ("State the mini-batch update; derive the variance of its gradient as a function of b against "
              "SGD's, and its cost against GD's.",)
    givens = ((N, sp.Integer(spec.samples)), (b, sp.Integer(spec.batch_size)),
              (alpha, spec.stochastic_learning_rate))
    return Question(qid, "Mini-batch gradient descent", prompt, givens, steps, answers,
                    figures=(demo.noise_figure(shown),))


# ---------------------------------------------------------------------------- Q.3 momentum


def momentum_rule_step() -> Step:
    return Step(("SGD with momentum accumulates the gradients in ", m[t], " and steps along it."),
                math=(eq(m[NEXT], mul(beta, m[t]) + grad(W[t], x[t])),
                      eq(W[NEXT], W[t] - mul(alpha, m[NEXT]))))


#: S_t, the geometric sum g + g beta + ... + g beta^(t-1) being summed.
S = sp.Symbol("S_t")


def geometric_sum() -> sp.Basic:
    """``sum_{k=0}^{t-1} g beta^k``, the unrolled momentum under a constant gradient."""
    return sp.Sum(g * beta ** k, (k, 0, t - 1))


@cache  # a fixed result that several steps and answers read: built once per process
def momentum_sum() -> sp.Basic:
    """m_t = g (1 - beta^t)/(1 - beta) for beta != 1: the closed form of the geometric sum.

    Stated and derived on the sheet by the telescoping difference S_t - beta S_t; the tests
    check it against SymPy's ``summation`` and ``rsolve`` (which cost a third of the build,
    through ``sympy.physics``).
    """
    return g * (1 - beta ** t) / (1 - beta)


def telescoping() -> tuple[sp.Basic, ...]:
    """S_t, beta S_t, their difference (every middle term cancels) and S_t solved from it."""
    shifted = sp.Sum(g * beta ** k, (k, 1, t))
    difference = sp.Add(g, -g * beta ** t, evaluate=False)
    return (eq(mul(beta, S), shifted), eq(S - mul(beta, S), difference),
            eq(S, momentum_sum()))


def steady_state() -> tuple[sp.Basic, sp.Basic]:
    """lim beta^t = 0 for 0 < beta < 1 (stated: beta^t = e^(-gamma t) with gamma > 0; the tests
    take the limit with SymPy), and the resulting m_inf = g/(1 - beta)."""
    vanishing = sp.Integer(0)
    return vanishing, momentum_sum().subs(beta ** t, vanishing)


@cache  # a fixed result that several steps and answers read: derived once per process
def steady_step() -> sp.Basic:
    """alpha m_inf = alpha g / (1 - beta): the answer 3.3.steady_step."""
    return alpha * steady_state()[1]


def momentum_steps(spec: demo.DemoSpec) -> tuple[Step, ...]:
    """Unroll m under a constant gradient, take t -> oo, and scale by alpha: the steady step."""
    closed = momentum_sum()
    vanishing, limit = steady_state()
    numbers = {alpha: spec.learning_rate, beta: spec.momentum}
    ratio = steady_step() / (alpha * g)
    return (Step(("Under a constant gradient ", g, ", from ", eq(m[0], 0), ", the recurrence unrolls to a "
                  "geometric sum ", S, ". Multiply it by ", beta, " and subtract: every term but the first and "
                  "the last cancels, and for ", sp.Contains(beta, sp.Interval.open(0, 1)), " (so ",
                  sp.Ne(beta, 1), ") dividing by ", 1 - beta, " gives the closed form."),
                 m[t], geometric_sum(), value=closed, math=telescoping()),
            Step(("For ", sp.Contains(beta, sp.Interval.open(0, 1)), " write ", eq(beta ** t, sp.exp(-gamma * t)),
                  " with ", eq(gamma, -sp.log(beta)), " > 0: the exponential decays, ",
                  eq(sp.Limit(sp.exp(-gamma * t), t, sp.oo), vanishing), ", so m settles at a constant."),
                 sp.Limit(m[t], t, sp.oo), sp.Limit(closed, t, sp.oo), value=limit),
            Step("The steady step is the learning rate times that; below, the spec's numbers put in.",
                 mul(alpha, m_inf), steady_step(), substituted=substitute(steady_step(), numbers),
                 value=steady_step().subs(numbers)),
            Step(("Against a plain SGD step ", mul(alpha, g), ", momentum multiplies the step by ", 1 / (1 - beta),
                  " once the gradient stays the same: faster progress along shallow, consistent directions."),
                 gain, ratio, substituted=substitute(ratio, numbers), value=ratio.subs(numbers)))


@cache  # a fixed result that several steps and answers read: derived once per process
def characteristic() -> sp.Basic:
    """det(z I - M) for momentum on one direction of curvature lambda, state (m, w)."""
    return sp.expand((z * sp.eye(2) - momentum_matrix()).det())


def momentum_matrix() -> sp.Matrix:
    """(m, w) -> (m', w') for m' = beta m + lambda w, w' = w - alpha m'."""
    return sp.Matrix([[beta, lam], [-alpha * beta, 1 - alpha * lam]])


def by_powers(poly: sp.Basic) -> sp.Basic:
    """The polynomial in z written highest power first (its terms from SymPy's Poly)."""
    terms = [cf * z ** d if cf == 1 else mul(cf, z ** d) if d else cf for (d,), cf in sp.Poly(poly, z).terms()]
    return sp.Add(*terms, evaluate=False)


def contraction_radius(curvature: sp.Basic, rate: sp.Basic, mom: sp.Basic) -> sp.Basic:
    """The largest |root| of the characteristic polynomial: momentum's factor per step.

    The polynomial is a quadratic, so ``roots`` gives both roots exactly by the quadratic
    formula (``all_roots`` would isolate them as CRootOf first: the same numbers, 5x slower).
    """
    roots = sp.roots(sp.Poly(characteristic().subs({lam: curvature, alpha: rate, beta: mom}), z), multiple=True)
    return max((sp.Abs(r) for r in roots), key=lambda v: sp.N(v, 30))


def direction_steps(spec: demo.DemoSpec) -> tuple[Step, Step]:
    """Per direction of A: GD's factor 1 - alpha lambda against momentum's spectral radius."""
    w_dir, m_dir = sp.symbols("w m")
    rows = tuple(_factor_row(name, curv, spec) for name, curv in (("shallow (w1)", sp.Integer(1)),
                                                                  ("steep (w2)", spec.kappa)))
    table = Table(("direction", "curvature", "GD factor", "momentum: largest |z|"), rows)
    limit = spec.learning_rate * spec.kappa / 2
    return (Step(("On ", _quadratic(), " each coordinate is a direction of curvature ", lam, " (1 or ", kappa,
                  ") with gradient ", mul(lam, w_dir), ". GD multiplies ", w_dir, " by ", 1 - mul(alpha, lam),
                  " per step; momentum maps the pair ", sp.Tuple(m_dir, w_dir), " by a matrix ", M, " whose "
                  "eigenvalues ", z, ", the roots of its characteristic polynomial, multiply the error per step."),
                 p_z, det_M, value=by_powers(characteristic()),
                 math=(eq(M, momentum_matrix()),)),
            Step(("With the spec's numbers (exact roots, shown to 4 digits). GD's learning rate is ",
                  eq(mul(alpha, 1 / (2 / kappa)), limit), " of its stability limit ", 2 / kappa,
                  ". A factor of modulus below 1 shrinks that coordinate each step; a negative GD factor flips its "
                  "sign every step."), table=table, note=factor_sentence(rows)))


def _factor_row(name: str, curvature: sp.Basic, spec: demo.DemoSpec) -> tuple:
    gd = 1 - spec.learning_rate * curvature
    radius = contraction_radius(curvature, spec.learning_rate, spec.momentum)
    return (name, curvature, gd, sp.Float(sp.N(radius, 30), demo.DIGITS))


def factor_sentence(rows: tuple) -> tuple:
    """What the factors say, chosen by comparing them: speed along w_1, oscillation across w_2."""
    (_, _, gd_shallow, mom_shallow), (_, _, gd_steep, mom_steep) = rows
    faster = mom_shallow < abs(gd_shallow)
    damped = mom_steep < abs(gd_steep)
    out = ["Along the shallow direction momentum's factor is ",
           *demo.versus(float(mom_shallow), float(abs(gd_shallow)), "smaller", "larger"), " GD's",
           ": momentum makes faster progress there. " if faster else ". ",
           "Across the steep direction GD's factor is ", gd_steep]
    if gd_steep < 0:
        out += [" (negative: GD overshoots, so ", w2, " flips sign every step)"]
    out += [" and momentum's is ", *demo.versus(float(mom_steep), float(abs(gd_steep)), "smaller", "larger"),
            " GD's in modulus", ": the oscillation across it dies out faster." if damped else "."]
    return tuple(out)


def momentum_question(spec: demo.DemoSpec, qid: str, shown: demo.Demo) -> Question:
    """Q.3: the momentum rule, its steady step, its per-direction factors and the runs."""
    steps = (momentum_rule_step(), *momentum_steps(spec), *direction_steps(spec), demo.momentum_step(spec, shown))
    ratio = (steady_step() / (alpha * g)).subs(beta, spec.momentum)
    answers = (Answer(f"{qid}.momentum_sum", m[t], momentum_sum(), ("under a constant gradient ", g, ", from ",
                                                                       eq(m[0], 0), ".")),
               Answer(f"{qid}.steady_step", mul(alpha, m_inf), steady_step(),
                      ("the limit of the step under a constant gradient ", g, ".")),
               Answer(f"{qid}.gain", gain, ratio,
                      ("the steady step over the plain step at the spec's ", eq(beta, spec.momentum), ".")))
    prompt = ("State the momentum update; derive the effective step under a constant gradient, and show the "
              "damped oscillation across steep directions and faster progress along shallow ones.",)
    givens = ((alpha, spec.learning_rate), (beta, spec.momentum), (kappa, spec.kappa))
    return Question(qid, "SGD with momentum", prompt, givens, steps, answers, figures=(demo.momentum_figure(shown),))


# ---------------------------------------------------------------------------- problem


def _quadratic() -> sp.Eq:
    return eq(f(wv), mul(sp.Rational(1, 2), wv.T * A * wv))


def intro(spec: demo.DemoSpec) -> tuple:
    """The shared objective of every demonstration, in symbols and numbers."""
    coords = eq(f(w1, w2), (w1 ** 2 + kappa * w2 ** 2) / 2)
    f0 = coords.rhs.subs({w1: spec.start[0], w2: spec.start[1], kappa: spec.kappa})
    features = eq(mul(sp.MatrixSymbol("X", N, 2).T, sp.MatrixSymbol("X", N, 2), 1 / N), A)
    return ("Each update rule is stated as a recurrence; each advantage is derived symbolically, then shown by a "
            "seeded run (seed ", sp.Integer(spec.seed), "). The runs share one objective, ", _quadratic(), ", that is ",
            coords, ", with ", eq(A, sp.ImmutableMatrix(sp.diag(1, kappa))), " and condition "
            "number ", eq(kappa, spec.kappa), ". It is exactly the full-batch excess loss of a least-squares "
            "problem with ", eq(N, spec.samples), " rows: features with ", features, " and labels of noise "
            "level ", spec.noise, " orthogonal to the features, so the minimum is ", eq(f(0, 0), 0), ". GD on all "
            "rows is GD on f, while SGD and mini-batch GD sample rows. Every run starts at ",
            eq(sp.Symbol("w_0"), sp.Tuple(*spec.start)), ", where ", eq(f(*spec.start), f0), ".")


def derive(spec: OptimizersSpec, number: int, title: str) -> Problem:
    """The three questions of an optimizers problem, all runs from one seeded data set."""
    s = saddle()
    shown = demo.demonstrate(spec.demo, *s.numeric())
    questions = (sgd_question(spec.demo, f"{number}.1", s, shown), minibatch_question(spec.demo, f"{number}.2", shown),
                 momentum_question(spec.demo, f"{number}.3", shown))
    return Problem(number, title, "optimizers", questions, intro=intro(spec.demo), notation=NOTATION)


KIND = register(Kind("optimizers", "Optimizers: SGD, mini-batch gradient descent, momentum", parse, derive,
                     doc=__doc__ or ""))
