"""Tests of the safe answer parser, the package symderiv.check.parse.

The parser reads strings typed by students, so besides correct parsing these
tests check that hostile strings are refused with the right verdict, quickly,
and without anything being executed.
"""
from __future__ import annotations

import ast
import builtins
import os
import re
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symderiv.check import parse as parse_module
from symderiv.check.parse import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_RESULT_DIGITS,
    ParseError,
    parse_answer,
)
from symderiv.check.parse.source import SourceText
from symderiv.errors import AnswerError, SymderivError

#: CPU seconds a parse may take before it counts as a hang: parsing runs in this process, so
#: CPU time does not grow with the machine's load; what the bound catches (evaluating
#: 9^9^9^9, a parser gone exponential) takes minutes.
CPU_SECONDS = 5.0

n, p, k, s, b, g, q, x, y, z = sympy.symbols("n p k s b g q x y z")
P = sympy.Symbol("P")
alpha, beta, sigma, lam = sympy.symbols("alpha beta sigma lambda")


def same(got: sympy.Basic, expected: sympy.Basic) -> bool:
    """Structural equality, or a difference that simplifies to zero."""
    if isinstance(expected, sympy.MatrixBase):
        return isinstance(got, sympy.ImmutableMatrix) and got.shape == expected.shape and all(
            same(a, e) for a, e in zip(got, expected))
    return got == expected or sympy.simplify(got - expected) == 0


def verdict_of(text: object, **kwargs: object) -> str:
    with pytest.raises(ParseError) as caught:
        parse_answer(text, **kwargs)
    return caught.value.verdict


# --------------------------------------------------------------------------
# The homework's own answers
# --------------------------------------------------------------------------

EXAMPLES = [
    ("floor((n+2*p-k)/s)+1", sympy.floor((n + 2 * p - k) / s) + 1),
    ("[[32,16],[24,12],[-8,-4]]", sympy.ImmutableMatrix([[32, 16], [24, 12], [-8, -4]])),
    ("-2", sympy.Integer(-2)),
    ("3/4", sympy.Rational(3, 4)),
    ("0.05", sympy.Rational(1, 20)),
    ("ceiling(log(1-P)/log(1-q))", sympy.ceiling(sympy.log(1 - P) / sympy.log(1 - q))),
    ("sigma^2/b", sigma**2 / b),
    ("alpha*g/(1-beta)", alpha * g / (1 - beta)),
    ("(18, 18, 2)", sympy.ImmutableMatrix([18, 18, 2])),
    (r"\left\lfloor \frac{n+2p-k}{s} \right\rfloor + 1", sympy.floor((n + 2 * p - k) / s) + 1),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", sympy.ImmutableMatrix([[1, 2], [3, 4]])),
    (r"\frac{\sigma^2}{b}", sigma**2 / b),
    (r"\frac{\alpha g}{1-\beta}", alpha * g / (1 - beta)),
    (r"\lceil \frac{\ln(1-P)}{\ln(1-q)} \rceil", sympy.ceiling(sympy.log(1 - P) / sympy.log(1 - q))),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES)
def test_homework_examples(text: str, expected: sympy.Basic) -> None:
    got = parse_answer(text)
    assert got == expected, (got, expected)  # structurally equal, not just equivalent


