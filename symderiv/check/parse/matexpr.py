"""The matrix-expression reader: answers of a symbolic chain rule such as ``dL_da2 @ z1.T``.

An answer may name only the reference's matrix symbols, written as plain names
(``dL_da2``, ``relu'(a2)`` or ``relu_prime(a2)``) or as the sheet prints them
(``\\frac{\\partial L}{\\partial \\mathbf{a}^{(2)}}``, ``\\operatorname{ReLU}'(a^{(2)})``: the
problem's notation, found by :mod:`.names`). Between them:

* products: ``@``, ``*``, ``\\cdot``, ``\\times`` or juxtaposition (``dL_da1 x^T``);
* element-wise products: ``⊙``, ``\\odot``, ``\\circ``, ``hadamard(A, B)``, ``odot(A, B)``;
* transposes: ``.T``, ``^T``, ``^\\top``, ``^{\\top}``, ``'``, ``transpose(A)``;
* ``+``, ``-``, integer factors, division by an integer, ``( )`` and ``{ }`` groups.

Products and element-wise products bind equally tightly, left to right. Shapes are
checked as the expression is built, so a product of misfitting shapes is a ShapeError,
which the comparison reports as ``wrong_shape``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.exceptions import ShapeError

from symderiv.check.parse.clean import checked_text
from symderiv.check.parse.errors import ParseError, too_large, unparseable
from symderiv.check.parse.limits import MAX_DEPTH, Limits
from symderiv.check.parse.names import TRANSPARENT, Names, mark_names
from symderiv.check.shapes import describe_shape, shape_of

MAX_NODES = 300
"""Most names, numbers and operations in a matrix-expression answer."""

_MATRIX_HELP = ("not a matrix formula: write it with the names {names} (or as the sheet prints them), "
                "@, * or juxtaposition for products, .T or ^T for a transpose and hadamard(A, B) or ⊙ for an "
                "element-wise product")
_LEXEME = re.compile(r"""
    \x00(?P<marked>[^\x00]*)\x00
  | (?P<transposed>\.T(?![A-Za-z0-9_]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<int>[0-9]+)
  | \\(?P<cmd>[A-Za-z]+|.)
  | (?P<char>[-+*/@(){}\[\],^'])
  | (?P<space>\s+)
""", re.VERBOSE | re.ASCII)
_COMMANDS = {"cdot": "*", "times": "*", "ast": "*", "odot": "odot", "circ": "odot", "top": "top",
             "intercal": "top"}
_DROPPED = frozenset(t[1:] for t in TRANSPARENT if t.startswith("\\")) | {"quad", "qquad", "biggl", "biggr"}
_PRODUCTS = {"*": "matmul", "@": "matmul", "odot": "odot"}
_CALLS = {"hadamard": "odot", "odot": "odot", "HadamardProduct": "odot", "transpose": "T", "Transpose": "T"}
_CLOSERS = {"(": ")", "{": "}", "[": "]"}


@dataclass(frozen=True)
class _Token:
    kind: str  # name, ident, int, op, open, close, comma, eof
    text: str


def read_matrix_expression(text: object, names: Mapping[str, sp.MatrixSymbol],
                           notation: Mapping[str, str] | None = None) -> sp.MatrixExpr:
    """Read ``dL_da2 @ z1.T`` or ``dL_dz2 ⊙ relu'(a2)`` over the given matrix symbols,
    which ``notation`` (name -> LaTeX) may spell as the sheet does.

    Raises ParseError; a product of misfitting shapes raises ShapeError.
    """
    if not isinstance(text, str):
        raise unparseable(f"this answer is a matrix formula in {', '.join(sorted(names))}; give it as a string")
    source = checked_text(text, "plain", Limits())
    marked = mark_names(source, matrix_names(names, notation or {}), lambda name: f" \x00{name}\x00 ")
    tokens = _tokens(marked.text, sorted(names))
    return _MatrixReader(tokens, names, sorted(names)).read()


def matrix_names(names: Mapping[str, sp.MatrixSymbol], notation: Mapping[str, str]) -> Names:
    """Every spelling of every name: as named, as the notation prints it, and the usual
    variants (``relu_prime(a2)`` and ``ReLU'(a2)`` for ``relu'(a2)``, ``dL/dW1`` for
    ``dL_dW1``, ``\\partial L/\\partial W`` for ``\\frac{\\partial L}{\\partial W}``)."""
    return Names.of({name: set(_variants(name)) | set(_latex_variants(notation.get(name, ""))) for name in names})


def _variants(name: str) -> Iterable[str]:
    yield name
    if "'(" in name:
        function, _, argument = name.partition("'(")
        for spelled in {function, function.lower(), function.upper(), function.capitalize(), "ReLU"
                        if function.lower() == "relu" else function}:
            yield f"{spelled}'({argument}"
            yield f"{spelled}_prime({argument}"
    match = re.fullmatch(r"d([A-Za-z0-9]+)_d([A-Za-z0-9_]+)", name)
    if match:
        yield f"d{match.group(1)}/d{match.group(2)}"


def _latex_variants(latex: str) -> Iterable[str]:
    if not latex:
        return
    yield latex
    yield re.sub(r"\\operatorname\{([A-Za-z]+)\}", lambda m: m.group(1).lower(), latex)
    parts = _fraction_parts(latex)
    if parts is not None:
        yield f"{parts[0]}/{parts[1]}"


def _fraction_parts(latex: str) -> tuple[str, str] | None:
    """Numerator and denominator of a spelling that is one ``\\frac{...}{...}``."""
    if not latex.startswith("\\frac{"):
        return None
    depth, start = 0, len("\\frac")
    for index in range(start, len(latex)):
        depth += (latex[index] == "{") - (latex[index] == "}")
        if depth == 0:
            rest = latex[index + 1:]
            if rest.startswith("{") and rest.endswith("}"):
                return latex[start + 1:index], rest[1:-1]
            return None
    return None


def _tokens(text: str, shown: list[str]) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _LEXEME.match(text, position)
        if match is None:
            raise unparseable(f"{text[position]!r} cannot be read; " + _MATRIX_HELP.format(names=", ".join(shown)))
        position = match.end()
        token = _token(match)
        if token is not None:
            tokens.append(token)
    return tokens + [_Token("eof", "")]


def _token(match: re.Match[str]) -> _Token | None:
    kind, text = match.lastgroup or "char", match.group(match.lastgroup or 0)
    if kind == "space" or (kind == "cmd" and text in _DROPPED):
        return None
    if kind == "cmd":
        if text not in _COMMANDS:
            raise unparseable(f"the LaTeX command \\{text} is not supported in a matrix formula")
        text = _COMMANDS[text]
        return _Token("op", text) if text != "top" else _Token("ident", "top")
    if kind == "transposed":
        return _Token("op", "'")
    if kind == "char":
        kind = "open" if text in _CLOSERS else "close" if text in ")}]" else "comma" if text == "," else "op"
    return _Token("name" if kind == "marked" else kind, text)


class _MatrixReader:
    """Recursive descent over the tokens, building the matrix expression node by node."""

    def __init__(self, tokens: list[_Token], names: Mapping[str, sp.MatrixSymbol], shown: list[str]) -> None:
        self.tokens, self.index, self.names, self.shown = tokens, 0, names, shown
        self.nodes = self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tok
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def help(self) -> ParseError:
        """The error for anything outside the grammar: it says what the answer may use."""
        return unparseable(_MATRIX_HELP.format(names=", ".join(self.shown)))

    def node(self, value: sp.Basic) -> sp.Basic:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise too_large(f"the formula has more than {MAX_NODES} parts")
        return value

    def read(self) -> sp.Basic:
        value = self.expr()
        if not self.at("eof"):
            raise self.help()
        return value

    def expr(self) -> sp.Basic:
        value = self.term()
        while self.at("op", "+") or self.at("op", "-"):
            sign = self.advance().text
            right = self.term()
            if shape_of(value) != shape_of(right):
                raise ShapeError(f"cannot add {describe_shape(shape_of(value))} and {describe_shape(shape_of(right))}")
            value = self.node(value + right if sign == "+" else value - right)
        return value

    def term(self) -> sp.Basic:
        value = self.unary()
        while True:
            if self.at("op", "/"):
                self.advance()
                divisor = self.unary()
                if shape_of(divisor) is not None or not divisor.is_Integer or divisor == 0:
                    raise self.help()
                value = self.node(value / divisor)
                continue
            operation = self.product_operator()
            if operation is None:
                return value
            value = self.node(_product(operation, value, self.unary()))

    def product_operator(self) -> str | None:
        """``*``, ``@``, ``⊙``; or juxtaposition, when a factor follows directly."""
        if self.tok.kind == "op" and self.tok.text in _PRODUCTS:
            return _PRODUCTS[self.advance().text]
        if self.tok.kind in ("name", "int", "open") or (self.tok.kind == "ident" and self.tok.text in _CALLS):
            return "matmul"
        return None

    def unary(self) -> sp.Basic:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise too_large(f"the formula is nested more than {MAX_DEPTH} deep")
            if self.at("op", "-") or self.at("op", "+"):
                negative = self.advance().text == "-"
                value = self.unary()
                return self.node(-value) if negative else value
            return self.transposes(self.atom())
        finally:
            self.depth -= 1

    def transposes(self, value: sp.Basic) -> sp.Basic:
        while True:
            if self.at("op", "'"):
                self.advance()
            elif self.at("op", "^") and self._transpose_marker():
                pass
            else:
                return value
            value = self.node(sp.Transpose(value) if shape_of(value) else value)

    def _transpose_marker(self) -> bool:
        """``^T``, ``^\\top``, ``^{T}``, ``^{\\top}`` (the tokens are consumed when they match)."""
        window = [(t.kind, t.text) for t in self.tokens[self.index + 1:self.index + 4]]
        marks = {("ident", "T"), ("ident", "top")}
        if window[:1] and window[0] in marks:
            self.index += 2
            return True
        if window[:3] and window[0] == ("open", "{") and window[1] in marks and window[2] == ("close", "}"):
            self.index += 4
            return True
        return False

    def atom(self) -> sp.Basic:
        token = self.advance()
        if token.kind == "name":
            return self.node(self.names[token.text])
        if token.kind == "int" and len(token.text) < 10:
            return self.node(sp.Integer(int(token.text)))
        if token.kind == "open":
            value = self.expr()
            if not self.at("close", _CLOSERS[token.text]):
                raise self.help()
            self.advance()
            return value
        if token.kind == "ident" and token.text in _CALLS and self.at("open", "("):
            return self.call(token.text)
        if token.kind == "ident":
            raise unparseable(f"unknown quantity {token.text!r}: this answer may use {', '.join(self.shown)}")
        raise self.help()

    def call(self, name: str) -> sp.Basic:
        self.advance()
        args = [self.expr()]
        while self.at("comma"):
            self.advance()
            args.append(self.expr())
        if not self.at("close", ")"):
            raise self.help()
        self.advance()
        operation = _CALLS[name]
        if operation == "T" and len(args) == 1 and shape_of(args[0]):
            return self.node(sp.Transpose(args[0]))
        if operation == "odot" and len(args) == 2:
            return self.node(_product("odot", *args))
        raise unparseable(f"{name}(...) is not allowed here; " + _MATRIX_HELP.format(names=", ".join(self.shown)))


def _product(operation: str, left: sp.Basic, right: sp.Basic) -> sp.Basic:
    a, b = shape_of(left), shape_of(right)
    if operation == "odot":
        if a is None or b is None:
            raise unparseable("an element-wise product needs two matrices")
        if a != b:
            raise ShapeError(f"an element-wise product needs equal shapes, not {describe_shape(a)} and "
                             f"{describe_shape(b)}")
        return sp.HadamardProduct(left, right)
    if a is not None and b is not None and a[1] != b[0]:
        raise ShapeError(f"a {a[0]}x{a[1]} matrix times a {b[0]}x{b[1]} matrix is undefined")
    return left * right
