"""The draw syntax: what it accepts, the exact values it draws, and everything it refuses."""
from __future__ import annotations

import ast
import re
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.variants.draws import Draw, DrawError, Expr, read_draw, show
from symderiv.variants.stream import Stream


class Every:
    """Picks each index in turn (0, 1, 2, ...): enumerates a support."""

    def __init__(self) -> None:
        self.next = 0

    def indices(self, support, count):
        out = [(self.next + i) % support.size for i in range(count)]
        self.next += count
        return out


class Seeded:
    def __init__(self, attempt: int = 0) -> None:
        self.stream = Stream(0, "test", 1, attempt)

    def indices(self, support, count):
        return [self.stream.below(support.size) for _ in range(count)]


def support_of(text: str) -> list[Fraction]:
    expr = read_draw(text)
    assert isinstance(expr, Draw)
    return [expr.support.at(i) for i in range(expr.support.size)]


@pytest.mark.parametrize("text, expected", [
    ("randint(-3, 3)", list(range(-3, 4))),
    ("randint(1, 5, exclude=[2, 5])", [1, 3, 4]),
    ("randint(0, 1e3)", list(range(1001))),
    ("choice([1, 2, 5])", [1, 2, 5]),
    ("choice([1/3, -0.5, 2])", [Fraction(1, 3), Fraction(-1, 2), 2]),
    ("uniform(0.02, 0.1, step=0.01)", [Fraction(k, 100) for k in range(2, 11)]),
    ("uniform(0, 1, step=0.3)", [0, Fraction(3, 10), Fraction(6, 10), Fraction(9, 10)]),
    ("uniform(-1, 1, step=0.5, exclude=[0])", [-1, Fraction(-1, 2), Fraction(1, 2), 1]),
])
def test_supports_are_exact(text, expected):
    assert support_of(text) == [Fraction(v) for v in expected]


def test_decimals_are_read_from_their_digits_not_through_floats():
    # the float 0.1 is 3602879701896397/36028797018963968; the draw keeps the decimal
    assert support_of("choice([0.1, 0.123456789012345])") == [Fraction(1, 10), Fraction(123456789012345, 10**15)]
    assert support_of("uniform(0.1, 0.3, step=0.1)") == [Fraction(1, 10), Fraction(2, 10), Fraction(3, 10)]


def test_every_value_is_drawn_about_equally_often():
    expr = read_draw("randint(1, 6)")
    counts = dict.fromkeys(range(1, 7), 0)
    sampler = Seeded()
    for _ in range(6000):
        counts[int(expr.evaluate({}, sampler))] += 1
    assert all(850 < c < 1150 for c in counts.values()), counts  # 1000 expected, sd about 29


def test_whole_array_draws_have_their_shape():
    value = read_draw("randint(-3, 3, shape=[3, 2])").evaluate({}, Every())
    assert [len(value)] + [len(row) for row in value] == [3, 2, 2, 2]
    assert value == [[-3, -2], [-1, 0], [1, 2]]
    kernel = read_draw("choice([1, 2], shape=[2, 1, 2, 2])").evaluate({}, Every())
    assert len(kernel) == 2 and len(kernel[0]) == 1 and kernel[0][0] == [[1, 2], [1, 2]]


def test_named_draws_and_arithmetic():
    env = {"n": Fraction(7), "m": Fraction(2)}
    assert read_draw("n", frozenset(env)).evaluate(env, Every()) == 7
    assert read_draw("2*m + n//2 - 1/2", frozenset(env)).evaluate(env, Every()) == Fraction(13, 2)
    assert read_draw("-n / (m - 4)", frozenset(env)).evaluate(env, Every()) == Fraction(7, 2)
    assert read_draw("2 * randint(1, 3)").evaluate({}, Every()) == 2


@pytest.mark.parametrize("text", ["relu", "same", "1/3", "0.05", "Homework 1", "lambda1", "squared_error",
                                  "n", "2*n", "-3", "a b c", ""])
def test_strings_that_are_no_draw_are_left_alone(text):
    assert read_draw(text) is None


