"""Draws: a spec number given as a random draw, read by a whitelist parser.

A spec field that takes a number may hold a string with a draw instead::

    W = [["randint(-3, 3)", 0], [1, "randint(1, 4, exclude=[2])"]]   # whole numbers, ends included
    x = "choice([1, 2, 5])"                          # one of the listed numbers
    success_rate = "uniform(0.02, 0.1, step=0.01)"   # a point of the grid 0.02, 0.03, ..., 0.1
    W = "randint(-3, 3, shape=[3, 2])"               # a whole 3x2 array of draws
    input = ["n", "n", 3]                            # a named draw ([problem.variants.let]), used twice
    residual = ["m", "2*m"]                          # + - * / // on named draws and numbers

Python's :func:`ast.parse` builds the tree (nothing is compiled or run) and a walker
accepts a short whitelist: numbers, the names of named draws, ``+ - * / //``, signs, and
calls of ``randint``, ``choice`` and ``uniform`` whose arguments are numbers. Everything
else is refused. Every value is exact (a :class:`~fractions.Fraction`): integers, or
decimals on the step grid, so a variant's spec is as exact as a hand-written one.

A string is a draw when it calls a function or names a named draw; any other string
(``"relu"``, ``"same"``, ``"1/3"``) is left for the problem's kind to read.
"""
from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

#: A drawn value: a number, or nested lists of numbers for a whole-array draw.
Value = Any

FUNCTIONS = ("randint", "choice", "uniform")
#: Keyword arguments each draw function accepts.
KEYWORDS = {"randint": {"exclude", "shape"}, "uniform": {"step", "exclude", "shape"}, "choice": {"shape"}}

MAX_TEXT = 5000          # characters of one draw
MAX_DEPTH = 32           # nesting of an expression
MAX_MAGNITUDE = 10**15   # of a number in a draw, and of its denominator
MAX_OPTIONS = 1000       # of choice, and of exclude
MAX_ENTRIES = 10_000     # of a whole-array draw
MAX_RANK = 4             # axes of a whole-array draw (filter, channel, row, column at most)

_CALL_START = re.compile(r"^\s*[A-Za-z_]\w*\s*\(")


class DrawError(ValueError):
    """A draw cannot be read or evaluated: the message says why (the caller says where)."""


class Sampler(Protocol):
    """Picks indices into a support: at random, or at chosen extremes (see ``template``)."""

    def indices(self, support: Support, count: int) -> list[int]: ...


@dataclass(frozen=True)
class Support:
    """The values one draw can take: ``low + step * k`` for ``k`` in ``0 .. count - 1`` except
    the ``skipped`` k (randint, uniform), or the listed ``options`` (choice), in order."""

    low: Fraction = Fraction(0)
    step: Fraction = Fraction(1)
    count: int = 0
    skipped: tuple[int, ...] = ()
    options: tuple[Fraction, ...] = ()

    @property
    def size(self) -> int:
        return len(self.options) if self.options else self.count - len(self.skipped)

    def at(self, index: int) -> Fraction:
        """The value at ``index`` (``0 .. size - 1``)."""
        if self.options:
            return self.options[index]
        k = index
        for skipped in self.skipped:  # sorted: step over each skipped k at or below k
            if skipped > k:
                break
            k += 1
        return self.low + self.step * k

    def lowest(self) -> int:
        return min(range(self.size), key=self.at) if self.options else 0

    def highest(self) -> int:
        return max(range(self.size), key=self.at) if self.options else self.size - 1

    def middle(self) -> int:
        return sorted(range(self.size), key=self.at)[self.size // 2] if self.options else self.size // 2


class Expr:
    """A node of a read draw; ``evaluate(env, sampler)`` gives its value."""

    def evaluate(self, env: dict[str, Value], sampler: Sampler) -> Value:
        raise NotImplementedError


@dataclass(frozen=True)
class Const(Expr):
    value: Fraction

    def evaluate(self, env: dict[str, Value], sampler: Sampler) -> Value:
        return self.value


@dataclass(frozen=True)
class Ref(Expr):
    """A named draw, drawn once per attempt and used wherever it is named."""

    name: str

    def evaluate(self, env: dict[str, Value], sampler: Sampler) -> Value:
        return env[self.name]


@dataclass(frozen=True)
class Arith(Expr):
    op: str
    left: Expr
    right: Expr

    def evaluate(self, env: dict[str, Value], sampler: Sampler) -> Value:
        a, b = _number(self.left.evaluate(env, sampler)), _number(self.right.evaluate(env, sampler))
        if self.op in ("/", "//") and b == 0:
            raise DrawError(f"division by zero in {show(a)} {self.op} {show(b)}")
        return _ARITHMETIC[self.op](a, b)


_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b, "//": lambda a, b: Fraction(math.floor(a / b))}


