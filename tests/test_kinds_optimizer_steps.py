"""Problem kind ``optimizer_steps``: every value against torch.optim (float64), against exact and
60-digit loops of our own (tests/reference_optimizer_steps.py), the gradient against PyTorch's
autograd, and bad specs against one-line errors naming the field."""
from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from fractions import Fraction

import pytest
import reference_optimizer_steps as ref
import sympy as sp
from peers import needs_torch, torch
from spec_cases import assert_names_the_field, cases

from symderiv.cli import main
from symderiv.derive import derive_table
from symderiv.errors import SpecError
from symderiv.kernels import compile_kernels
from symderiv.kinds import ability
from symderiv.kinds.optimizer_steps.parse import MAX_DIM, MAX_STEPS
from symderiv.kinds.optimizer_steps.run import DIGITS, settle
from symderiv.render.latex import render_latex
from symderiv.render.markdown import render_markdown

QUADRATIC = "0.5*w1^2 + 2*w2^2 + w1*w2"
SMOOTH = "log(1 + exp(w1 - w2)) + 0.1*w2^2"


def quadratic_grad(w, t):
    return [w[0] + w[1], 4 * w[1] + w[0]]


def smooth_grad(w, t):
    s = 1 / (1 + (-(w[0] - w[1])).exp())
    return [s, -s + Decimal("0.2") * w[1]]


def torch_loss(name):
    if name == "quadratic":
        return lambda p: 0.5 * p[0] ** 2 + 2 * p[1] ** 2 + p[0] * p[1]
    return lambda p: torch.log(1 + torch.exp(p[0] - p[1])) + 0.1 * p[1] ** 2


#: (method, settings as the spec writes them, momentum form)
METHODS = [
    ("sgd", {"lr": 0.1, "weight_decay": 0.05}, "pytorch"),
    ("momentum", {"lr": 0.1, "momentum": 0.9}, "pytorch"),
    ("momentum", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.02}, "classic"),
    ("nesterov", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01}, "pytorch"),
    ("adagrad", {"lr": 0.5, "eps": 1e-10}, "pytorch"),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.1}, "pytorch"),
    ("adam", {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}, "pytorch"),
    ("adamw", {"lr": 0.1, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}, "pytorch"),
]
IDS = [f"{m}-{form}" for m, _, form in METHODS]


def optimizer(method, settings, form):
    return {"method": method, **settings, **({"form": form} if method == "momentum" else {})}


def sheet(method, settings, form, *, objective=QUADRATIC, start=(1, -0.5), steps=4, gradients=None):
    """The one-question sheet of this optimizer (derived once per module for each set of arguments)."""
    frozen = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in settings.items())
    given = tuple(map(tuple, gradients)) if gradients is not None else None
    return _sheet(method, frozen, form, objective, tuple(start), steps, given)


@functools.cache
def _sheet(method, settings, form, objective, start, steps, gradients):
    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in settings}
    problem = {"kind": "optimizer_steps", "start": list(start), "optimizer": [optimizer(method, settings, form)]}
    if gradients is None:
        problem |= {"objective": objective, "variables": ["w1", "w2"], "steps": steps}
    else:
        problem |= {"gradients": [list(g) for g in gradients]}
    return derive_table({"problem": [problem]})


def values(sheet_, name, t) -> list:
    return list(sheet_.answer(f"1.1.{name}{t}").value)


def decimal(x) -> Decimal:
    x = sp.nsimplify(x) if isinstance(x, float) else x
    if isinstance(x, sp.Float):
        return Decimal(str(x))
    return Decimal(int(x.p)) / Decimal(int(x.q))


def spec_numbers(settings, kind):
    """The settings as numbers of type ``kind`` (betas as a pair)."""
    conv = (lambda v: Fraction(str(v))) if kind is Fraction else (lambda v: Decimal(str(v)))
    return {k: [conv(b) for b in v] if isinstance(v, list) else conv(v) for k, v in settings.items()}


def assert_close(ours, theirs, rtol, what):
    for a, b in zip(ours, theirs):
        assert abs(float(a) - float(b)) <= rtol * max(1.0, abs(float(b))), f"{what}: {ours} != {theirs}"


