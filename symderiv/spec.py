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
Numbers become exact SymPy Rationals: a decimal ``0.05`` is 1/20, never a float.
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

_RATIONAL = re.compile(r"^\s*[-+]?\d{1,30}(\.\d{1,30})?(\s*/\s*\d{1,30})?\s*$")


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

    def str(self, name: str, default: Any = ..., choices: Any = None) -> builtins.str:
        value = self.raw(name, default)
        if not isinstance(value, builtins.str):
            raise self.fail(name, f"expected a string, got {_describe(value)}")
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

    def check_known(self, known: set[builtins.str]) -> None:
        """Reject unknown fields: a typo must not silently fall back to a default."""
        for name in self.table:
            if name not in known:
                raise self.fail(name, f"unknown field; expected one of {', '.join(sorted(known))}")


def to_rational(value: Any, fail: Any, name: str) -> sp.Rational:
    """An exact Rational from a TOML int, float or string like ``"1/3"`` or ``"0.05"``."""
    if isinstance(value, bool):
        raise fail(name, f"expected a number, got {_describe(value)}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise fail(name, f"expected a finite number, got {value}")
        return sp.Rational(repr(value))  # shortest repr: 0.05 -> 1/20 exactly
    if isinstance(value, str) and _RATIONAL.match(value):
        num, _, den = value.replace(" ", "").partition("/")
        if den and int(den) == 0:
            raise fail(name, "division by zero")
        return sp.Rational(num) / sp.Integer(den or 1)
    raise fail(name, f"expected a number, got {_describe(value)}")


def _check_bounds(value: sp.Rational, low: Any, high: Any, open_low: bool, open_high: bool, fail: Any) -> None:
    if low is not None and (value < low or (open_low and value == low)):
        raise fail(f"must be {'>' if open_low else '>='} {low}, got {value}")
    if high is not None and (value > high or (open_high and value == high)):
        raise fail(f"must be {'<' if open_high else '<='} {high}, got {value}")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


@dataclass(frozen=True)
class ProblemSpec:
    """One problem of a spec: its kind's name and its validated kind-specific spec."""

    kind: str
    title: str
    spec: Any


@dataclass(frozen=True)
class SheetSpec:
    """A validated problem set."""

    name: str
    title: str
    author: str
    problems: tuple[ProblemSpec, ...]
    source: str
    grading: Any = None


def read_toml(path: str | Path, error: type = SpecError) -> dict:
    """A TOML file as a dict; every way it can fail is an ``error(source, field, problem)``."""
    source = str(path)
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(source, "(file)", exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise error(source, "(file)", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(source, "(syntax)", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise error(source, "(syntax)", "arrays or tables nested too deeply") from None
