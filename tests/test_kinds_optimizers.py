"""Problem kind ``optimizers``: every formula against an independent method.

The variance rule the sheet states against sympy.stats and exact enumeration, the
variance formula against Monte Carlo, the momentum closed form against the
recurrence iterated in exact rationals, the costs against a loop that counts gradient
evaluations, the demonstration's data and runs against closed forms computed here, and
bad specs against the field they name.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symderiv.derive import derive_sheet, parse_sheet
from symderiv.errors import SpecError
from symderiv.kinds import optimizers as opt
from symderiv.kinds import optimizers_demo as demo
from symderiv.spec import Fields

HOMEWORK_DEMO = {"seed": 0, "kappa": 50, "start": [1.0, 1.0], "learning_rate": 0.038, "momentum": 0.7,
                 "stochastic_learning_rate": 0.01, "saddle_learning_rate": 0.05, "batch_size": 8, "samples": 256,
                 "noise": 0.5,
                 "steps": 300, "tolerance": 1e-6, "draws": 4000}


def spec_of(**demo_fields) -> opt.OptimizersSpec:
    return opt.parse(Fields({"demo": {**HOMEWORK_DEMO, **demo_fields}}, "test.toml"))


@pytest.fixture(scope="module")
def problem():
    return opt.derive(spec_of(), 3, "Optimizers")


@pytest.fixture(scope="module")
def answers(problem) -> dict:
    return {a.id: a.value for q in problem.questions for a in q.answers}


@pytest.fixture(scope="module")
def shown():
    s = spec_of().demo
    return s, demo.demonstrate(s, *opt.saddle().numeric())


# ------------------------------------------------------------------ independent references


def monte_carlo_mean_variance(b: int, sigma: float, reps: int, seed: int) -> float:
    """Sample variance of the mean of b iid exponential variables of standard deviation sigma."""
    draws = np.random.default_rng(seed).exponential(sigma, size=(reps, b))  # Exp(scale) has sd = scale
    return float(np.var(draws.mean(axis=1), ddof=1))


def iterate_momentum(beta: Fraction, g: Fraction, steps: int) -> list[Fraction]:
    """m_0 = 0, m_{t+1} = beta m_t + g, exactly."""
    out, m = [Fraction(0)], Fraction(0)
    for _ in range(steps):
        m = beta * m + g
        out.append(m)
    return out


class Counter:
    """A per-sample gradient that counts how often it is called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, w: float, sample: float) -> float:
        self.calls += 1
        return w - sample


def count_epoch(n: int, b: int) -> tuple[int, int]:
    """One epoch (n gradient evaluations) of mini-batch updates: (evaluations per update, updates)."""
    grad, data, w, updates, per_update = Counter(), list(range(n)), 0.0, 0, set()
    while grad.calls < n:
        before = grad.calls
        w -= 0.1 * sum(grad(w, data[(updates * b + j) % n]) for j in range(b)) / b
        per_update.add(grad.calls - before)
        updates += 1
    assert len(per_update) == 1
    return per_update.pop(), updates


def rs(x) -> sp.Rational:
    return sp.Rational(str(x))


# ------------------------------------------------------------------ the formulas


def test_variance_answer_is_sigma_squared_over_b(answers):
    sigma, b = sp.Symbol("sigma", positive=True), sp.Symbol("b", positive=True)
    assert answers["3.2.variance"] == sigma ** 2 / b


@pytest.mark.parametrize("b", [1, 2, 5, 16])
def test_variance_formula_against_monte_carlo(answers, b):
    sigma = 1.7
    formula = float(answers["3.2.variance"].subs({sp.Symbol("sigma", positive=True): sigma,
                                                  sp.Symbol("b", positive=True): b}))
    measured = monte_carlo_mean_variance(b, sigma, 200_000, seed=b)
    assert measured == pytest.approx(formula, rel=0.03)


def test_stated_variance_rule_against_sympy_stats():
    """The sheet states Var(c_1 X_1 + c_2 X_2); sympy.stats integrates it from two normal densities."""
    from sympy import stats

    mu = sp.Symbol("mu", real=True)
    rvs = [stats.Normal(f"X_{j}", mu, opt.sigma) for j in (1, 2)]
    computed = stats.variance(opt.C1 * rvs[0] + opt.C2 * rvs[1])
    assert sp.expand(opt.variance_rule() - computed) == 0


