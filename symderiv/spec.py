"""TOML problem specs -> validated spec objects, with errors that name file and field.

A spec file holds one problem set::

    [sheet]
    title = "Homework 1"

    [[problem]]
    kind = "network"        # looked up in the kind registry
    ...                     # the kind's own fields

Each kind parses its own fields through :class:`Fields`, which keeps the path of the
field being read so every error says exactly where it is (``problem[1].layer[2].W``).
Which kind reads which table is decided in :mod:`symderiv.derive` (``load_spec``): this
module knows no kind.
Numbers become exact SymPy Rationals: a decimal ``0.05`` is 1/20, never a float. A
number written as a decimal is a :class:`~symderiv.model.GivenDecimal` (that Rational,
remembered as written), so the sheet prints it as it was given; :func:`writes_decimals`
tells whether a table wrote any (its problem then prints finite decimals as decimals).
"""
from __future__ import annotations

import builtins
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from symderiv.errors import SpecError
from symderiv.model import GivenDecimal

#: Longest text field of a spec (titles, names): a title is a line, not a document.
MAX_TEXT = 200

#: A number written as a string: ASCII digits only (``\d`` alone would read Arabic-Indic and
#: full-width digits as numbers too).
_RATIONAL = re.compile(r"^\s*[-+]?\d{1,30}(\.\d{1,30})?(\s*/\s*\d{1,30})?\s*$", re.ASCII)


@dataclass(frozen=True)
class Fields:
    """A TOML table being validated: ``source`` is the file, ``path`` the field so far.

    Positions in paths count from 1, as a person counts: ``layer[2].W[1][3]``.
    """

    table: dict[str, Any]
    source: str
    path: str = ""

    def where(self, name: str) -> str:
        """The dotted path of field ``name`` inside this table."""
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> SpecError:
        """The error for field ``name`` (raise it)."""
        return SpecError(self.source, self.where(name), problem)

    def has(self, name: str) -> bool:
        return name in self.table

    def raw(self, name: str, default: Any = ...) -> Any:
        """The field's raw TOML value; missing and required is an error."""
        if name in self.table:
            return self.table[name]
        if default is ...:
            raise self.fail(name, "missing required field")
        return default

    def str(self, name: str, default: Any = ..., choices: Any = None, *,
            max_length: int = MAX_TEXT) -> builtins.str:
        value = self.raw(name, default)
        if not isinstance(value, builtins.str):
            raise self.fail(name, f"expected a string, got {_describe(value)}")
        if len(value) > max_length:
            raise self.fail(name, f"{len(value):,} characters; at most {max_length:,} are allowed")
        if choices is not None and value not in choices:
            raise self.fail(name, f"unknown value {value!r}; expected one of {', '.join(sorted(choices))}")
        return value

    def number(self, name: builtins.str, default: Any = ..., *, low: Any = None, high: Any = None,
               open_low: bool = False, open_high: bool = False) -> sp.Rational:
        """An exact number within optional bounds (closed unless ``open_*``)."""
        value = to_rational(self.raw(name, default), self.fail, name)
        _check_bounds(value, low, high, open_low, open_high, lambda p: self.fail(name, p))
        return value

    def integer(self, name: builtins.str, default: Any = ..., *, low: Any = None, high: Any = None) -> int:
        value = self.number(name, default, low=low, high=high)
        if not value.is_integer:
            raise self.fail(name, f"expected a whole number, got {value}")
        return int(value)

    def vector(self, name: builtins.str, default: Any = ...) -> sp.ImmutableMatrix:
        """A column vector from a list of numbers (a bare number is a 1-vector)."""
        value = self.raw(name, default)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.fail(name, "expected a non-empty list of numbers")
        return sp.ImmutableMatrix([[to_rational(v, self.fail, f"{name}[{i + 1}]")] for i, v in enumerate(items)])

    def matrix(self, name: builtins.str, default: Any = ...) -> sp.ImmutableMatrix:
        """A matrix from a list of equal-length rows (a flat list is one row)."""
        rows = self.raw(name, default)
        if not isinstance(rows, list):
            rows = [[rows]]
        elif rows and not isinstance(rows[0], list):
            rows = [rows]
        if not rows or any(not isinstance(r, list) or not r or len(r) != len(rows[0]) for r in rows):
            raise self.fail(name, "expected a non-empty list of equal-length rows of numbers")
        return sp.ImmutableMatrix([[to_rational(v, self.fail, f"{name}[{i + 1}][{j + 1}]") for j, v in enumerate(r)]
                                   for i, r in enumerate(rows)])

    def numbers(self, name: builtins.str, default: Any = ..., *, check: Any = None,
                distinct: builtins.str | None = None) -> tuple[sp.Rational, ...]:
        """A list of exact numbers (a bare number is a list of one), each validated.

        ``check(value)`` returns what is wrong with one entry, or None; ``distinct`` names
        the entries ("depth") when repeats are refused. Errors name the entry, ``name[i]``.
        """
        values = tuple(self.vector(name, default))
        for index, value in enumerate(values, start=1):
            problem = check(value) if check is not None else None
            if problem is None and distinct and value in values[:index - 1]:
                problem = f"repeated {distinct} {value}"
            if problem is not None:
                raise self.fail(f"{name}[{index}]", problem)
        return values

    def sub(self, name: builtins.str) -> Fields:
        """The sub-table ``name`` (required)."""
        value = self.raw(name)
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a table, got {_describe(value)}")
        return Fields(value, self.source, self.where(name))

    def subs(self, name: builtins.str, *, required: bool = True) -> Iterator[Fields]:
        """The array of tables ``name`` (``[[name]]`` in TOML), each as Fields."""
        value = self.raw(name, ... if required else [])
        if not isinstance(value, list) or (required and not value) or not all(isinstance(v, dict) for v in value):
            raise self.fail(name, "expected one or more tables ([[...]] in TOML)")
        for i, v in enumerate(value):
            yield Fields(v, self.source, f"{self.where(name)}[{i + 1}]")

    def at_most(self, name: builtins.str, most: int, what: builtins.str) -> None:
        """Refuse a list field of more than ``most`` entries before any is read: each entry is
        printed and worked, so the count bounds a build's time (``what`` names the entries)."""
        value = self.raw(name, [])
        if isinstance(value, list) and len(value) > most:
            raise self.fail(name, f"at most {most} {what}, got {len(value)}")

    def check_known(self, known: set[builtins.str]) -> None:
        """Reject unknown fields: a typo must not silently fall back to a default."""
        for name in self.table:
            if name not in known:
                raise self.fail(name, f"unknown field; expected one of {', '.join(sorted(known))}")


