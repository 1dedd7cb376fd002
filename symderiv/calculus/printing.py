"""Printable rules for operations SymPy has no class for (``W \\star z + b``, ``vec(z)``).

:class:`Formula` is a SymPy expression with a LaTeX template and a plain-text template;
its arguments are ordinary SymPy objects, so substituting numbers (``xreplace``) and
expanding earlier rules work on it as on any expression, and the sheet's printer prints
each argument in the problem's notation. SymPy's printers find ``_latex`` and
``_sympystr`` on the class themselves, the way they find ``_print_<Class>``.
"""
from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions.matexpr import MatrixElement

#: Arguments printed without parentheses inside a template.
_ATOMIC = (sp.Symbol, sp.MatrixSymbol, sp.Indexed, sp.MatrixBase, sp.NDimArray, sp.Number, sp.Function,
           sp.Transpose, MatrixElement)


def _str(value: str | Str) -> Str:
    return value if isinstance(value, Str) else Str(value)


class _Printed:
    """How a formula prints: its LaTeX template and its plain-text template filled with its
    operands, each in the sheet's notation (parenthesized unless atomic)."""

    args: tuple

    @property
    def operands(self) -> tuple[sp.Basic, ...]:
        return self.args[self._skip:]

    _skip = 2

    def _latex(self, printer) -> str:
        template = self.args[0].name
        return template.format(*(printer._print(a) if _delimited(template, k) else
                                 _wrap(printer._print(a), a, r"\left(", r"\right)")
                                 for k, a in enumerate(self.operands)))

    def _sympystr(self, printer) -> str:
        return self.args[1].name.format(*(_wrap(printer._print(a), a, "(", ")") for a in self.operands))

    @property
    def compound(self) -> bool:
        """Whether it needs parentheses as an operand (its template has an operator)."""
        return _has_operator(self)


class Formula(_Printed, sp.Expr):
    """``Formula(latex, text, *args)``: prints ``latex.format(*args)`` and ``text.format(*args)``."""

    is_commutative = False

    def __new__(cls, latex: str | Str, text: str | Str, *args: sp.Basic) -> Formula:
        return sp.Expr.__new__(cls, _str(latex), _str(text), *args)

    def could_extract_minus_sign(self) -> bool:
        return False


class MatrixFormula(_Printed, sp.MatrixExpr):
    """A :class:`Formula` that is a matrix of a given shape, so matrix expressions (products,
    sums, transposes) take it as an operand."""

    _skip = 4

    def __new__(cls, latex: str | Str, text: str | Str, rows: int, cols: int, *args: sp.Basic) -> MatrixFormula:
        return sp.MatrixExpr.__new__(cls, _str(latex), _str(text), sp.Integer(rows), sp.Integer(cols), *args)

    @property
    def shape(self) -> tuple[sp.Integer, sp.Integer]:
        return (self.args[2], self.args[3])

    def could_extract_minus_sign(self) -> bool:
        return False


def shaped(rule: sp.Basic | None, like: sp.Basic) -> sp.Basic | None:
    """A formula as a matrix formula of ``like``'s shape when ``like`` is a matrix symbol."""
    if isinstance(rule, Formula) and isinstance(like, sp.MatrixSymbol):
        return MatrixFormula(rule.args[0], rule.args[1], like.rows, like.cols, *rule.operands)
    return rule


def _wrap(text: str, arg: sp.Basic, left: str, right: str) -> str:
    if isinstance(arg, _ATOMIC) or (isinstance(arg, _Printed) and not arg.compound):
        return text
    return f"{left}{text}{right}"


def _delimited(template: str, k: int) -> bool:
    """Whether the template already puts operand ``k`` in parentheses."""
    return f"\\left({{{k}}}\\right)" in template


def _has_operator(f: _Printed) -> bool:
    """A template that is one operator applied (``vec({0})``) needs no parentheses."""
    template = f.args[1].name
    return any(op in template for op in (" + ", " - ", " * ", " o ", " / "))


def literal(latex: str) -> str:
    """LaTeX to put in a template as it is (its braces escaped from ``str.format``)."""
    return latex.replace("{", "{{").replace("}", "}}")


def formula(latex: str, text: str, *args: sp.Basic) -> Formula:
    """Shorthand for :class:`Formula`."""
    return Formula(latex, text, *args)


def entrywise_product(u: sp.Basic, v: sp.Basic) -> sp.Basic:
    """``u \\odot v``: SymPy's HadamardProduct for matrices, a formula for tensors."""
    if isinstance(u, sp.MatrixExpr) and isinstance(v, sp.MatrixExpr) and u.shape == v.shape:
        return sp.HadamardProduct(u, v)
    return Formula(r"{0} \odot {1}", "{0} o {1}", u, v)


def applied(op_latex: str, op_text: str, arg: sp.Basic) -> Formula:
    """An operator applied to one argument: ``\\operatorname{vec}(z)``."""
    return Formula(literal(op_latex) + r"\left({0}\right)", op_text + "({0})", arg)


def partial(of: sp.Basic, by: sp.Basic) -> Formula:
    """``\\partial of / \\partial by`` as one printed fraction (entries with indices)."""
    return Formula(r"\frac{{\partial {0}}}{{\partial {1}}}", "d{0}/d{1}", of, by)
