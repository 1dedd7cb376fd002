"""The bounded builder: the only place where the readers create SymPy objects.

Both readers (plain and LaTeX) hand every number, name and operation to one
:class:`Builder`, which enforces *structural* bounds before SymPy computes
anything: digits of a literal, size of a numeric exponent, and an estimate of
the digits of every number SymPy would create (so ``9^9^9^9`` is refused
instead of computed).  A wall-clock budget is checked between steps as a last
line of defence only.
"""
from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import sympy
from sympy.matrices import MatrixBase

from symderiv.check.parse.errors import not_finite, too_large, unparseable
from symderiv.check.parse.functions import FUNCTIONS
from symderiv.check.parse.limits import Limits
from symderiv.check.parse.sizes import Sizes, digit_count, power_size

Value: TypeAlias = "sympy.Basic | tuple"
"""What a reader builds: a scalar, a matrix, or a (nested) tuple that becomes a matrix."""

CONSTANTS: dict[str, sympy.Basic] = {"pi": sympy.pi, "e": sympy.E}
NON_FINITE_NAMES = frozenset({"oo", "inf", "infty", "infinity", "Infinity", "nan", "NaN"})
NON_FINITE_VALUES = (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan)
GREEK_ALIASES = {"varepsilon": "epsilon", "vartheta": "theta", "varrho": "rho",
                 "varsigma": "sigma", "varphi": "phi"}
"""``var`` forms of Greek letters fold to the plain letter."""

_DECIMAL = re.compile(r"(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", re.ASCII)
_RUN_KIND = {"+": "sum", "-": "sum", "*": "product", "/": "product"}
_ARITHMETIC: dict[str, Callable[[sympy.Basic, sympy.Basic], sympy.Basic]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": lambda a, b: sympy.floor(a / b),
}


@dataclass(frozen=True)
class Precision:
    """How precisely a decimal was typed: the place value of its last digit (``0.001`` for
    ``0.977``, ``10`` for ``1.20e2``) and its significant figures (3 for both)."""

    last: sympy.Rational
    figures: int


