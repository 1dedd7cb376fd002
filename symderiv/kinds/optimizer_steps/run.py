"""The numbers of a run: every line of every step, evaluated from the printed rules.

The number policy: a value stays exact while it is a short fraction (at most
:data:`SHORT_DIGITS` digits above and below the bar) or a terminating decimal of at most
:data:`DECIMAL_DIGITS` digits; anything else (a square root that is not rational, an
exponential, a fraction grown long over several steps) becomes a SymPy Float of
:data:`DIGITS` significant digits. Each value is settled before the next
line reads it, so exact expressions never nest across steps (Adam's square roots would
otherwise swell into nested radicals), and every value is good to far more digits than
a float64 replay or a printed answer needs.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property

import sympy as sp

from symderiv.errors import SpecError
from symderiv.kinds.optimizer_steps.methods import GradF, Update, t, w
from symderiv.kinds.optimizer_steps.parse import Objective, OptimizerSpec, StepsSpec

SHORT_DIGITS = 6
DECIMAL_DIGITS = 15
DIGITS = 30
#: Largest size of any value of a run: beyond it the run is diverging (and float64 keys,
#: figures and replays would lose meaning long before SymPy does).
MAX_MAGNITUDE = 10 ** 12


class NotReal(ValueError):
    """A value that is not a finite real number (the objective outside its domain)."""


def short(value: sp.Rational) -> bool:
    """A fraction a person writes down exactly: 3/8, 81/100, 0.0729 (not 90000001/100000001)."""
    top, bottom = len(str(abs(value.p))), len(str(value.q))
    if max(top, bottom) <= SHORT_DIGITS:
        return True
    q = value.q
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    return q == 1 and max(top, bottom) <= DECIMAL_DIGITS


def settle(value: sp.Expr) -> sp.Expr:
    """``value`` exact if it is a short rational, else a Float of DIGITS significant digits."""
    if value.is_Rational and short(value):
        return value
    number = sp.N(value, DIGITS + 10)
    if not (number.is_real and number.is_finite and number.is_number):
        raise NotReal(str(value))
    return sp.Float(number, DIGITS)


def at(rule: sp.Expr, step: int) -> sp.Expr:
    """The rule at step ``step``, as printed: ``m_2 = beta_1 m_1 + ...`` (nothing evaluated)."""
    shifted = {ix: ix.base[ix.indices[0].subs(t, step)] for ix in rule.atoms(sp.Indexed)}
    with sp.evaluate(False):
        return rule.xreplace(shifted).xreplace({t: sp.Integer(step)})


@dataclass(frozen=True)
class Line:
    """One line of one step: its update, the step, and the value of every entry."""

    update: Update
    step: int
    values: tuple[sp.Expr, ...]

    @property
    def lhs(self) -> sp.Indexed:
        return self.update.target[self.step]

    @property
    def rule(self) -> sp.Expr:
        return at(self.update.rule, self.step)


@dataclass(frozen=True)
class Run:
    """An optimizer's steps from the spec's start: its lines in order, and the raw gradient
    ``nabla f(w_{t-1})`` of every step (from the objective, or as given)."""

    optimizer: OptimizerSpec
    start: tuple[sp.Expr, ...]
    raw: tuple[tuple[sp.Expr, ...], ...]
    lines: tuple[Line, ...]

    def value(self, name: str, step: int) -> tuple[sp.Expr, ...]:
        """The entries of quantity ``name`` (``w``, ``m_hat``...) at step ``step``: at step 0, the
        start for w and 0 for every state."""
        if step == 0:
            return self.start if name == "w" else (sp.Integer(0),) * len(self.start)
        return next(line.values for line in self.lines if line.update.name == name and line.step == step)

    @cached_property
    def path(self) -> tuple[tuple[sp.Expr, ...], ...]:
        """w_0, w_1, ..., w_k."""
        return (self.start,) + tuple(line.values for line in self.lines if line.update.name == "w")

    @property
    def steps(self) -> int:
        return len(self.raw)


@cache  # read by every gradient line of every question: differentiated once per objective
def gradient(objective: Objective) -> tuple[sp.Expr, ...]:
    """The objective's partial derivatives, one per variable (SymPy differentiates)."""
    return tuple(sp.diff(objective.expr, x) for x in objective.variables)


def run(spec: StepsSpec, optimizer: OptimizerSpec,
        pinned: Mapping[tuple[str, int], tuple[sp.Expr, ...]] | None = None) -> Run:
    """Every step of ``optimizer`` from the spec's start. ``pinned`` holds values (by name and
    step) to use instead of computing them: a student's own earlier answers, for grading."""
    pinned = pinned or {}
    updates = optimizer.method.lines(optimizer.decay)
    env = [dict.fromkeys((u.target[0] for u in updates), sp.Integer(0)) | {w[0]: x} for x in spec.start]
    hyper = dict(optimizer.hyper)
    formula = gradient(spec.objective) if spec.objective is not None else None
    raws, lines = [], []
    for step in range(1, spec.steps + 1):
        raw = _raw(spec, formula, tuple(e[w[step - 1]] for e in env), step)
        raws.append(raw)
        for entry, value in zip(env, raw):
            entry[GradF(w[step - 1])] = value
        for update in updates:
            values = pinned.get((update.name, step)) or _evaluate(spec, optimizer, update, step, env, hyper)
            for entry, value in zip(env, values):
                entry[update.target[step]] = value
            lines.append(Line(update, step, tuple(values)))
    return Run(optimizer, spec.start, tuple(raws), tuple(lines))


def _raw(spec: StepsSpec, formula: tuple[sp.Expr, ...] | None, here: tuple[sp.Expr, ...],
         step: int) -> tuple[sp.Expr, ...]:
    """nabla f(w_{step-1}): the given gradient, or the derived one at the current parameters."""
    if formula is None:
        assert spec.gradients is not None
        return spec.gradients[step - 1]
    point = dict(zip(spec.objective.variables, here)) if spec.objective is not None else {}
    try:
        return tuple(settle(part.xreplace(point)) for part in formula)
    except NotReal:
        raise SpecError(spec.source, _field(spec.path, "objective"),
                        f"its gradient at step {step} (at w = {_point(here)}) is not a real number: the run "
                        "leaves the objective's domain") from None


def _evaluate(spec: StepsSpec, optimizer: OptimizerSpec, update: Update, step: int, env: list[dict],
              hyper: dict) -> tuple[sp.Expr, ...]:
    rule = update.rule.xreplace({t: sp.Integer(step)})
    values = tuple(settle(rule.xreplace(hyper).xreplace(entry)) for entry in env)
    largest = max(abs(float(v)) for v in values)
    if largest > MAX_MAGNITUDE:
        raise SpecError(spec.source, _field(optimizer.where, "lr"),
                        f"the run diverges: {update.name}_{step} reaches {largest:.3g} at step {step}, beyond "
                        f"the bound 10^12; use a smaller learning rate or fewer steps")
    return values


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _point(values: tuple[sp.Expr, ...]) -> str:
    return "(" + ", ".join(f"{float(v):.4g}" for v in values) + ")"


def objective_values(spec: StepsSpec, path: tuple[tuple[sp.Expr, ...], ...]) -> tuple[sp.Expr, ...]:
    """f at every point of a path (settled like every other value)."""
    assert spec.objective is not None
    variables = spec.objective.variables
    try:
        return tuple(settle(spec.objective.expr.xreplace(dict(zip(variables, p)))) for p in path)
    except NotReal:
        raise SpecError(spec.source, _field(spec.path, "objective"),
                        "is not a real number at a point of the run: the run leaves its domain") from None
