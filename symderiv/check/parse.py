"""Safe parsing of untrusted answer strings into SymPy objects.

Students type answers such as ``floor((n+2*p-k)/s)+1``, ``[[32,16],[24,12]]``,
``0.05`` or ``\\frac{\\alpha g}{1-\\beta}``.  Those strings come from people we do
not control, so this module never hands them to anything that can execute code:
no ``eval``/``exec``, no ``sympify``/``parse_expr``/``S(str)`` and no
``sympy.parsing.latex``.  Instead:

* **Plain syntax** is read by :func:`ast.parse` (which only builds a syntax tree)
  and a walker that accepts a short *whitelist* of node types (numbers, names,
  ``+ - * / // ** ^``, unary signs, calls of whitelisted functions, lists and
  tuples).  Everything else (attributes, subscripts, strings, lambdas,
  comparisons, keyword arguments, ...) is refused.
* **LaTeX** is read by a small recursive-descent parser written here, which knows
  a fixed list of commands and refuses every other one (``\\input``, ``\\write18``...).

Both readers build SymPy objects through one :class:`_Builder`, which enforces
*structural* bounds before SymPy computes anything: input length, nesting depth,
digits of a literal, size of a numeric exponent, and an estimate of the digits of
every number SymPy would create (so ``9^9^9^9`` is refused instead of computed).
A wall-clock budget is checked between steps as a last line of defence only.

Conventions (decided here, relied on by the graders):

* Decimal literals are exact: ``0.05`` is ``Rational(1, 20)``, never a float.
* ``e`` is Euler's number and ``pi``/``\\pi`` is π; ``E`` is an ordinary symbol
  (it often means "epochs").  Pass ``symbols={"e": Symbol("e")}`` to override.
* Symbols are created without assumptions, ``Symbol("n")``; pass ``symbols`` to
  map names to the grader's own symbols.  Greek names are spelled out
  (``\\alpha``, ``alpha`` and ``α`` all give ``Symbol("alpha")``, ``\\lambda``
  gives ``Symbol("lambda")``); ``var`` forms fold to the plain letter.
* ``x_{out}`` and ``x_out`` both give ``Symbol("x_out")``; a parenthesised
  superscript label ``W^{(1)}`` gives ``Symbol("W^(1)")``, not a power.
* A flat list or tuple is a column vector (n x 1), as gradients are in this
  project; a list of lists is a matrix given row by row.  Both are returned as
  :class:`sympy.ImmutableMatrix`.  Ragged rows are refused.
* Infinity and NaN (``oo``, ``inf``, ``nan``, ``1e999``, ``\\infty``, ``1/0``)
  give the verdict ``"not_finite"``.
* Juxtaposition multiplies in both syntaxes: ``2p``, ``p(1-p)``, ``\\alpha g``.
  Only whitelisted names are functions, so an unknown ``f(x)`` reads as ``f*x``
  and ``\\sigma(z)`` as ``sigma*z`` (write ``sigmoid(z)`` for the logistic).
* In LaTeX a run of letters is a product of one-letter symbols (``lr`` is
  ``l*r``), except whole known words: function names (``max``, ``log``...) and
  Greek names (``alpha``...).  Use ``\\text{lr}`` or ``lr`` in plain syntax
  for a multi-letter symbol.  ``|x|`` is an absolute value; a bar inside bars
  needs its own parentheses, ``|(|x|+1)|``, or ``abs(...)``.

Limits are module constants (``MAX_*``) and keyword overrides of
:func:`parse_answer`; exceeding one gives the verdict ``"too_large"``.
"""
from __future__ import annotations

import ast
import io
import keyword
import math
import numbers
import operator
import re
import time
import tokenize
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Union

import sympy
from sympy.matrices import MatrixBase

from symderiv.errors import AnswerError

MAX_LENGTH = 2_000
"""Longest answer string accepted, in characters."""
MAX_DEPTH = 50
"""Deepest bracket nesting (checked on the raw text) and expression nesting."""
MAX_DIGITS = 30
"""Most digits in one number literal (a decimal counts its exponent too)."""
MAX_EXPONENT = 1_000
"""Largest absolute value of a numeric exponent, as in ``x^1000``."""
MAX_RESULT_DIGITS = 1_000
"""Largest estimated size, in decimal digits, of any number SymPy would build."""
MAX_SECONDS = 1.0
"""Wall-clock budget of one parse, checked between steps (a backstop only)."""
MAX_CALL_ARGS = 10
"""Most arguments of one ``max``/``min`` call (SymPy compares them pairwise)."""

Verdict = Literal["unparseable", "too_large", "not_finite"]
Syntax = Literal["auto", "plain", "latex"]
_Value = Union[sympy.Basic, tuple]  # a scalar, a matrix, or a (nested) tuple

_LOG10_2 = math.log10(2)
_LOG10_E = math.log10(math.e)


class ParseError(AnswerError):
    """An answer string could not be turned into a SymPy object.

    ``verdict`` says what kind of failure it is, so a grader can mark it without
    reading the message: ``"unparseable"`` (not a well-formed answer in our
    grammar), ``"too_large"`` (over one of the size bounds) or ``"not_finite"``
    (infinity or NaN).  ``reason`` is a sentence for the student.
    """

    def __init__(self, verdict: Verdict, reason: str) -> None:
        self.verdict: Verdict = verdict
        self.reason = reason
        super().__init__(f"{verdict}: {reason}")


def _unparseable(reason: str) -> ParseError:
    return ParseError("unparseable", reason)


def _too_large(reason: str) -> ParseError:
    return ParseError("too_large", reason)


def _not_finite(reason: str) -> ParseError:
    return ParseError("not_finite", reason)