#: Most digits of a spec number (numerator or denominator): larger ones are no homework's,
#: and every value derived from them would have to be printed and evaluated.
MAX_NUMBER_DIGITS = 100


def to_rational(value: Any, fail: Any, name: str) -> sp.Rational:
    """An exact Rational from a TOML int, float or string like ``"1/3"`` or ``"0.05"``."""
    if isinstance(value, bool):
        raise fail(name, f"expected a number, got {_describe(value)}")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_NUMBER_DIGITS:
            raise fail(name, f"a number of {_digits(value):,} digits; at most {MAX_NUMBER_DIGITS} are allowed")
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise fail(name, f"expected a finite number, got {value}")
        return given(sp.Rational(repr(value)))  # shortest repr: 0.05 -> 1/20 exactly
    if isinstance(value, str) and _RATIONAL.match(value):
        num, _, den = value.replace(" ", "").partition("/")
        if den and int(den) == 0:
            raise fail(name, "division by zero")
        exact = sp.Rational(num) / sp.Integer(den or 1)
        return given(exact) if "." in num and not den else exact
    raise fail(name, f"expected a number, got {_describe(value)}")


def given(value: sp.Rational) -> sp.Rational:
    """A number written as a decimal: a GivenDecimal unless it is whole (``2.0`` prints ``2``)."""
    return value if value.is_integer else GivenDecimal(value)


def writes_decimals(value: Any) -> bool:
    """Whether a TOML value (a table, a list, a number) writes any number as a decimal."""
    if isinstance(value, dict):
        return any(writes_decimals(v) for v in value.values())
    if isinstance(value, list):
        return any(writes_decimals(v) for v in value)
    if isinstance(value, float):
        return True
    return isinstance(value, str) and _RATIONAL.match(value) is not None and "." in value and "/" not in value