@pytest.mark.parametrize("text, message", [
    ("randint(1)", "expected randint(low, high)"),
    ("randint(1.5, 3)", "must be whole"),
    ("randint(3, 1)", "above the high end"),
    ("randint(1, 2, exclude=[1, 2])", "leaves nothing"),
    ("randint(1, 5, exclude=[9])", "not one of the values"),
    ("uniform(0, 1)", "needs step="),
    ("uniform(0, 1, step=0)", "step must be > 0"),
    ("uniform(0, 1, step=0.3, exclude=[0.5])", "not one of the values"),
    ("choice([])", "nothing to choose"),
    ("choice(1, 2)", "expected choice"),
    ("choice([1, 2], shape=[0])", "whole numbers >= 1"),
    ("randint(1, 2, shape=[200, 200])", "at most 10,000"),
    ("randint(1, 3", "not a valid draw"),
    ("randit(1, 3)", "unknown function 'randit'"),
    ("randint", "must be called"),
    ("foo(1) + 1", "unknown function 'foo'"),
    ("__import__('os').system('true')", "unknown function"),
    ("__import__('os')", "unknown function '__import__'"),
    ("eval('1') + randint(1, 2)", "unknown function 'eval'"),
    ("randint(1, 3).real", "attribute access"),
    ("randint(1, 3)[0]", "indexing"),
    ("randint(1, 2**8)", "Pow"),
    ("randint(1, n)", "numbers, not named draws"),
    ("randint(1, randint(2, 3))", "not other draws"),
    ("randint(1, 3) if 1 else 2", "if/else"),
    ("choice(['a', 'b'])", "a string"),
    ("choice([True])", "bool"),
    ("randint(1, 3, step=1)", "unknown argument 'step'"),
    ("randint(*[1, 2])", "'*' and '**'"),
    ("randint(**{'low': 1})", "'*' and '**'"),
    ("(lambda: 1)() + randint(1, 2)", "unknown function 'lambda: 1'"),
    ("lambda: randint(1, 2)", "a lambda is not allowed"),
    ("randint(1, 2) + 'a'", "a string"),
    ("f'{randint(1, 2)}'", "f-string"),
    ("1 < randint(1, 2)", "comparison"),
    ("choice([1, 2], shape=[2]) + 1", "must be the whole field"),
    ("randint(0, 10**16)", "Pow"),
    ("randint(0, 10000000000000000)", "too large"),
    ("choice([1e-20])", "too large or too finely divided"),
    ("randint(1, 3) + m", "unknown name 'm'"),
    ("randint(1, 2)" + " + 1" * 40, "nested more than"),
    ("choice([" + "1, " * 1001 + "1])", "at most 1,000"),
    ("randint(1, 2)" + " " * 5000, "at most 5,000"),
])
def test_malformed_draws_are_refused_with_a_reason(text, message):
    with pytest.raises(DrawError, match=re.escape(message)):
        read_draw(text, frozenset({"n"}))


def test_evaluation_errors_are_draw_errors():
    env = {"n": Fraction(0), "a": [Fraction(1)]}
    with pytest.raises(DrawError, match="division by zero"):
        read_draw("1 / n", frozenset(env)).evaluate(env, Every())
    with pytest.raises(DrawError, match="whole array"):
        read_draw("a + 1", frozenset(env)).evaluate(env, Every())


def test_show_writes_numbers_as_a_person_does():
    shown = [show(Fraction(v)) for v in ("1/20", "-3/2", "1/3", "5", "-7/1000")]
    assert shown == ["0.05", "-1.5", "1/3", "5", "-0.007"]
    assert show([Fraction(1), [Fraction(1, 2)]]) == "[1, [0.5]]"


# --- the whitelist, fuzzed -------------------------------------------------------------------

#: The node types a draw may contain (an independent statement of the whitelist).
ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.UnaryOp, ast.USub, ast.UAdd, ast.BinOp,
           ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Call, ast.keyword, ast.List, ast.Tuple)

PIECES = ["randint", "choice", "uniform", "(", ")", "[", "]", ",", " ", "1", "-2", "0.5", "1/3", "=", "step",
          "shape", "exclude", "n", "x", "+", "*", "**", "//", ".", "__import__", "'os'", "lambda", ":", "if",
          "else", "{", "}", "True", "1j", "\"a\"", "[0]", "@", "not", "<", "1e999", "_", "#", "\\", "\n"]


def _checked(text: str, names: frozenset[str]) -> Expr | None:
    try:
        return read_draw(text, names)
    except DrawError:
        return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_fuzz_only_whitelisted_syntax_is_read(text):
    expr = _checked(text, frozenset({"n"}))
    if expr is None:
        return
    tree = ast.parse(text.strip(), mode="eval")
    assert all(isinstance(node, ALLOWED) for node in ast.walk(tree)), text
    assert all(node.id in {"n", "randint", "choice", "uniform"} for node in ast.walk(tree)
               if isinstance(node, ast.Name))
    assert not any(isinstance(node.value, (str, bool, complex)) for node in ast.walk(tree)
                   if isinstance(node, ast.Constant))
    _evaluates_exactly(expr)


def _evaluates_exactly(expr: Expr) -> None:
    try:
        value = expr.evaluate({"n": Fraction(3)}, Seeded())
    except DrawError:
        return
    flat = [value]
    while any(isinstance(v, list) for v in flat):
        flat = [w for v in flat for w in (v if isinstance(v, list) else [v])]
    assert all(isinstance(v, Fraction) for v in flat)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text_is_a_draw_none_or_a_draw_error(text):
    _checked(text, frozenset({"n"}))  # any other exception fails the test


@settings(max_examples=200, deadline=None)
@given(st.integers(-50, 50), st.integers(0, 30), st.integers(1, 20), st.integers(1, 4), st.integers(0, 9))
def test_fuzz_uniform_grids_are_exact_and_inside(low, span, step_hundredths, places, attempt):
    step = Fraction(step_hundredths, 10**places)
    low_f, high_f = Fraction(low, 10), Fraction(low, 10) + span * step
    text = f"uniform({show(low_f)}, {show(high_f)}, step={show(step)})"
    value = read_draw(text).evaluate({}, Seeded(attempt))
    assert low_f <= value <= high_f and ((value - low_f) / step).denominator == 1
