"""One question per optimizer: the rule in general form, then every step with its numbers.

A question reads: the gradient of the objective (first question only), the method's
rule for a general step t, then for t = 1, 2, ...: each line at that step in symbols,
with the numbers put in, and its value (bias correction is a line of its own); last, a
table of the run. Every printed number comes from :mod:`.run`, which evaluates the very
rules printed here.
"""
from __future__ import annotations

import sympy as sp

from symderiv.kinds.optimizer_steps.display import shown
from symderiv.kinds.optimizer_steps.figure import path_figure
from symderiv.kinds.optimizer_steps.methods import NORM, GradF, Update, eq, lam, mul, t, w
from symderiv.kinds.optimizer_steps.parse import StepsSpec
from symderiv.kinds.optimizer_steps.run import Line, Run, gradient, objective_values
from symderiv.model import Answer, Figure, Question, Step, Table

W = sp.Symbol("w")          # the parameter vector as a whole: f(w), nabla f(w)
F = sp.Function("f")


def vector(values: tuple[sp.Basic, ...]) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix([[v] for v in values])


def gradient_step(spec: StepsSpec) -> Step:
    """nabla f(w): one partial derivative per parameter, differentiated symbolically."""
    assert spec.objective is not None
    expr, variables = spec.objective.expr, spec.objective.variables
    partials = vector(tuple(sp.Derivative(expr, x) for x in variables))
    return Step("The gradient of f: one partial derivative per parameter.", GradF(W), partials,
                value=vector(gradient(spec.objective)))


def running(lines: tuple[Update, ...]) -> tuple[sp.Indexed, ...]:
    """The states a step reads at t - 1 (they start at 0): m_0, v_0, ..., not w_0."""
    read = {ix.base for u in lines for ix in u.rule.atoms(sp.Indexed) if ix.indices[0] == t - 1}
    return tuple(u.target[0] for u in lines if u.target in read and u.target != w)


def rule_step(run: Run) -> Step:
    """The method's lines for a general step t, and where its states start."""
    lines = run.optimizer.method.lines(run.optimizer.decay)
    zeros = running(lines)
    start = ("Every state starts at 0: ", *_zero_list(zeros), ". ") if zeros else ()
    decay = _decay_sentence() if run.optimizer.decay and not run.optimizer.method.decoupled else ()
    return Step((*_prose(run.optimizer.method.about), " ", *decay, *start, "Each step ", t, " (the first is ",
                 eq(t, 1), ") computes, in this order:"), math=tuple(eq(u.target[t], u.rule) for u in lines))


def _zero_list(zeros: tuple[sp.Indexed, ...]) -> tuple:
    out: list = []
    for i, z in enumerate(zeros):
        out += ([", "] if i else []) + [eq(z, 0)]
    return tuple(out)


def _prose(text) -> tuple:
    return (text,) if isinstance(text, str) else tuple(text)


def _decay_sentence() -> tuple:
    """L2 weight decay (decoupled decay is described by its method)."""
    return ("Weight decay is an L2 penalty: ", mul(lam, w[t - 1]), " is added to the gradient (it is the gradient "
            "of the penalty ", mul(lam / 2, NORM), "). ")


def numbers(run: Run, line: Line, entry: int, gradient_shown: sp.Basic | None) -> dict:
    """What each quantity of ``line``'s rule is at its step, for one entry of the vectors."""
    out: dict[sp.Basic, sp.Basic] = dict(run.optimizer.hyper)
    for ix in line.rule.atoms(sp.Indexed):
        out[ix] = run.value(str(ix.base.label), int(ix.indices[0]))[entry]
    out[GradF(w[line.step - 1])] = gradient_shown if gradient_shown is not None else run.raw[line.step - 1][entry]
    return out


def line_step(spec: StepsSpec, run: Run, line: Line) -> Step:
    """``target_s = rule at s = numbers in = value``, entry by entry as vectors."""
    objective = spec.objective
    entries = []
    for j in range(len(spec.start)):
        grad_shown = None
        if objective is not None and line.update.name == "g":
            here = dict(zip(objective.variables, run.value("w", line.step - 1)))
            grad_shown = shown(gradient(objective)[j], here)
        entries.append(shown(line.rule, numbers(run, line, j, grad_shown)))
    text = _line_text(spec, run, line)
    return Step(text, line.lhs, line.rule, substituted=vector(tuple(entries)), value=vector(line.values))