@pytest.mark.parametrize(("plain", "latex"), [
    ("floor((n+2*p-k)/s)+1", r"\left\lfloor \frac{n+2p-k}{s} \right\rfloor + 1"),
    ("sigma^2/b", r"\frac{\sigma^2}{b}"),
    ("alpha*g/(1-beta)", r"\frac{\alpha g}{1-\beta}"),
    ("ceiling(log(1-P)/log(1-q))", r"\lceil \frac{\ln(1-P)}{\ln(1-q)} \rceil"),
    ("[[1,2],[3,4]]", r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \\ \end{bmatrix}"),
    ("n_out + 1", r"n_{\text{out}} + 1"),
    ("sqrt(x)*exp(-x)", r"\sqrt{x}\, e^{-x}"),
    ("max(0, x)", r"\max\{0, x\}"),
    ("lambda*x**2/2", r"\tfrac{1}{2}\lambda x^{2}"),
])
def test_plain_and_latex_agree(plain: str, latex: str) -> None:
    assert parse_answer(plain) == parse_answer(latex)


# --------------------------------------------------------------------------
# Numbers are exact
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("0.05", sympy.Rational(1, 20)),
    ("0.1+0.2", sympy.Rational(3, 10)),
    ("1e-3", sympy.Rational(1, 1000)),
    ("2.5e3", sympy.Integer(2500)),
    (".5", sympy.Rational(1, 2)),
    ("1_000", sympy.Integer(1000)),
    ("0.333333333333333333", sympy.Rational(333333333333333333, 10**18)),
    (r"0.05 \cdot x", x / 20),
    (r"3 \times 10^{-4}", sympy.Rational(3, 10000)),
])
def test_decimals_are_exact_rationals(text: str, expected: sympy.Basic) -> None:
    got = parse_answer(text)
    assert got == expected
    assert not got.has(sympy.Float)


def test_integers_stay_integers() -> None:
    assert parse_answer("123456789012345678901234567890") == sympy.Integer(123456789012345678901234567890)
    assert parse_answer("2**64") == sympy.Integer(2**64)


# --------------------------------------------------------------------------
# Conventions the graders rely on
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("e^x", sympy.exp(x)),
    (r"e^{-x}", sympy.exp(-x)),
    (r"\mathrm{e}^{x}", sympy.exp(x)),
    ("E*n/b", sympy.Symbol("E") * n / b),
    ("2*pi", 2 * sympy.pi),
    (r"2\pi", 2 * sympy.pi),
    ("lambda*x", lam * x),
    (r"\lambda x", lam * x),
    ("λ x", lam * x),
    (r"\varepsilon + \epsilon", 2 * sympy.Symbol("epsilon")),
    ("α*g/(1−β)", alpha * g / (1 - beta)),
    ("⌊(n+2p-k)/s⌋+1", sympy.floor((n + 2 * p - k) / s) + 1),
    (r"W^{(1)} x", sympy.Symbol("W^(1)") * x),
    (r"x_1^2 + x_{i}", sympy.Symbol("x_1") ** 2 + sympy.Symbol("x_i")),
    (r"\eta g_t", sympy.Symbol("eta") * sympy.Symbol("g_t")),
    ("sigmoid(x)", 1 / (1 + sympy.exp(-x))),
    (r"\operatorname{sigmoid}(x)", 1 / (1 + sympy.exp(-x))),
    ("abs(x) + Abs(y)", sympy.Abs(x) + sympy.Abs(y)),
    ("|x - 1|", sympy.Abs(x - 1)),
    (r"\left| x \right| + 2|y|", sympy.Abs(x) + 2 * sympy.Abs(y)),
    ("|(|x|+1)|", sympy.Abs(sympy.Abs(x) + 1)),
    ("ceil(x) + ceiling(y)", sympy.ceiling(x) + sympy.ceiling(y)),
    ("ln(x) + log(y)", sympy.log(x) + sympy.log(y)),
    (r"\log_2 8", sympy.Integer(3)),
    (r"\sqrt[3]{8} + \sqrt2", 2 + sympy.sqrt(2)),
    (r"\sin^2 x + \cos^2 x", sympy.sin(x) ** 2 + sympy.cos(x) ** 2),
    ("tanh(x)", sympy.tanh(x)),
    ("Min(x, 1) + min(y, 2) + Max(x, y)", sympy.Min(x, 1) + sympy.Min(y, 2) + sympy.Max(x, y)),
    ("7//2", sympy.Integer(3)),
    ("-x^2", -x**2),
    ("x^2^3", x**8),
    ("$\\frac12$", sympy.Rational(1, 2)),
])
def test_conventions(text: str, expected: sympy.Basic) -> None:
    assert parse_answer(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2p", 2 * p),
    ("2 (n+1)", 2 * (n + 1)),
    ("p(1-p)", p * (1 - p)),
    ("(x+1)(x-1)", (x + 1) * (x - 1)),
    ("alpha g", alpha * g),
    ("(a)2", sympy.Symbol("a") * 2),
    ("2floor(x)", 2 * sympy.floor(x)),
    (r"\frac{1}{2}x", x / 2),
])
def test_implicit_multiplication(text: str, expected: sympy.Basic) -> None:
    assert parse_answer(text) == expected


