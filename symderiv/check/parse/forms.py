"""What students write around a value: ``=`` chains, unit words, thousands separators, shapes.

These are rewrites of the answer text before a reader sees it, each one chosen by what
the question expects (the caller says so), never by guessing:

* ``L = 4``, ``10 \\times 6 \\times 5 = 300``: :func:`split_sides` cuts an answer at
  its top-level ``=`` (also ``:=``, ``\\approx``, ``≈``), so that every side can be read
  and checked; the last side is the answer.
* ``6000 min``, ``59 trials``, ``100 h``: :func:`strip_unit` takes a trailing unit word
  off when it measures the question's quantity (a time for a number of minutes, with
  the conversion factor; ``trials`` for a number of trials), and ``%`` off a quantity
  without a unit. A unit of another kind stays, and reads as a symbol.
* ``6,000``, ``6\\,000``: :func:`join_thousands` removes separators of 3-digit groups,
  only when the whole side is such a number and a scalar is expected.
* ``20 \\times 20 \\times 2``, ``20x20x2``: :func:`shape_entries` splits a tensor shape
  at its ``x`` separators, only when a shape is expected.

Every rewrite keeps the offsets of the text as typed (:class:`~.source.SourceText`).
Digits are ASCII digits only (``re.ASCII``): Arabic-Indic digits are not numbers here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from symderiv.check.parse.source import SourceText


@dataclass(frozen=True)
class Unit:
    """A unit word's dimension and its size in the dimension's base unit."""

    dimension: str
    factor: sympy.Rational


def _words(dimension: str, factor: int, *words: str) -> dict[str, Unit]:
    return {word: Unit(dimension, sympy.Integer(factor)) for word in words}


UNITS: dict[str, Unit] = {
    **_words("time", 1, "s", "sec", "secs", "second", "seconds"),
    **_words("time", 60, "min", "mins", "minute", "minutes"),
    **_words("time", 3600, "h", "hr", "hrs", "hour", "hours"),
    **_words("time", 86400, "day", "days"),
    **{word: Unit(stem, sympy.Integer(1)) for stem in ("epoch", "trial", "combination", "update", "step", "run",
                                                       "sample", "evaluation", "filter", "channel", "layer")
       for word in (stem, stem + "s")},
}
"""Unit words by spelling. Counting units (``trials``) are their own dimension."""

_SEPARATOR = re.compile(r"\\approx|:=|(?<![=<>!:])=(?!=)|≈")
_UNIT_TAIL = re.compile(r"""(?:\\[,;:! ]|~|\s)*
    (?:\\(?:text|mathrm|textrm|mbox|operatorname)\s*\{\s*(?P<braced>[A-Za-z]+)\.?\s*\}|(?P<bare>[A-Za-z]+)\.?)
    \s*$""", re.VERBOSE | re.ASCII)
_PERCENT_TAIL = re.compile(r"\s*\\?%\s*$")
_GROUP_SEPARATOR = r"(?:,|\{,\}|\\,|\\ |~|\s)"
_THOUSANDS = re.compile(rf"\s*[+-]?\d{{1,3}}(?:{_GROUP_SEPARATOR}\d{{3}})+(?:\.\d+)?\s*", re.ASCII)
_SEPARATORS_IN_NUMBER = re.compile(rf"(?<=\d){_GROUP_SEPARATOR}(?=\d{{3}})", re.ASCII)
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?=[(\[)\]])")
_SHAPE_SEPARATOR = re.compile(r"\\times|\\cdot|[xX×*·]")
_OPENERS, _CLOSERS = "([{", ")]}"
_DIGITS = "0123456789"


def top_level(text: str) -> list[bool]:
    """For each character, whether it lies outside every bracket and brace."""
    depth, out = 0, []
    for char in text:
        if char in _CLOSERS:
            depth = max(depth - 1, 0)
        out.append(depth == 0 and char not in _OPENERS)
        if char in _OPENERS:
            depth += 1
    return out


def split_sides(source: SourceText) -> list[SourceText]:
    """The sides of ``a = b = c`` (one side when there is no top-level ``=``)."""
    outside = top_level(source.text)
    cuts = [m for m in _SEPARATOR.finditer(source.text) if outside[m.start()]]
    sides, start = [], 0
    for match in cuts:
        sides.append(source.slice(start, match.start()))
        start = match.end()
    return sides + [source.slice(start, len(source.text))]


def unit_of(name: str | None) -> Unit | None:
    """The unit a quantity is measured in, by one of its unit words (``"minutes"``)."""
    return UNITS.get(name.lower()) if name else None


def strip_unit(source: SourceText, unit: Unit | None) -> tuple[SourceText, sympy.Rational]:
    """The side without a trailing unit word of the quantity's dimension, and the factor
    that converts the value into the quantity's unit (1 when nothing was stripped)."""
    if unit is None:
        match = _PERCENT_TAIL.search(source.text)
        if match is None or not source.text[:match.start()].strip():
            return source, sympy.Integer(1)
        return source.slice(0, match.start()), sympy.Rational(1, 100)
    match = _UNIT_TAIL.search(source.text)
    if match is None or not source.text[:match.start()].strip():
        return source, sympy.Integer(1)
    word = UNITS.get((match.group("braced") or match.group("bare")).lower())
    if word is None or word.dimension != unit.dimension:
        return source, sympy.Integer(1)
    return source.slice(0, match.start()), word.factor / unit.factor


def join_thousands(source: SourceText) -> SourceText:
    """``6,000`` or ``6\\,000`` as ``6000`` when the whole side is one such number."""
    if not _THOUSANDS.fullmatch(source.text):
        return source
    return source.sub(_SEPARATORS_IN_NUMBER, "")


def shape_entries(source: SourceText) -> list[SourceText] | None:
    """The entries of ``20 \\times 20 \\times 2`` (or ``20x20x2``, ``(20 x 20 x 2)``);
    None when the side has no top-level ``x`` separator."""
    inner = _unbracketed(source.sub(_SIZING, "").strip())
    outside = top_level(inner.text)
    cuts = [m for m in _SHAPE_SEPARATOR.finditer(inner.text)
            if outside[m.start()] and _between_values(inner.text, m.start(), m.end())]
    if not cuts:
        return None
    pieces, start = [], 0
    for match in cuts:
        pieces.append(inner.slice(start, match.start()))
        start = match.end()
    return pieces + [inner.slice(start, len(inner.text))]


def _unbracketed(source: SourceText) -> SourceText:
    """Without one pair of brackets around the whole text: ``(20 x 20 x 2)``."""
    text = source.text
    if len(text) >= 2 and text[0] in "([" and text[-1] == _CLOSERS[_OPENERS.index(text[0])]:
        if _balanced(text[1:-1]):
            return source.slice(1, len(text) - 1).strip()
    return source


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char in _OPENERS) - (char in _CLOSERS)
        if depth < 0:
            return False
    return depth == 0


def _between_values(text: str, start: int, end: int) -> bool:
    """A letter ``x`` separates only between a value's end and a value's start (``2x3``,
    ``(n) x (m)``), never inside a word (``max``) or after an operator."""
    if text[start] not in "xX":
        return True
    before, after = text[:start].rstrip(), text[end:].lstrip()
    return bool(before) and bool(after) and before[-1] in _DIGITS + ")}" and after[0] in _DIGITS + "({\\"
