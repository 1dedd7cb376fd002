"""The TOML a variant's spec is written as: every table reads back as itself, strings stay strings."""
from __future__ import annotations

import tomllib
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from symderiv.variants.toml_text import dumps, number

KEYS = st.text(min_size=1, max_size=8)
SCALARS = st.one_of(st.text(max_size=20), st.integers(-10**20, 10**20), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False))
ARRAYS = st.lists(SCALARS, max_size=4) | st.lists(st.lists(st.integers(), max_size=3), max_size=3)


def tables(depth: int = 2):
    values = SCALARS | ARRAYS
    if depth:
        inner = tables(depth - 1)
        values = values | inner | st.lists(inner, min_size=1, max_size=2)
    return st.dictionaries(KEYS, values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(tables())
@example({"0": [], "0\n": [{}]})  # a key ending in a newline is not bare (found by CI)
def test_every_table_reads_back_as_itself(table):
    assert tomllib.loads(dumps(table)) == table


def test_hostile_strings_stay_inside_their_quotes():
    table = {"sheet": {"title": 'x"\n[[problem]]\nkind = "evil"\n\\', "name": "\x1b[2J\u2028\x7f"},
             'odd key "]': {"a.b": 1}}
    text = dumps(table, header='a comment\nwith\x1b a second line')
    assert tomllib.loads(text) == table
    assert text.count("\n[[problem]]") == 0 and "\x1b" not in text


def test_numbers_are_written_so_the_spec_reads_them_exactly():
    assert number(Fraction(3)) == 3
    assert number(Fraction(1, 20)) == 0.05 and isinstance(number(Fraction(1, 20)), float)
    assert number(Fraction(1, 3)) == "1/3"
    long_decimal = Fraction(12345678901234567891, 10**20)
    assert number(long_decimal) == "0.12345678901234567891"  # a float would round it