def _number(value: Value) -> Fraction:
    if isinstance(value, list):
        raise DrawError("arithmetic on a whole array: only numbers can be added, multiplied or divided")
    return value


@dataclass(frozen=True)
class Draw(Expr):
    """A call of a draw function: ``shape`` is () for one number, else the array's shape."""

    function: str
    support: Support
    shape: tuple[int, ...] = ()

    def evaluate(self, env: dict[str, Value], sampler: Sampler) -> Value:
        flat = [self.support.at(i) for i in sampler.indices(self.support, math.prod(self.shape))]
        return _nest(flat, self.shape) if self.shape else flat[0]


def _nest(flat: list[Fraction], shape: tuple[int, ...]) -> list:
    if len(shape) == 1:
        return flat
    size = len(flat) // shape[0]
    return [_nest(flat[i * size:(i + 1) * size], shape[1:]) for i in range(shape[0])]


def show(value: Value) -> str:
    """A drawn value as a person writes it: ``3``, ``0.05``, ``1/3``, ``[1, 2]``."""
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if value.denominator == 1:
        return str(value.numerator)
    places = decimal_places(value)
    if places is None:
        return f"{value.numerator}/{value.denominator}"
    digits = str(abs(value.numerator * 10**places // value.denominator)).rjust(places + 1, "0")
    return f"{'-' * (value < 0)}{digits[:-places]}.{digits[-places:]}"


def decimal_places(value: Fraction) -> int | None:
    """How many decimal places write ``value`` exactly, or None (not a terminating decimal)."""
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    return max(twos, fives) if den == 1 else None


def read_draw(text: str, names: frozenset[str] = frozenset(), *, strict: bool = False) -> Expr | None:
    """The draw in ``text``, or None when ``text`` is no draw (a word, a number, a title).

    ``names`` are the named draws this string may use. A malformed draw raises
    :class:`DrawError`; with ``strict`` (a named draw's own text), so does any text that is
    not a draw.
    """
    tree = _parse(text, strict)
    if tree is None or not (strict or _is_draw(tree, names)):
        return None
    return _Reader(text.strip(), names).expression(tree.body, 0, top=True)


def _parse(text: str, strict: bool = False) -> ast.Expression | None:
    """The syntax tree (nothing is run), or None for text that is no expression."""
    looks_like_call = strict or _CALL_START.match(text) is not None
    if len(text) > MAX_TEXT:
        if looks_like_call:
            raise DrawError(f"a draw of {len(text):,} characters; at most {MAX_TEXT:,} are allowed")
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        if looks_like_call:
            raise DrawError(f"not a valid draw ({exc.msg})") from None
        return None
    except (ValueError, RecursionError, MemoryError):
        if looks_like_call:
            raise DrawError("not a valid draw") from None
        return None


def _is_draw(tree: ast.AST, names: frozenset[str]) -> bool:
    return any(isinstance(node, ast.Call) or (isinstance(node, ast.Name) and (node.id in names or node.id in FUNCTIONS))
               for node in ast.walk(tree))


_SIGNS: dict[type, int] = {ast.USub: -1, ast.UAdd: 1}
_OPERATORS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}
_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "indexing ('[...]' after a value)",
    ast.Lambda: "a lambda", ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.IfExp: "if/else",
    ast.JoinedStr: "an f-string", ast.Starred: "'*' unpacking", ast.List: "a list here",
    ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set", ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator", ast.NamedExpr: "':='", ast.Await: "await",
}


