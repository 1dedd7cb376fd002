"""SymPy's LaTeX printer, taught our notation: the one place math becomes LaTeX.

Printing dispatches on the type (``_print_<ClassName>``), as SymPy's printers do; we
override only what a solution sheet writes differently: names from the problem's
notation table, entries of vectors as subscripts, 1x1 matrices as plain numbers,
``\\odot`` for the element-wise product, ``^\\top`` for transposes.

With ``breakable=True`` (the typeset sheet) long formulas get places where TeX may
break a line: operands of products are wrapped in ``\\bigl( \\bigr)`` rather than one
unbreakable ``\\left( \\right)`` group (unless they hold a fraction or a matrix, which
need growing delimiters), and a product of local factors may break between factors.
"""
from __future__ import annotations

from typing import Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter


#: LaTeX that makes a formula taller than a line: parentheses around it must grow.
_TALL = (r"\frac", r"\begin", r"\sum", r"\prod")


class SheetPrinter(LatexPrinter):
    """A LatexPrinter that knows the sheet's notation (symbol name -> LaTeX)."""

    _default_settings = {**LatexPrinter._default_settings, "breakable": False}

    def __init__(self, notation: Mapping[str, str] | None = None, **settings) -> None:
        settings.setdefault("mat_str", "pmatrix")
        settings.setdefault("mat_delim", "")
        settings.setdefault("order", "none")
        super().__init__(settings)
        self.notation = dict(notation or {})

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        if expr.name in self.notation:
            return self.notation[expr.name]
        return super()._print_Symbol(expr, style=style)

    def _print_MatrixSymbol(self, expr: sp.MatrixSymbol) -> str:
        return self.notation.get(expr.name) or super()._print_MatrixSymbol(expr)

    def _print_MatrixElement(self, expr) -> str:
        parent, i, j = expr.args
        if parent.shape == (1, 1):
            return self._print(parent)
        name = self.notation.get(getattr(parent, "name", ""), None) or self._print(parent)
        name = name.replace(r"\mathbf", "")  # entries are scalars: not bold
        index = f"{i + 1}" if parent.shape[1] == 1 else f"{i + 1},{j + 1}"
        return f"{{{name}}}_{{{index}}}"

    def _print_ImmutableDenseMatrix(self, expr) -> str:
        if expr.shape == (1, 1):
            return self._print(expr[0, 0])
        return super()._print_MatrixBase(expr)

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix

    def _print_HadamardProduct(self, expr) -> str:
        return r" \odot ".join(self._factor(a) for a in expr.args)

    def _print_MatMul(self, expr) -> str:
        return " ".join(self._factor(a) for a in expr.args)

    def _print_Transpose(self, expr) -> str:
        base = self._factor(expr.arg)
        return f"{{{base}}}^{{\\top}}" if "^" in base else f"{base}^{{\\top}}"

    def _print_Add(self, expr, order=None) -> str:
        """Terms with a minus sign go after the others (``\\hat y - y``, not ``-y + \\hat y``),
        constants after the terms they adjust (``\\lfloor\\cdot\\rfloor + 1``)."""
        terms = list(expr.args) if self.order == "none" else self._as_ordered_terms(expr, order=order)
        terms.sort(key=lambda t: (t.could_extract_minus_sign(), t.is_Number))  # plain numbers last: x + 1
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")

    def _print_Mul(self, expr) -> str:
        """An unevaluated ``(-2) * 10`` prints as ``- 2 \\cdot 10``."""
        if self._settings["breakable"] and not expr.is_commutative and all(a.is_Symbol for a in expr.args):
            return r" \allowbreak ".join(self._print(a) for a in expr.args)
        head = expr.args[0]
        if head.is_Number and head.is_negative and len(expr.args) > 1:
            rest = expr.args[1:] if head == -1 else (-head,) + expr.args[1:]
            return "- " + self._print(sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0])
        if _numbers_left_unevaluated(expr):
            return r" \cdot ".join(self._factor(a) for a in expr.args)
        return super()._print_Mul(expr)

    def _print_TensorShape(self, expr) -> str:
        """A tensor shape: ``34 \\times 34 \\times 1``."""
        return r" \times ".join(self._print(e) for e in expr)

    def _factor(self, arg) -> str:
        """An operand of a product, parenthesised when it is a sum, product or negative."""
        inner = arg[0, 0] if isinstance(arg, sp.MatrixBase) and arg.shape == (1, 1) else arg
        text = self._print(arg)
        compound = isinstance(inner, (sp.MatAdd, sp.HadamardProduct, sp.Add)) or (
            isinstance(inner, sp.MatMul) and len(inner.args) > 1) or getattr(inner, "compound", False) is True
        if compound or text.lstrip().startswith("-"):
            return self._parens(text)
        return text

    def _parens(self, text: str) -> str:
        """``text`` in parentheses: breakable ones where the contents are only one line high."""
        if self._settings["breakable"] and not any(tall in text for tall in _TALL):
            return rf"\bigl({text}\bigr)"
        return rf"\left({text}\right)"

    def _print_Heaviside(self, expr, exp=None) -> str:
        return rf"\mathbb{{1}}\left[{self._print(expr.args[0])} > 0\right]"


def _numbers_left_unevaluated(expr: sp.Mul) -> bool:
    """A product of numbers SymPy was told not to evaluate (``4 * (-1)``, ``1/2 * (1/2)**3``):
    written with explicit dots, as a student would, instead of folded into one fraction."""
    if len(expr.args) < 2 or not all(a.is_number for a in expr.args):
        return False
    plain = sum(isinstance(a, (sp.Number, sp.UnevaluatedExpr)) for a in expr.args)
    powers = any(isinstance(a, sp.Pow) and a.base.is_Number and a.exp.is_Integer and a.exp > 0 for a in expr.args)
    return plain >= 2 or powers


def to_latex(expr, notation: Mapping[str, str] | None = None) -> str:
    """LaTeX of a SymPy object in a given notation."""
    return SheetPrinter(notation).doprint(expr)
