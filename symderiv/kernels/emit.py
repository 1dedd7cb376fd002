"""Scalar SymPy expressions -> straight-line NumPy ufunc calls with preallocated buffers.

This is the printer behind the fast kernels. It turns a sequence of assignments
``target = expr`` (the derivation's own program, in derivation order) into calls like
``np.multiply(W1_0_0, x_0, t0)``:

* every operation is a NumPy ufunc writing into a scratch row ``t0, t1, ...`` (its
  ``out`` argument, given positionally: the cheapest call), so a chunk allocates nothing;
* equal operations are computed once (value numbering: common subexpression
  elimination over the whole program, on top of the program's own named intermediates);
* a scratch row is reused as soon as its value is dead (liveness), so the rows in
  flight stay few and in cache;
* piecewise pieces become masks: ``Heaviside(v, 0)`` is ``v > 0`` as 0.0/1.0,
  ``Max(0, v)`` is ``np.maximum(v, 0.0)``.

Like SymPy's printers, expressions dispatch on their class name (``_emit_Add``,
``_emit_Heaviside``, ...); an unknown class fails loudly rather than printing wrong code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

#: Element-wise functions mapped one to one onto NumPy ufuncs.
UNARY = {"exp": "exp", "log": "log", "tanh": "tanh", "sin": "sin", "cos": "cos", "Abs": "absolute",
         "sign": "sign", "sqrt": "sqrt", "sinh": "sinh", "cosh": "cosh", "floor": "floor", "ceiling": "ceil"}
COMMUTATIVE = {"add", "multiply", "maximum", "minimum"}
#: NumPy deprecates a positional ``out`` for these two (it reads like a third operand).
KEYWORD_OUT = {"maximum", "minimum"}


def literal(number: Any) -> str:
    """A number as a Python float literal: the shortest repr that round-trips.

    Every number printed into generated code goes through here (or :func:`literals`), so
    the code always imports: beyond float64's range (or nonzero and rounding to 0.0) a
    number is its 17 significant digits and exponent (``1.0000000000000000e+400``, which
    Python reads as ``inf``, as float64 holds it), and an infinite or undefined one is
    ``float("inf")`` / ``float("nan")``: never the bare name ``inf`` or ``nan``.
    """
    try:
        value = float(number)
    except OverflowError:
        value = math.inf
    if math.isfinite(value) and (value != 0 or number == 0):
        return repr(value)
    if math.isnan(value):
        return 'float("nan")'
    exact = sp.Float(number, 17)
    if not exact.is_finite:
        return ("-" if value < 0 else "") + 'float("inf")'
    return str(exact)


def literals(values: Any) -> str:
    """Nested lists of numbers as code, each number by :func:`literal` (``[[1.0, 0.5]]``)."""
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(literals(v) for v in values) + "]"
    return literal(values)


@dataclass
class Op:
    """``out = np.<fn>(*args)``: args are value ids (int) or literal code (str).

    ``section`` names the output quantity whose guarded block holds the op ("" for the
    always-run core); ``dest`` is a fixed destination (an output view) instead of a row.
    """

    fn: str
    args: tuple
    section: str
    dest: str | None = None


@dataclass
class Program:
    """The op list being built, with value numbering and named program targets."""

    ops: list[Op] = field(default_factory=list)
    env: dict = field(default_factory=dict)       # SymPy atom/entry -> value id or literal
    memo: dict = field(default_factory=dict)      # (fn, args) -> value id
    section: str = ""
    marks: dict = field(default_factory=dict)     # op index -> comment lines before it

    def op(self, fn: str, *args, commutative: bool | None = None) -> int:
        """The value of ``np.fn(*args)``, reusing an equal earlier one (CSE)."""
        if commutative if commutative is not None else fn in COMMUTATIVE:
            args = tuple(sorted(args, key=_operand_order))
        key = (fn, args)
        if key in self.memo:
            self._promote(self.memo[key])
            return self.memo[key]
        self.ops.append(Op(fn, args, self.section))
        self.memo[key] = len(self.ops) - 1
        return len(self.ops) - 1

    def _promote(self, v: int) -> None:
        """A value reused outside its guarded block must run unconditionally."""
        op = self.ops[v]
        if op.section and op.section != self.section and op.dest is None:
            op.section = ""
            for a in op.args:
                if isinstance(a, int):
                    self._promote(a)

    def comment(self, text: str) -> None:
        self.marks.setdefault(len(self.ops), []).append(text)

    def value(self, expr: sp.Basic):
        """Value id or literal of ``expr``, emitting whatever ops it needs."""
        if expr in self.env:
            v = self.env[expr]
            if isinstance(v, int):
                self._promote(v)
            return v
        if expr.is_Number:
            return literal(expr)
        method = getattr(self, "_emit_" + type(expr).__name__, None)
        if method is None:
            for cls in type(expr).__mro__[1:]:
                method = getattr(self, "_emit_" + cls.__name__, None)
                if method is not None:
                    break
        if method is None:
            raise NotImplementedError(f"no NumPy kernel rule for {type(expr).__name__}: {expr}")
        return method(expr)

    # -- arithmetic -------------------------------------------------------------------
    def _emit_Add(self, expr: sp.Add):
        plus, minus, consts = [], [], []
        for term in _ordered(expr.args):
            if term.is_Number:
                consts.append(term)
            elif term.could_extract_minus_sign():
                minus.append(-term)
            else:
                plus.append(term)
        acc = self.value(plus[0]) if plus else self.op("negative", self.value(minus.pop(0)))
        for term in plus[1:]:
            acc = self.op("add", acc, self.value(term))
        for term in minus:
            acc = self.op("subtract", acc, self.value(term))
        c = sp.Add(*consts)
        if c != 0:
            acc = self.op("add", acc, literal(c))
        return acc

    def _emit_Mul(self, expr: sp.Mul):
        coeff, factors = expr.as_coeff_mul()
        den = [1 / f for f in factors if _is_reciprocal(f)]
        acc = None
        for f in _ordered([f for f in factors if not _is_reciprocal(f)]):
            acc = self.value(f) if acc is None else self.op("multiply", acc, self.value(f))
        if den and acc is None:
            return self.op("divide", literal(coeff), self.value(sp.Mul(*den)), commutative=False)
        if den:
            acc = self.op("divide", acc, self.value(sp.Mul(*den)), commutative=False)
        if coeff == -1:
            return self.op("negative", acc)
        return acc if coeff == 1 else self.op("multiply", acc, literal(coeff))

    def _emit_Pow(self, expr: sp.Pow):
        base, exp = expr.args
        if exp == 2:
            b = self.value(base)
            return self.op("multiply", b, b)
        if exp == sp.Rational(1, 2):
            return self.op("sqrt", self.value(base))
        if exp == -1:
            return self.op("divide", "1.0", self.value(base), commutative=False)
        if exp.is_Number:
            return self.op("power", self.value(base), literal(exp), commutative=False)
        return self.op("power", self.value(base), self.value(exp), commutative=False)

    # -- piecewise pieces as masks ----------------------------------------------------
    def _emit_Max(self, expr: sp.Max):
        return self._fold("maximum", expr.args)

    def _emit_Min(self, expr: sp.Min):
        return self._fold("minimum", expr.args)

    def _fold(self, fn: str, args) -> int:
        nums = [a for a in args if a.is_Number]
        acc: int | None = None
        for a in _ordered([a for a in args if not a.is_Number]):
            acc = self.value(a) if acc is None else self.op(fn, acc, self.value(a))
        for c in nums:
            acc = self.op(fn, acc, literal(c))
        assert acc is not None, "a fold of no arguments"  # SymPy's Add and Mul have two or more
        return acc

    def _emit_Heaviside(self, expr: sp.Heaviside):
        v, h0 = self.value(expr.args[0]), expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if h0 == 0:
            return self.op("greater", v, "0.0", commutative=False)
        if h0 == 1:
            return self.op("greater_equal", v, "0.0", commutative=False)
        return self.op("heaviside", v, literal(h0), commutative=False)

    def _emit_Function(self, expr: sp.Function):
        name = type(expr).__name__
        if name not in UNARY or len(expr.args) != 1:
            raise NotImplementedError(f"no NumPy kernel rule for the function {name}")
        return self.op(UNARY[name], self.value(expr.args[0]))


def _operand_order(a) -> tuple:
    """Computed values first, then named inputs, then numbers (``np.add(t0, b1_0, t0)``)."""
    if isinstance(a, int):
        return (0, a, "")
    return (2 if a[0].isdigit() or a[0] in "-." else 1, 0, a)


def _is_reciprocal(f: sp.Basic) -> bool:
    return f.is_Pow and f.exp.is_Number and f.exp < 0


def _ordered(args) -> list:
    """Compound terms first, atoms last: a sum starts in a fresh row and accumulates."""
    return sorted(args, key=lambda a: a.is_Atom or isinstance(a, MatrixElement))


@dataclass
class Emitted:
    """Printed code lines (indented for a function body) and the scratch rows they use.

    The rows are named ``t0, t1, ...``: the chunk function unpacks them once, so each
    call passes a ready view (positional ``out``: the cheapest ufunc call there is).
    """

    lines: list[str]
    buffers: int


def allocate(program: Program, names: dict[int, str], backward_at: int | None) -> Emitted:
    """Print the op list: scratch rows by liveness, guarded blocks per output section.

    ``names`` binds some values (program targets) to Python names; ``backward_at`` is the
    op index where the backward pass starts (``if not backward: return`` goes there).
    """
    ops = program.ops
    last = {a: k for k, op in enumerate(ops) for a in op.args if isinstance(a, int)}
    rows = _Rows()
    code: dict[int, str] = {}
    lines: list[str] = []
    section = ""
    for k, op in enumerate(ops):
        if k == backward_at:
            lines += ["", "    if not backward:", "        return"]
            section = ""
        if k in program.marks:
            lines += ["", *("    # " + c for c in program.marks[k])]
            section = ""
        args = [code[a] if isinstance(a, int) else a for a in op.args]
        for a in dict.fromkeys(a for a in op.args if isinstance(a, int)):
            if last[a] == k:
                rows.release(a)
        if op.dest is None and k not in last:
            continue  # never read and not an output: no work
        if op.section != section:
            section = op.section
            if section:
                lines.append(f"    if o_{section} is not None:")
        indent = "        " if section else "    "
        if op.fn == "copyto":
            lines.append(f"{indent}np.copyto({op.dest}, {args[0]})")
            continue
        target = op.dest or f"t{rows.take(k, op.args)}"
        bound = f"{names[k]} = " if k in names and op.dest is None else ""
        code[k] = names[k] if bound else target
        out = f"out={target}" if op.fn in KEYWORD_OUT else target
        lines.append(f"{indent}{bound}np.{op.fn}({', '.join(args)}, {out})")
    return Emitted(lines, rows.count)


class _Rows:
    """Scratch rows: which live value holds which row, and which rows are free again."""

    def __init__(self) -> None:
        self.live: dict[int, int] = {}   # value -> row, while the value is live
        self.home: dict[int, int] = {}   # value -> the row it was computed in
        self.free: list[int] = []
        self.count = 0

    def release(self, value: int) -> None:
        if value in self.live:
            self.free.append(self.live.pop(value))

    def take(self, value: int, args: tuple) -> int:
        """A free row for ``value``, preferring a just-freed operand's row (in place)."""
        mine = [self.home[a] for a in args if isinstance(a, int) and self.home.get(a) in self.free]
        if mine:
            row = mine[0]
            self.free.remove(row)
        elif self.free:
            row = self.free.pop()
        else:
            row, self.count = self.count, self.count + 1
        self.live[value] = self.home[value] = row
        return row
