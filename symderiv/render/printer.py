"""SymPy's LaTeX printer, taught our notation: the one place math becomes LaTeX.

Printing dispatches on the type (``_print_<ClassName>``), as SymPy's printers do; we
override only what a solution sheet writes differently: names from the problem's
notation table, entries of vectors as subscripts, 1x1 matrices as plain numbers,
``\\odot`` for the element-wise product, ``^\\top`` for transposes.

With ``breakable=True`` (the typeset sheet) long formulas get places where TeX may
break a line: operands of products are wrapped in ``\\bigl( \\bigr)`` rather than one
unbreakable ``\\left( \\right)`` group (unless they hold a fraction or a matrix, which
need growing delimiters), and a product of local factors may break between factors.

Numbers print by the number policy (:mod:`symderiv.render.numbers`, settings ``digits``
and ``decimals``): :meth:`SheetPrinter.show` also says whether anything was rounded.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter, accepted_latex_functions, greek_letters_set, tex_greek_dictionary

from symderiv.algebra import decimal_text, node_count
from symderiv.model import GivenDecimal
from symderiv.render.numbers import DEFAULT_DIGITS, SHORT_FORM, NumberPolicy, Shown, is_real_number

#: Printed expressions by (notation and settings, expression): see :meth:`SheetPrinter.show`.
_SHOWN: dict[tuple, Shown] = {}

#: LaTeX that makes a formula taller than a line: parentheses around it must grow.
_TALL = (r"\frac", r"\begin", r"\sum", r"\prod")

#: Function names SymPy writes as a LaTeX command that LaTeX defines as an operator (``\sin``);
#: the other names it knows (``frac``, ``root``, ``re``, ``im``, ``sqrt``) would be commands
#: taking arguments, or undefined, so a function of that name is an ``\operatorname``.
_OPERATORS = frozenset({"arcsin", "arccos", "arctan", "sin", "cos", "tan", "sinh", "cosh", "tanh", "ln", "log",
                        "sec", "csc", "cot", "coth", "arg"})

#: LaTeX longer than this (a long row, a tensor of wide matrices) may not fit the line: the
#: typeset sheet also gives TeX a narrower form of it to pick (``\\sdpick``).
_PICK_LENGTH = 100

#: Characters of a name that are special to TeX, as LaTeX that prints them.
_TEX_SPECIAL = {"}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%", "~": r"\sim{}"}


class SheetPrinter(LatexPrinter):
    """A LatexPrinter that knows the sheet's notation (symbol name -> LaTeX)."""

    _default_settings = {**LatexPrinter._default_settings, "breakable": False,
                         "digits": DEFAULT_DIGITS, "decimals": False, "exact": False,
                         "all_decimal": False}

    def __init__(self, notation: Mapping[str, str] | None = None, **settings) -> None:
        settings.setdefault("mat_str", "pmatrix")
        settings.setdefault("mat_delim", "")
        settings.setdefault("order", "none")
        super().__init__(settings)
        self.notation = dict(notation or {})
        self.policy = NumberPolicy(self._settings["digits"], self._settings["decimals"])
        self._numeric = False      # the expression being printed has no symbols
        self._rounded = False      # something in it was printed rounded
        self._long: dict[sp.Basic, bool] = {}
        self._key = (tuple(sorted(self.notation.items())), tuple(sorted(map(repr, self._settings.items()))))

    # -- numbers: the policy --------------------------------------------------------

    def doprint(self, expr: Any) -> str:
        return self.show(expr).text

    def show(self, expr: Any) -> Shown:
        """``expr`` printed, and whether any number in it was rounded. Remembered per notation
        and settings: the sheet, its Markdown, the handout and the key print the same givens
        and values again."""
        try:
            key = (self._key, expr, _given_pattern(expr))
            if key not in _SHOWN:
                if len(_SHOWN) > 1 << 16:
                    _SHOWN.clear()
                _SHOWN[key] = self._show(expr)
            return _SHOWN[key]
        except TypeError:  # not hashable (a mutable matrix): printed every time
            return self._show(expr)

    def _show(self, expr: Any) -> Shown:
        self._numeric = not getattr(expr, "free_symbols", True)
        self._rounded = False
        text = super().doprint(expr)
        return Shown(text, self._rounded)

    def _shown(self, shown: Shown) -> str:
        self._rounded = self._rounded or shown.rounded
        return shown.text

    def _print_Rational(self, expr: sp.Rational) -> str:
        if expr.q == 1 or self._settings["exact"]:
            return super()._print_Rational(expr)
        if isinstance(expr, GivenDecimal):
            return decimal_text(expr) or super()._print_Rational(expr)
        if self._settings["all_decimal"]:
            return self._shown(self.policy.decimal(expr))
        return self._shown(self.policy.rational(expr, self._numeric))

    def _print_Float(self, expr: sp.Float) -> str:
        if not expr.is_finite or self._settings["exact"]:
            return super()._print_Float(expr)
        return self._shown(self.policy.float(expr))

    def parenthesize(self, item: Any, level: int, is_neg: bool = False, strict: bool = False) -> str:
        """A positive number printed as a plain decimal needs no parentheses (``0.5^{3}``)."""
        if isinstance(item, sp.Number) and item.is_positive:
            text = self._print(item)
            if text.replace(".", "").isdigit():
                return text
        return super().parenthesize(item, level, is_neg=is_neg, strict=strict)

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:
        """Each side in its own context: ``d^m + 1 = 1.25`` prints its number side as a number."""
        outer = self._numeric
        sides = []
        for side in (expr.lhs, expr.rhs):
            self._numeric = outer or not side.free_symbols
            sides.append(self._print(side))
        self._numeric = outer
        op = {"==": "=", ">": ">", "<": "<", ">=": r"\geq", "<=": r"\leq", "!=": r"\neq"}[expr.rel_op]
        return f"{sides[0]} {op} {sides[1]}"

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if isinstance(expr, sp.Expr) and not self._settings["exact"] and self._as_decimal(expr):
            return self._shown(self.policy.approximate(expr))
        return super()._print(expr, **kwargs)

    def _as_decimal(self, expr: sp.Expr) -> bool:
        """A number SymPy has evaluated (nothing left unevaluated in it) and that is long (or
        any such number, with ``all_decimal``): printed as its decimal. Memoised: the printer
        asks at every node."""
        if expr.is_Atom or isinstance(expr, (sp.MatrixExpr, AppliedUndef, sp.UnevaluatedExpr)):
            return False
        known = self._long.get(expr)
        if known is None:
            known = self._long[expr] = ((self._settings["all_decimal"] or node_count(expr, SHORT_FORM) > SHORT_FORM)
                                        and _evaluated_number(expr) and is_real_number(expr))
        return known

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        if expr.name in self.notation:
            return self.notation[expr.name]
        return super()._print_Symbol(expr, style=style)

    def _split_super_sub(self, name: str) -> tuple[str, list[str], list[str]]:
        """A name's base, superscripts and subscripts (``lambda1`` -> \\lambda, [], [1]), each
        printed by :func:`name_latex`: names come from specs (hyperparameters, variables),
        and SymPy's own reading of them would turn ``xhat`` into an accent and ``xscr``
        into a font TeX does not have. A name holding LaTeX already (``y_{j-1}``, ``\\nabla f``:
        written by a kind, never by a spec) is kept."""
        if "{" in name or "\\" in name:
            return name, [], []
        base, supers, subs = split_super_sub(name)
        return name_latex(base), [name_latex(p) for p in supers], [name_latex(p) for p in subs]

    def _hprint_Function(self, func: str) -> str:
        if func in accepted_latex_functions and func not in _OPERATORS:
            return rf"\operatorname{{{func}}}"
        return super()._hprint_Function(func)

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
        """A 1x1 matrix as its number; on the typeset sheet a row too long for the line as the
        transpose of a column (``\\sdpick``: the same matrix, written so it fits), and a matrix
        too wide for it scaled down to the line (``\\sdfit``; the page tests bound the scale)."""
        if expr.shape == (1, 1):
            return self._print(expr[0, 0])
        printed = super()._print_MatrixBase(expr)
        if not self._settings["breakable"] or len(printed) <= _PICK_LENGTH:
            return printed
        if expr.shape[0] == 1:
            return rf"\sdpick{{{printed}}}{{{super()._print_MatrixBase(expr.T)}^{{\top}}}}"
        return rf"\sdfit{{{printed}}}"  # a wide matrix (many decimal columns): scaled to the line

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix

    def _print_NDimArray(self, expr) -> str:
        """A tensor of rank 3 or 4 as its matrices side by side (SymPy's layout); on the typeset
        sheet also stacked one above the other, for TeX to pick when side by side is wider than
        the room left on the line (``\\sdpick``: an image of two wide channels)."""
        row = super()._print_NDimArray(expr)
        if not self._settings["breakable"] or expr.rank() < 3 or len(row) <= _PICK_LENGTH:
            return row
        blocks = [self._print(expr[index]) for index in _block_indices(expr.shape[:-2])]
        stacked = r"\begin{pmatrix}" + r"\\[1ex]".join(blocks) + r"\end{pmatrix}"
        return rf"\sdpick{{{row}}}{{{stacked}}}"

    def _print_HadamardProduct(self, expr) -> str:
        return r" \odot ".join(self._factor(a) for a in expr.args)

    def _print_MatMul(self, expr) -> str:
        if expr.args[0] == -1:  # -y, not (-1) y
            rest = expr.args[1:]
            return "-" + (self._factor(rest[0]) if len(rest) == 1 else self._print_MatMul(sp.MatMul(*rest)))
        return " ".join(self._factor(a) for a in expr.args)

    def _print_MatAdd(self, expr) -> str:
        """A sum of matrices, terms with a minus sign last (``\\hat y - y``)."""
        out = ""
        for term in sorted(expr.args, key=_negative):
            if _negative(term):  # a MatMul with a negative coefficient: "- (its magnitude)"
                coefficient, rest = -term.args[0], term.args[1:]
                out += " - " + self._print(sp.MatMul(*rest) if coefficient == 1 else sp.MatMul(coefficient, *rest))
            else:
                out += (" + " if out else "") + self._print(term)
        return out.removeprefix(" ")

    def _print_Transpose(self, expr) -> str:
        if self._settings["breakable"] and isinstance(expr.arg, sp.MatrixBase) and expr.arg.shape[0] == 1:
            row = super()._print_MatrixBase(expr.arg)
            if len(row) > _PICK_LENGTH:  # a long row's transpose: as written, or as the column it is
                return rf"\sdpick{{{row}^{{\top}}}}{{{super()._print_MatrixBase(expr.arg.T)}}}"
        base = self._factor(expr.arg)
        return f"{{{base}}}^{{\\top}}" if "^" in base else f"{base}^{{\\top}}"

    def _print_Add(self, expr, order=None) -> str:
        """Terms with a minus sign go after the others (``\\hat y - y``, not ``-y + \\hat y``),
        constants after the terms they adjust (``\\lfloor\\cdot\\rfloor + 1``)."""
        terms = list(expr.args) if self.order == "none" else self._as_ordered_terms(expr, order=order)
        terms.sort(key=lambda t: (_negative(t), t.is_Number))  # plain numbers last: x + 1
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")

    def _print_Mul(self, expr) -> str:
        """An unevaluated ``(-2) * 10`` prints as ``- 2 \\cdot 10``."""
        if self._settings["breakable"] and not expr.is_commutative and all(a.is_Symbol for a in expr.args):
            return r" \allowbreak ".join(self._print(a) for a in expr.args)
        head = expr.args[0]
        if head.is_Number and head.is_negative and len(expr.args) > 1:
            rest = expr.args[1:] if head == -1 else (-head,) + expr.args[1:]
            if len(rest) == 1:  # -(a + b) keeps its parentheses: "- a + b" would be another number
                return "- " + self._factor(rest[0])
            return "- " + self._print(sp.Mul(*rest, evaluate=False))
        if _numbers_left_unevaluated(expr):
            return r" \cdot ".join(self._factor(a) for a in expr.args)
        if isinstance(expr, sp.Mul) and expr.is_commutative is not False and any(_number(a) for a in expr.args[1:]):
            return self._written_product(expr.args)
        return super()._print_Mul(expr)

    def _written_product(self, args: tuple) -> str:
        """A product as it was written (a number after a symbol only in an unevaluated
        substitution): a dot before a factor that starts with a digit (``g \\cdot 0.038``)."""
        factors = [rf"\frac{{1}}{{{self._print(a.base)}}}" if a.is_Pow and a.exp == -1 else self._factor(a)
                   for a in args]
        out = factors[0]
        for factor in factors[1:]:
            out += (r" \cdot " if factor[:1].isdigit() else " ") + factor
        return out

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