def test_caller_symbols_replace_names() -> None:
    n_pos = sympy.Symbol("n", positive=True, integer=True)
    assert parse_answer("n+1", symbols={"n": n_pos}) == n_pos + 1
    assert parse_answer(r"n_{out}", symbols={"n_out": n_pos}) == n_pos
    assert parse_answer("e*x", symbols={"e": sympy.Symbol("e")}) == sympy.Symbol("e") * x


def test_caller_symbols_must_be_sympy_objects() -> None:
    with pytest.raises(TypeError):
        parse_answer("n", symbols={"n": 3})  # type: ignore[dict-item]


def test_e_is_euler_and_capital_e_is_a_symbol() -> None:
    assert parse_answer("e") is sympy.E
    assert parse_answer("E").is_Symbol


# --------------------------------------------------------------------------
# Shapes: vectors are columns, nested lists are rows
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "shape"), [
    ("[1, 2, 3]", (3, 1)),
    ("(18, 18, 2)", (3, 1)),
    ("18, 18, 2", (3, 1)),
    ("[5]", (1, 1)),
    ("[[1, 2, 3]]", (1, 3)),
    ("[[1, 2], [3, 4], [5, 6]]", (3, 2)),
    ("((1, 2), (3, 4))", (2, 2)),
    (r"\left[\begin{matrix} 1 \\ 2 \end{matrix}\right]", (2, 1)),
    (r"\begin{pmatrix} x & 2y \\ \frac{1}{2} & 0 \end{pmatrix}", (2, 2)),
    (r"(1, 2)", (2, 1)),
])
def test_shapes(text: str, shape: tuple[int, int]) -> None:
    got = parse_answer(text)
    assert isinstance(got, sympy.ImmutableMatrix)
    assert got.shape == shape


def test_matrix_entries_are_expressions() -> None:
    got = parse_answer(r"\begin{pmatrix} x & 2y \\ \frac{1}{2} & 0.5 \end{pmatrix}")
    assert got == sympy.ImmutableMatrix([[x, 2 * y], [sympy.Rational(1, 2), sympy.Rational(1, 2)]])


# --------------------------------------------------------------------------
# Values passed directly
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (3, sympy.Integer(3)),
    (Fraction(3, 4), sympy.Rational(3, 4)),
    (Decimal("0.05"), sympy.Rational(1, 20)),
    (np.int64(7), sympy.Integer(7)),
    (sympy.Rational(1, 3), sympy.Rational(1, 3)),
    ([1, 2], sympy.ImmutableMatrix([1, 2])),
    ([[1, 2], [3, 4]], sympy.ImmutableMatrix([[1, 2], [3, 4]])),
    (np.array([[1, 2], [3, 4]]), sympy.ImmutableMatrix([[1, 2], [3, 4]])),
    (sympy.Matrix([1, 2]), sympy.ImmutableMatrix([1, 2])),
])
def test_direct_values(value: object, expected: sympy.Basic) -> None:
    assert parse_answer(value) == expected


def test_direct_float_becomes_sympy_float() -> None:
    got = parse_answer(0.25)
    assert isinstance(got, sympy.Float) and got == sympy.Float(0.25)


@pytest.mark.parametrize(("value", "verdict"), [
    (float("nan"), "not_finite"),
    (float("inf"), "not_finite"),
    (Decimal("Infinity"), "not_finite"),
    (sympy.oo, "not_finite"),
    (True, "unparseable"),
    (object(), "unparseable"),
    ([[1, 2], [3]], "unparseable"),
    (Decimal("1e999999999"), "too_large"),
])
def test_bad_direct_values(value: object, verdict: str) -> None:
    assert verdict_of(value) == verdict