def enumerated_variance(weights: list[Fraction], laws: list[dict[Fraction, Fraction]]) -> Fraction:
    """Var(sum w_i X_i) for independent discrete X_i, exactly, over every joint outcome."""
    joint = [(Fraction(0), Fraction(1))]  # (value of the weighted sum, probability)
    for w, law in zip(weights, laws):
        joint = [(total + w * x, p * q) for total, p in joint for x, q in law.items()]
    mean = sum(p * v for v, p in joint)
    return sum(p * (v - mean) ** 2 for v, p in joint)


def law_variance(law: dict[Fraction, Fraction]) -> Fraction:
    mean = sum(p * x for x, p in law.items())
    return sum(p * (x - mean) ** 2 for x, p in law.items())


@pytest.mark.parametrize("weights", [(Fraction(1), Fraction(1)), (Fraction(1, 8), Fraction(1, 8)),
                                     (Fraction(3), Fraction(-2, 5)), (Fraction(0), Fraction(7))])
def test_stated_variance_rule_against_exact_enumeration(weights):
    """Two independent variables of one variance but different laws (skewed, three-point), and
    the same rule extended to b = 3 terms: enumeration of the joint outcomes in fractions."""
    skewed = {Fraction(0): Fraction(3, 4), Fraction(2): Fraction(1, 4)}          # variance 3/4
    three = {Fraction(-3, 2): Fraction(1, 6), Fraction(0): Fraction(2, 3), Fraction(3, 2): Fraction(1, 6)}
    assert law_variance(skewed) == law_variance(three) == Fraction(3, 4)
    rule = opt.variance_rule().subs({opt.C1: sp.Rational(weights[0]), opt.C2: sp.Rational(weights[1]),
                                     opt.sigma: sp.sqrt(sp.Rational(3, 4))})
    assert rule == sp.Rational(enumerated_variance(list(weights), [skewed, three]))
    many = [*weights, Fraction(1, 3)]
    assert enumerated_variance(many, [skewed, three, skewed]) == sum(w * w for w in many) * Fraction(3, 4)


@pytest.mark.parametrize("beta", [Fraction(1, 2), Fraction(7, 10), Fraction(9, 10), Fraction(1, 3)])
def test_momentum_closed_form_against_recurrence(answers, beta):
    g = Fraction(3, 2)
    closed = answers["3.3.momentum_sum"]
    for t, m in enumerate(iterate_momentum(beta, g, 12)):
        value = closed.subs({opt.beta: sp.Rational(beta.numerator, beta.denominator), opt.g: sp.Rational(3, 2),
                             opt.t: t})
        assert value == sp.Rational(m.numerator, m.denominator)


def test_stated_geometric_sum_against_sympy_summation_and_rsolve():
    """The closed form the sheet derives by telescoping is SymPy's sum (branch beta != 1) and the
    solution of the recurrence m(t+1) = beta m(t) + g, m(0) = 0 by rsolve."""
    beta, g, t, k = opt.beta, opt.g, opt.t, opt.k
    total = sp.summation(beta ** k * g, (k, 0, t - 1))
    branch = total.xreplace({sp.Eq(beta, 1): sp.false})  # beta = 1 is excluded: beta < 1
    assert total.has(sp.Piecewise) and sp.simplify(branch - opt.momentum_sum()) == 0
    mf = sp.Function("m")
    solved = sp.rsolve(mf(t + 1) - beta * mf(t) - g, mf(t), {mf(0): 0})
    assert sp.simplify(solved - opt.momentum_sum()) == 0


def test_telescoping_steps_hold():
    """Each line of the sheet's telescoping derivation, checked at numbers (the sums done by SymPy)."""
    for beta, t in ((sp.Rational(7, 10), 5), (sp.Rational(1, 3), 8), (sp.Rational(9, 10), 1)):
        values = {opt.beta: beta, opt.t: t, opt.g: sp.Rational(3, 2)}
        s_t = opt.geometric_sum().subs(values).doit()
        for relation in opt.telescoping():
            assert relation.subs(opt.S, s_t).subs(values).doit() == sp.true


