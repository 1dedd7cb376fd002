"""The verdicts an answer can get, defined once for the parser, the comparison and grading.

===================  ==========================================================
``correct``          equivalent to the answer key
``carried_forward``  wrong only because it was computed, correctly, from the
                     student's own wrong earlier answer (grading only)
``incorrect``        read and compared, and not equivalent
``unparseable``      not a well-formed answer in the parser's grammar
``too_large``        over a size bound, or not checkable within the time budget
``not_finite``       infinity or NaN
``wrong_shape``      a matrix or vector of another shape than the key's
``missing``          no answer given for an id of the spec (grading only)
``unknown_id``       an answer for an id the spec does not have (grading only)
``not_gradable``     the key's own value cannot be compared (grading only)
===================  ==========================================================
"""
from __future__ import annotations

from typing import Literal, get_args

Verdict = Literal["correct", "carried_forward", "incorrect", "unparseable", "too_large", "not_finite", "wrong_shape",
                  "missing", "unknown_id", "not_gradable"]
"""Every verdict, as typed by :class:`~symderiv.check.equivalence.Result` and grading."""

VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
"""All verdicts, in the order above (the order of :data:`Verdict`)."""

ParseVerdict = Literal["unparseable", "too_large", "not_finite"]
"""The verdicts a :class:`~symderiv.check.parse.ParseError` can carry (a subset of :data:`Verdict`)."""