# --------------------------------------------------------------------------
# Hostile and malformed input
# --------------------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('true')", "unparseable"),
    ("().__class__", "unparseable"),
    ("().__class__.__bases__[0].__subclasses__()", "unparseable"),
    ("lambda: 1", "unparseable"),
    ("open('x')", "unparseable"),
    ("exec('1')", "unparseable"),
    ("f'{1}'", "unparseable"),
    (r"\input{/etc/passwd}", "unparseable"),
    (r"\write18{ls}", "unparseable"),
    (r"\immediate\write18{rm -rf /}", "unparseable"),
    (r"\text{\input{x}}", "unparseable"),
    ("9^9^9^9", "too_large"),
    ("10**10**10", "too_large"),
    ("2**100000", "too_large"),
    ("(2**1000)**1000", "too_large"),
    ("(9*x)**1000*(9*y)**1000", "too_large"),
    ("exp(3000)", "too_large"),
    ("floor(exp(exp(100)))", "too_large"),
    ("x**1001", "too_large"),
    ("x" * 10**6, "too_large"),
    ("(" * 10_000 + "1" + ")" * 10_000, "too_large"),
    ("{" * 10_000 + "1" + "}" * 10_000, "too_large"),
    ("1" * (MAX_DIGITS + 1), "too_large"),
    ("0." + "0" * MAX_DIGITS + "1" + "0" * MAX_DIGITS, "too_large"),   # 61 significant digits
    ("0." + "0" * MAX_RESULT_DIGITS + "1", "too_large"),                # 10^-1001: beyond the order bound
    ("1e-1001", "too_large"),
    (r"\frac{1}{", "unparseable"),
    (r"\frac{1}{2", "unparseable"),
    (r"\left( x", "unparseable"),
    (r"\lfloor x", "unparseable"),
    ("}", "unparseable"),
    ("nan", "not_finite"),
    ("inf", "not_finite"),
    ("oo", "not_finite"),
    ("-oo", "not_finite"),
    ("1e999", "not_finite"),
    (r"\infty", "not_finite"),
    ("∞", "not_finite"),
    ("1/0", "not_finite"),
    (r"\frac{1}{0}", "not_finite"),
    ("0**-1", "not_finite"),
    ("log(0)", "not_finite"),
    ("[[1,2],[3]]", "unparseable"),
    (r"\begin{pmatrix} 1 & 2 \\ 3 \end{pmatrix}", "unparseable"),
    (r"\begin{pmatrix} 1 \end{bmatrix}", "unparseable"),
    (r"\begin{vmatrix} 1 \end{vmatrix}", "unparseable"),
    ("[[[1]]]", "unparseable"),
    ("[]", "unparseable"),
    ("[1, [2]]", "unparseable"),
    ("[1,2] + 1", "unparseable"),
    ("", "unparseable"),
    ("   ", "unparseable"),
    ("'x'", "unparseable"),
    ("True", "unparseable"),
    ("None", "unparseable"),
    ("1j", "unparseable"),
    ("x < y", "unparseable"),
    ("x == y", "unparseable"),
    ("x and y", "unparseable"),
    ("x if y else z", "unparseable"),
    ("x[0]", "unparseable"),
    ("floor(x=1)", "unparseable"),
    ("floor(*x)", "unparseable"),
    ("max(" + ",".join(["x"] * 11) + ")", "unparseable"),
    ("floor(x, y)", "unparseable"),
    ("floor", "unparseable"),
    ("x % 2", "unparseable"),
    ("x @ y", "unparseable"),
    ("~x", "unparseable"),
    ("x # comment", "unparseable"),
    ("_x", "unparseable"),
    ("x\x00", "unparseable"),
    ("x ≤ y", "unparseable"),
    (r"x^{2}^{3}", "unparseable"),
    (r"x_{i+1}", "unparseable"),
    (r"\unknowncommand", "unparseable"),
    (r"x \% 2", "unparseable"),
    ("max(sqrt(-1), 1)", "unparseable"),
    ("2 3", "unparseable"),
    (r"2 \; 3", "unparseable"),
]


@pytest.mark.parametrize(("text", "verdict"), HOSTILE, ids=lambda v: repr(v)[:40])
def test_hostile_and_malformed_input(text: str, verdict: str) -> None:
    started = time.process_time()
    with pytest.raises(ParseError) as caught:
        parse_answer(text)
    assert caught.value.verdict == verdict, caught.value.reason
    assert caught.value.reason
    assert time.process_time() - started < CPU_SECONDS


