"""Problem kind ``optimizer_steps``: k steps of an optimizer, rule first, then the numbers.

Spec fields (see README, "kind = optimizer_steps")::

    kind = "optimizer_steps"
    start = [1, 1]                      # w_0, one number per parameter (at most MAX_DIM)
    objective = "w1^2 + 10*w2^2"        # f(w), read by the safe parser; or:
    variables = ["w1", "w2"]            #   its variables, in the order of start
    steps = 3                           #   k (at most MAX_STEPS)
    # gradients = [[2, 20], [1, -4]]    # instead of an objective: the gradient of each step
    [[problem.optimizer]]               # one question each (at most MAX_OPTIMIZERS)
    method = "adam"                     # sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw
    lr = 0.1                            # and the method's other settings, PyTorch's names:
    betas = [0.9, 0.999]                # momentum, betas, eps, alpha, weight_decay;
    eps = 1e-8                          # form = "pytorch" | "classic" for momentum

Each optimizer is a question ``n.i``: the gradient of f (first question, answer
``grad_f``), the update rule for a general step, then every line of every step with its
numbers (answers ``g1``, ``m1``, ``v1``, ``m_hat1``, ``v_hat1``, ``w1``, ...), a table of
the run and, for an objective of one or two variables, a figure of the path.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp

from symderiv.algebra import as_sympy
from symderiv.kinds.optimizer_steps.methods import NOTATION, w
from symderiv.kinds.optimizer_steps.parse import StepsSpec, parse
from symderiv.kinds.optimizer_steps.questions import F, W, comparison, figures_of, question, vector
from symderiv.kinds.optimizer_steps.run import run, settle
from symderiv.kinds.optimizer_steps.verify import Solved, verify_problem
from symderiv.kinds.registry import Kind, register
from symderiv.model import Problem

_ID = re.compile(r"([a-z_]+?)(\d+)")


def intro(spec: StepsSpec) -> tuple:
    """What every question of the problem shares: the start and the source of the gradients."""
    tail = ("The rules are written for the whole parameter vector; squares, square roots and divisions act entry "
            "by entry. Short fractions are kept exact; other values are decimals.")
    if spec.objective is None:
        return ("Each question runs an optimizer from ", w[0], " with the gradient of every step given (as if "
                "measured on a mini-batch), so the run does not depend on an objective. ", tail)
    params = vector(spec.objective.variables) if len(spec.start) > 1 else spec.objective.variables[0]
    return ("Each question runs an optimizer on the objective ", sp.Eq(F(W), spec.objective.expr, evaluate=False),
            " with parameters ", sp.Eq(W, params, evaluate=False), ", from ",
            sp.Eq(w[0], vector(spec.start), evaluate=False), ". ", tail)


def derive(spec: StepsSpec, number: int, title: str) -> Problem:
    """One question per optimizer; the last also compares every path when there are several."""
    runs = tuple(run(spec, o) for o in spec.optimizers)
    questions = []
    for i, r in enumerate(runs, start=1):
        shown = figures_of(spec, r) + (comparison(spec, runs) if i == len(runs) else ())
        questions.append(question(spec, r, f"{number}.{i}", i == 1, shown))
    return Problem(number, title, "optimizer_steps", tuple(questions), intro=intro(spec), notation=NOTATION,
                   data=Solved(spec, runs))


def recompute(problem: Problem, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    """Every numeric answer when the pinned ones (a student's own values) are used in their
    place: each run goes on from the student's value by the correct rules."""
    solved: Solved = problem.data
    out: dict[str, sp.Basic] = {}
    for asked, opt in zip(problem.questions, solved.spec.optimizers):
        own = {}
        for answer_id, value in pinned.items():
            match = _ID.fullmatch(answer_id.removeprefix(asked.id + "."))
            entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
            if answer_id.startswith(asked.id + ".") and match and len(entries) == len(solved.spec.start):
                own[(match.group(1), int(match.group(2)))] = tuple(settle(as_sympy(e)) for e in entries)
        again = run(solved.spec, opt, own)
        out.update({f"{asked.id}.{line.update.name}{line.step}": vector(line.values) for line in again.lines})
    return out


KIND = register(Kind("optimizer_steps", "Optimizer steps", parse, derive, doc=__doc__ or "",
                     verify=verify_problem, recompute=recompute))