def test_stated_limit_is_sympys():
    vanishing, limit = opt.steady_state()
    assert sp.limit(sp.exp(-opt.gamma * opt.t), opt.t, sp.oo) == vanishing
    assert sp.limit(opt.momentum_sum().subs(opt.beta, sp.Rational(7, 10)), opt.t, sp.oo) == \
        limit.subs(opt.beta, sp.Rational(7, 10))


@pytest.mark.parametrize("beta,alpha", [(0.5, 0.1), (0.7, 0.038), (0.9, 0.01), (0.99, 0.2)])
def test_steady_step_against_a_long_iteration(answers, beta, alpha):
    g, m = 2.5, 0.0
    for _ in range(20_000):
        m = beta * m + g
    formula = answers["3.3.steady_step"].subs({opt.alpha: alpha, opt.beta: beta, opt.g: g})
    assert alpha * m == pytest.approx(float(formula), rel=1e-12)


def test_gain_is_the_spec_beta_factor(answers):
    beta = Fraction(7, 10)
    m = iterate_momentum(beta, Fraction(1), 400)[-1]  # -> 1/(1 - beta) from below
    assert float(m) == pytest.approx(float(answers["3.3.gain"]), rel=1e-12)


@pytest.mark.parametrize("n,b", [(12, 1), (12, 3), (12, 12), (256, 8), (30, 5)])
def test_costs_against_counted_gradient_evaluations(answers, n, b):
    per_update, updates = count_epoch(n, b)
    N, B = opt.N, opt.b
    assert answers["3.2.cost"].subs(B, b) == per_update
    assert answers["3.2.updates"].subs({N: n, B: b}) == updates
    if b == n:
        assert answers["3.1.cost_gd"].subs(N, n) == per_update and answers["3.1.updates_gd"] == updates
    if b == 1:
        assert answers["3.1.cost_sgd"] == per_update and answers["3.1.updates_sgd"].subs(N, n) == updates


def test_momentum_radius_against_simulated_contraction():
    """The largest |root| is the long-run contraction of (m, w) per step, simulated here."""
    for curvature, alpha, beta in ((50, 0.038, 0.7), (1, 0.038, 0.7), (25, 0.07, 0.9), (1, 0.01, 0.3)):
        m, w = 0.0, 1.0
        for _ in range(200):
            m = beta * m + curvature * w
            w = w - alpha * m
        start = np.hypot(m, w)
        for _ in range(400):
            m = beta * m + curvature * w
            w = w - alpha * m
        rate = (np.hypot(m, w) / start) ** (1 / 400)
        radius = opt.contraction_radius(rs(curvature), rs(alpha), rs(beta))
        assert rate == pytest.approx(float(radius), rel=2e-2)


def test_saddle_points_against_numeric_gradient():
    s = opt.saddle()
    grad, loss = s.numeric()
    for (a, c), value, eig in s.points:
        assert np.allclose(grad(np.array([float(a), float(c)])), 0)
        assert loss(np.array([float(a), float(c)])) == pytest.approx(float(value))
        h = 1e-5  # Hessian diagonal by central differences: the eigenvalues (it is diagonal there)
        point = np.array([float(a), float(c)])
        diag = [(loss(point + h * e) - 2 * float(value) + loss(point - h * e)) / h ** 2 for e in np.eye(2)]
        assert sorted(diag, reverse=True) == pytest.approx([float(v) for v in eig], rel=1e-4)
    assert s.saddle_value == sp.Rational(1, 4)


# ------------------------------------------------------------------ the demonstration


def test_data_make_gd_exactly_gd_on_the_quadratic(shown):
    spec, _ = shown
    data = demo.make_data(spec)
    X, y, n, kappa = data.X, data.y, spec.samples, float(spec.kappa)
    gram = np.array([[np.sum(X[:, i] * X[:, j]) / n for j in range(2)] for i in range(2)])
    assert np.allclose(gram, np.diag([1.0, kappa]), atol=1e-12)
    assert np.allclose([np.sum(X[:, j] * y) for j in range(2)], 0, atol=1e-9)
    rng = np.random.default_rng(5)
    for w in rng.normal(size=(5, 2)):
        excess = np.sum((X[:, 0] * w[0] + X[:, 1] * w[1] - y) ** 2) / (2 * n) - np.sum(y ** 2) / (2 * n)
        assert excess == pytest.approx(0.5 * (w[0] ** 2 + kappa * w[1] ** 2), rel=1e-9, abs=1e-12)