def _line_text(spec: StepsSpec, run: Run, line: Line) -> tuple:
    head = ("Step ", eq(t, line.step), ". ") if line.update.name == "g" else ()
    if line.update.name != "g":
        return head + _prose(line.update.text)
    decay = run.optimizer.decay and not run.optimizer.method.decoupled
    if spec.objective is not None:
        where: tuple = ("The gradient of f at ", w[line.step - 1], ", plus the weight decay term." if decay else ".")
    else:
        where = ("The gradient at ", w[line.step - 1], " is given; weight decay adds its term." if decay else
                 " is given.")
    return head + where


def summary_step(spec: StepsSpec, run: Run) -> Step:
    """The run at a glance: the parameters after every step, one column per entry (and f there)."""
    names = tuple(str(x) for x in spec.objective.variables) if spec.objective is not None else \
        tuple(f"entry {j}" for j in range(1, len(spec.start) + 1))
    rows = [(sp.Integer(i), *p) for i, p in enumerate(run.path)]
    if spec.objective is None:
        return Step("The parameters after each step:", table=Table(("step t", *names), tuple(rows)))
    values = objective_values(spec, run.path)
    rows = [row + (value,) for row, value in zip(rows, values)]
    return Step("The parameters after each step, and the objective there:",
                table=Table(("step t", *names, "objective f"), tuple(rows)))


def answers(qid: str, run: Run) -> tuple[Answer, ...]:
    return tuple(Answer(f"{qid}.{line.update.name}{line.step}", line.lhs, vector(line.values)) for line in run.lines)


def givens(spec: StepsSpec, run: Run, first: bool) -> tuple[tuple[sp.Basic, sp.Basic], ...]:
    out: list[tuple[sp.Basic, sp.Basic]] = [(w[0], vector(spec.start))]
    if spec.objective is not None:
        out.append((F(W), spec.objective.expr))
        if not first:
            out.append((GradF(W), vector(gradient(spec.objective))))
    else:
        out += [(GradF(w[i]), vector(row)) for i, row in enumerate(spec.gradients or ())]
    return tuple(out) + tuple((symbol, value) for symbol, value in run.optimizer.hyper
                              if symbol != lam or value != 0)


def question(spec: StepsSpec, run: Run, qid: str, first: bool, figures: tuple[Figure, ...]) -> Question:
    """The question of one optimizer."""
    steps = ((gradient_step(spec),) if first and spec.objective is not None else ()) + (rule_step(run),)
    steps += tuple(line_step(spec, run, line) for line in run.lines) + (summary_step(spec, run),)
    out = answers(qid, run)
    if first and spec.objective is not None:
        out = (Answer(f"{qid}.grad_f", GradF(W), vector(gradient(spec.objective))),) + out
    title = run.optimizer.method.title
    prompt = (f"Take {run.steps} step{'s' if run.steps > 1 else ''} of {title} from ", w[0],
              ": give the gradient, the optimizer's state and the parameters after each step.")
    return Question(qid, f"{title}: {run.steps} step{'s' if run.steps > 1 else ''}", prompt,
                    givens(spec, run, first), steps, out, figures=figures)


def figures_of(spec: StepsSpec, run: Run) -> tuple[Figure, ...]:
    """The path of this run on the objective (none without an objective or beyond two variables)."""
    if spec.objective is None:
        return ()
    n = len(spec.start)
    caption = (f"The path of {run.optimizer.method.title} from the start (the first point) over {run.steps} step"
               f"{'s' if run.steps > 1 else ''}"
               + (", on contour lines of f through the values at the points of the path." if n == 2
                  else ", on the graph of f."))
    figure = path_figure(spec.objective, (run,), caption)
    return (figure,) if figure is not None else ()


def comparison(spec: StepsSpec, runs: tuple[Run, ...]) -> tuple[Figure, ...]:
    """Every run's path on one figure, for a problem with several optimizers."""
    if spec.objective is None or len(runs) < 2:
        return ()
    figure = path_figure(spec.objective, runs, "All the paths of this problem, from the same start.")
    return (figure,) if figure is not None else ()