@dataclass(frozen=True)
class Limits:
    """The structural bounds of one parse; see the ``MAX_*`` constants."""

    length: int = MAX_LENGTH
    depth: int = MAX_DEPTH
    digits: int = MAX_DIGITS
    exponent: int = MAX_EXPONENT
    result_digits: int = MAX_RESULT_DIGITS
    seconds: float = MAX_SECONDS


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


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
    ``verdict`` is ``"unparseable"``, ``"too_large"`` or ``"not_finite"``.
    """
    if syntax not in ("auto", "plain", "latex"):
        raise ValueError(f"syntax must be 'auto', 'plain' or 'latex', not {syntax!r}")
    bad = [name for name, value in (symbols or {}).items() if not isinstance(value, sympy.Basic)]
    if bad:
        raise TypeError(f"symbols must map names to SymPy objects; not so for {', '.join(bad)}")
    limits = Limits(length=max_length, depth=max_depth, digits=max_digits, exponent=max_exponent,
                    result_digits=max_result_digits, seconds=max_seconds)
    builder = _Builder(limits, dict(symbols or {}))
    try:
        value = (_parse_text(answer, syntax, builder) if isinstance(answer, str)
                 else _from_value(answer, builder))
        return _check_finite(_as_answer(value))
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - see below
        # SymPy raises many exception types on odd but well-formed input (for
        # example Max(I, 1) is a ValueError).  An answer SymPy cannot build is,
        # for grading, simply unparseable; the original stays chained.
        raise _unparseable(f"the answer cannot be built ({type(exc).__name__}: {str(exc)[:200]})") from exc


def _parse_text(text: str, syntax: Syntax, builder: _Builder) -> _Value:
    """Check the raw text against the bounds, then hand it to one reader."""
    limits = builder.limits
    if len(text) > limits.length:
        raise _too_large(f"the answer has {len(text)} characters; the limit is {limits.length}")
    chosen = _choose_syntax(text) if syntax == "auto" else syntax
    text = _clean_characters(text, chosen)
    if not text.strip():
        raise _unparseable("the answer is empty")
    depth = _bracket_depth(text)
    if depth > limits.depth:
        raise _too_large(f"brackets are nested {depth} deep; the limit is {limits.depth}")
    return _parse_plain(text, builder) if chosen == "plain" else _parse_latex(text, builder)


def _choose_syntax(text: str) -> Syntax:
    """LaTeX needs a backslash, braces, ``&``, ``$`` or ``|``; plain math never uses them.

    (``|x|`` goes to the LaTeX reader because Python's ``|`` means something else.)
    """
    return "latex" if any(c in text for c in "\\{}&$|") else "plain"


# --------------------------------------------------------------------------
# Characters: Unicode conveniences, then ASCII only
# --------------------------------------------------------------------------

_GREEK_UNICODE = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Δ": "Delta", "Σ": "Sigma",
}
_SYMBOL_UNICODE = {  # character: (plain spelling, LaTeX spelling)
    "−": ("-", "-"), "×": ("*", "\\times "), "·": ("*", "\\cdot "), "⋅": ("*", "\\cdot "),
    "÷": ("/", "\\div "), "∞": (" oo ", "\\infty "), "²": ("^2", "^2"), "³": ("^3", "^3"),
    "⌊": (" floor(", "\\lfloor "), "⌋": (")", "\\rfloor "),
    "⌈": (" ceiling(", "\\lceil "), "⌉": (")", "\\rceil "),
}
_PLAIN_TABLE = str.maketrans(
    {**{k: f" {v} " for k, v in _GREEK_UNICODE.items()},
     **{k: v[0] for k, v in _SYMBOL_UNICODE.items()}})
_LATEX_TABLE = str.maketrans(
    {**{k: f"\\{v} " for k, v in _GREEK_UNICODE.items()},
     **{k: v[1] for k, v in _SYMBOL_UNICODE.items()}})


def _clean_characters(text: str, syntax: Syntax) -> str:
    """Spell common Unicode math (Greek letters, ×, −, ⌊⌋) in ASCII, refuse the rest.

    Only printable ASCII and ordinary whitespace remain afterwards, so neither
    reader ever sees look-alike characters or control codes.
    """
    text = text.translate(_PLAIN_TABLE if syntax == "plain" else _LATEX_TABLE)
    for index, char in enumerate(text):
        if not (" " <= char <= "~" or char in "\t\n\r"):
            raise _unparseable(f"character {char!r} at position {index} is not allowed")
    return text


def _bracket_depth(text: str) -> int:
    """Deepest nesting of ( [ { in the raw text, measured before any parser runs."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest


# --------------------------------------------------------------------------
# Building SymPy objects under bounds (shared by both readers)
# --------------------------------------------------------------------------

_CONSTANTS: dict[str, sympy.Basic] = {"pi": sympy.pi, "e": sympy.E}
_NON_FINITE_NAMES = frozenset({"oo", "inf", "infty", "infinity", "Infinity", "nan", "NaN"})
_GREEK_ALIASES = {"varepsilon": "epsilon", "vartheta": "theta", "varrho": "rho",
                  "varsigma": "sigma", "varphi": "phi"}
_NON_FINITE_VALUES = (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan)
_DECIMAL = re.compile(r"(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_HALF = sympy.Rational(1, 2)


@dataclass(frozen=True)
class _Function:
    """A whitelisted function: how to build it and how many arguments it takes."""

    build: Callable[..., sympy.Basic]  # called as build(builder, *args)
    min_args: int = 1
    max_args: int = 1


def _direct(function: Callable[..., sympy.Basic]) -> Callable[..., sympy.Basic]:
    """Wrap a SymPy function so its result goes through the builder's checks."""
    return lambda builder, *args: builder.done(function(*args))


def _sigmoid(builder: _Builder, x: sympy.Basic) -> sympy.Basic:
    """sigmoid(x) = 1/(1+exp(-x)), built from checked steps."""
    exp_minus_x = builder.call("exp", [builder.neg(x)])
    return builder.binary("/", sympy.Integer(1), builder.binary("+", sympy.Integer(1), exp_minus_x))


_FLOOR = _Function(_direct(sympy.floor))
_CEILING = _Function(_direct(sympy.ceiling))
_LOG = _Function(_direct(sympy.log), 1, 2)
_ABS = _Function(_direct(sympy.Abs))
_MAX = _Function(_direct(sympy.Max), 1, MAX_CALL_ARGS)
_MIN = _Function(_direct(sympy.Min), 1, MAX_CALL_ARGS)
FUNCTIONS: dict[str, _Function] = {
    "floor": _FLOOR, "ceiling": _CEILING, "ceil": _CEILING,
    "sqrt": _Function(lambda builder, x: builder.power(x, _HALF)),
    "exp": _Function(_direct(sympy.exp)), "log": _LOG, "ln": _Function(_direct(sympy.log)),
    "abs": _ABS, "Abs": _ABS, "max": _MAX, "Max": _MAX, "min": _MIN, "Min": _MIN,
    "sin": _Function(_direct(sympy.sin)), "cos": _Function(_direct(sympy.cos)),
    "tanh": _Function(_direct(sympy.tanh)), "sigmoid": _Function(_sigmoid),
}
"""Functions an answer may call, by the names a student may use."""

_RUN_KIND = {"+": "sum", "-": "sum", "*": "product", "/": "product"}
_ARITHMETIC: dict[str, Callable[[sympy.Basic, sympy.Basic], sympy.Basic]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": lambda a, b: sympy.floor(a / b),
}


def _log10_int(n: int) -> float:
    """log10 of |n| (0 for 0), exact enough and safe for huge integers."""
    n = abs(int(n))
    if n == 0:
        return 0.0
    return math.log10(n) if n.bit_length() < 1000 else n.bit_length() * _LOG10_2


def _digit_count(n: int) -> int:
    """Decimal digits of |n|: exact for ordinary sizes, estimated for enormous ones."""
    n = abs(int(n))
    return len(str(n)) if n.bit_length() < 10_000 else int(n.bit_length() * _LOG10_2) + 1


def _pow10(x: float) -> float:
    return 10.0 ** x if x < 300 else math.inf


def _abs_float(number: sympy.Basic) -> float:
    try:
        return abs(float(number))
    except (OverflowError, TypeError, ValueError):
        return math.inf


def _power_size(exponent: sympy.Basic, base_size: float, exponent_size: float) -> float:
    """Digits of base**exponent: |log10 base| times |exponent|, whichever is larger."""
    if base_size == 0.0:
        return exponent_size
    factor = _abs_float(exponent) if exponent.is_Number else _pow10(exponent_size)
    return max(base_size * factor, exponent_size)


def _atom_size(expr: sympy.Basic) -> float:
    if expr.is_Rational:
        return max(_log10_int(expr.p), _log10_int(expr.q))
    if expr.is_Float:
        value = _abs_float(expr)
        return 0.0 if value == 0.0 else abs(math.log10(value))
    return 0.0 if expr.is_Symbol else 1.0


@dataclass
class _Builder:
    """Creates SymPy objects for the readers, refusing anything too large first.

    Every intermediate result passes :meth:`done`, which rejects infinities and
    results whose estimated size (``size``) exceeds ``limits.result_digits``.
    Powers are checked *before* SymPy evaluates them, because ``9**387420489``
    would be computed eagerly.
    """

    limits: Limits
    symbols: dict[str, sympy.Basic]
    deadline: float = field(init=False)
    _sizes: dict[sympy.Basic, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.seconds

    # ---- checks ----------------------------------------------------------

    def size(self, expr: sympy.Basic) -> float:
        """Upper estimate of |log10| of the numbers in ``expr`` (symbols count as 1).

        The estimate follows the tree: a sum adds a little, a product adds,
        a power multiplies by the exponent, ``exp`` exponentiates.  It is cached
        because each step of a long sum looks at the same terms again.
        """
        known = self._sizes.get(expr)
        if known is None:
            known = self._sizes[expr] = self._estimate(expr)
        return known

    def _estimate(self, expr: sympy.Basic) -> float:
        if not expr.args:
            return _atom_size(expr)
        parts = [self.size(arg) for arg in expr.args]
        if expr.is_Add:
            return max(parts) + math.log10(len(parts))
        if expr.is_Mul:
            return sum(parts)
        if expr.is_Pow:
            return _power_size(expr.exp, parts[0], parts[1])
        if isinstance(expr, sympy.exp):
            return max(_pow10(parts[0]) * _LOG10_E, parts[0])
        return max(parts) + 1.0

    def done(self, expr: sympy.Basic) -> sympy.Basic:
        """Accept one built step, or raise if it is infinite, too large or too slow."""
        if expr in _NON_FINITE_VALUES:
            raise _not_finite("the answer is infinite or undefined (for example a division by zero)")
        if self.size(expr) > self.limits.result_digits:
            raise _too_large(f"a number in the answer would need more than {self.limits.result_digits} digits")
        if time.monotonic() > self.deadline:
            raise _too_large(f"reading the answer took longer than {self.limits.seconds} s")
        return expr

    @staticmethod
    def scalar(value: _Value) -> sympy.Basic:
        """Refuse lists and matrices inside arithmetic: they may only be the whole answer."""
        if isinstance(value, (tuple, list, MatrixBase)):
            raise _unparseable("a list, tuple or matrix may only be the whole answer, not part of an expression")
        return value

    # ---- leaves ----------------------------------------------------------

    def integer(self, value: int) -> sympy.Integer:
        """An integer literal, refused when it has more than ``limits.digits`` digits."""
        digits = _digit_count(value)
        if digits > self.limits.digits:
            raise _too_large(f"a number has about {digits} digits; the limit is {self.limits.digits}")
        return sympy.Integer(value)

    def decimal(self, text: str) -> sympy.Rational:
        """An exact Rational from a literal's source text: ``0.05`` -> 1/20, ``1e-3`` -> 1/1000.

        Digits are counted on the text before any big number is made, so
        ``1e-999999`` is refused without computing ``10**999999``.
        """
        match = _DECIMAL.fullmatch(text.replace("_", ""))
        if match is None or not (match.group(1) or match.group(2)):
            raise _unparseable(f"{text!r} is not a number")
        whole, fraction = match.group(1), match.group(2) or ""
        shift = int(match.group(3) or 0) - len(fraction)
        significant = (whole + fraction).lstrip("0")
        if max(len(significant) + max(shift, 0), -shift) > self.limits.digits:
            raise _too_large(f"the number {text[:40]} needs more than {self.limits.digits} digits")
        mantissa = int(whole + fraction or "0")
        return sympy.Rational(mantissa * 10 ** max(shift, 0), 10 ** max(-shift, 0))

    def name(self, name: str) -> sympy.Basic:
        """A name: the caller's symbol, a constant, or a new assumption-free Symbol."""
        if name in self.symbols:
            return self.symbols[name]
        name = _GREEK_ALIASES.get(name, name)
        if name in self.symbols:
            return self.symbols[name]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _NON_FINITE_NAMES:
            raise _not_finite(f"{name!r} is infinite or not a number")
        if name in FUNCTIONS:
            raise _unparseable(f"{name} is a function; write {name}(...)")
        return sympy.Symbol(name)

    # ---- operations ------------------------------------------------------

    def binary(self, op: str, left: _Value, right: _Value) -> sympy.Basic:
        """``left op right`` for op in + - * / // ^ (``^`` is a power)."""
        a, b = self.scalar(left), self.scalar(right)
        if op in ("^", "**"):
            return self.power(a, b)
        if op in ("/", "//") and b == 0:
            raise _not_finite("division by zero")
        return self.done(_ARITHMETIC[op](a, b))

    def fold(self, first: _Value, steps: list[tuple[str, _Value]]) -> sympy.Basic:
        """Apply ``first op1 x1 op2 x2 ...`` left to right, as written.

        Runs of ``+``/``-`` become one ``Add`` and runs of ``*``/``/`` one ``Mul``:
        the same value as pairwise steps, but linear instead of quadratic in the
        number of terms, which keeps a long (2,000-character) sum fast.
        """
        value, start = self.scalar(first), 0
        while start < len(steps):
            kind = _RUN_KIND.get(steps[start][0])
            end = start + 1
            while kind is not None and end < len(steps) and _RUN_KIND.get(steps[end][0]) == kind:
                end += 1
            run = steps[start:end]
            value = (self.binary(run[0][0], value, run[0][1]) if kind is None
                     else self._sum(value, run) if kind == "sum" else self._product(value, run))
            start = end
        return value

    def _sum(self, first: sympy.Basic, run: list[tuple[str, _Value]]) -> sympy.Basic:
        terms = [first] + [self.scalar(x) if op == "+" else self.neg(x) for op, x in run]
        return self.done(sympy.Add(*terms))

    def _product(self, first: sympy.Basic, run: list[tuple[str, _Value]]) -> sympy.Basic:
        factors = [first] + [self.scalar(x) if op == "*" else self.power(x, sympy.Integer(-1))
                             for op, x in run]
        if sum(self.size(factor) for factor in factors) > self.limits.result_digits:
            raise _too_large(f"the product would need more than {self.limits.result_digits} digits")
        return self.done(sympy.Mul(*factors))

    def neg(self, value: _Value) -> sympy.Basic:
        return self.done(-self.scalar(value))

    def power(self, base: _Value, exponent: _Value) -> sympy.Basic:
        """``base**exponent``, refused *before* SymPy evaluates it if it is too big."""
        base, exponent = self.scalar(base), self.scalar(exponent)
        if exponent.is_Number and abs(exponent) > self.limits.exponent:
            raise _too_large(f"the exponent {str(exponent)[:40]} is larger than {self.limits.exponent}")
        digits = _power_size(exponent, self.size(base), self.size(exponent))
        if digits > self.limits.result_digits:
            raise _too_large(f"the power would need more than {self.limits.result_digits} digits")
        if base == 0 and exponent.is_Number and exponent.is_negative:
            raise _not_finite("division by zero")
        return self.done(sympy.Pow(base, exponent))

    def call(self, name: str, args: list[_Value]) -> sympy.Basic:
        """A whitelisted function of checked arguments."""
        function = FUNCTIONS.get(name)
        if function is None:
            raise _unparseable(f"{name} is not an allowed function")
        if not function.min_args <= len(args) <= function.max_args:
            raise _unparseable(f"{name} takes {function.min_args}"
                               + ("" if function.min_args == function.max_args else f" to {function.max_args}")
                               + f" argument(s), not {len(args)}")
        return function.build(self, *(self.scalar(arg) for arg in args))


# --------------------------------------------------------------------------
# Results: shapes and finiteness
# --------------------------------------------------------------------------


def _is_sequence(value: object) -> bool:
    return isinstance(value, (tuple, list, MatrixBase))


def _as_answer(value: _Value) -> sympy.Basic:
    """Turn the reader's value into the returned object (tuples become matrices)."""
    if isinstance(value, MatrixBase):
        return sympy.ImmutableMatrix(value)
    if isinstance(value, (tuple, list)):
        return _sequence_to_matrix(value)
    return value


def _sequence_to_matrix(items: tuple | list) -> sympy.ImmutableMatrix:
    """A flat sequence is a column vector; a sequence of sequences lists rows."""
    if not items:
        raise _unparseable("an empty list is not an answer")
    if not any(_is_sequence(item) for item in items):
        return sympy.ImmutableMatrix([[item] for item in items])
    if all(isinstance(item, (tuple, list)) for item in items):
        return _rows_to_matrix(items)
    raise _unparseable("a list mixes numbers with lists; write a matrix as a list of rows")


def _rows_to_matrix(rows: tuple | list) -> sympy.ImmutableMatrix:
    """A rectangular matrix from its rows, refusing ragged or deeper nesting."""
    lengths = [len(row) for row in rows]
    if not rows or 0 in lengths:
        raise _unparseable("a matrix needs at least one entry in every row")
    if len(set(lengths)) > 1:
        raise _unparseable(f"ragged matrix: the rows have {', '.join(map(str, lengths))} entries")
    if any(_is_sequence(entry) for row in rows for entry in row):
        raise _unparseable("lists may be nested at most two deep (a matrix)")
    return sympy.ImmutableMatrix([list(row) for row in rows])


def _check_finite(value: sympy.Basic) -> sympy.Basic:
    """Refuse results that contain infinity or NaN anywhere inside."""
    if any(value.has(bad) for bad in _NON_FINITE_VALUES):
        raise _not_finite("the answer contains infinity or an undefined value")
    return value


# --------------------------------------------------------------------------
# Values passed directly (not strings)
# --------------------------------------------------------------------------


def _from_value(value: object, builder: _Builder) -> _Value:
    """Accept numbers, SymPy objects, NumPy arrays and lists the caller already has."""
    if isinstance(value, bool):
        raise _unparseable("True/False is not an answer")
    if isinstance(value, (sympy.Basic, MatrixBase)):
        return value
    if isinstance(value, numbers.Integral):
        return builder.done(sympy.Integer(int(value)))
    if isinstance(value, numbers.Rational):
        return builder.done(sympy.Rational(int(value.numerator), int(value.denominator)))
    if isinstance(value, Decimal):
        return _from_decimal(value, builder)
    if isinstance(value, numbers.Real):
        return _from_float(float(value))
    if isinstance(value, (list, tuple)):
        return tuple(_from_value(item, builder) for item in value)
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # NumPy arrays
        return _from_value(value.tolist(), builder)
    raise _unparseable(f"an answer of type {type(value).__name__} cannot be read")


def _from_decimal(value: Decimal, builder: _Builder) -> sympy.Rational:
    if not value.is_finite():
        raise _not_finite(f"{value} is not a finite number")
    exponent = value.as_tuple().exponent
    if abs(int(exponent)) + len(value.as_tuple().digits) > builder.limits.result_digits:
        raise _too_large(f"the number {str(value)[:40]} is too large")
    numerator, denominator = value.as_integer_ratio()
    return sympy.Rational(numerator, denominator)


def _from_float(value: float) -> sympy.Float:
    if not math.isfinite(value):
        raise _not_finite(f"{value} is not a finite number")
    return sympy.Float(value)


# --------------------------------------------------------------------------
# Plain syntax: Python's own parser, then a whitelist walker
# --------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_LAMBDA_PLACEHOLDER = "_kw_lambda"  # 'lambda' is a Python keyword but a common symbol
_SKIPPED_TOKENS = frozenset({tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                             tokenize.INDENT, tokenize.DEDENT})


def _parse_plain(text: str, builder: _Builder) -> _Value:
    """Read plain math such as ``floor((n+2*p-k)/s)+1`` or ``[[1,2],[3,4]]``."""
    source = _plain_source(text)
    tree = _ast_parse(source)
    return _PlainWalker(source, builder).top(tree.body)


def _plain_source(text: str) -> str:
    """Rewrite student habits into Python syntax: ``^`` is a power, ``2p`` is ``2*p``."""
    text = " ".join(text.split())
    if "#" in text:
        raise _unparseable("'#' is not allowed in an answer")
    text = re.sub(r"\blambda\b", _LAMBDA_PLACEHOLDER, text)
    return _insert_implicit_products(text.replace("^", "**"))


def _insert_implicit_products(text: str) -> str:
    """Insert ``*`` where a student wrote a product by juxtaposition.

    ``2p``, ``2 (n+1)``, ``(a+b)(c+d)``, ``alpha g`` and ``p(1-p)`` become
    products; ``floor(x)`` stays a call because ``floor`` is a known function.
    Python's tokenizer finds the tokens (it only splits text, it runs nothing);
    if it fails, the text is left for ``ast.parse`` to reject.
    """
    try:
        tokens = [token for token in tokenize.generate_tokens(io.StringIO(text).readline)
                  if token.type not in _SKIPPED_TOKENS]
    except (tokenize.TokenError, SyntaxError):
        return text
    cuts = [cur.start[1] for prev, cur in zip(tokens, tokens[1:]) if _is_juxtaposition(prev, cur)]
    for column in reversed(cuts):
        text = text[:column] + "*" + text[column:]
    return text


def _is_name_token(token: tokenize.TokenInfo) -> bool:
    return token.type == tokenize.NAME and not keyword.iskeyword(token.string)


def _is_juxtaposition(prev: tokenize.TokenInfo, cur: tokenize.TokenInfo) -> bool:
    if cur.type == tokenize.NUMBER:
        return prev.string == ")"
    if not (_is_name_token(cur) or cur.string == "("):
        return False
    if prev.type == tokenize.NUMBER or prev.string == ")":
        return True
    return _is_name_token(prev) and not (cur.string == "(" and prev.string in FUNCTIONS)


def _ast_parse(source: str) -> ast.Expression:
    """Parse to a syntax tree only; nothing is compiled or run."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise _unparseable(f"not a valid expression ({exc.msg})") from exc
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise _unparseable(f"not a valid expression ({type(exc).__name__})") from exc


_LEFT_OPERATORS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
                                    ast.Div: "/", ast.FloorDiv: "//"}
_REFUSED_NODES: dict[type, str] = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "indexing ('[...]' after a value)",
    ast.Lambda: "a lambda", ast.Compare: "a comparison", ast.BoolOp: "and/or",
    ast.List: "a list inside an expression", ast.Tuple: "a tuple inside an expression",
    ast.IfExp: "if/else", ast.JoinedStr: "a string", ast.Starred: "'*' unpacking",
}


@dataclass
class _PlainWalker:
    """Walks the tree from ``ast.parse``, accepting only whitelisted node types."""

    source: str
    builder: _Builder

    def top(self, node: ast.AST) -> _Value:
        """The whole answer: a list/tuple (vector or matrix) or one expression."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.sequence(node, 1)
        return self.visit(node, 1)

    def sequence(self, node: ast.List | ast.Tuple, depth: int) -> tuple:
        self._check_depth(depth)
        return tuple(self.sequence(item, depth + 1) if isinstance(item, (ast.List, ast.Tuple))
                     else self.visit(item, depth + 1) for item in node.elts)

    def visit(self, node: ast.AST, depth: int) -> sympy.Basic:
        self._check_depth(depth)
        handler = _PLAIN_HANDLERS.get(type(node))
        if handler is None:
            what = _REFUSED_NODES.get(type(node), type(node).__name__)
            raise _unparseable(f"{what} is not allowed in an answer")
        return handler(self, node, depth)

    def _check_depth(self, depth: int) -> None:
        if depth > self.builder.limits.depth:
            raise _too_large(f"the expression is nested more than {self.builder.limits.depth} deep")

    def binop(self, node: ast.BinOp, depth: int) -> sympy.Basic:
        """A left-leaning chain like ``a+b-c*d`` is folded in a loop, not recursion."""
        if isinstance(node.op, ast.Pow):
            return self.builder.power(self.visit(node.left, depth + 1), self.visit(node.right, depth + 1))
        chain: list[tuple[str, ast.AST]] = []
        while isinstance(node, ast.BinOp) and type(node.op) in _LEFT_OPERATORS:
            chain.append((_LEFT_OPERATORS[type(node.op)], node.right))
            node = node.left
        if not chain:
            raise _unparseable(f"the operator {type(node.op).__name__} is not allowed")
        first = self.visit(node, depth + 1)
        steps = [(op, self.visit(right, depth + 1)) for op, right in reversed(chain)]
        return self.builder.fold(first, steps)

    def unary(self, node: ast.UnaryOp, depth: int) -> sympy.Basic:
        negative = False
        while isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise _unparseable(f"the operator {type(node.op).__name__} is not allowed")
            negative ^= isinstance(node.op, ast.USub)
            node = node.operand
        value = self.visit(node, depth + 1)
        return self.builder.neg(value) if negative else value

    def constant(self, node: ast.Constant, depth: int) -> sympy.Basic:
        """Only int and float literals; a float is re-read exactly from its source text."""
        value = node.value
        if type(value) is int:
            return self.builder.integer(value)
        if type(value) is float:
            if not math.isfinite(value):
                raise _not_finite(f"{ast.get_source_segment(self.source, node)} is not a finite number")
            return self.builder.decimal(ast.get_source_segment(self.source, node) or "")
        raise _unparseable(f"{type(value).__name__} literals are not allowed")

    def name(self, node: ast.Name, depth: int) -> sympy.Basic:
        name = "lambda" if node.id == _LAMBDA_PLACEHOLDER else node.id
        if not _NAME.fullmatch(name):
            raise _unparseable(f"the name {name!r} is not allowed (use letters, digits and _)")
        return self.builder.name(name)

    def call(self, node: ast.Call, depth: int) -> sympy.Basic:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise _unparseable("only these functions may be called: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise _unparseable("keyword arguments are not allowed")
        args = [self.visit(arg, depth + 1) for arg in node.args]
        return self.builder.call(node.func.id, args)


_PLAIN_HANDLERS: dict[type, Callable[..., sympy.Basic]] = {
    ast.BinOp: _PlainWalker.binop, ast.UnaryOp: _PlainWalker.unary,
    ast.Constant: _PlainWalker.constant, ast.Name: _PlainWalker.name, ast.Call: _PlainWalker.call,
}
"""The only node types a plain answer may contain (besides a top-level list/tuple)."""


# --------------------------------------------------------------------------
# LaTeX: a tokenizer and a recursive-descent parser of our own
# --------------------------------------------------------------------------

_GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma",
    "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
_LATEX_FUNCTIONS = {"ln": "ln", "log": "log", "exp": "exp", "sin": "sin", "cos": "cos",
                    "tanh": "tanh", "max": "max", "min": "min"}
_WORDS = frozenset(FUNCTIONS) | _GREEK  # letter runs read as one word even without '\'
_IGNORED_COMMANDS = frozenset({
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr", ",", ";", ":", "!", " ", "quad", "qquad",
    "displaystyle", "textstyle",
})
_TIMES_COMMANDS = {"cdot": "*", "times": "*", "ast": "*", "div": "/"}
_STOP_COMMANDS = frozenset({"rfloor", "rceil", "rvert", "\\", "}"}) | frozenset(_TIMES_COMMANDS)
_DELIMITED = {"lfloor": ("rfloor", "floor"), "lceil": ("rceil", "ceiling"), "lvert": ("rvert", "abs")}
_FRACTIONS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_MATRIX_ENVIRONMENTS = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "smallmatrix"})
_LATEX_LEXEME = re.compile(r"""
    (?P<space>\s+|~)
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<word>[A-Za-z]+)
  | \\(?P<env>begin|end)\s*\{\s*(?P<envname>[A-Za-z]+\*?)\s*\}
  | \\(?:text|textrm|mathrm|mathit|operatorname|mbox)\s*\{\s*(?P<text>[A-Za-z][A-Za-z0-9]*)\s*\}
  | \\(?P<cmd>[A-Za-z]+|.)
  | (?P<char>[-+*/^_()\[\]{}&,|])
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class _Token:
    """One LaTeX token: kind is num, letter, word, text, cmd, begin, end, char or eof."""

    kind: str
    text: str
    pos: int


def _latex_tokens(text: str) -> list[_Token]:
    """Split LaTeX into tokens, dropping spacing and sizing commands (``\\left``, ``\\,``)."""
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _LATEX_LEXEME.match(text, pos)
        if match is None:
            raise _unparseable(f"unexpected character {text[pos]!r} at position {pos}")
        tokens.extend(_tokens_of(match))
        pos = match.end()
    tokens.append(_Token("eof", "", len(text)))
    return tokens


def _tokens_of(match: re.Match[str]) -> list[_Token]:
    kind, pos = match.lastgroup or "char", match.start()
    if kind == "word":
        return _word_tokens(match.group("word"), pos)
    if kind == "envname":  # \begin{...} or \end{...}
        return [_Token(match.group("env"), match.group("envname"), pos)]
    if kind == "space" or (kind == "cmd" and match.group("cmd") in _IGNORED_COMMANDS):
        return []
    return [_Token(kind, match.group(kind), pos)]


def _word_tokens(word: str, pos: int) -> list[_Token]:
    """A known word (``max``, ``alpha``) stays whole; other runs are single letters."""
    if word in _WORDS:
        return [_Token("word", word, pos)]
    return [_Token("letter", char, pos + offset) for offset, char in enumerate(word)]


def _parse_latex(text: str, builder: _Builder) -> _Value:
    """Read LaTeX such as ``\\left\\lfloor \\frac{n+2p-k}{s} \\right\\rfloor + 1``."""
    text = text.strip()
    for opener, closer in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(text) >= 2 * len(opener) and text.startswith(opener) and text.endswith(closer):
            text = text[len(opener):-len(closer)]
            break
    return _LatexParser(_latex_tokens(text), builder).parse()


class _LatexParser:
    """Recursive descent over LaTeX tokens; precedence from loosest to tightest:

    ``,`` (top-level tuple)  <  ``+ -``  <  ``* / \\cdot \\times`` and juxtaposition
    <  unary sign  <  ``^``  <  atoms (numbers, names, groups, ``\\frac``, ...).
    Each nested atom passes :meth:`power`, which counts depth against the limit.
    """

    def __init__(self, tokens: list[_Token], builder: _Builder) -> None:
        self.tokens, self.index, self.b = tokens, 0, builder
        self.depth, self.in_abs = 0, False

    # ---- token helpers ---------------------------------------------------

    @property
    def tok(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def expect(self, kind: str, text: str, what: str) -> None:
        if not self.at(kind, text):
            raise _unparseable(f"expected {what} at position {self.tok.pos}, found {_describe(self.tok)}")
        self.advance()

    def split_first(self) -> None:
        """Keep only the first character of a number or word token (``x^23`` is ``x^2 3``)."""
        token = self.tok
        if len(token.text) < 2 or token.kind not in ("num", "word"):
            return
        rest = ([_Token("num", token.text[1:], token.pos + 1)] if token.kind == "num"
                else _word_tokens(token.text[1:], token.pos + 1))
        first = _Token("num" if token.kind == "num" else "letter", token.text[0], token.pos)
        self.tokens[self.index:self.index + 1] = [first, *rest]

    @contextmanager
    def deeper(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > self.b.limits.depth:
            raise _too_large(f"the expression is nested more than {self.b.limits.depth} deep")
        try:
            yield
        finally:
            self.depth -= 1

    # ---- grammar ---------------------------------------------------------

    def parse(self) -> _Value:
        value = self.comma_list()
        if not self.at("eof"):
            raise _unparseable(f"unexpected {_describe(self.tok)} at position {self.tok.pos}")
        return value

    def comma_list(self) -> _Value:
        items = [self.expr()]
        while self.at("char", ","):
            self.advance()
            items.append(self.expr())
        return items[0] if len(items) == 1 else tuple(items)

    def expr(self) -> _Value:
        first, steps = self.term(), []
        while self.tok.kind == "char" and self.tok.text in ("+", "-"):
            op = self.advance().text
            steps.append((op, self.term()))
        return self.b.fold(first, steps) if steps else first

    def term(self) -> _Value:
        first, steps = self.signed(), []
        while (op := self.product_operator()) is not None:
            steps.append((op, self.signed()))
        return self.b.fold(first, steps) if steps else first

    def product_operator(self) -> str | None:
        """Consume ``*``, ``/``, ``\\cdot``...; or return ``*`` for juxtaposition."""
        token = self.tok
        if token.kind == "char" and token.text in ("*", "/"):
            return self.advance().text
        if token.kind == "cmd" and token.text in _TIMES_COMMANDS:
            return _TIMES_COMMANDS[self.advance().text]
        if not self.starts_factor(token):
            return None
        if token.kind == "num" and self.tokens[self.index - 1].kind == "num":
            raise _unparseable(f"two numbers in a row at position {token.pos}; use \\cdot or *")
        return "*"

    def starts_factor(self, token: _Token) -> bool:
        if token.kind in ("num", "letter", "word", "text", "begin"):
            return True
        if token.kind == "cmd":
            return token.text not in _STOP_COMMANDS
        return token.kind == "char" and (token.text in "([{" or (token.text == "|" and not self.in_abs))

    def signed(self) -> _Value:
        negative = False
        while self.tok.kind == "char" and self.tok.text in ("+", "-"):
            negative ^= self.advance().text == "-"
        value = self.power()
        return self.b.neg(value) if negative else value

    def power(self) -> _Value:
        with self.deeper():
            value = self.postfix()
            if self.at("char", "^"):
                self.advance()
                value = self.b.power(value, self.argument())
                if self.at("char", "^"):
                    raise _unparseable(f"double superscript at position {self.tok.pos}; use braces")
            return value

    def postfix(self) -> _Value:
        """A name with optional subscript and ``^{(k)}`` label, or any other atom."""
        name = self.name_token()
        if name is None:
            return self.atom()
        if self.at("char", "_"):
            self.advance()
            name += "_" + self.subscript()
        label = self.label_superscript()
        return self.b.name(name if label is None else f"{name}^({label})")

    def name_token(self) -> str | None:
        token = self.tok
        is_name = (token.kind == "letter"
                   or token.kind in ("word", "cmd") and token.text in _GREEK
                   or token.kind == "text" and token.text not in FUNCTIONS)
        if not is_name:
            return None
        self.advance()
        return token.text

    def subscript(self) -> str:
        """``_1``, ``_i`` or ``_{out}`` as text: it becomes part of a symbol's name."""
        if not self.at("char", "{"):
            self.split_first()
            return self.subscript_piece()
        self.advance()
        parts = []
        while not self.at("char", "}"):
            if self.at("eof"):
                raise _unparseable("missing } after a subscript")
            parts.append(self.subscript_piece())
        self.advance()
        if not parts:
            raise _unparseable("empty subscript")
        return "".join(parts)

    def subscript_piece(self) -> str:
        token = self.advance()
        if token.kind in ("letter", "word", "text") or token.kind == "num" and token.text.isdigit():
            return token.text
        if token.kind == "cmd" and token.text in _GREEK:
            return _GREEK_ALIASES.get(token.text, token.text)
        raise _unparseable(f"a subscript may hold only letters and digits, not {_describe(token)}")

    def label_superscript(self) -> str | None:
        """Recognise ``^{(1)}`` (a layer label in ``W^{(1)}``) and return ``"1"``."""
        window = self.tokens[self.index:self.index + 3]
        if [(t.kind, t.text) for t in window] != [("char", "^"), ("char", "{"), ("char", "(")]:
            return None
        end = self.index + 3
        while self.tokens[end].kind in ("letter", "word") or (
                self.tokens[end].kind == "num" and self.tokens[end].text.isdigit()):
            end += 1
        closing = [(t.kind, t.text) for t in self.tokens[end:end + 2]]
        if end == self.index + 3 or closing != [("char", ")"), ("char", "}")]:
            return None
        label = "".join(t.text for t in self.tokens[self.index + 3:end])
        self.index = end + 2
        return label

    def argument(self) -> _Value:
        """The argument of ``^``, ``\\frac`` or ``\\sqrt``: ``{...}`` or one character."""
        if self.at("char", "{"):
            self.advance()
            value = self.expr()
            self.expect("char", "}", "}")
            return value
        self.split_first()
        token = self.tok
        if token.kind == "num":
            return self.b.decimal(self.advance().text)
        name = self.name_token()
        if name is None:
            raise _unparseable(f"put the argument at position {token.pos} in braces {{...}}")
        return self.b.name(name)

    # ---- atoms -----------------------------------------------------------

    def atom(self) -> _Value:
        token = self.tok
        if token.kind == "num":
            return self.b.decimal(self.advance().text)
        if token.kind == "char" and token.text in _GROUP_CLOSERS:
            return self.group(_GROUP_CLOSERS[token.text])
        if token.kind == "char" and token.text == "|" and not self.in_abs:
            return self.absolute_value()
        if token.kind in ("word", "text") and token.text in FUNCTIONS:
            return self.function(token.text)
        if token.kind == "begin":
            return self.matrix()
        if token.kind == "cmd":
            return self.command(token)
        if token.kind == "eof":
            raise _unparseable("the answer ends too early")
        raise _unparseable(f"unexpected {_describe(token)} at position {token.pos}")

    def command(self, token: _Token) -> _Value:
        name = token.text
        if name in _FRACTIONS:
            self.advance()
            numerator = self.argument()
            return self.b.binary("/", numerator, self.argument())
        if name == "sqrt":
            return self.square_root()
        if name in _LATEX_FUNCTIONS:
            return self.function(_LATEX_FUNCTIONS[name])
        if name in _DELIMITED:
            return self.delimited(*_DELIMITED[name])
        if name == "infty":
            raise _not_finite("infinity is not a finite answer")
        raise _unparseable(f"the LaTeX command \\{name} is not supported")

    def group(self, closer: str) -> _Value:
        """``(...)`` or ``[...]`` (commas make a tuple) or ``{...}`` (one expression)."""
        opener = self.advance()
        saved, self.in_abs = self.in_abs, False
        value = self.comma_list() if opener.text != "{" else self.expr()
        self.in_abs = saved
        self.expect("char", closer, f"{closer!r} (for the {opener.text!r} at position {opener.pos})")
        return value

    def absolute_value(self) -> _Value:
        self.advance()
        self.in_abs = True
        value = self.expr()
        self.in_abs = False
        self.expect("char", "|", "a closing |")
        return self.b.call("abs", [value])

    def delimited(self, closer: str, function: str) -> _Value:
        opener = self.advance()
        value = self.expr()
        self.expect("cmd", closer, f"\\{closer} (for the \\{opener.text} at position {opener.pos})")
        return self.b.call(function, [value])

    def square_root(self) -> _Value:
        self.advance()
        index = None
        if self.at("char", "["):
            self.advance()
            index = self.expr()
            self.expect("char", "]", "] after the root's index")
        radicand = self.argument()
        if index is None:
            return self.b.call("sqrt", [radicand])
        return self.b.power(radicand, self.b.binary("/", sympy.Integer(1), index))

    def function(self, name: str) -> _Value:
        """``\\ln(x)``, ``\\ln x``, ``\\log_2 x``, ``\\sin^2 x``, ``\\max(a, b)``, ``\\max\\{0, x\\}``."""
        self.advance()
        base = power = None
        if name == "log" and self.at("char", "_"):
            self.advance()
            base = self.argument()
        if self.at("char", "^"):
            self.advance()
            power = self.argument()
        args = self.function_arguments() + ([] if base is None else [base])
        value = self.b.call(name, args)
        return value if power is None else self.b.power(value, power)

    def function_arguments(self) -> list[_Value]:
        if self.tok.kind == "char" and self.tok.text in _GROUP_CLOSERS:
            value = self.group(_GROUP_CLOSERS[self.tok.text])
        elif self.at("cmd", "{"):
            self.advance()
            value = self.comma_list()
            self.expect("cmd", "}", "\\} after the arguments")
        else:
            return [self.power()]
        return list(value) if isinstance(value, tuple) else [value]

    def matrix(self) -> sympy.ImmutableMatrix:
        """``\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}`` (also bmatrix, matrix...)."""
        environment = self.advance().text
        if environment not in _MATRIX_ENVIRONMENTS:
            raise _unparseable(f"the environment {environment} is not supported; use pmatrix or bmatrix")
        rows = self.matrix_rows()
        end = self.advance()
        if end.text != environment:
            raise _unparseable(f"\\begin{{{environment}}} is closed by \\end{{{end.text}}}")
        return _rows_to_matrix(rows)

    def matrix_rows(self) -> list[list[sympy.Basic]]:
        """Cells split by ``&``, rows by ``\\\\``, up to ``\\end``; a trailing ``\\\\`` is allowed."""
        rows: list[list[sympy.Basic]] = [[]]
        while not self.at("end"):
            rows[-1].append(self.b.scalar(self.expr()))
            if self.at("char", "&"):
                self.advance()
            elif self.at("cmd", "\\"):
                self.advance()
                rows.append([])
            elif not self.at("end"):
                raise _unparseable(f"expected &, \\\\ or \\end at position {self.tok.pos}")
        if len(rows) > 1 and not rows[-1]:
            rows.pop()
        return rows


_GROUP_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _describe(token: _Token) -> str:
    if token.kind == "eof":
        return "the end of the answer"
    if token.kind == "cmd":
        return f"\\{token.text}"
    if token.kind in ("begin", "end"):
        return f"\\{token.kind}{{{token.text}}}"
    return repr(token.text)