def test_gd_run_follows_the_closed_form(shown):
    spec, d = shown
    gd = d.deterministic[0]
    alpha, kappa = float(spec.learning_rate), float(spec.kappa)
    t = np.arange(len(gd.path))
    expected = np.stack([(1 - alpha) ** t, (1 - alpha * kappa) ** t], axis=1)
    assert np.allclose(gd.path, expected, rtol=1e-9, atol=1e-12)


def _sampled_path(X, y, rows, w0, alpha, steps):
    """SGD / mini-batch GD by a plain loop over steps and rows (the per-sample gradients averaged)."""
    w, path = list(w0), [tuple(w0)]
    for t in range(steps):
        g = [0.0, 0.0]
        for r in rows[t]:
            residual = X[r][0] * w[0] + X[r][1] * w[1] - y[r]
            g = [g[0] + X[r][0] * residual / len(rows[t]), g[1] + X[r][1] * residual / len(rows[t])]
        w = [w[0] - alpha * g[0], w[1] - alpha * g[1]]
        path.append(tuple(w))
    return np.array(path)


def test_sampled_runs_follow_the_per_sample_gradients(shown):
    """The runs' batch gradients (M_B w - c_B, from the batch's moments) against row-by-row sums."""
    spec, d = shown
    data = demo.make_data(spec)
    X, y, w0 = data.X.tolist(), data.y.tolist(), [float(v) for v in spec.start]
    alpha, steps = float(spec.stochastic_learning_rate), spec.steps
    for run, purpose, b in ((d.stochastic[1], demo.SGD, 1), (d.stochastic[2], demo.MINIBATCH, spec.batch_size)):
        rows = demo.batches(spec, purpose, steps, b).tolist()
        assert np.allclose(run.path, _sampled_path(X, y, rows, w0, alpha, steps), rtol=1e-9, atol=1e-12)


def test_momentum_reaches_tolerance_first(shown):
    spec, d = shown
    gd, mom = d.deterministic
    tol = float(spec.tolerance)
    assert mom.reached(tol) is not None
    assert gd.reached(tol) is None or mom.reached(tol) < gd.reached(tol)
    assert np.argmax(gd.loss <= tol) == gd.reached(tol)


def test_gd_oscillates_across_the_steep_direction(shown):
    spec, d = shown
    gd, mom = d.deterministic
    until = gd.reached(float(spec.tolerance))
    signs = np.sign(gd.path[: until + 1, 1])
    assert np.all(signs[1:] == -signs[:-1])  # flips at every step
    assert gd.sign_changes(until) == until
    assert mom.sign_changes(mom.reached(float(spec.tolerance))) < until


def test_minibatch_gradient_variance_below_sgd(shown):
    _, d = shown
    by_b = {r.batch: r for r in d.variance}
    assert by_b[8].measured < by_b[1].measured
    for r in d.variance:
        assert r.measured == pytest.approx(r.sigma2 / r.batch, rel=0.1)


def test_minibatch_loss_less_noisy_than_sgd(shown):
    _, d = shown
    _, sgd, mini = d.stochastic
    assert np.std(mini.tail()) < np.std(sgd.tail())
    assert np.mean(mini.tail()) < np.mean(sgd.tail())


def test_measured_variance_independently(shown):
    """sigma^2 recomputed here from the data: per-row gradients by a plain loop."""
    spec, d = shown
    data = demo.make_data(spec)
    w = [float(v) for v in spec.start]
    grads = [(x0 * (x0 * w[0] + x1 * w[1] - yy), x1 * (x0 * w[0] + x1 * w[1] - yy))
             for (x0, x1), yy in zip(data.X.tolist(), data.y.tolist())]
    mean = [sum(gc) / len(grads) for gc in zip(*grads)]
    sigma2 = sum((a - mean[0]) ** 2 + (c - mean[1]) ** 2 for a, c in grads) / len(grads)
    assert d.variance[0].sigma2 == pytest.approx(sigma2, rel=1e-12)


