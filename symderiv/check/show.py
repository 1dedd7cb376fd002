"""Values in plain text, the way students are told to write them.

Reports and reasons show the expected answer and the answer as read. SymPy's own
strings are for programmers (``HadamardProduct(dL_dz3, relu'(a3))``, ``d**n*g``,
``y_hat[0, 0]``, ``Matrix([[2], [8], [9]])``); students are told to write
``hadamard(dL_dz3, relu'(a3))``, ``d^n*g``, ``y_hat`` and ``[2, 8, 9]``
(README, "Checking answers"), so that is what they are shown:

>>> import sympy as sp
>>> plain(sp.ImmutableMatrix([2, 8, 9])), plain(sp.ImmutableMatrix([[-152, -88]]))
('[2, 8, 9]', '[[-152, -88]]')
>>> A, B = sp.MatrixSymbol("dL_da2", 2, 1), sp.MatrixSymbol("z1", 3, 1)
>>> plain(A * B.T), plain(sp.Symbol("d") ** sp.Symbol("n") * 2)
('dL_da2 @ z1.T', '2*d^n')

The typeset reports print the same values with the sheet's own LaTeX printer
(:class:`symderiv.render.printer.SheetPrinter`) in the problem's notation.
"""
from __future__ import annotations

import unicodedata

import sympy as sp
from sympy.matrices import MatrixBase
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symderiv.model import TensorShape

MAX_SHOWN = 200
"""Characters of a value shown in a report (the rest is elided)."""


class PlainPrinter(StrPrinter):
    """SymPy's string printer, speaking the plain answer syntax."""

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        # the base and exponent are printed by this printer, so the only ** is this one
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        """As the sheet writes sums: negative terms after the others, numbers last
        (``y_hat - y``, ``floor(...) + 1``)."""
        terms = sorted(self._as_ordered_terms(expr, order=order),
                       key=lambda t: (t.could_extract_minus_sign(), t.is_Number))
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")

    def _print_HadamardProduct(self, expr: sp.HadamardProduct) -> str:
        return "hadamard(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        return " @ ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in expr.args)

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        return self.parenthesize(expr.arg, PRECEDENCE["Atom"], strict=True) + ".T"

    def _print_MatrixElement(self, expr: MatrixElement) -> str:
        parent = expr.parent
        if isinstance(parent, sp.MatrixSymbol) and parent.shape == (1, 1):
            return parent.name
        return super()._print_MatrixElement(expr)

    def _print_Exp1(self, expr: sp.Basic) -> str:
        return "e"

    def _print_Float(self, expr: sp.Float) -> str:
        return super()._print_Float(sp.Float(expr, 12))

    def _print_MatrixBase(self, expr: MatrixBase) -> str:
        if isinstance(expr, TensorShape):
            return " x ".join(self._print(e) for e in expr)
        if expr.shape == (1, 1):
            return self._print(expr[0, 0])
        if expr.cols == 1:
            return "[" + ", ".join(self._print(e) for e in expr) + "]"
        return "[" + ", ".join("[" + ", ".join(self._print(e) for e in row) + "]" for row in expr.tolist()) + "]"

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase
    _print_TensorShape = _print_MatrixBase


_PRINTER = PlainPrinter()


def plain(value: sp.Basic | None) -> str:
    """A value in the plain answer syntax, shortened to :data:`MAX_SHOWN` characters."""
    if value is None:
        return ""
    try:
        text = _PRINTER.doprint(value)
    except ValueError:  # Python refuses str() of integers over 4300 digits
        return "(a number too long to show)"
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}..."


def show(value: sp.Basic) -> str:
    """A short plain-text form of a value for reasons: huge rationals as decimals."""
    if isinstance(value, sp.Rational) and max(abs(value.p).bit_length(), value.q.bit_length()) > 100:
        return f"{sp.Float(value, 15)} (approx.)"
    text = plain(value)
    return text if len(text) <= 120 else text[:117] + "..."


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def printable(text: str) -> str:
    """``text`` with control and format characters (escape sequences, bells, newlines,
    bidirectional overrides) written as escapes (``\\x1b``), so that text a student
    typed can neither move the cursor nor start a line of its own in a report."""
    if text.isprintable():
        return text
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _INVISIBLE else ch
                   for ch in text)