@dataclass
class Builder:
    """Creates SymPy objects for the readers, refusing anything too large first.

    Every intermediate result passes :meth:`done`, which rejects infinities and
    results whose estimated size (``size``) exceeds ``limits.result_digits``.
    Powers are checked *before* SymPy evaluates them, because ``9**387420489``
    would be computed eagerly.
    """

    limits: Limits
    symbols: dict[str, sympy.Basic]
    sigmoid_names: frozenset[str] = frozenset()
    deadline: float = field(init=False)
    size: Sizes = field(default_factory=Sizes, repr=False)
    decimals: dict[sympy.Rational, Precision] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.seconds

    # ---- checks ----------------------------------------------------------

    def done(self, expr: sympy.Basic) -> sympy.Basic:
        """Accept one built step, or raise if it is infinite, too large or too slow."""
        if expr in NON_FINITE_VALUES:
            raise not_finite("the answer is infinite or undefined (for example a division by zero)")
        if self.size(expr) > self.limits.result_digits:
            raise too_large(f"a number in the answer would need more than {self.limits.result_digits} digits")
        if time.monotonic() > self.deadline:
            raise too_large(f"reading the answer took longer than {self.limits.seconds} s")
        return expr

    @staticmethod
    def scalar(value: Value) -> sympy.Basic:
        """Refuse lists and matrices inside arithmetic: they may only be the whole answer."""
        if isinstance(value, (tuple, list, MatrixBase, sympy.NDimArray)):
            raise unparseable("a list, tuple or matrix may only be the whole answer, not part of an expression")
        return value

    # ---- leaves ----------------------------------------------------------

    def integer(self, value: int) -> sympy.Integer:
        """An integer literal, refused when it has more than ``limits.digits`` digits."""
        digits = digit_count(value)
        if digits > self.limits.digits:
            raise too_large(f"a number has about {digits} digits; the limit is {self.limits.digits}")
        return sympy.Integer(value)

    def decimal(self, text: str) -> sympy.Rational:
        """An exact Rational from a literal's source text: ``0.05`` -> 1/20, ``1e-3`` -> 1/1000.

        Digits are counted on the text before any big number is made: at most
        ``limits.digits`` significant digits, and an order of magnitude (the exponent, not
        its zeros) within ``limits.result_digits``, so ``4.59e-41`` typed to 40 figures is
        read and ``1e-999999`` is refused without computing ``10**999999``.
        """
        match = _DECIMAL.fullmatch(text.replace("_", ""))
        if match is None or not (match.group(1) or match.group(2)):
            raise unparseable(f"{text!r} is not a number")
        whole, fraction = match.group(1), match.group(2) or ""
        shift = int(match.group(3) or 0) - len(fraction)
        significant = (whole + fraction).lstrip("0")
        if len(significant) > self.limits.digits:
            raise too_large(f"the number {text[:40]} has more than {self.limits.digits} significant digits")
        if significant and abs(len(significant) + shift - 1) > self.limits.result_digits:
            raise too_large(f"the number {text[:40]} is larger or smaller than 10^{self.limits.result_digits}")
        mantissa = int(whole + fraction or "0")
        value = sympy.Rational(mantissa * 10 ** max(shift, 0), 10 ** max(-shift, 0))
        if "." in text or "e" in text.lower():
            self._mark(value, Precision(sympy.Integer(10) ** shift, len(significant)))
        return value

    def _mark(self, value: sympy.Rational, precision: Precision) -> None:
        """Remember how precisely ``value`` was typed (the coarsest, if typed twice)."""
        known = self.decimals.get(value)
        if known is None or known.last < precision.last:
            self.decimals[value] = precision

    def name(self, name: str) -> sympy.Basic:
        """A name: the caller's symbol, a constant, or a new assumption-free Symbol."""
        if name in self.symbols:
            return self.symbols[name]
        name = GREEK_ALIASES.get(name, name)
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in NON_FINITE_NAMES:
            raise not_finite(f"{name!r} is infinite or not a number")
        if name in FUNCTIONS:
            raise unparseable(f"{name} is a function; write {name}(...)")
        return sympy.Symbol(name)

    # ---- operations ------------------------------------------------------

    def binary(self, op: str, left: Value, right: Value) -> sympy.Basic:
        """``left op right`` for op in + - * / // ^ (``^`` is a power)."""
        a, b = self.scalar(left), self.scalar(right)
        if op in ("^", "**"):
            return self.power(a, b)
        if op in ("/", "//") and b == 0:
            raise not_finite("division by zero")
        return self.done(_ARITHMETIC[op](a, b))

    def fold(self, first: Value, steps: list[tuple[str, Value]]) -> sympy.Basic:
        """Apply ``first op1 x1 op2 x2 ...`` left to right, as written.

        Runs of ``+``/``-`` become one ``Add`` and runs of ``*``/``/`` one ``Mul``:
        the same value as pairwise steps, but linear instead of quadratic in the
        number of terms, which keeps a long (2,000-character) sum fast.
        """
        value, start = self.scalar(first), 0
        while start < len(steps):
            end = _run_end(steps, start)
            value = self._apply_run(value, steps[start:end])
            start = end
        return value

    def _apply_run(self, value: sympy.Basic, run: list[tuple[str, Value]]) -> sympy.Basic:
        """One run of :meth:`fold`: a sum, a product, or a single other step."""
        kind = _RUN_KIND.get(run[0][0])
        if kind == "sum":
            return self._sum(value, run)
        if kind == "product":
            return self._product(value, run)
        return self.binary(run[0][0], value, run[0][1])

    def _sum(self, first: sympy.Basic, run: list[tuple[str, Value]]) -> sympy.Basic:
        terms = [first] + [self.scalar(x) if op == "+" else self.neg(x) for op, x in run]
        return self.done(sympy.Add(*terms))

    def _product(self, first: sympy.Basic, run: list[tuple[str, Value]]) -> sympy.Basic:
        factors = [first] + [self.scalar(x) if op == "*" else self.power(x, sympy.Integer(-1))
                             for op, x in run]
        if sum(self.size(factor) for factor in factors) > self.limits.result_digits:
            raise too_large(f"the product would need more than {self.limits.result_digits} digits")
        return self.done(sympy.Mul(*factors))

    def neg(self, value: Value) -> sympy.Basic:
        """``-value``, checked like every other step."""
        return self.done(-self.scalar(value))

    def power(self, base: Value, exponent: Value) -> sympy.Basic:
        """``base**exponent``, refused *before* SymPy evaluates it if it is too big."""
        base, exponent = self.scalar(base), self.scalar(exponent)
        if exponent.is_Number and abs(exponent) > self.limits.exponent:
            raise too_large(f"the exponent {str(exponent)[:40]} is larger than {self.limits.exponent}")
        digits = power_size(exponent, self.size(base), self.size(exponent))
        if digits > self.limits.result_digits:
            raise too_large(f"the power would need more than {self.limits.result_digits} digits")
        if base == 0 and exponent.is_Number and exponent.is_negative:
            raise not_finite("division by zero")
        return self.done(sympy.Pow(base, exponent))

    def transpose(self, value: Value) -> sympy.ImmutableMatrix:
        """``v^T``: a flat list is read as a row, so ``(2, 8, 9)^T`` is a column, as written
        on paper; rows of lists and matrices are transposed."""
        if isinstance(value, MatrixBase):
            return sympy.ImmutableMatrix(value).T
        if isinstance(value, (tuple, list)):
            rows = value if any(isinstance(v, (tuple, list)) for v in value) else (tuple(value),)
            return rows_to_matrix(rows).T
        raise unparseable("only a vector or a matrix can be transposed here")

    def is_function(self, name: str) -> bool:
        """Whether ``name(...)`` is a call: a whitelisted function, or ``sigma`` where it
        means the sigmoid."""
        return name in FUNCTIONS or name in self.sigmoid_names

    def call(self, name: str, args: list[Value]) -> sympy.Basic:
        """A whitelisted function of checked arguments."""
        name = "sigmoid" if name in self.sigmoid_names else name
        function = FUNCTIONS.get(name)
        if function is None:
            raise unparseable(f"{name} is not an allowed function")
        if not function.min_args <= len(args) <= function.max_args:
            raise unparseable(f"{name} takes {function.arity()} argument(s), not {len(args)}")
        return function.build(self, *(self.scalar(arg) for arg in args))


