"""Conditions a drawn network variant can be asked to meet (``[problem.variants]``).

``no_kink``: no pre-activation entry lands exactly on the kink of a kinked activation
(ReLU, leaky ReLU: ``Activation.kinked``), where the derivative is only a convention and
gradients through it depend on ``relu_at_zero``. It reads the derived problem only: the
forward steps apply each activation, by its printed label, to the pre-activation's
entries (``ReLU(0)``), so a kinked activation applied to exactly 0 is a kink.

Integral forward values and gradients need no check of their own: the generic
``integral`` constraint covers every numeric answer.
"""
from __future__ import annotations

from collections.abc import Iterator

import sympy as sp
from sympy.core.function import AppliedUndef

from symderiv.calculus import ACTIVATIONS
from symderiv.model import Problem, Step

_KINKED = frozenset(a.label for a in ACTIVATIONS.values() if a.kinked)


def no_kink(problem: Problem) -> str | None:
    """What sits on a kink (``1.1: ReLU(0) in z1``), or None."""
    for question in problem.questions:
        for step in question.steps:
            for applied in _applications(step):
                if applied.func.__name__ in _KINKED and applied.args[0] == 0:
                    return f"{question.id}: {applied.func.__name__}(0) in {step.lhs}, a pre-activation on the kink"
    return None


def _applications(step: Step) -> Iterator[sp.Basic]:
    if isinstance(step.substituted, sp.Basic):
        yield from step.substituted.atoms(AppliedUndef)


CHECKS = {"no_kink": no_kink}