# --- against torch.optim, step by step ---------------------------------------------------------


def _torch_states(method, form, settings, record, t):
    """Our quantities from torch's state after step t."""
    lr = settings["lr"]
    if method in ("momentum", "nesterov"):
        buf = record["momentum_buffer"]
        return {"v": [-lr * b for b in buf] if form == "classic" else buf}
    if method == "adagrad":
        return {"s": record["sum"]}
    if method == "rmsprop":
        return {"v": record["square_avg"]}
    if method in ("adam", "adamw"):
        b1, b2 = settings["betas"]
        return {"m": record["exp_avg"], "v": record["exp_avg_sq"],
                "m_hat": [m / (1 - b1 ** t) for m in record["exp_avg"]],
                "v_hat": [v / (1 - b2 ** t) for v in record["exp_avg_sq"]]}
    return {}


@needs_torch
@pytest.mark.parametrize("objective", ["quadratic", "smooth"])
@pytest.mark.parametrize("method,settings,form", METHODS, ids=IDS)
def test_every_value_matches_torch_optim(method, settings, form, objective):
    s = sheet(method, settings, form, objective=QUADRATIC if objective == "quadratic" else SMOOTH)
    runs = ref.torch_steps(method, settings, [1, -0.5], 4, loss=torch_loss(objective))
    w_prev = [1.0, -0.5]
    for t, record in enumerate(runs, start=1):
        wd = settings.get("weight_decay", 0) if method != "adamw" else 0
        assert_close(values(s, "g", t), [g + wd * w for g, w in zip(record["grad"], w_prev)], 1e-12, f"g{t}")
        for name, theirs in _torch_states(method, form, settings, record, t).items():
            assert_close(values(s, name, t), theirs, 1e-11, f"{name}{t}")
        assert_close(values(s, "w", t), record["w"], 1e-11, f"w{t}")
        w_prev = record["w"]


@needs_torch
@pytest.mark.parametrize("method,settings,form", METHODS, ids=IDS)
def test_given_gradients_match_torch_optim(method, settings, form):
    given = [[0.5, -1], [0.25, 2], [-0.125, 0.5]]
    s = sheet(method, settings, form, gradients=given)
    for t, record in enumerate(ref.torch_steps(method, settings, [1, -0.5], 3, given=given), start=1):
        for name, theirs in _torch_states(method, form, settings, record, t).items():
            assert_close(values(s, name, t), theirs, 1e-11, f"{name}{t}")
        assert_close(values(s, "w", t), record["w"], 1e-11, f"w{t}")


# --- against our own loops: exact, and to 25 digits ----------------------------------------------


@pytest.mark.parametrize("method,settings,form", METHODS[:4], ids=IDS[:4])
def test_methods_without_roots_are_exact_while_short(method, settings, form):
    """SGD and momentum on a quadratic with decimal settings: every exact value equals a Fraction
    loop exactly, the first step is exact, and a value too long to print exactly agrees to 25 digits."""
    s = sheet(method, settings, form)
    start = [Fraction(1), Fraction(-1, 2)]
    expected = ref.steps(method, spec_numbers(settings, Fraction), start, quadratic_grad, 4, form)
    for t, record in enumerate(expected, start=1):
        for name, theirs in record.items():
            ours = values(s, name, t)
            assert t > 1 or all(isinstance(x, sp.Rational) for x in ours), f"{name}{t} is not exact: {ours}"
            for a, b in zip(ours, theirs):
                if isinstance(a, sp.Rational):
                    assert Fraction(int(a.p), int(a.q)) == b, f"{name}{t}"
                else:
                    assert abs(Fraction(str(a)) - b) <= Fraction(1, 10**25) * max(1, abs(b)), f"{name}{t}"


@pytest.mark.parametrize("objective,grad", [(QUADRATIC, quadratic_grad), (SMOOTH, smooth_grad)],
                         ids=["quadratic", "smooth"])