@pytest.mark.parametrize("text", ["float('inf')", "float('nan')"])
def test_float_calls_are_refused(text: str) -> None:
    assert verdict_of(text) in ("unparseable", "not_finite")


def test_nothing_is_executed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hostile strings never reach eval/exec/sympify/os.system, and compile only builds ASTs."""
    real_compile = builtins.compile
    called: list[str] = []

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert flags & ast.PyCF_ONLY_AST, "compile() was asked for code, not a syntax tree"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(name: str):  # type: ignore[no-untyped-def]
        def record(*args: object, **kwargs: object) -> None:
            called.append(name)
            raise AssertionError(f"{name} was called")
        return record

    monkeypatch.setattr(builtins, "compile", ast_only_compile)
    monkeypatch.setattr(builtins, "eval", forbidden("eval"))
    monkeypatch.setattr(builtins, "exec", forbidden("exec"))
    monkeypatch.setattr(os, "system", forbidden("os.system"))
    from sympy.parsing import sympy_parser
    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden("parse_expr"))
    marker = tmp_path / "pwned"
    attacks = [text for text, _ in HOSTILE] + [
        f"open({str(marker)!r}, 'w')",
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        "[x for x in ().__class__.__base__.__subclasses__()]",
    ]
    for text in attacks:
        with pytest.raises(ParseError):
            parse_answer(text)
    assert parse_answer("floor((n+2*p-k)/s)+1") == sympy.floor((n + 2 * p - k) / s) + 1
    assert not called and not marker.exists()


FORBIDDEN_CALLS = {"eval", "exec", "sympify", "parse_expr", "S", "parse_latex", "compile",
                   "__import__", "literal_eval", "lambdify"}


PARSE_MODULES = sorted(Path(parse_module.__file__).parent.glob("*.py"))


def test_the_static_check_sees_every_reader() -> None:
    names = {path.stem for path in PARSE_MODULES}
    assert {"__init__", "answer", "plain", "latex", "latex_lexer", "matexpr", "builder", "clean"} <= names


@pytest.mark.parametrize("path", PARSE_MODULES, ids=lambda path: path.name)
def test_module_never_calls_dangerous_functions(path: Path) -> None:
    """A static check of the parser's own code (docstrings may mention them)."""
    tree = ast.parse(path.read_text())
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = {func.id for func in calls if isinstance(func, ast.Name)}
    methods = {func.attr for func in calls if isinstance(func, ast.Attribute)
               and not (isinstance(func.value, ast.Name) and func.value.id == "re")}  # re.compile is fine
    assert not (names | methods) & FORBIDDEN_CALLS


# --------------------------------------------------------------------------
# Where reading failed
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "position"), [
    ("2 + * 3", 4),                      # plain: Python's parser points at the second operator
    ("x % 2", 2),
    ("(x) % 2", 4),
    ("~x", 0),
    ("x < y", 0),
    ("'x'", 0),
    ("open('x')", 5),                    # open(...) is open*(...): the string is what is refused
    ("floor(x=1)", 6),
    ("_x", 0),
    ("x # comment", 2),
    ("x +", 3),                          # ended too early: the end of the text
    ("x ≤ y", 2),                        # a character neither reader accepts
    ("α + * 3", 4),                      # after Unicode was spelled out (α is ' alpha ')
    ("  2p + * 3", 7),                   # after spaces were folded and '*' put in for 2p
    ("x^2 + * 3", 6),                    # after ^ became **
    ("lambda + * 3", 9),                 # after lambda was renamed
    (r"\frac{1}{", 9),                   # LaTeX: the answer ends where the denominator should start
    (r"\input{x}", 0),
    (r"\text{\input{x}}", 0),
    (r"$\input{x}$", 1),                 # after the $...$ was taken off
    (r"α \input{x}", 2),                 # after α became \alpha
    (r"x^{2}^{3}", 5),
    (r"2 \; 3", 5),
    (r"x_{i+1}", 4),
    (r"x_{}", 3),
    (r"\begin{vmatrix} 1 \end{vmatrix}", 0),
    (r"\begin{pmatrix} 1 \end{bmatrix}", 18),
    (r"\begin{pmatrix} 1 ) \end{pmatrix}", 18),
    (r"\left( x", 8),
    (r"x # y \cdot 2", 2),
    ("}", 0),
])
def test_unparseable_answers_point_at_the_offending_character(text: str, position: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_answer(text)
    error = caught.value
    assert error.verdict == "unparseable", error.reason
    assert error.position == position, error.reason
    assert f"at character {position + 1}" in error.reason and error.reason in str(error)


@pytest.mark.parametrize("answer", ["9^9^9^9", "1/0", "nan", r"x + \begin{pmatrix} 1 \end{pmatrix}", "floor",
                                    "", True, [[1, 2], [3]]])
def test_errors_without_a_single_place_have_no_position(answer: object) -> None:
    with pytest.raises(ParseError) as caught:
        parse_answer(answer)
    assert caught.value.position is None
    assert "at character" not in caught.value.reason


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["x", "2", " ", "  ", "\t", "+", "^", "lambda", "(", ")", "α", "×", "⌊", "⌋",
                                 "2p", "#"]), max_size=25).map("".join))