def test_saddle_runs(shown):
    _, d = shown
    exact, noisy = d.saddle
    assert exact.final[1] == 0.0 and exact.loss == pytest.approx(0.25, abs=1e-6)
    assert abs(noisy.final[1]) > 0.5 and noisy.loss < 0.05


def test_sgd_beats_gd_at_equal_work(shown):
    _, d = shown
    by = {r.name: r for r in d.epoch}
    assert by["GD"].evaluations == by["SGD"].evaluations == 256 and by["SGD"].steps == 256
    assert by["SGD"].loss < by["GD"].loss


def test_figures_are_small_and_rounded(problem):
    figures = [f for q in problem.questions for f in q.figures]
    assert len(figures) == 2
    for fig in figures:
        assert fig.kind == "line_plot" and fig.get("logy") is True
        for _name, points in fig.get("series"):
            assert 1 < len(points) <= demo.MAX_POINTS + 1
            assert all(isinstance(v, float) and v > 0 and float(f"{v:.6g}") == v for _, v in points)


# ------------------------------------------------------------------ determinism and rendering


def test_two_derivations_are_identical(problem):
    from symderiv.render.latex import render_latex

    again = opt.derive(spec_of(), 3, "Optimizers")
    assert again == problem
    table = {"problem": [{"kind": "optimizers", "demo": HOMEWORK_DEMO}]}
    first = render_latex(derive_sheet(parse_sheet(Fields(table, "t.toml"), "t")))
    assert first == render_latex(derive_sheet(parse_sheet(Fields(table, "t.toml"), "t")))


def test_defaults_are_the_homework_instance():
    assert opt.parse(Fields({}, "t.toml")) == spec_of()


def test_prose_follows_the_numbers():
    """With beta far too large for kappa, momentum is slower: the sentences must say so."""
    p = opt.derive(spec_of(kappa=25, learning_rate=0.07, momentum=0.9, steps=120), 3, "x")
    text = str([s.note for q in p.questions for s in q.steps])
    assert "momentum makes faster progress" not in text
    assert "times larger than" in text


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("field,value,words", [
    ("momentum", 1, "< 1"), ("momentum", -0.1, ">= 0"), ("learning_rate", 0, "> 0"),
    ("learning_rate", 0.04, "2/kappa"), ("stochastic_learning_rate", 0.04, "2/(1 + kappa)"),
    ("saddle_learning_rate", 1, "< 1 = 1"), ("saddle_learning_rate", -0.1, "> 0"),
    ("batch_size", 257, "<= 256"), ("batch_size", 0, ">= 1"), ("batch_size", 2.5, "whole number"),
    ("samples", 255, "even"), ("samples", 100.5, "whole number"), ("steps", 10.5, "whole number"),
    ("steps", 0, ">= 1"), ("tolerance", 0, "> 0"), ("start", [1, 2, 3], "2 numbers"), ("start", [0, 0], "minimum"),
    ("kappa", 0.5, ">= 1"), ("seed", -1, ">= 0"), ("draws", 5, ">= 10"), ("noise", "loud", "number"),
    ("colour", 1, "unknown field"),
])
def test_bad_input_names_the_field(field, value, words):
    with pytest.raises(SpecError) as err:
        spec_of(**{field: value})
    assert err.value.field == f"demo.{field}"
    assert words in str(err.value)


def test_draws_times_batch_is_bounded():
    with pytest.raises(SpecError) as err:
        spec_of(draws=10 ** 5, batch_size=16)
    assert err.value.field == "demo.draws" and "10^6" in str(err.value)


def test_steps_times_batch_is_bounded():
    with pytest.raises(SpecError) as err:
        spec_of(steps=100_000, batch_size=101, samples=1000)
    assert err.value.field == "demo.steps" and "10^7" in str(err.value)


def test_bad_input_through_a_sheet():
    table = {"problem": [{"kind": "optimizers", "demo": {"momentum": 1.5}}]}
    with pytest.raises(SpecError) as err:
        parse_sheet(Fields(table, "hw.toml"), "hw")
    assert err.value.field == "problem[1].demo.momentum" and "hw.toml" in str(err.value)


def test_unknown_top_level_field():
    with pytest.raises(SpecError) as err:
        opt.parse(Fields({"demos": {}}, "t.toml"))
    assert err.value.field == "demos"
