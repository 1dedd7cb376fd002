"""Checking students' answers: safe parsing and comparison with the answer key.

>>> from symderiv.check import equivalent
>>> equivalent("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]).verdict
'correct'

``equivalent`` (and its :class:`Result`) and the safe parser are re-exported here.
Explaining a wrong answer is :func:`symderiv.check.diagnose.diagnose`; grading a
submission file is :mod:`symderiv.check.grade` (``symderiv grade``); reports are
:mod:`symderiv.check.report`; the pytest helper is :mod:`symderiv.testing`.
"""
from symderiv.check.equivalence import Result as Result
from symderiv.check.equivalence import equivalent as equivalent
from symderiv.check.parse import ParseError as ParseError
from symderiv.check.parse import parse_answer as parse_answer
