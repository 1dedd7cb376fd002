"""The entry point: one student answer, of any type, into a SymPy object or a ParseError."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy

from symderiv.check.parse.builder import Builder, Value
from symderiv.check.parse.clean import Syntax, checked_text, choose_syntax
from symderiv.check.parse.errors import ParseError, unparseable
from symderiv.check.parse.latex import read_latex
from symderiv.check.parse.limits import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_RESULT_DIGITS,
    MAX_SECONDS,
    Limits,
)
from symderiv.check.parse.plain import read_plain
from symderiv.check.parse.source import SourceText
from symderiv.check.parse.values import as_answer, from_value

_READERS: dict[str, Callable[[SourceText, Builder], Value]] = {"plain": read_plain, "latex": read_latex}


def parse_answer(
    answer: object,
    *,
    syntax: Syntax = "auto",
    symbols: Mapping[str, sympy.Basic] | None = None,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    max_digits: int = MAX_DIGITS,
    max_exponent: int = MAX_EXPONENT,
    max_result_digits: int = MAX_RESULT_DIGITS,
    max_seconds: float = MAX_SECONDS,
) -> sympy.Basic:
    """Turn one student answer into a SymPy expression or ImmutableMatrix.

    ``answer`` is usually a string.  ``syntax="auto"`` reads it as LaTeX when it
    contains a backslash, a brace or ``&`` and as plain math otherwise; pass
    ``"plain"`` or ``"latex"`` to force one.  Numbers given directly (``int``,
    ``Fraction``, ``Decimal``, ``float``, NumPy scalars or arrays, SymPy objects,
    lists or tuples of these) are accepted too, so callers can treat every answer
    alike: exact numbers stay exact, a ``float`` becomes a ``sympy.Float``.

    ``symbols`` maps a name (as the student writes it, e.g. ``"n"``, ``"alpha"``,
    ``"x_out"``) to the object to use for it; other names become plain
    ``Symbol(name)``.  The ``max_*`` arguments override the module's bounds.

    Raises :class:`ParseError` (never anything else for bad input) whose
    ``verdict`` is ``"unparseable"``, ``"too_large"`` or ``"not_finite"`` and
    whose ``position`` says where in a string answer reading failed, when known.
    """
    _check_arguments(syntax, symbols)
    limits = Limits(length=max_length, depth=max_depth, digits=max_digits, exponent=max_exponent,
                    result_digits=max_result_digits, seconds=max_seconds)
    builder = Builder(limits, dict(symbols or {}))
    try:
        value = _read_text(answer, syntax, builder) if isinstance(answer, str) else from_value(answer, builder)
        return as_answer(value)
    except ParseError:
        raise
    except Exception as exc:
        # SymPy raises many exception types on odd but well-formed input (for
        # example Max(I, 1) is a ValueError).  An answer SymPy cannot build is,
        # for grading, simply unparseable; the original stays chained.
        raise unparseable(f"the answer cannot be built ({type(exc).__name__}: {str(exc)[:200]})") from exc


def _check_arguments(syntax: str, symbols: Mapping[str, object] | None) -> None:
    """Programming errors of the caller (not of the student) are ValueError/TypeError."""
    if syntax not in ("auto", "plain", "latex"):
        raise ValueError(f"syntax must be 'auto', 'plain' or 'latex', not {syntax!r}")
    bad = [name for name, value in (symbols or {}).items() if not isinstance(value, sympy.Basic)]
    if bad:
        raise TypeError(f"symbols must map names to SymPy objects; not so for {', '.join(bad)}")


def _read_text(text: str, syntax: Syntax, builder: Builder) -> Value:
    """Check the raw text against the bounds, then hand it to one reader."""
    chosen = choose_syntax(text) if syntax == "auto" else syntax
    source = checked_text(text, chosen, builder.limits)
    if not source.text.strip():
        raise unparseable("the answer is empty")
    return _READERS[chosen](source, builder)