@dataclass(frozen=True)
class _Reader:
    """Walks the tree, accepting only the whitelist; builds :class:`Expr` nodes."""

    text: str
    names: frozenset[str]

    def expression(self, node: ast.AST, depth: int, top: bool = False) -> Expr:
        if depth > MAX_DEPTH:
            raise DrawError(f"nested more than {MAX_DEPTH} deep")
        if isinstance(node, ast.Constant):
            return Const(self.literal(node))
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _SIGNS:
            sign = Const(Fraction(_SIGNS[type(node.op)]))
            return Arith("*", sign, self.expression(node.operand, depth + 1))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return Arith(_OPERATORS[type(node.op)], self.expression(node.left, depth + 1),
                         self.expression(node.right, depth + 1))
        if isinstance(node, ast.Call):
            return self.call(node, top)
        raise self.refuse(node)

    def refuse(self, node: ast.AST) -> DrawError:
        what = _REFUSED.get(type(node))
        if isinstance(node, ast.BinOp):
            what = f"the operator {type(node.op).__name__}"
        elif isinstance(node, ast.UnaryOp):
            what = f"the operator {type(node.op).__name__}"
        fragment = ast.get_source_segment(self.text, node) or ""
        return DrawError(f"{what or type(node).__name__} is not allowed in a draw (at {fragment[:40]!r})")

    def literal(self, node: ast.Constant) -> Fraction:
        """An exact number: an int, or a decimal read from its digits (never via a float)."""
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise self.refuse_value(node)
        if isinstance(node.value, int):
            return _bounded(Fraction(node.value))
        digits = (ast.get_source_segment(self.text, node) or "").replace("_", "")
        try:
            value = Fraction(digits)
        except (ValueError, ZeroDivisionError):
            raise DrawError(f"{digits!r} is not a number a draw can use") from None
        return _bounded(value)

    def refuse_value(self, node: ast.Constant) -> DrawError:
        kind = "a string" if isinstance(node.value, str) else f"{type(node.value).__name__} {node.value!r}"
        return DrawError(f"{kind} is not allowed in a draw (numbers only)")

    def name(self, node: ast.Name) -> Expr:
        if node.id in self.names:
            return Ref(node.id)
        if node.id in FUNCTIONS:
            raise DrawError(f"{node.id} must be called: {node.id}(...)")
        known = f" (named draws: {', '.join(sorted(self.names))})" if self.names else ""
        raise DrawError(f"unknown name {node.id!r}: not a named draw of [problem.variants.let]{known}")

    def call(self, node: ast.Call, top: bool) -> Draw:
        function = node.func.id if isinstance(node.func, ast.Name) else None
        if function not in FUNCTIONS:
            shown = function or ast.get_source_segment(self.text, node.func)
            raise DrawError(f"unknown function {shown!r}; a draw is randint(low, high), "
                            f"choice([a, b, ...]) or uniform(low, high, step=s)")
        keywords = self.keywords(node, function)
        shape = self.shape(keywords.pop("shape")) if "shape" in keywords else ()
        if shape and not top:
            raise DrawError("a whole-array draw (shape=...) must be the whole field, not part of a formula")
        return Draw(function, _SUPPORTS[function](self, node.args, keywords), shape)

    def keywords(self, node: ast.Call, function: str) -> dict[str, ast.AST]:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise DrawError(f"{function}: '*' and '**' arguments are not allowed")
        found: dict[str, ast.AST] = {k.arg: k.value for k in node.keywords if k.arg is not None}
        for name in found:
            if name not in KEYWORDS[function]:
                allowed = ", ".join(sorted(KEYWORDS[function]))
                raise DrawError(f"{function}: unknown argument {name!r}; it takes {allowed}")
        return found

    def number(self, node: ast.AST, depth: int = 0) -> Fraction:
        """A number argument: literals, signs and + - * / of literals (``1/3``, ``-0.5``)."""
        expr = self.expression(node, depth)
        if references(expr):
            raise DrawError("the arguments of a draw are numbers, not named draws")
        if isinstance(expr, Draw) or _mentions_draw(expr):
            raise DrawError("the arguments of a draw are numbers, not other draws")
        return _bounded(expr.evaluate({}, _NO_SAMPLER))

    def numbers(self, node: ast.AST, what: str) -> tuple[Fraction, ...]:
        if not isinstance(node, (ast.List, ast.Tuple)):
            raise DrawError(f"{what} must be a list of numbers, such as [1, 2, 3]")
        if len(node.elts) > MAX_OPTIONS:
            raise DrawError(f"{what} has {len(node.elts):,} entries; at most {MAX_OPTIONS:,} are allowed")
        return tuple(self.number(item) for item in node.elts)

    def shape(self, node: ast.AST) -> tuple[int, ...]:
        given = self.numbers(node, "shape")
        if not 1 <= len(given) <= MAX_RANK or any(d.denominator != 1 or d < 1 for d in given):
            raise DrawError(f"shape must list 1 to {MAX_RANK} whole numbers >= 1, such as [3, 2]")
        dims = tuple(int(d) for d in given)
        if math.prod(dims) > MAX_ENTRIES:
            raise DrawError(f"shape {list(dims)} has {math.prod(dims):,} entries; at most {MAX_ENTRIES:,}")
        return dims