def _run_end(steps: list[tuple[str, Value]], start: int) -> int:
    """Where the run of same-kind steps (all sums or all products) that begins at ``start`` ends."""
    kind = _RUN_KIND.get(steps[start][0])
    end = start + 1
    while kind is not None and end < len(steps) and _RUN_KIND.get(steps[end][0]) == kind:
        end += 1
    return end


def is_sequence(value: object) -> bool:
    return isinstance(value, (tuple, list, MatrixBase, sympy.NDimArray))


def nested_to_array(items: tuple | list, rank: int) -> sympy.ImmutableMatrix | sympy.NDimArray:
    """A matrix from a list of rows, or a tensor from lists nested up to ``rank`` deep
    (``[[[1, 0], [2, 1]]]``: one channel of a 2x2 image); ragged nesting is refused."""
    depth = _nesting(items)
    if depth <= 2:
        return rows_to_matrix(items)
    if depth > rank:
        raise unparseable(f"lists may be nested at most {rank} deep"
                          + (" (a matrix)" if rank == 2 else " where this tensor is expected"))
    return sympy.ImmutableDenseNDimArray(_rectangular(items, depth), _shape(items, depth))


def blocks_to_tensor(rows: list[list[sympy.Basic]]) -> sympy.NDimArray:
    """A matrix of matrices, as the sheet prints a tensor (SymPy's layout: channels side by
    side, a filter bank's filters one per row), as the rank-4 array ``[row][column][i][j]``
    of its blocks; the comparison reads it in the expected tensor's shape."""
    if not all(isinstance(cell, MatrixBase) for row in rows for cell in row):
        raise unparseable("a matrix of matrices needs a matrix in every cell")
    return nested_to_array([[cell.tolist() for cell in row] for row in rows], 4)


def _nesting(items: object) -> int:
    """How deep the first entry of each level is nested (ragged lists fail later)."""
    depth = 0
    while isinstance(items, (tuple, list)) and items:
        depth, items = depth + 1, items[0]
    return depth


def _shape(items: tuple | list, depth: int) -> tuple[int, ...]:
    shape = []
    for _ in range(depth):
        shape.append(len(items))
        items = items[0]
    return tuple(shape)


def _rectangular(items: tuple | list, depth: int) -> list:
    """The entries in row-major order, checking every level has the same length."""
    level, shape = [items], _shape(items, depth)
    for size in shape:
        if any(not isinstance(x, (tuple, list)) or len(x) != size for x in level):
            raise unparseable(f"ragged nesting: every list at one level needs {size} entries")
        level = [item for x in level for item in x]
    if any(is_sequence(x) for x in level):
        raise unparseable("lists are nested unevenly")
    return level


def rows_to_matrix(rows: tuple | list) -> sympy.ImmutableMatrix:
    """A rectangular matrix from its rows, refusing ragged or deeper nesting."""
    lengths = [len(row) for row in rows]
    if not rows or 0 in lengths:
        raise unparseable("a matrix needs at least one entry in every row")
    if len(set(lengths)) > 1:
        raise unparseable(f"ragged matrix: the rows have {', '.join(map(str, lengths))} entries")
    if any(is_sequence(entry) for row in rows for entry in row):
        raise unparseable("lists may be nested at most two deep (a matrix)")
    return sympy.ImmutableMatrix([list(row) for row in rows])
