"""The matrix-expression reader: answers of a symbolic chain rule such as ``dL_da2 @ z1.T``.

Plain syntax only, read with :func:`ast.parse` and a whitelist: the reference's
matrix-symbol names, integers, ``+ - * @ /`` (``*`` between matrices is the
matrix product, division only by a number), ``.T``, ``transpose(A)``,
``hadamard(A, B)`` (also ``odot``).  Names that are not identifiers, such as the
local-derivative symbol ``relu'(a2)``, may be written as printed or as
``relu_prime(a2)``.  Shapes are checked as the expression is built, so a product
of misfitting shapes is a ShapeError the comparison reports as ``wrong_shape``.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.exceptions import ShapeError

from symderiv.check.parse.clean import checked_text
from symderiv.check.parse.errors import ParseError, too_large, unparseable
from symderiv.check.parse.limits import MAX_DEPTH, Limits
from symderiv.check.shapes import describe_shape, shape_of

MAX_NODES = 300
"""Most syntax-tree nodes in a matrix-expression answer."""

_MATRIX_HELP = ("not a matrix formula: write it in plain syntax with the names {names}, "
                "@ or * for products, .T for a transpose and hadamard(A, B) for an element-wise product")


def read_matrix_expression(text: object, names: Mapping[str, sp.MatrixSymbol]) -> sp.MatrixExpr:
    """Read ``dL_da2 @ z1.T`` or ``hadamard(dL_dz2, relu'(a2))`` over the given matrix symbols.

    Raises ParseError; a product of misfitting shapes raises ShapeError.
    """
    if not isinstance(text, str):
        raise unparseable(f"this answer is a matrix formula in {', '.join(sorted(names))}; give it as a string")
    source, aliases = _alias_names(checked_text(text, "plain", Limits()).text, names)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise unparseable(_MATRIX_HELP.format(names=", ".join(sorted(names)))) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise too_large(f"the formula has more than {MAX_NODES} parts")
    return _MatrixReader(aliases, sorted(names)).read(tree.body, 0)


def _alias_names(text: str, names: Mapping[str, sp.MatrixSymbol]) -> tuple[str, dict[str, sp.MatrixSymbol]]:
    """Replace names that are not Python identifiers (``relu'(a2)``) by safe placeholders."""
    aliases = {n: s for n, s in names.items() if n.isidentifier()}
    spellings = []
    for index, (name, symbol) in enumerate(sorted(names.items())):
        if name.isidentifier():
            continue
        placeholder = f"matrix_symbol_{index}"
        aliases[placeholder] = symbol
        spellings.append((name, placeholder))
        if "'(" in name:
            spellings.append((name.replace("'(", "_prime(", 1), placeholder))
    for spelling, placeholder in sorted(spellings, key=lambda pair: -len(pair[0])):
        text = text.replace(spelling, f" {placeholder} ")
    return text, aliases


def _check_product(left: sp.Basic, right: sp.Basic) -> None:
    a, b = shape_of(left), shape_of(right)
    if a is not None and b is not None and a[1] != b[0]:
        raise ShapeError(f"a {a[0]}x{a[1]} matrix times a {b[0]}x{b[1]} matrix is undefined")


@dataclass(frozen=True)
class _MatrixReader:
    """Walks the syntax tree, building the matrix expression node by node."""

    names: Mapping[str, sp.MatrixSymbol]
    shown: list[str]

    def read(self, node: ast.AST, depth: int) -> sp.Basic:
        if depth > MAX_DEPTH:
            raise too_large(f"the formula is nested more than {MAX_DEPTH} deep")
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) < 10**9:
            return sp.Integer(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.read(node.operand, depth + 1)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        return self.postfix(node, depth)

    def postfix(self, node: ast.AST, depth: int) -> sp.Basic:
        """``A.T`` or a call such as ``hadamard(A, B)``; nothing else is a matrix formula."""
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.call("transpose", [self.read(node.value, depth + 1)])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return self.call(node.func.id, [self.read(arg, depth + 1) for arg in node.args])
        raise self.help()

    def help(self) -> ParseError:
        """The error for anything outside the grammar: it says what the answer may use."""
        return unparseable(_MATRIX_HELP.format(names=", ".join(self.shown)))

    def name(self, name: str) -> sp.MatrixSymbol:
        if name not in self.names:
            raise unparseable(f"unknown quantity {name!r}: this answer may use {', '.join(self.shown)}")
        return self.names[name]

    def binary(self, node: ast.BinOp, depth: int) -> sp.Basic:
        left, right = self.read(node.left, depth + 1), self.read(node.right, depth + 1)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            if shape_of(left) != shape_of(right):
                raise ShapeError(f"cannot add {describe_shape(shape_of(left))} and {describe_shape(shape_of(right))}")
            return left + right if isinstance(node.op, ast.Add) else left - right
        if isinstance(node.op, (ast.Mult, ast.MatMult)):
            _check_product(left, right)
            return left * right
        if isinstance(node.op, ast.Div) and shape_of(right) is None and right != 0:
            return left / right
        raise self.help()

    def call(self, name: str, args: list[sp.Basic]) -> sp.Basic:
        if name in ("hadamard", "odot") and len(args) == 2 and all(shape_of(a) for a in args):
            if shape_of(args[0]) != shape_of(args[1]):
                raise ShapeError(f"hadamard needs equal shapes, not {shape_of(args[0])} and {shape_of(args[1])}")
            return sp.HadamardProduct(*args)
        if name == "transpose" and len(args) == 1 and shape_of(args[0]):
            return sp.Transpose(args[0])
        raise unparseable(f"{name}(...) is not allowed here; " + _MATRIX_HELP.format(names=", ".join(self.shown)))
