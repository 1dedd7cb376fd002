"""SymPy expressions -> NumPy array expressions (one line each), for whole-array code.

A small subclass of SymPy's own ``NumPyPrinter``: the same dispatch on class names, with
``np.`` as the module prefix and the piecewise pieces printed as masks or NumPy's own
element-wise functions (``Max(0, v)`` -> ``np.maximum(v, 0.0)``, ``Heaviside(v, 0)`` ->
``np.greater(v, 0.0)``) rather than SymPy's generic ``amax``/``select`` forms.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symderiv.kernels.emit import literal


class ArrayPrinter(NumPyPrinter):
    """Prints element-wise array code; ``names`` maps some subexpressions to code."""

    def __init__(self, names: dict | None = None) -> None:
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})
        self.names = dict(names or {})

    def _module_format(self, fqn: str, register: bool = True) -> str:
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Basic) and expr in self.names:
            return self.names[expr]
        return super()._print(expr, **kwargs)

    def _print_Rational(self, expr: sp.Rational) -> str:
        return literal(expr)

    def _print_Integer(self, expr: sp.Integer) -> str:
        """Whole numbers a float64 holds exactly as ints; larger ones as float literals (a
        Python int past 2^63 would not go into a NumPy operation)."""
        return str(int(expr)) if abs(expr) < 2**53 else literal(expr)

    def _print_Half(self, expr) -> str:
        return "0.5"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp == -1:
            return f"1/{self.parenthesize(expr.base, sp.printing.precedence.PRECEDENCE['Pow'])}"
        return super()._print_Pow(expr, rational=rational)

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        v = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if h0 == 0:
            return f"np.greater({v}, 0.0)"
        if h0 == 1:
            return f"np.greater_equal({v}, 0.0)"
        return f"np.heaviside({v}, {literal(h0)})"

    def _print_Max(self, expr: sp.Max) -> str:
        return self._fold("np.maximum", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._fold("np.minimum", expr.args)

    def _fold(self, fn: str, args) -> str:
        ordered = [a for a in args if not a.is_Number] + [a for a in args if a.is_Number]
        code = self._print(ordered[0])
        for a in ordered[1:]:
            code = f"{fn}({code}, {self._print(a)})"
        return code


def cse_lines(exprs: list[sp.Basic], printer: ArrayPrinter, prefix: str) -> tuple[list[str], list[str]]:
    """Straight-line code for ``exprs``: shared subexpressions assigned once, in order."""
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols(prefix), order="canonical")
    lines = [f"{sym} = {printer.doprint(expr)}" for sym, expr in replacements]
    return lines, [printer.doprint(expr) for expr in reduced]


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;()-_+*/=<>!?&%@[]|'")


def safe_text(text: str) -> str:
    """Spec text (a title) for a comment or docstring of generated code: printable ASCII
    without quotes, backslashes or line breaks, so it can never end the comment or the
    docstring and become code; anything else prints as ``?``."""
    return "".join(ch if ch in _SAFE else "?" for ch in " ".join(text.split()))