def references(expr: Expr) -> set[str]:
    """The named draws ``expr`` uses."""
    if isinstance(expr, Arith):
        return references(expr.left) | references(expr.right)
    return {expr.name} if isinstance(expr, Ref) else set()


def _mentions_draw(expr: Expr) -> bool:
    if isinstance(expr, Arith):
        return _mentions_draw(expr.left) or _mentions_draw(expr.right)
    return isinstance(expr, Draw)


class _NoSampler:
    def indices(self, support: Support, count: int) -> list[int]:
        raise DrawError("the arguments of a draw are numbers, not other draws")


_NO_SAMPLER = _NoSampler()


def _bounded(value: Fraction) -> Fraction:
    if abs(value) > MAX_MAGNITUDE or value.denominator > MAX_MAGNITUDE:
        raise DrawError(f"{show(value)} is too large or too finely divided for a draw "
                        f"(at most 10^15, and at most 15 decimal places)")
    return value


def _positional(args: Sequence[ast.AST], count: int, usage: str) -> None:
    if len(args) != count:
        raise DrawError(f"expected {usage}, got {len(args)} positional argument{'s' * (len(args) != 1)}")


def _randint(reader: _Reader, args: Sequence[ast.AST], keywords: dict[str, ast.AST]) -> Support:
    _positional(args, 2, "randint(low, high)")
    low, high = reader.number(args[0]), reader.number(args[1])
    if low.denominator != 1 or high.denominator != 1:
        raise DrawError(f"randint draws whole numbers: its ends must be whole, got {show(low)} and {show(high)}")
    return _progression("randint", low, high, Fraction(1), reader, keywords)


def _uniform(reader: _Reader, args: Sequence[ast.AST], keywords: dict[str, ast.AST]) -> Support:
    _positional(args, 2, "uniform(low, high, step=s)")
    if "step" not in keywords:
        raise DrawError("uniform needs step= (such as step=0.01) so every drawn number is exact")
    low, high, step = reader.number(args[0]), reader.number(args[1]), reader.number(keywords["step"])
    if step <= 0:
        raise DrawError(f"uniform: step must be > 0, got {show(step)}")
    return _progression("uniform", low, high, step, reader, keywords)


def _progression(function: str, low: Fraction, high: Fraction, step: Fraction, reader: _Reader,
                 keywords: dict[str, ast.AST]) -> Support:
    if low > high:
        raise DrawError(f"{function}: the low end {show(low)} is above the high end {show(high)}")
    count = math.floor((high - low) / step) + 1
    excluded = reader.numbers(keywords["exclude"], "exclude") if "exclude" in keywords else ()
    skipped = set()
    for value in excluded:
        k = (value - low) / step
        if k.denominator != 1 or not 0 <= k < count:
            raise DrawError(f"exclude: {show(value)} is not one of the values {function} draws here")
        skipped.add(int(k))
    if len(skipped) == count:
        raise DrawError(f"exclude: leaves nothing for {function} to draw")
    return Support(low, step, count, tuple(sorted(skipped)))


def _choice(reader: _Reader, args: Sequence[ast.AST], keywords: dict[str, ast.AST]) -> Support:
    _positional(args, 1, "choice([a, b, ...])")
    options = reader.numbers(args[0], "choice's options")
    if not options:
        raise DrawError("choice([]) has nothing to choose from")
    return Support(options=options)


_SUPPORTS = {"randint": _randint, "uniform": _uniform, "choice": _choice}