def _check_bounds(value: sp.Rational, low: Any, high: Any, open_low: bool, open_high: bool, fail: Any) -> None:
    if low is not None and (value < low or (open_low and value == low)):
        raise fail(f"must be {'>' if open_low else '>='} {low}, got {value}")
    if high is not None and (value > high or (open_high and value == high)):
        raise fail(f"must be {'<' if open_high else '<='} {high}, got {value}")


def _digits(value: int) -> int:
    """Decimal digits of an integer, without converting it to a string (Python refuses
    that past 4,300 digits)."""
    value = abs(value)
    guess = max(1, int(value.bit_length() * math.log10(2)))  # never more than the true count
    return guess + 1 if value >= 10**guess else guess


def _describe(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return f"int of {_digits(value):,} digits"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def _read_text(path: Path, source: str, error: type, max_bytes: int) -> str:
    """The file's text (UTF-8, a leading byte-order mark dropped), or an ``error`` naming why not."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise error(source, "(file)", f"larger than {max_bytes:,} bytes")
        return data.decode("utf-8-sig")
    except OSError as exc:
        raise error(source, "(file)", exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise error(source, "(file)", "not UTF-8 text") from None


_LONG_INTEGER = re.compile(r"[0-9_]{4301,}|0[xob][0-9A-Fa-f_]{1000,}")


def _long_integer(text: str) -> tuple[str, str]:
    """(field, problem) for an integer literal too long to read: its key and line."""
    match = _LONG_INTEGER.search(text)
    if match is None:
        return "(syntax)", "an integer literal too long to read (over 4,300 digits)"
    line = text.count("\n", 0, match.start()) + 1
    start = text.rfind("\n", 0, match.start()) + 1
    key = text[start:match.start()].split("=")[0].strip().strip("\"'") or "(syntax)"
    table = _table_above(text[:start])
    field = f"{table}.{key}" if table and key != "(syntax)" else key
    return field, f"line {line}: an integer of {len(match.group(0)):,} digits; numbers this long cannot be read"


def _table_above(text: str) -> str:
    """The name of the last ``[table]`` or ``[[array]]`` header in ``text`` ("" if none)."""
    headers = re.findall(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$", text, flags=re.M)
    return headers[-1] if headers else ""


@dataclass(frozen=True)
class ProblemSpec:
    """One problem of a spec: its kind's name and its validated kind-specific spec.

    ``digits`` overrides the sheet's significant digits for this problem; ``decimals``
    says its table wrote numbers as decimals (both for the number policy of the sheet).
    """

    kind: str
    title: str
    spec: Any
    digits: int | None = None
    decimals: bool = False


@dataclass(frozen=True)
class SheetSpec:
    """A validated problem set."""

    name: str
    title: str
    author: str
    problems: tuple[ProblemSpec, ...]
    source: str
    digits: int = 4
    paper: str = "letter"
    grading: Any = None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # whole key: fullmatch (a "$" would let "0\n" through)
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare where it can be, else a quoted string (so a message can
    name a field as the file spells it, and written TOML reads back to the same key)."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A TOML basic string with every quote, backslash and control character escaped: no text
    can end it early, start a table, or carry raw control bytes into a terminal."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


#: Largest spec file read (bytes): a problem set is a page of TOML, not a data set.
MAX_FILE_BYTES = 1_000_000


def read_toml(path: str | Path, error: type = SpecError, max_bytes: int = MAX_FILE_BYTES) -> dict:
    """A TOML file as a dict; every way it can fail is an ``error(source, field, problem)``.

    A UTF-8 byte-order mark (as some editors save) is skipped. An integer too long for
    Python to read (over 4,300 digits) is reported with its line and key.
    """
    source = str(path)
    text = _read_text(Path(path), source, error, max_bytes)
    try:
        return tomllib.loads(text)
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise error(source, *_long_integer(text)) from None
        if not isinstance(exc, tomllib.TOMLDecodeError):
            raise
        raise error(source, "(syntax)", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise error(source, "(syntax)", "arrays or tables nested too deeply") from None
