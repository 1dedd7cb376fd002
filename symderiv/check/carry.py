"""Errors carried forward: what an answer should be, given the student's own earlier answers.

A later answer that is wrong only because it was computed, correctly, from the
student's own wrong earlier answer is not a new slip. Two kinds of earlier answers
carry errors forward:

* **wrong numbers** (a forward value ``1.1.a2``): the problem's answers are recomputed
  with the student's values *pinned*. A problem kind may supply its own ``recompute``
  (answer ids pinned to the student's values -> every numeric answer recomputed by the
  correct rules); otherwise the sheet's own steps are re-evaluated
  (:func:`recompute_steps`), trusted only for answers where pinning the key's value
  reproduces the key;
* **wrong rules** (a symbolic answer ``1.2.dL_dy_hat = 4(ŷ - y)``, a formula
  ``2.2.formula``): every numeric step of the sheet that computes the same quantity
  (``1.3``'s ``dL/dŷ``), or that is an instance of the formula (``2.2``'s ``N`` at
  ``P = 0.95``), is re-evaluated with the student's rule instead of the key's, at the
  step's own numbers, and the change flows into the steps after it
  (:func:`predict_from_rules`). The numbers a step used are read off its
  ``substituted`` form, so this works for every kind whose steps record one.

:func:`carry_forward` walks a problem's wrong answers in sheet order and says, for
each, what the correct rules give from those earlier answers and whether the
student's answer is that.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sympy as sp
from sympy.matrices import MatrixBase
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.check.equivalence import canonical, explicit, is_matrix_expression
from symderiv.check.sampling import variables
from symderiv.check.shapes import shape_of
from symderiv.kinds import ability
from symderiv.model import Answer, Problem

Recompute = Callable[[Mapping[str, sp.Basic]], dict[str, sp.Basic]]
"""``pinned`` (answer id -> the student's value) -> every numeric answer recomputed."""


@dataclass(frozen=True)
class Recomputer:
    """A problem's recompute function and the answers that may be pinned (its sources)."""

    recompute: Recompute
    sources: frozenset[str]


@dataclass(frozen=True)
class Carried:
    """What an answer should be, given the student's own wrong earlier answers.

    ``sources`` are those earlier answers (ids), ``value`` what the correct rules give
    from them, ``consistent`` whether the student's answer equals it.
    """

    sources: tuple[str, ...]
    value: sp.Basic
    consistent: bool


def recomputer(problem: Problem) -> Recomputer | None:
    """How to recompute a problem's answers from pinned values, if we know how.

    The kind's own ``recompute`` when it has one (it is trusted for every numeric
    answer); else the generic :func:`recompute_steps`, which re-evaluates the sheet's own
    steps and is trusted only for the answers where pinning the key's value reproduces
    the key.
    """
    own = ability(problem, "recompute")
    if own is not None:
        return Recomputer(partial(own, problem), frozenset(numeric_answers(problem)))
    generic = partial(recompute_steps, problem)
    trusted = frozenset(i for i, v in numeric_answers(problem).items() if _reproduces(generic, problem, {i: v}))
    return Recomputer(generic, trusted) if trusted else None


def numeric_answers(problem: Problem) -> dict[str, sp.Basic]:
    """The answers with explicit numeric values (numbers, numeric matrices), by id."""
    out = {}
    for question in problem.questions:
        for answer in question.answers:
            value = canonical(answer.value)
            if isinstance(value, sp.Basic) and not is_matrix_expression(value) and not variables(value):
                out[answer.id] = value
    return out


def _reproduces(recompute: Recompute, problem: Problem, pinned: dict[str, sp.Basic]) -> bool:
    try:
        values = recompute(pinned)
    except Exception:  # a kind's steps that cannot be re-evaluated are simply not used
        return False
    return all(canonical(values.get(i, v)) == v for i, v in numeric_answers(problem).items())


Same = Callable[[str, sp.Basic, sp.Basic], bool]
"""``same(answer id, the student's value, a value)``: the grader's comparison."""


Predicted = Mapping[str, tuple[sp.Basic, tuple[str, ...]]]
"""Answer id -> (what the student's own rules give, the ids of those rules)."""


def carry_forward(problem: Problem, submitted: Mapping[str, sp.Basic], wrong: Iterable[str], same: Same, *,
                  predicted: Predicted | None = None, found: Recomputer | None = None,
                  keys: Mapping[str, sp.Basic] | None = None) -> dict[str, Carried]:
    """Error-carried-forward marking of one problem.

    Walk the wrong answers in sheet order. Each is compared first with what the
    student's own wrong rules give (``predicted``, see :func:`predict_from_rules`), then
    with what the correct rules give from the student's earlier wrong numbers (the
    *pinned* ones that change it); if equal, it was carried forward. Otherwise it is a
    slip of its own, and its value is pinned for the answers after it. ``found`` is
    the problem's :class:`Recomputer` and ``keys`` its :func:`numeric_answers` (a grader
    passes ones it keeps, see :func:`cached_recomputer`).
    """
    predicted = predicted or {}
    found = found if found is not None else cached_recomputer(problem)
    keys = keys if keys is not None else numeric_answers(problem)
    pinned: dict[str, sp.Basic] = {}
    out: dict[str, Carried] = {}
    for answer_id in _in_sheet_order(problem, set(wrong) & set(submitted)):
        value = submitted[answer_id]
        if answer_id in predicted and same(answer_id, value, predicted[answer_id][0]):
            out[answer_id] = Carried(predicted[answer_id][1], predicted[answer_id][0], True)
            continue
        if found is None:
            continue
        sources = tuple(p for p in pinned if _changes(found.recompute, {p: pinned[p]}, answer_id, keys))
        if sources:
            expected = found.recompute({p: pinned[p] for p in sources}).get(answer_id)
            consistent = same(answer_id, value, expected)
            out[answer_id] = Carried(sources, expected, consistent)
            if consistent:
                continue
        pin = _pinnable(value, keys.get(answer_id))
        if pin is not None and answer_id in found.sources:
            pinned[answer_id] = pin
    return out


def _in_sheet_order(problem: Problem, ids: set[str]) -> list[str]:
    return [a.id for q in problem.questions for a in q.answers if a.id in ids]


class _Cache:
    """Recompute once per set of pins; values normalised with :func:`canonical`."""

    def __init__(self, recompute: Recompute) -> None:
        self.recompute = recompute
        self.seen: dict[tuple, dict[str, sp.Basic]] = {}

    def __call__(self, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
        key = tuple(sorted(pinned.items(), key=lambda item: item[0]))
        if key not in self.seen:
            try:
                self.seen[key] = {k: canonical(v) for k, v in self.recompute(dict(pinned)).items()}
            except Exception:  # a student's value the rules cannot take: nothing carried
                self.seen[key] = {}
        return self.seen[key]


def cached_recomputer(problem: Problem) -> Recomputer | None:
    """The problem's :class:`Recomputer`, computing each set of pins once (share it between
    the submissions of a class)."""
    found = recomputer(problem)
    return Recomputer(_Cache(found.recompute), found.sources) if found is not None else None


def _changes(recompute: Recompute, pinned: dict, answer_id: str, keys: Mapping[str, sp.Basic]) -> bool:
    value = recompute(pinned).get(answer_id)
    return value is not None and answer_id in keys and value != keys[answer_id]


def _pinnable(value: sp.Basic, key: sp.Basic | None) -> sp.Basic | None:
    """The student's value as the key's shape, if it is a number or numeric matrix of that shape."""
    if key is None or not isinstance(value, sp.Basic) or is_matrix_expression(value) or variables(value):
        return None
    mine, theirs = shape_of(value), shape_of(key)
    if mine == theirs:
        return value
    if mine is not None and theirs is not None and theirs == mine[::-1] and 1 in theirs:
        return value.T  # a vector given in the other orientation (accepted where orientation is free)
    return None


# ---- the generic recompute: re-evaluate the sheet's own steps -------------------------


def recompute_steps(problem: Problem, pinned: Mapping[str, sp.Basic]) -> dict[str, sp.Basic]:
    """Every answer, recomputed from the steps with some answers pinned to other values.

    Each question's givens and step values form an environment; a step whose ``rule``
    mentions a changed quantity is re-evaluated there (``rule.xreplace(env).doit()``),
    and an answer whose symbol is a step's ``lhs`` takes that step's value. An answer
    that is a later question's given (5.4 reads 5.2's dL/dx) carries over. This works
    for kinds that write their steps as ``lhs = rule`` in earlier quantities (2.1:
    ``E_total = C E``); :func:`recomputer` checks it before trusting it.
    """
    carried: dict[sp.Basic, sp.Basic] = {}
    out: dict[str, sp.Basic] = {}
    for question in problem.questions:
        own = {a.symbol: pinned[a.id] for a in question.answers if a.id in pinned}
        env, changed = _question_env(question, carried, own)
        for answer in question.answers:
            value = own.get(answer.symbol, env.get(answer.symbol, answer.value) if answer.symbol in changed
                            else answer.value)
            out[answer.id] = value
            if answer.symbol in changed:
                carried[answer.symbol] = value
    return out


def _question_env(question, carried: dict, own: dict) -> tuple[dict, set]:
    env, changed = {}, set()
    for symbol, value in question.givens:
        env[symbol] = carried.get(symbol, value)
        if symbol in carried:
            changed.add(symbol)
    for step in question.steps:
        if step.lhs is None:
            continue
        new = own.get(step.lhs)
        if new is None and step.rule is not None and changed & step.rule.free_symbols:
            new = evaluated(step.rule, env)
        if new is not None:
            env[step.lhs] = new
            changed.add(step.lhs)
        elif step.value is not None:
            env[step.lhs] = step.value
    changed |= set(own)
    return env, changed


def evaluated(rule: sp.Basic, env: Mapping[sp.Basic, sp.Basic]) -> sp.Basic | None:
    """A rule at numeric values, or None when it does not become a number or numeric matrix."""
    try:
        value = canonical(explicit(rule, env))
    except Exception:  # a rule that cannot take these values is not recomputed
        return None
    if is_matrix_expression(value) or not isinstance(value, sp.Basic) or variables(value):
        return None
    return value


# ---- wrong rules: the student's symbolic answers put in the numeric steps --------------


@dataclass(frozen=True)
class NumericStep:
    """A step with a number as its value: which question, what it computes and how, the
    numbers it used (read off its substituted form), and whether its rule at those
    numbers gives its value again (only then may it be re-evaluated)."""

    question: str
    lhs: sp.Basic
    rule: sp.Basic
    env: Mapping[sp.Basic, sp.Basic]
    value: sp.Basic
    reliable: bool


def numeric_steps(problem: Problem) -> tuple[NumericStep, ...]:
    """The problem's numeric steps in sheet order, each with the values it was computed from."""
    known: dict[sp.Basic, sp.Basic] = {}
    out = []
    for question in problem.questions:
        known.update({s: v for s, v in question.givens if isinstance(s, sp.Basic)})
        for step in question.steps:
            if step.lhs is None or step.rule is None or step.value is None or variables(canonical(step.value)):
                continue
            local: dict[sp.Basic, sp.Basic] = {}
            if step.substituted is not None:
                _align(step.rule, step.substituted, local)
            env = {**known, **local}
            value = canonical(step.value)
            out.append(NumericStep(question.id, step.lhs, step.rule, env, value, evaluated(step.rule, env) == value))
            known[step.lhs] = step.value
    return tuple(out)


def _align(rule: sp.Basic, substituted: sp.Basic, env: dict[sp.Basic, sp.Basic]) -> bool:
    """Read the values a substituted form put in for the rule's symbols (same tree, leaves
    replaced); False where the two trees differ."""
    if isinstance(rule, (sp.Symbol, sp.MatrixSymbol, MatrixElement)):
        value = _plain(substituted)
        if not isinstance(value, sp.Basic) or variables(value) or is_matrix_expression(value):
            return False
        env[rule] = value
        return True
    if isinstance(rule, MatrixBase) and isinstance(substituted, MatrixBase) and rule.shape == substituted.shape:
        return all(_align(a, b, env) for a, b in zip(rule, substituted))
    if type(rule) is not type(substituted) or len(rule.args) != len(substituted.args):
        return rule == substituted
    return all(_align(a, b, env) for a, b in zip(rule.args, substituted.args))


def _plain(value: sp.Basic) -> sp.Basic:
    """A substituted leaf as a value (numbers may be wrapped so they print unevaluated)."""
    if isinstance(value, sp.UnevaluatedExpr):
        return value.args[0]
    if isinstance(value, MatrixBase):
        return sp.ImmutableMatrix(value.applyfunc(_plain))
    return value.doit() if isinstance(value, sp.Basic) else value


@dataclass
class _Prediction:
    values: dict[sp.Basic, tuple[sp.Basic | None, frozenset[str]]] = field(default_factory=dict)

    def env(self) -> dict[sp.Basic, sp.Basic]:
        return {k: v for k, (v, _) in self.values.items() if v is not None}


def predict_from_rules(problem: Problem, rules: Mapping[str, sp.Basic], steps: tuple[NumericStep, ...] | None = None,
                       memo: dict | None = None) -> dict[str, tuple[sp.Basic, tuple[str, ...]]]:
    """Numeric answers recomputed with the student's rules: answer id -> (value, the ids of
    the rules it depends on), for the answers those rules change. ``memo`` (a dict kept
    by the caller for the problem) remembers each step evaluated at changed values."""
    answers = {a.id: a for q in problem.questions for a in q.answers}
    own = {i: rule for i, rule in rules.items() if i in answers}
    steps = numeric_steps(problem) if steps is None else steps
    prediction = _Prediction()
    for index, step in enumerate(steps):
        _predict_step(step, _rule_for(step, own, answers), prediction, memo if memo is not None else {}, index)
    out = {}
    for question in problem.questions:
        for answer in question.answers:
            found = _changed_in(prediction, question.id, answer, steps)
            if found is not None:
                out[answer.id] = found
    return out


def _rule_for(step: NumericStep, rules: Mapping[str, sp.Basic], answers: Mapping[str, Answer]) -> tuple[str, Any]:
    """The student's rule in force at ``step``: for the same quantity, or for the formula
    the step is an instance of; ("", None) when the key's rule stands."""
    for answer_id, rule in rules.items():
        answer = answers[answer_id]
        if answer.symbol == step.lhs or canonical(answer.value) == canonical(step.rule):
            return answer_id, rule
    return "", None


def _predict_step(step: NumericStep, own: tuple[str, Any], prediction: _Prediction, memo: dict,
                  index: int) -> None:
    rule_id, rule = own
    changed = [s for s in _quantities(step.rule if rule is None else rule) if s in prediction.values]
    if rule is None and not changed:
        return
    sources = frozenset().union(*(prediction.values[s][1] for s in changed)) | ({rule_id} if rule_id else set())
    if rule is None and not step.reliable:
        prediction.values[step.lhs] = (None, sources)
        return
    key = (index, rule, tuple((s, prediction.values[s][0]) for s in sorted(changed, key=sp.default_sort_key)))
    if key not in memo:
        value = evaluated(step.rule if rule is None else rule, {**step.env, **prediction.env()})
        if value is not None and isinstance(step.lhs, sp.MatrixSymbol) and shape_of(value) is None:
            value = sp.ImmutableMatrix([[value]])
        memo[key] = value
    prediction.values[step.lhs] = (memo[key], sources)


def _quantities(expr: sp.Basic) -> set[sp.Basic]:
    """The quantities an expression reads: symbols, matrix symbols, and the parents of entries."""
    found = set(expr.free_symbols) if isinstance(expr, sp.Basic) else set()
    return found | {e.parent for e in (expr.atoms(MatrixElement) if isinstance(expr, sp.Basic) else ())}


def _changed_in(prediction: _Prediction, question: str, answer: Answer,
                steps: tuple[NumericStep, ...]) -> tuple[sp.Basic, tuple[str, ...]] | None:
    if answer.symbol not in prediction.values or not any(s.question == question and s.lhs == answer.symbol
                                                          for s in steps):
        return None
    value, sources = prediction.values[answer.symbol]
    if value is None or canonical(value) == canonical(answer.value):
        return None
    return canonical(value), tuple(sorted(sources))
