"""Why is an answer wrong? Name the slip when a simple change of the key explains it.

>>> import sympy as sp
>>> [d.kind for d in diagnose("[[32, 24, -8], [16, 12, -4]]", sp.Matrix([[32, 16], [24, 12], [-8, -4]]))]
['transposed']
>>> diagnose("-4", 4)[0].message
'sign flipped (a dropped minus sign?)'
>>> diagnose("58.4", 59)[0].message
'not rounded up: the least whole number >= 58.4 is 59'

Each check builds a candidate from the expected value (its transpose, its negative,
its reciprocal, a multiple, plus or minus one) and asks the comparison whether the
answer equals it, so the same checks work for numbers, matrices, formulas and matrix
expressions. When no change of the whole value explains the answer, the wrong entries
of a matrix are explained one by one ("entry 2: sign flipped"). Errors carried
forward from earlier answers are found by :mod:`symderiv.check.carry`.

Every size of number is welcome: ``1e400`` and ``1e-400`` are compared exactly and
their orders of magnitude computed without floats.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp
from sympy.matrices import MatrixBase

from symderiv.algebra import decimal_text
from symderiv.check import budget
from symderiv.check.equivalence import (
    MAX_SECONDS,
    Result,
    Settings,
    compare,
    index_label,
    is_matrix_expression,
    make_settings,
    tensor_indices,
)
from symderiv.check.numbers import agrees_to_digits, log10_abs, short
from symderiv.check.parse import Precision
from symderiv.check.sampling import draw, variables
from symderiv.check.shapes import describe_shape, is_tensor, shape_of
from symderiv.check.show import show
from symderiv.model import TensorShape

KINDS = ("transposed", "flipped", "reshaped", "missing_dimension", "sign", "reciprocal", "power_of_ten", "factor",
         "wrong_quantity", "off_by_one", "not_rounded", "rounded", "wrong_shape", "carried_forward")
"""Every ``Diagnosis.kind``, most specific first."""

CANDIDATE_SAMPLES = 8
"""Random points at which a formula is compared with each candidate (a slip explains an
answer only if it agrees everywhere; 8 points tell candidates apart)."""
ROUNDED = sp.Rational(1, 100)
"""A number within this relative distance of the key is diagnosed as rounded."""


@dataclass(frozen=True)
class Diagnosis:
    """One explanation of a wrong answer: ``kind`` (see :data:`KINDS`) and a sentence."""

    kind: str
    message: str


def diagnose(answer: object, reference: object, *, result: Result | None = None,
             givens: Mapping[str, sp.Basic] | None = None, max_seconds: float = MAX_SECONDS,
             **options: Any) -> tuple[Diagnosis, ...]:
    """The slips that explain why ``answer`` is not ``reference`` (empty if none does).

    ``result`` is the comparison already made (made here otherwise, within the same
    budget); ``givens`` maps names of the question's data to their values, so that an
    answer equal to the wrong given (the input's channel count instead of the number of
    filters) is recognised. ``options`` are those of :func:`~symderiv.check.equivalent`
    (``tolerance``, ``samples``, ``notation``...). The whole diagnosis, comparison
    included, takes at most ``max_seconds``.
    """
    settings = make_settings(givens=givens, **options)
    return budget.within(max_seconds, _diagnose, answer, reference, result, dict(givens or {}), settings,
                         max_seconds, on_timeout=tuple)


def _diagnose(answer: object, reference: object, result: Result | None, givens: dict[str, sp.Basic],
              settings: Settings, max_seconds: float) -> tuple[Diagnosis, ...]:
    deadline = time.monotonic() + max_seconds
    if result is None:
        result = compare(answer, reference, settings, max_seconds)
    if result.equivalent or result.parsed is None or result.expected is None:
        return ()
    is_tuple = isinstance(reference, (TensorShape, tuple)) or settings.orientation == "any"
    candidates = replace(settings, orientation="strict", simplify=False,
                         samples=min(settings.samples, CANDIDATE_SAMPLES))
    check = _Checker(givens, candidates, deadline, dict(result.typed), is_tuple)
    found = check.explain(result.parsed, result.expected)
    if not found and result.verdict == "wrong_shape":
        return (Diagnosis("wrong_shape", result.reason),)
    return found


@dataclass
class _Checker:
    givens: dict[str, sp.Basic]
    settings: Settings
    deadline: float
    typed: dict[sp.Rational, Precision]
    is_tuple: bool = False

    def same(self, answer: sp.Basic, candidate: sp.Basic) -> bool:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return False
        return compare(answer, candidate, self.settings, remaining).equivalent

    def explain(self, answer: sp.Basic, expected: sp.Basic) -> tuple[Diagnosis, ...]:
        for check in (self.transposed, self.flipped, self.reshaped, self.missing_dimension, self.scalar):
            found = check(answer, expected)
            if found is not None:
                return (found,)
        return self.entries(answer, expected)

    def scalar(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        """The checks that apply to a whole value and to one entry alike."""
        for check in (self.sign, self.reciprocal, self.wrong_quantity, self.off_by_one, self.scaled,
                      self.not_rounded, self.rounded):
            found = check(answer, expected)
            if found is not None:
                return found
        return None

    # ---- shapes ------------------------------------------------------------------

    def transposed(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        shape = shape_of(expected)
        if shape is None or is_tensor(expected) or shape_of(answer) is None:
            return None
        if not self.same(answer, _transpose(expected)):
            return None
        if 1 in shape:
            want = "column" if shape[1] == 1 else "row"
            got = "row" if want == "column" else "column"
            return Diagnosis("transposed", f"transposed: a {got} vector where a {want} vector is expected")
        return Diagnosis("transposed", f"transposed: the answer is the transpose of the expected "
                                       f"{shape[0]}x{shape[1]} matrix")

    def flipped(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        """A kernel (or image) rotated by 180 degrees: convolution where cross-correlation
        is meant, or the other way round."""
        if not is_tensor(expected) or not self.same(answer, rotated(expected)) or rotated(expected) == expected:
            return None
        return Diagnosis("flipped", "flipped: every matrix of the answer is the expected one rotated by 180 "
                                    "degrees (convolution where cross-correlation is meant, or the reverse?)")

    def reshaped(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if not (isinstance(answer, MatrixBase) and isinstance(expected, MatrixBase)):
            return None
        if answer.shape == expected.shape or len(answer) != len(expected):
            return None
        if list(answer) != list(expected) and list(answer.T) != list(expected.T):
            return None
        return Diagnosis("reshaped", f"the right entries in the wrong shape: {describe_shape(answer.shape)} "
                                     f"instead of {describe_shape(expected.shape)}")

    def missing_dimension(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        """``[20, 20]`` for a ``20 x 20 x 2`` output: the last dimension left out."""
        if not (isinstance(answer, MatrixBase) and isinstance(expected, MatrixBase)) or 1 not in expected.shape:
            return None
        if len(expected) < 2 or 1 not in answer.shape or list(answer) != list(expected)[:-1]:
            return None
        last = show(list(expected)[-1])
        if self.is_tuple:
            return Diagnosis("missing_dimension", f"the channel dimension is missing: the output has {last} "
                                                  f"channels, one per filter")
        return Diagnosis("missing_dimension", f"the last entry ({last}) is missing")

    # ---- one value -----------------------------------------------------------------

    def sign(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if _is_zero(expected) or not self.same(answer, -expected):
            return None
        return Diagnosis("sign", "sign flipped (a dropped minus sign?)")

    def reciprocal(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if shape_of(expected) is not None or is_matrix_expression(expected) or _is_zero(expected):
            return None
        if _is_number(expected) and abs(expected) == 1:
            return None
        if not self.same(answer, 1 / expected):
            return None
        return Diagnosis("reciprocal", "the reciprocal of the expected value (a ratio upside down?)")

    def scaled(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        factor = _ratio(answer, expected)
        if factor is None or factor in (0, 1, -1):
            return None
        diagnosis = _factor_diagnosis(factor)
        if diagnosis is None:
            return None
        if _is_number(answer) and diagnosis.kind == "factor" and abs(factor) not in _NAMED_FACTORS:
            return None  # any two numbers differ by *some* factor: only named ones explain a slip
        if not self.same(answer, factor * expected):
            return None
        return diagnosis

    def wrong_quantity(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if not _is_number(answer):
            return None
        names = [name for name, value in self.givens.items() if value == answer and value != expected]
        if not names:
            return None
        which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return Diagnosis("wrong_quantity", f"equals the given {which} = {show(answer)}: the wrong quantity used?")

    def off_by_one(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if shape_of(expected) is not None:
            return None
        for step, word in ((1, "more"), (-1, "less")):
            if self.same(answer, expected + step):
                return Diagnosis("off_by_one", f"off by one (1 {word} than expected)")
        return None

    def not_rounded(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        """58.4 for a count of 59: the value before rounding up (or down)."""
        if not (_is_number(answer) and answer.is_Rational and not answer.is_Integer and expected.is_Integer):
            return None
        if sp.ceiling(answer) == expected:
            return Diagnosis("not_rounded", f"not rounded up: the least whole number >= {self.as_typed(answer)} is "
                                            f"{show(expected)}")
        if sp.floor(answer) == expected:
            return Diagnosis("not_rounded", f"not rounded down: the greatest whole number <= "
                                            f"{self.as_typed(answer)} is {show(expected)}")
        return None

    def as_typed(self, value: sp.Basic) -> str:
        """A number as the student typed it: ``58.4`` rather than ``292/5``."""
        if value.is_Rational and abs(value) in self.typed:
            return decimal_text(value) or show(value)
        return show(value)

    def rounded(self, answer: sp.Basic, expected: sp.Basic) -> Diagnosis | None:
        if shape_of(expected) is not None or not (_is_number(answer) and _is_number(expected)):
            return None
        if _is_zero(expected) or answer == expected:
            return None
        precision = self.typed.get(abs(answer)) if answer.is_Rational else None
        if precision is not None and agrees_to_digits(answer, expected, precision):
            return Diagnosis("rounded", f"rounded to {precision.figures} significant figure"
                                        f"{'s' if precision.figures != 1 else ''} ({short(expected)}): give at least "
                                        f"{self.settings.tolerance.sig_figs}")
        relative = _relative_distance(answer, expected)
        if relative is None or relative > ROUNDED:
            return None
        return Diagnosis("rounded", f"close to the expected {show(expected)} (relative difference "
                                    f"{float(relative):.1g}): rounded too early or too coarsely?")

    def entries(self, answer: sp.Basic, expected: sp.Basic) -> tuple[Diagnosis, ...]:
        """Explain each wrong entry of a matrix or tensor, but only if every wrong entry is explained."""
        if not (_is_array(answer) and _is_array(expected)) or answer.shape != expected.shape:
            return ()
        found = []
        for index in tensor_indices(expected.shape):
            a, e = answer[index], expected[index]
            if self.same(a, e):
                continue
            diagnosis = self.scalar(a, e)
            if diagnosis is None:
                return ()
            found.append(replace(diagnosis, message=f"{index_label(expected.shape, index)}: {diagnosis.message}"))
        return tuple(found)


def _is_array(value: object) -> bool:
    return isinstance(value, (MatrixBase, sp.NDimArray))


def rotated(tensor: sp.NDimArray) -> sp.ImmutableDenseNDimArray:
    """Every matrix of a tensor (its last two axes) rotated by 180 degrees."""
    rows, cols = tensor.shape[-2:]
    return sp.ImmutableDenseNDimArray([tensor[index[:-2] + (rows - 1 - index[-2], cols - 1 - index[-1])]
                                       for index in tensor_indices(tensor.shape)], tensor.shape)


def _transpose(value: sp.Basic) -> sp.Basic:
    return sp.Transpose(value) if is_matrix_expression(value) else value.T


def _is_number(value: sp.Basic) -> bool:
    return isinstance(value, sp.Basic) and shape_of(value) is None and bool(value.is_number) and not variables(value)


def _is_zero(value: sp.Basic) -> bool:
    if _is_array(value):
        return all(entry == 0 for entry in _entries(value))
    return not is_matrix_expression(value) and value == 0


def _entries(value: sp.Basic) -> list[sp.Basic]:
    """A matrix's or tensor's entries in row-major order."""
    return list(value) if isinstance(value, MatrixBase) else sp.flatten(value.tolist())


def _relative_distance(answer: sp.Basic, expected: sp.Basic) -> sp.Basic | None:
    """|answer - expected| / |expected|, exactly for rationals of any size."""
    try:
        distance = abs(answer - expected) / abs(expected)
        return distance if distance.is_Rational else sp.Float(distance.evalf(15))
    except (ArithmeticError, TypeError, ValueError):
        return None


def _ratio(answer: sp.Basic, expected: sp.Basic) -> sp.Basic | None:
    """The constant c with answer = c * expected, if there is an obvious candidate."""
    if is_matrix_expression(answer) or is_matrix_expression(expected):
        return None
    if _is_array(expected):
        if shape_of(answer) != shape_of(expected):
            return None
        pairs = [(a, e) for a, e in zip(_entries(answer), _entries(expected)) if e != 0]
        return _ratio(*pairs[0]) if pairs else None
    if shape_of(answer) is not None or expected == 0:
        return None
    if not variables(answer) and not variables(expected):
        return answer / expected if answer != 0 else None
    rng = random.Random(0)
    point = {v: draw(v, rng) for v in sorted(variables(answer) | variables(expected), key=sp.default_sort_key)}
    try:
        value = (answer / expected).xreplace(point)
    except (ArithmeticError, TypeError, ValueError):
        return None
    return value if value.is_Rational and value != 0 else None


_NAMED_FACTORS = {sp.Integer(2): " (a doubled term?)", sp.Rational(1, 2): " (a dropped factor 2?)"}


def _factor_diagnosis(factor: sp.Basic) -> Diagnosis | None:
    """``power_of_ten`` for +-10^k, else ``factor`` (a doubled or halved term named as such)."""
    magnitude = abs(factor)
    log = log10_abs(magnitude)
    if log is None:
        return None
    exponent = round(log)
    close = (magnitude == sp.Integer(10) ** exponent if magnitude.is_Rational else math.isclose(log, exponent,
                                                                                              abs_tol=1e-7))
    if exponent != 0 and close:
        sign = " and the sign flipped" if factor < 0 else ""
        shown = f"10^{exponent}" if abs(exponent) > 6 or not magnitude.is_Rational else show(
            sp.Integer(10) ** exponent)
        return Diagnosis("power_of_ten", f"off by a factor of {shown}{sign} "
                                         f"(a misplaced decimal point or power of ten?)")
    hint = _NAMED_FACTORS.get(factor, "")
    return Diagnosis("factor", f"off by a constant factor {show(factor)}{hint}")