@pytest.mark.parametrize("method,settings,form", METHODS, ids=IDS)
def test_every_value_agrees_with_a_60_digit_loop(method, settings, form, objective, grad):
    """Floats carry 30 significant digits: they agree with Decimal arithmetic to 25."""
    s = sheet(method, settings, form, objective=objective)
    start = [Decimal(1), Decimal("-0.5")]
    for t, record in enumerate(ref.steps(method, spec_numbers(settings, Decimal), start, grad, 4, form), start=1):
        for name, theirs in record.items():
            for a, b in zip(values(s, name, t), theirs):
                assert abs(decimal(a) - b) <= Decimal("1e-25") * max(1, abs(b)), f"{name}{t}: {a} != {b}"


def test_long_values_become_30_digit_floats_and_short_ones_stay_exact():
    s = sheet("adam", {"lr": 0.1}, "pytorch", steps=3)
    g1 = [sp.Rational(1, 2), -1]                   # (w1 + w2, 4 w2 + w1) at (1, -0.5)
    assert values(s, "m", 1) == [(1 - sp.Rational(9, 10)) * g for g in g1]
    w1 = values(s, "w", 1)
    assert all(isinstance(x, sp.Float) and x._prec >= sp.Float(1, DIGITS)._prec for x in w1)
    assert settle(sp.Rational(3, 8)) == sp.Rational(3, 8) and settle(sp.Rational(729, 10000)) == sp.Rational(729, 10000)
    assert isinstance(settle(sp.Rational(90000001, 100000001)), sp.Float)
    assert isinstance(settle(sp.sqrt(2)), sp.Float)


# --- the gradient ------------------------------------------------------------------------------


@needs_torch
def test_gradient_formula_matches_autograd_and_is_a_kernel():
    s = sheet("sgd", {"lr": 0.1}, "pytorch", objective=SMOOTH)
    formula = s.answer("1.1.grad_f").value
    kernel = compile_kernels(s)["problem1_grad_f"]
    for point in ([0.3, -1.2], [2.0, 0.5], [-1.0, -1.0]):
        p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        torch_loss("smooth")(p).backward()
        w1, w2 = sp.symbols("w1 w2", real=True)
        ours = [float(e.subs({w1: point[0], w2: point[1]})) for e in formula]
        assert_close(ours, p.grad.tolist(), 1e-13, f"grad at {point}")
        assert_close(list(kernel(w1=point[0], w2=point[1]).ravel()), p.grad.tolist(), 1e-13, "kernel")


@needs_torch
def test_functions_of_products_derive_print_and_match_torch():
    """Numbers put into exp(w1 w2) and the like must not trip SymPy's queries while printing."""
    s = sheet("adam", {"lr": 0.1, "weight_decay": 0.01}, "pytorch", objective="sigmoid(w1*w2) + exp(-w1*w2/2)",
              steps=2)
    assert "\\frac" in render_latex(s)
    loss = lambda p: torch.sigmoid(p[0] * p[1]) + torch.exp(-p[0] * p[1] / 2)  # noqa: E731
    for t, record in enumerate(ref.torch_steps("adam", {"lr": 0.1, "weight_decay": 0.01}, [1, -0.5], 2, loss=loss),
                               start=1):
        assert_close(values(s, "w", t), record["w"], 1e-11, f"w{t}")


def test_objective_is_read_by_the_safe_parser_never_evaluated():
    with pytest.raises(SpecError, match=r"problem\[1\]\.objective"):
        sheet("sgd", {"lr": 0.1}, "pytorch", objective="__import__('os').system('echo hacked')")


def test_one_variable_objective_draws_a_curve_and_two_draw_contours():
    one = derive_table({"problem": [{"kind": "optimizer_steps", "start": 2, "objective": "x^4/4 - x", "variables": "x",
                                     "steps": 2, "optimizer": [{"method": "sgd", "lr": 0.1}]}]})
    assert [f.kind for f in one.problems[0].questions[0].figures] == ["line_plot"]
    two = sheet("adam", {"lr": 0.1}, "pytorch")
    figure = two.problems[0].questions[0].figures[0]
    assert figure.kind == "contour_path"
    path = figure.get("paths")[0][1]
    f = lambda x, y: 0.5 * x * x + 2 * y * y + x * y  # noqa: E731 - the objective, written again
    on_a_level = [any(math.isclose(f(*p), level, rel_tol=1e-5) for level in figure.get("levels")) for p in path]
    assert sum(on_a_level) >= 4, "the contour levels pass through the iterates"