def name_latex(part: str) -> str:
    """One piece of a symbol's name as LaTeX, by a whitelist: the name of a Greek letter is the
    letter (``rho``, ``Sigma``, ``lamda``); anything else is its own letters (``xhat``,
    ``xscr``, ``exec``), with TeX's special characters escaped."""
    if part in tex_greek_dictionary:
        return tex_greek_dictionary[part]
    if part.lower() in greek_letters_set:
        return "\\" + part.lower()
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in part)


def _number(arg: sp.Basic) -> bool:
    """A plain number, or one kept unevaluated (``UnevaluatedExpr(0.038)``)."""
    return isinstance(arg, sp.Number) or (isinstance(arg, sp.UnevaluatedExpr) and isinstance(arg.args[0], sp.Number))


def _given_pattern(expr: Any) -> tuple[bool, ...]:
    """Which numbers of ``expr`` the spec wrote as decimals: a GivenDecimal equals (and hashes
    like) its plain Rational, so a cache of printed expressions must tell them apart."""
    if not isinstance(expr, sp.Basic):
        return ()
    return tuple(isinstance(a, GivenDecimal) for a in sp.preorder_traversal(expr) if isinstance(a, sp.Rational))


@lru_cache(maxsize=1 << 16)
def _evaluated_number(expr: sp.Basic) -> bool:
    """Whether ``expr`` is a number as SymPy evaluates it: no symbols, and rebuilding any
    node changes nothing (a substitution written out, ``1 - \\frac{19}{20}``, is not)."""
    if expr.is_Atom:
        return expr.is_number
    if isinstance(expr, (sp.UnevaluatedExpr, AppliedUndef)) or not isinstance(expr, sp.Expr):
        return False
    if expr.is_Pow and expr.base.is_Rational and expr.exp.is_Integer:
        return False  # SymPy would fold it into one Rational (of a million digits for 0.95^1000000)
    if not all(_evaluated_number(a) for a in expr.args):
        return False
    with sp.evaluate(True):
        return expr.func(*expr.args) == expr


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


def _block_indices(lead: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every index of the leading axes (the matrices of a tensor), in reading order."""
    return list(itertools.product(*(range(n) for n in lead)))


def _negative(term: sp.Basic) -> bool:
    """Whether a term prints with a leading minus sign (``-y``, also of a matrix: ``(-1) Y``)."""
    if isinstance(term, sp.MatMul):
        return bool(term.args[0].is_number and term.args[0].is_negative)
    return bool(term.could_extract_minus_sign())
