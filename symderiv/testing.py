"""pytest helpers for course staff writing autograder tests.

>>> from symderiv.testing import assert_equivalent
>>> assert_equivalent("2*(y_hat - y)", "2*y_hat - 2*y").verdict  # passes: returns the Result
'correct'
>>> assert_equivalent([[32, 24, -8], [16, 12, -4]], [[32, 16], [24, 12], [-8, -4]])
Traceback (most recent call last):
  ...
AssertionError: not equivalent (wrong_shape): expected a 3x2 matrix, got a 2x3 matrix
  actual:    [[32, 24, -8], [16, 12, -4]]
  expected:  [[32, 16], [24, 12], [-8, -4]]
  diagnosis: transposed: the answer is the transpose of the expected 3x2 matrix

A typical autograder test, one line per answer::

    def test_question_1_3(student):
        assert_equivalent(student["1.3.dL_dW1"], sheet.answer("1.3.dL_dW1").value)
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp

from symderiv.check.diagnose import diagnose
from symderiv.check.equivalence import Result, equivalent
from symderiv.check.report import plain


def assert_equivalent(actual: object, expected: object, *, givens: Mapping[str, sp.Basic] | None = None,
                      msg: str = "", **options: Any) -> Result:
    """Assert that ``actual`` (a string, number, list or SymPy object) equals ``expected``.

    ``options`` go to :func:`symderiv.check.equivalent` (``rtol``, ``atol``, ``symbols``,
    ``samples``, ``seed``, ``orientation``). On failure the AssertionError shows the
    verdict and reason, both sides and the diagnosis of the slip; ``msg`` is put first.
    Returns the :class:`~symderiv.check.Result` when the values are equivalent.
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not this one
    result = equivalent(actual, expected, **options)
    if result.equivalent:
        return result
    diagnoses = diagnose(actual, expected, result=result, givens=givens, **options)
    raise AssertionError(failure_message(result, actual, diagnoses, msg))


def failure_message(result: Result, actual: object, diagnoses, msg: str = "") -> str:
    """The message of a failed :func:`assert_equivalent`: verdict, reason, both sides, diagnosis."""
    shown = plain(result.parsed) if result.parsed is not None else repr(actual)[:200]
    lines = [f"{msg + ': ' if msg else ''}not equivalent ({result.verdict}): {result.reason}",
             f"  actual:    {shown}", f"  expected:  {plain(result.expected)}"]
    lines += [f"  diagnosis: {d.message}" for d in diagnoses] or ["  diagnosis: none found"]
    return "\n".join(lines)