# --- verify, recompute, prose --------------------------------------------------------------------


def test_verify_hook_agrees_and_can_fail():
    s = sheet("rmsprop", {"lr": 0.01, "weight_decay": 0.1}, "pytorch", objective=SMOOTH)
    problem = s.problems[0]
    report = ability(problem, "verify")(problem)
    assert report.ok and len(report.checks) == 4 * 3 + 4
    run = problem.data.runs[0]
    line = run.lines[4]
    bad = type(line)(  # runs are frozen: a tampered copy
        line.update, line.step, tuple(v + sp.Rational(1, 10**6) for v in line.values))
    tampered = type(run)(run.optimizer, run.start, run.raw, run.lines[:4] + (bad,) + run.lines[5:])
    broken = type(problem)(problem.number, problem.title, problem.kind, problem.questions,
                           data=type(problem.data)(problem.data.spec, (tampered,)))
    assert not ability(broken, "verify")(broken).ok


def test_recompute_carries_a_wrong_first_moment_forward():
    """A student's wrong m1 changes m_hat1, so w1, so g2, so m2: the chain redone by hand."""
    s = sheet("adam", {"lr": 0.1, "betas": [0.5, 0.75], "eps": 0.001}, "pytorch", steps=2)
    problem = s.problems[0]
    wrong_m1 = sp.ImmutableMatrix([sp.Rational(1, 4), sp.Rational(-1, 4)])
    again = ability(problem, "recompute")(problem, {"1.1.m1": wrong_m1})
    b1, lr, eps = Decimal("0.5"), Decimal("0.1"), Decimal("0.001")
    m1 = [decimal(m) for m in wrong_m1]
    v_hat1 = [decimal(v) for v in values(s, "v_hat", 1)]
    w1 = [w - lr * (m / (1 - b1)) / (v.sqrt() + eps) for w, m, v in zip([Decimal(1), Decimal("-0.5")], m1, v_hat1)]
    m2 = [b1 * m + (1 - b1) * g for m, g in zip(m1, quadratic_grad(w1, 2))]
    assert_close(list(again["1.1.w1"]), w1, 1e-25, "w1 from the student's m1")
    assert_close(list(again["1.1.m2"]), m2, 1e-25, "m2 from the student's m1")
    assert list(again["1.1.v1"]) == values(s, "v", 1)               # not downstream of m1
    assert list(again["1.1.m1"]) == list(wrong_m1)


def test_sheet_prose_names_no_tool_and_no_field():
    s = sheet("adamw", {"lr": 0.1, "weight_decay": 0.1}, "pytorch")
    text = re.sub(r"\$[^$]*\$", "", render_markdown(s))
    for word in ("SymPy", "sympy", "float64", "weight_decay", "betas", "lr", "eps", "steps =", "objective ="):
        assert not re.search(rf"\b{re.escape(word)}\b", text), word


def test_the_sheet_states_the_form_and_the_decay():
    classic = sheet("momentum", {"lr": 0.1, "momentum": 0.9}, "classic")
    l2 = sheet("adam", {"lr": 0.1, "weight_decay": 0.1}, "pytorch")
    decoupled = sheet("adamw", {"lr": 0.1, "weight_decay": 0.1}, "pytorch")
    assert "classic form" in render_markdown(classic)
    assert "L2 penalty" in render_markdown(l2) and "decoupled" in render_markdown(decoupled)


# --- bad specs ---------------------------------------------------------------------------------

GOOD = {"kind": "optimizer_steps", "start": [1, 1], "objective": "w1^2 + w2^2", "variables": ["w1", "w2"],
        "steps": 2, "optimizer": [{"method": "adam", "lr": 0.1}]}


def with_(**changes):
    problem = {**GOOD, **changes}
    return {k: v for k, v in problem.items() if v is not None}


def opt(**changes):
    return with_(optimizer=[{"method": "adam", "lr": 0.1, **changes}])