def test_every_error_position_lies_within_the_answer(text: str) -> None:
    try:
        parse_answer(text)
    except ParseError as error:
        assert error.position is None or 0 <= error.position <= len(text)


# --------------------------------------------------------------------------
# Rewritten text keeps the offsets of the original
# --------------------------------------------------------------------------

_TEXTS = st.text(alphabet=" \t\nab^#(*)", max_size=30)


@given(_TEXTS)
def test_source_text_rewrites_match_the_string_functions(text: str) -> None:
    source = SourceText.of(text)
    assert source.sub(re.compile(r"\s+"), " ").strip().text == " ".join(text.split())
    assert source.sub(re.compile(r"\^"), "**").text == text.replace("^", "**")
    assert source.translate({"a": " alpha ", "#": ""}).text == text.translate({ord("a"): " alpha ", ord("#"): ""})
    assert source.strip().text == text.strip()


@given(_TEXTS, st.sets(st.integers(0, 30)))
def test_source_text_origins_follow_the_original(text: str, cuts: set[int]) -> None:
    columns = sorted(c for c in cuts if c <= len(text))
    edited = SourceText.of(text).translate({"a": "xyz"}).edit(())
    inserted = SourceText.of(text).edit((c, c, "*") for c in columns)
    for result in (edited, inserted):
        assert len(result.origins) == len(result.text) + 1
        assert list(result.origins) == sorted(result.origins) and result.origins[-1] == len(text)
    for index, char in enumerate(inserted.text):
        assert char == "*" or text[inserted.origin(index)] == char


def test_source_text_places_replacements_where_the_replaced_text_began() -> None:
    source = SourceText.of("α+⌊x⌋").translate({"α": " alpha ", "⌊": " floor(", "⌋": ")"})
    assert source.text == " alpha + floor(x)"
    assert [source.origin(i) for i in (1, 7, 9, 15, 16, 17, 99)] == [0, 1, 2, 3, 4, 5, 5]


# --------------------------------------------------------------------------
# Bounds and their overrides
# --------------------------------------------------------------------------

