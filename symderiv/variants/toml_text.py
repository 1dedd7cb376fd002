"""TOML text for a variant's spec: an ordinary spec file, written by us, read back to check.

``tomllib`` reads TOML but does not write it, and a spec needs only a small part of the
language: tables, arrays of tables, strings, numbers, booleans and arrays. Strings are
always basic strings with every quote, backslash and control character escaped, so no
text from a spec can end a string early or start a table. :func:`dumps` checks that
``tomllib`` reads the text back to the very table it was given.
"""
from __future__ import annotations

import datetime
import tomllib
from fractions import Fraction
from typing import Any

from symderiv.spec import toml_key, toml_string
from symderiv.variants.draws import decimal_places, show


def number(value: Fraction) -> int | float | str:
    """A drawn number as TOML holds it exactly: an int, a decimal TOML float when its
    shortest form reads back exactly (``0.05``), else a string the spec reads exactly
    (``"0.12345678901234567"``, ``"1/3"``)."""
    if value.denominator == 1:
        return value.numerator
    if decimal_places(value) is not None and Fraction(repr(float(value))) == value:
        return float(value)
    return show(value)


def toml_value(value: Any) -> Any:
    """A drawn value (a Fraction or nested lists of them) as a TOML-ready value."""
    if isinstance(value, list):
        return [toml_value(v) for v in value]
    return number(value) if isinstance(value, Fraction) else value


def dumps(table: dict[str, Any], header: str = "") -> str:
    """``table`` as TOML text, after ``header`` (comment lines); read back to check."""
    lines = [f"# {_comment(line)}" for line in header.splitlines()]
    lines += _table(table, ())
    text = "\n".join(lines).strip("\n") + "\n"
    if tomllib.loads(text) != table:
        raise RuntimeError("the TOML written for a variant does not read back to its table")  # a bug of ours
    return text


def _comment(line: str) -> str:
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)


def _table(table: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    """A table's own key/value lines, then its sub-tables, then its arrays of tables."""
    lines = [f"{toml_key(k)} = {_inline(v)}" for k, v in table.items()
             if not _is_table(v) and not _is_array_of_tables(v)]
    for key, value in table.items():
        if _is_table(value):
            lines += ["", f"[{_dotted(path + (key,))}]", *_table(value, path + (key,))]
    for key, value in table.items():
        if _is_array_of_tables(value):
            for item in value:
                lines += ["", f"[[{_dotted(path + (key,))}]]", *_table(item, path + (key,))]
    return lines


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_array_of_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(toml_key(k) for k in path)


def _inline(value: Any) -> str:
    """A value on one line: scalars, arrays, and inline tables inside arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
