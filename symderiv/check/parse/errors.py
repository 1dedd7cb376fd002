"""ParseError: why an answer could not be read and, when known, where.

The readers rewrite an answer before reading it (Unicode spelled out, spaces
folded, ``*`` put in for juxtaposition), so a position they find is first
translated back (see :mod:`.source`): ``position`` is always an offset in the
text the student typed.
"""
from __future__ import annotations

from symderiv.check.verdicts import ParseVerdict
from symderiv.errors import AnswerError


class ParseError(AnswerError):
    """An answer string could not be turned into a SymPy object.

    ``verdict`` says what kind of failure it is, so a grader can mark it without
    reading the message: ``"unparseable"`` (not a well-formed answer in our
    grammar), ``"too_large"`` (over one of the size bounds) or ``"not_finite"``
    (infinity or NaN).  ``reason`` is a sentence for the student.  ``position``
    is the 0-based offset in the answer as typed where reading failed (its
    length when the answer ended too early), or None when no single place is to
    blame (a number too large, a list inside a sum...); the reason then says
    "at character N", counting from 1 as a person does.
    """

    def __init__(self, verdict: ParseVerdict, reason: str, position: int | None = None) -> None:
        self.verdict: ParseVerdict = verdict
        self.reason = reason
        self.position = position
        super().__init__(f"{verdict}: {reason}")


def at_character(position: int) -> str:
    """``at character N`` for a person: N counts from 1 where ``position`` counts from 0."""
    return f"at character {position + 1}"


def unparseable(reason: str) -> ParseError:
    """Not a well-formed answer, with no single place to point at."""
    return ParseError("unparseable", reason)


def unparseable_at(position: int, before: str, after: str = "") -> ParseError:
    """Not a well-formed answer, failing at ``position``: the reason reads
    ``{before} at character N{after}``."""
    return ParseError("unparseable", f"{before} {at_character(position)}{after}", position)


def too_large(reason: str) -> ParseError:
    """Over one of the size bounds (see :mod:`.limits`)."""
    return ParseError("too_large", reason)


def not_finite(reason: str) -> ParseError:
    """Infinity or NaN, written or computed."""
    return ParseError("not_finite", reason)