def test_length_bound_and_override() -> None:
    long_sum = "+".join(["x"] * (MAX_LENGTH // 2 + 1))
    assert verdict_of(long_sum) == "too_large"
    assert parse_answer(long_sum, max_length=len(long_sum)) == (MAX_LENGTH // 2 + 1) * x


def test_depth_bound_and_override() -> None:
    nested = "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)
    assert verdict_of(nested) == "too_large"
    assert parse_answer(nested, max_depth=MAX_DEPTH + 1) == x
    assert parse_answer("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH) == x


@pytest.mark.parametrize("text", [
    "**".join(["1"] * (MAX_DEPTH + 5)),                      # no brackets, deep AST
    "x" + "**-x" * (MAX_DEPTH // 2 + 5),
    r"\ln" * (MAX_DEPTH + 5) + " x",                         # no brackets, deep LaTeX
    r"\lfloor" * (MAX_DEPTH + 5) + " x" + r"\rfloor" * (MAX_DEPTH + 5),
])
def test_expression_depth_is_bounded_without_brackets(text: str) -> None:
    assert verdict_of(text) == "too_large"


def test_long_flat_sums_are_not_deep() -> None:
    """a+b+c+... is a long chain, not deep nesting, and stays fast."""
    text = "+".join(f"x{i}" for i in range(300))
    started = time.process_time()
    assert len(parse_answer(text).args) == 300
    assert time.process_time() - started < CPU_SECONDS


def test_digit_bound_and_override() -> None:
    assert parse_answer("9" * MAX_DIGITS) == sympy.Integer(int("9" * MAX_DIGITS))
    assert verdict_of("9" * (MAX_DIGITS + 1)) == "too_large"
    assert parse_answer("9" * (MAX_DIGITS + 1), max_digits=MAX_DIGITS + 1) == int("9" * (MAX_DIGITS + 1))


def test_exponent_bound_and_override() -> None:
    assert parse_answer(f"x**{MAX_EXPONENT}") == x**MAX_EXPONENT
    assert parse_answer(f"x**-{MAX_EXPONENT}") == x**-MAX_EXPONENT
    assert verdict_of(f"x^{MAX_EXPONENT + 1}") == "too_large"
    assert parse_answer(f"x^{MAX_EXPONENT + 1}", max_exponent=MAX_EXPONENT + 1) == x ** (MAX_EXPONENT + 1)


def test_result_size_bound() -> None:
    assert parse_answer("2**1000") == sympy.Integer(2) ** 1000
    assert verdict_of("3**1000*3**1000*3**1000") == "too_large"
    assert verdict_of("2**1000", max_result_digits=100) == "too_large"
    assert parse_answer("exp(1000)") == sympy.exp(1000)  # symbolic: fine


@pytest.mark.parametrize("text", ["9^9^9^9", "10**10**10", "(10**999)**999", "floor(exp(exp(exp(100))))"])
def test_huge_powers_are_refused_before_evaluation(text: str) -> None:
    started = time.process_time()
    assert verdict_of(text) == "too_large"
    assert time.process_time() - started < CPU_SECONDS


def test_syntax_can_be_forced() -> None:
    assert parse_answer("2p", syntax="latex") == 2 * p
    assert parse_answer("x^2", syntax="latex") == x**2
    assert verdict_of(r"\frac{1}{2}", syntax="plain") == "unparseable"
    with pytest.raises(ValueError):
        parse_answer("1", syntax="mathml")  # type: ignore[arg-type]


def test_parse_error_is_an_answer_error() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer("nan")
    error = caught.value
    assert isinstance(error, SymderivError) and isinstance(error, ParseError)
    assert error.verdict == "not_finite" and error.reason in str(error)


# --------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------

ALPHABET = [
    "0", "1", "2", "9", "99", "999", "0.5", "1e5", "1e999", ".", "x", "n", "p", "e", "E", "pi",
    "alpha", "lambda", "+", "-", "*", "/", "^", "**", "//", "(", ")", "[", "]", "{", "}", ",",
    "&", "|", "_", " ", "'", "=", "floor", "ceil", "sqrt", "exp", "log", "max", "min", "abs",
    "sigmoid", "sin", "\\frac", "\\dfrac", "\\sqrt", "\\left", "\\right", "\\lfloor", "\\rfloor",
    "\\lceil", "\\rceil", "\\cdot", "\\times", "\\alpha", "\\sigma", "\\ln", "\\log", "\\exp",
    "\\max", "\\infty", "\\pi", "\\\\", "\\begin{pmatrix}", "\\end{pmatrix}", "\\begin{bmatrix}",
    "\\end{bmatrix}", "\\text{out}", "\\input", "\\write18", "nan", "inf", "oo", "__import__",
    ".__class__", "lambda:", "α", "⌊", "⌋",
]


def parse_quickly(text: str, syntax: str = "auto") -> None:
    """The property every input must satisfy: a SymPy object or a ParseError, fast."""
    started = time.process_time()
    try:
        result = parse_answer(text, syntax=syntax)  # type: ignore[arg-type]
    except ParseError as error:
        assert error.verdict in ("unparseable", "too_large", "not_finite")
    else:
        assert isinstance(result, sympy.Basic)
    assert time.process_time() - started < CPU_SECONDS, text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_random_grammar_strings_never_crash(text: str) -> None:
    parse_quickly(text)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80), st.sampled_from(["auto", "plain", "latex"]))
def test_random_text_never_crashes(text: str, syntax: str) -> None:
    parse_quickly(text, syntax)


SYMBOLS = [x, y, n, sympy.Symbol("n_out"), lam]
LEAVES = st.one_of(
    st.sampled_from(SYMBOLS),
    st.integers(-20, 20).map(sympy.Integer),
    st.fractions(max_denominator=12).map(lambda f: sympy.Rational(f.numerator, f.denominator)),
)
UNARY = [sympy.floor, sympy.ceiling, sympy.Abs, sympy.exp, sympy.log, sympy.sqrt]
BINARY = [sympy.Add, sympy.Mul, lambda a, c: a / c, lambda a, c: a - c, sympy.Max, sympy.Min]


def _apply(function, *args):  # type: ignore[no-untyped-def]
    """Build one random node; SymPy refusing it (Max(zoo, x)) gives nan, filtered later."""
    try:
        return function(*args)
    except (ValueError, TypeError, ArithmeticError):
        return sympy.nan


def _extend(children: st.SearchStrategy[sympy.Basic]) -> st.SearchStrategy[sympy.Basic]:
    return st.one_of(
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: _apply(*t)),
        st.tuples(st.sampled_from(BINARY), children, children).map(lambda t: _apply(*t)),
        st.tuples(st.just(sympy.Pow), children, st.integers(-3, 3)).map(lambda t: _apply(*t)),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=6)
NOT_ROUND_TRIPPABLE = (sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def parse_within_bounds(text: str, syntax: str) -> sympy.Basic:
    """Parse, discarding the example if it is legitimately over a size bound."""
    try:
        return parse_answer(text, syntax=syntax)  # type: ignore[arg-type]
    except ParseError as error:
        assume(error.verdict != "too_large")
        raise


KNOWN_FUNCTIONS = (sympy.floor, sympy.ceiling, sympy.Abs, sympy.exp, sympy.log, sympy.Max, sympy.Min)


def _printable(expr: sympy.Basic) -> bool:
    """Only our vocabulary: SymPy may introduce re(x), sign(x), I... which we do not read."""
    functions = {type(f) for f in expr.atoms(sympy.Function)}
    return (not any(expr.has(atom) for atom in NOT_ROUND_TRIPPABLE)
            and all(issubclass(f, KNOWN_FUNCTIONS) for f in functions))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_sympy_str_round_trips(expr: sympy.Basic) -> None:
    """What SymPy prints in plain syntax reads back as an equal expression."""
    assume(_printable(expr) and not expr.has(sympy.E))  # str prints Euler's e as "E"
    assert same(parse_within_bounds(str(expr), "plain"), expr)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_sympy_latex_round_trips(expr: sympy.Basic) -> None:
    """What SymPy prints as LaTeX reads back as an equal expression."""
    assume(_printable(expr))
    assert same(parse_within_bounds(sympy.latex(expr), "latex"), expr)


def test_a_decimal_exponent_is_an_order_of_magnitude_not_digits() -> None:
    """The key's 40-figure floats below 1e-40 are read exactly; only the significant digits
    count against MAX_DIGITS, the exponent against MAX_RESULT_DIGITS."""
    mantissa = "4591774807899560578002877098524397178979"
    value = parse_answer(f"-{mantissa[0]}.{mantissa[1:]}e-41")
    assert value == -sympy.Rational(int(mantissa), 10 ** (39 + 41))
    assert parse_answer("1e-1000") == sympy.Rational(1, 10 ** 1000)
    assert parse_answer("2.5e300") == sympy.Rational(25, 10) * 10 ** 300