BAD = [
    ("negative rate", opt(lr=-0.1), "optimizer[1].lr", "must be > 0"),
    ("zero rate", opt(lr=0), "optimizer[1].lr", "must be > 0"),
    ("beta at 1", opt(betas=[0.9, 1]), "optimizer[1].betas[2]", "must be < 1"),
    ("negative beta", opt(betas=[-0.1, 0.9]), "optimizer[1].betas[1]", "must be >= 0"),
    ("one beta", opt(betas=[0.9]), "optimizer[1].betas", "expected 2 numbers"),
    ("zero eps", opt(eps=0), "optimizer[1].eps", "must be > 0"),
    ("negative decay", opt(weight_decay=-1), "optimizer[1].weight_decay", "must be >= 0"),
    ("setting of another method", opt(momentum=0.9), "optimizer[1].momentum", "not a setting of adam"),
    ("unknown method", with_(optimizer=[{"method": "adamax"}]), "optimizer[1].method", "unknown value"),
    ("momentum of 1", with_(optimizer=[{"method": "momentum", "momentum": 1}]), "optimizer[1].momentum", "< 1"),
    ("unknown form", with_(optimizer=[{"method": "momentum", "form": "heavy"}]), "optimizer[1].form", "unknown"),
    ("rmsprop alpha", with_(optimizer=[{"method": "rmsprop", "alpha": 1.5}]), "optimizer[1].alpha", "< 1"),
    ("too many steps", with_(steps=MAX_STEPS + 1), "steps", f"<= {MAX_STEPS}"),
    ("too many parameters", with_(start=[1] * (MAX_DIM + 1)), "start", f"at most {MAX_DIM}"),
    ("variables do not fit", with_(variables=["w1"]), "variables", "start has 2 entries"),
    ("repeated variable", with_(variables=["w1", "w1"]), "variables[2]", "repeated"),
    ("variable named like a function", with_(variables=["exp", "w2"]), "variables[1]", "function"),
    ("unknown symbol in f", with_(objective="w1^2 + w3"), "objective", "'w3'"),
    ("unreadable f", with_(objective="w1^^2"), "objective", "cannot be read"),
    ("f is a list", with_(objective="[w1, w2]"), "objective", "one expression"),
    ("floor in f", with_(objective="floor(w1) + w2"), "objective", "floor"),
    ("both sources", with_(gradients=[[1, 2]]), "gradients", "not both"),
    ("no source", with_(objective=None, variables=None, steps=None), "objective", "missing"),
    ("gradient shape", with_(objective=None, variables=None, steps=None, gradients=[[1, 2], [1, 2, 3]]),
     "gradients[2]", "has 3 entries but start has 2"),
    ("steps with gradients", with_(objective=None, variables=None, gradients=[[1, 2]]), "steps", "not used"),
    ("too many gradients", with_(objective=None, variables=None, steps=None, gradients=[[1, 1]] * (MAX_STEPS + 1)),
     "gradients", f"1 to {MAX_STEPS}"),
    ("too many digits", with_(start=["1/123456789012345678901", 1]), "start[1]", "digits"),
    ("unknown field", with_(momentum=0.9), "momentum", "unknown field"),
    ("too many optimizers", with_(optimizer=[{"method": "sgd"}] * 5), "optimizer", "at most 4"),
    ("diverges", with_(objective="w1^4 + w2^2", steps=10, optimizer=[{"method": "sgd", "lr": 1}]),
     "optimizer[1].lr", "diverges"),
    ("leaves the domain", with_(objective="log(w1) + w2^2", optimizer=[{"method": "sgd", "lr": 2}]),
     "objective", "not a real number"),
]


@pytest.mark.parametrize(**cases(BAD))
def test_bad_spec_names_the_field(problem, field, message):
    assert_names_the_field(problem, field, message)


def test_bad_spec_is_one_line_and_exit_2(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('[[problem]]\nkind = "optimizer_steps"\nstart = [1, 1]\ngradients = [[1, 2]]\n'
                    '[[problem.optimizer]]\nmethod = "adam"\nbetas = [0.9, 1.5]\n')
    assert main(["key", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "problem[1].optimizer[1].betas[2]" in err
