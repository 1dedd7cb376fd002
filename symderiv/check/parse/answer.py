"""The entry points: one student answer, of any type, into SymPy objects or a ParseError.

:func:`read_answer` returns every side of an ``=`` chain as read (a :class:`Reading`),
with how precisely each decimal was typed; :func:`parse_answer` returns the answer
itself, the last side.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import sympy

from symderiv.check.parse.builder import Builder, Precision, Value
from symderiv.check.parse.clean import Syntax, checked_text, choose_syntax
from symderiv.check.parse.errors import ParseError, not_finite, too_large, unparseable
from symderiv.check.parse.forms import Unit, join_thousands, shape_entries, split_sides, strip_unit
from symderiv.check.parse.latex import read_latex
from symderiv.check.parse.limits import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_RANK,
    MAX_RESULT_DIGITS,
    MAX_SECONDS,
    Limits,
)
from symderiv.check.parse.names import Names, mark_names
from symderiv.check.parse.plain import read_plain
from symderiv.check.parse.source import SourceText
from symderiv.check.parse.values import as_answer, from_value

_READERS: dict[str, Callable[[SourceText, Builder], Value]] = {"plain": read_plain, "latex": read_latex}

Expect = Literal["any", "scalar", "shape"]
"""What the question expects, which decides how some forms read: ``6,000`` is six
thousand where a scalar is expected, ``20 x 20 x 2`` a tuple where a shape is."""


@dataclass(frozen=True)
class Side:
    """One side of an answer's ``=`` chain: what was typed, and the value read from it
    or why it could not be read. ``decimals`` maps each decimal literal's value to how
    precisely it was typed (``0.977`` -> last digit 0.001, 3 significant figures)."""

    text: str
    value: sympy.Basic | None = None
    error: ParseError | None = None
    decimals: Mapping[sympy.Rational, Precision] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """An answer as read: its sides in order (one, without ``=``); the last is the answer."""

    sides: tuple[Side, ...]

    @property
    def answer(self) -> Side:
        return self.sides[-1]


@dataclass(frozen=True)
class _Options:
    syntax: Syntax
    limits: Limits
    symbols: dict[str, sympy.Basic]
    names: Names | None
    expect: Expect
    unit: Unit | None
    sigmoid: bool


def read_answer(
    answer: object,
    *,
    syntax: Syntax = "auto",
    symbols: Mapping[str, sympy.Basic] | None = None,
    names: Names | None = None,
    expect: Expect = "any",
    unit: Unit | None = None,
    sigmoid: bool = False,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    max_digits: int = MAX_DIGITS,
    max_exponent: int = MAX_EXPONENT,
    max_result_digits: int = MAX_RESULT_DIGITS,
    max_seconds: float = MAX_SECONDS,
    max_rank: int = MAX_RANK,
) -> Reading:
    """Read every side of an answer; a side that cannot be read carries its ParseError.

    ``names`` are the sheet's spellings of symbol names (see :mod:`.names`), for LaTeX
    such as ``\\frac{\\partial L}{\\partial z_n}``; ``unit`` is the quantity's unit (a
    trailing unit word of its kind is taken off and converted); ``sigmoid`` reads
    ``\\sigma(x)`` as the logistic function; ``max_rank`` is how deep lists may nest (4
    where a tensor is expected, read as an ``NDimArray``). See :func:`parse_answer` for the rest.
    """
    _check_arguments(syntax, symbols)
    limits = Limits(length=max_length, depth=max_depth, digits=max_digits, exponent=max_exponent,
                    result_digits=max_result_digits, seconds=max_seconds, rank=max_rank)
    options = _Options(syntax, limits, dict(symbols or {}), names, expect, unit, sigmoid)
    if not isinstance(answer, str):
        return Reading((_side(SourceText.of(""), options, lambda builder: from_value(answer, builder)),))
    if len(answer) > limits.length:
        error = too_large(f"the answer has {len(answer)} characters; the limit is {limits.length}")
        return Reading((Side(answer, error=error),))
    return Reading(tuple(_read_side(side, options) for side in split_sides(SourceText.of(answer))))


def read_float(value: float) -> Side:
    """A float as the decimal it prints as (``0.1`` is 1/10, typed to one figure), exactly,
    whatever its size (``1e300`` too: a float cannot hold more than its repr says)."""
    text = repr(value)
    if not math.isfinite(value):
        return Side(text, error=not_finite(f"{text} is not a finite number"))
    digits, exponent = Decimal(text).as_tuple()[1:]
    figures = len("".join(map(str, digits)).lstrip("0"))
    exact = Fraction(text)  # the float's repr, parsed by the standard library
    number = sympy.Rational(exact.numerator, exact.denominator)
    return Side(text, number, None, {abs(number): Precision(sympy.Integer(10) ** int(exponent), figures)})


def parse_answer(answer: object, **options: Any) -> sympy.Basic:
    """Turn one student answer into a SymPy expression or ImmutableMatrix.

    ``answer`` is usually a string.  ``syntax="auto"`` reads it as LaTeX when it
    contains a backslash, a brace or ``&`` and as plain math otherwise; pass
    ``"plain"`` or ``"latex"`` to force one.  Numbers given directly (``int``,
    ``Fraction``, ``Decimal``, ``float``, NumPy scalars or arrays, SymPy objects,
    lists or tuples of these) are accepted too, so callers can treat every answer
    alike: exact numbers stay exact, a ``float`` becomes a ``sympy.Float``.
    In an ``=`` chain (``L = 4``) the answer is the last side.

    The keywords are those of :func:`read_answer`: ``syntax``; ``symbols`` maps a name
    (as the student writes it, e.g. ``"n"``, ``"alpha"``, ``"x_out"``) to the object to
    use for it (other names become plain ``Symbol(name)``); ``max_length``,
    ``max_depth``, ``max_digits``, ``max_exponent``, ``max_result_digits`` and
    ``max_seconds`` override the module's bounds; ``names``, ``expect``, ``unit`` and
    ``sigmoid`` say what the question expects.

    Raises :class:`ParseError` (never anything else for bad input) whose
    ``verdict`` is ``"unparseable"``, ``"too_large"`` or ``"not_finite"`` and
    whose ``position`` says where in a string answer reading failed, when known.
    """
    side = read_answer(answer, **options).answer
    if side.error is not None:
        raise side.error
    assert side.value is not None
    return side.value


def _check_arguments(syntax: str, symbols: Mapping[str, object] | None) -> None:
    """Programming errors of the caller (not of the student) are ValueError/TypeError."""
    if syntax not in ("auto", "plain", "latex"):
        raise ValueError(f"syntax must be 'auto', 'plain' or 'latex', not {syntax!r}")
    bad = [name for name, value in (symbols or {}).items() if not isinstance(value, sympy.Basic)]
    if bad:
        raise TypeError(f"symbols must map names to SymPy objects; not so for {', '.join(bad)}")


_ONE = sympy.Integer(1)


def _side(source: SourceText, options: _Options, read: Callable[[Builder], Value],
          factor: sympy.Basic = _ONE) -> Side:
    """Run one reader on a fresh builder, turning every failure into the side's error."""
    builder = Builder(options.limits, options.symbols, frozenset({"sigma"}) if options.sigmoid else frozenset())
    try:
        value = as_answer(read(builder), options.limits.rank)
        if factor == 1:
            return Side(source.text, value, None, builder.decimals)
        decimals = {k * factor: Precision(p.last * factor, p.figures) for k, p in builder.decimals.items()}
        return Side(source.text, value * factor, None, decimals)  # 1.5 h: 90 min, to the tenth of an hour
    except ParseError as exc:
        return Side(source.text, error=exc)
    except Exception as exc:
        # SymPy raises many exception types on odd but well-formed input (for
        # example Max(I, 1) is a ValueError).  An answer SymPy cannot build is,
        # for grading, simply unparseable; the original stays chained.
        error = unparseable(f"the answer cannot be built ({type(exc).__name__}: {str(exc)[:200]})")
        error.__cause__ = exc
        return Side(source.text, error=error)


