"""The functions an answer may call, by the names a student may use.

Only these names are functions: an unknown ``f(x)`` reads as ``f*x``.  Each one
builds its result through the bounded builder, so ``exp(exp(100))`` is refused
by the same size checks as any other step.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

from symderiv.check.parse.limits import MAX_CALL_ARGS

if TYPE_CHECKING:
    from symderiv.check.parse.builder import Builder


@dataclass(frozen=True)
class Function:
    """A whitelisted function: how to build it and how many arguments it takes."""

    build: Callable[..., sympy.Basic]  # called as build(builder, *args)
    min_args: int = 1
    max_args: int = 1

    def arity(self) -> str:
        """``1`` or ``1 to 10``, for a message about a wrong number of arguments."""
        return str(self.min_args) + ("" if self.min_args == self.max_args else f" to {self.max_args}")


def _direct(function: Callable[..., sympy.Basic]) -> Callable[..., sympy.Basic]:
    """Wrap a SymPy function so its result goes through the builder's checks."""
    return lambda builder, *args: builder.done(function(*args))


def _sigmoid(builder: Builder, x: sympy.Basic) -> sympy.Basic:
    """sigmoid(x) = 1/(1+exp(-x)), built from checked steps."""
    exp_minus_x = builder.call("exp", [builder.neg(x)])
    return builder.binary("/", sympy.Integer(1), builder.binary("+", sympy.Integer(1), exp_minus_x))


def _sqrt(builder: Builder, x: sympy.Basic) -> sympy.Basic:
    """sqrt(x) as the power x**(1/2), so the power's size check applies."""
    return builder.power(x, sympy.Rational(1, 2))


_FLOOR = Function(_direct(sympy.floor))
_CEILING = Function(_direct(sympy.ceiling))
_LOG = Function(_direct(sympy.log), 1, 2)
_ABS = Function(_direct(sympy.Abs))
_MAX = Function(_direct(sympy.Max), 1, MAX_CALL_ARGS)
_MIN = Function(_direct(sympy.Min), 1, MAX_CALL_ARGS)
FUNCTIONS: dict[str, Function] = {
    "floor": _FLOOR, "ceiling": _CEILING, "ceil": _CEILING,
    "sqrt": Function(_sqrt),
    "exp": Function(_direct(sympy.exp)), "log": _LOG, "ln": Function(_direct(sympy.log)),
    "abs": _ABS, "Abs": _ABS, "max": _MAX, "Max": _MAX, "min": _MIN, "Min": _MIN,
    "sin": Function(_direct(sympy.sin)), "cos": Function(_direct(sympy.cos)),
    "tanh": Function(_direct(sympy.tanh)), "sigmoid": Function(_sigmoid),
}
"""Functions an answer may call, by the names a student may use."""