def _read_side(source: SourceText, options: _Options) -> Side:
    """One side of the chain: unit word off, separators resolved, then one reader."""
    source = source.strip()
    factor: sympy.Basic = sympy.Integer(1)
    if options.expect == "scalar":
        source, factor = strip_unit(source, options.unit)
        source = join_thousands(source.strip())
    entries = shape_entries(source) if options.expect == "shape" else None
    if entries is not None:
        return _side(source, options, lambda builder: (tuple(_entry(e, options, builder) for e in entries),))
    return _side(source, options, lambda builder: _read_text(source, options, builder), factor)


def _entry(source: SourceText, options: _Options, builder: Builder) -> sympy.Basic:
    return builder.scalar(_read_text(source.strip(), options, builder))


def _read_text(source: SourceText, options: _Options, builder: Builder) -> Value:
    """Check the raw text against the bounds, then hand it to one reader."""
    chosen = choose_syntax(source.text) if options.syntax == "auto" else options.syntax
    cleaned = checked_text(source, chosen, options.limits)
    if not cleaned.text.strip():
        raise unparseable("the answer is empty")
    if chosen == "latex" and options.names:
        cleaned = mark_names(cleaned, options.names, lambda name: f" \\text{{{name}}} ")
    return _READERS[chosen](cleaned, builder)
