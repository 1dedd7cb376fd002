"""The LaTeX reader: a recursive-descent parser of our own over a fixed list of commands.

``sympy.parsing.latex`` is never used: it is built for trusted input.  This
parser knows the commands of the homework's answers (``\\frac``, ``\\sqrt``,
``\\lfloor``, ``\\ln``, ``\\max``, ``pmatrix``...) and refuses every other one
(``\\input``, ``\\write18``...).  ``|x|`` is an absolute value; a bar inside bars
needs its own parentheses, ``|(|x|+1)|``, or ``abs(...)``.  Every number, name
and operation is built by the bounded :class:`~.builder.Builder`.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sympy
from sympy.matrices import MatrixBase

from symderiv.check.parse.builder import (
    GREEK_ALIASES,
    Builder,
    Value,
    blocks_to_tensor,
    is_sequence,
    rows_to_matrix,
)
from symderiv.check.parse.errors import (
    at_character,
    not_finite,
    too_large,
    unparseable_at,
)
from symderiv.check.parse.functions import FUNCTIONS
from symderiv.check.parse.latex_lexer import (
    GREEK,
    Token,
    describe,
    latex_tokens,
    word_tokens,
)
from symderiv.check.parse.source import SourceText

_MATH_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_LATEX_FUNCTIONS = {"ln": "ln", "log": "log", "exp": "exp", "sin": "sin", "cos": "cos",
                    "tanh": "tanh", "max": "max", "min": "min"}
_TIMES_COMMANDS = {"cdot": "*", "times": "*", "ast": "*", "div": "/"}
_STOP_COMMANDS = frozenset({"rfloor", "rceil", "rvert", "\\", "}"}) | frozenset(_TIMES_COMMANDS)
_DELIMITED = {"lfloor": ("rfloor", "floor"), "lceil": ("rceil", "ceiling"), "lvert": ("rvert", "abs")}
_FRACTIONS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_MATRIX_ENVIRONMENTS = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "smallmatrix"})
_GROUP_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde", "widetilde": "tilde"}


def read_latex(source: SourceText, builder: Builder) -> Value:
    """Read LaTeX such as ``\\left\\lfloor \\frac{n+2p-k}{s} \\right\\rfloor + 1``."""
    source = _unwrap(source.strip())
    return _LatexParser(latex_tokens(source), builder, source).parse()


def _unwrap(source: SourceText) -> SourceText:
    """Without one pair of math delimiters around the whole answer (``$...$``, ``\\(...\\)``)."""
    text = source.text
    for opener, closer in _MATH_DELIMITERS:
        if len(text) >= 2 * len(opener) and text.startswith(opener) and text.endswith(closer):
            return source.slice(len(opener), len(text) - len(closer))
    return source


class _LatexParser:
    """Recursive descent over LaTeX tokens; precedence from loosest to tightest:

    ``,`` (top-level tuple)  <  ``+ -``  <  ``* / \\cdot \\times`` and juxtaposition
    <  unary sign  <  ``^``  <  atoms (numbers, names, groups, ``\\frac``, ...).
    Each nested atom passes :meth:`power`, which counts depth against the limit.
    """

    def __init__(self, tokens: list[Token], builder: Builder, source: SourceText) -> None:
        self.tokens, self.index, self.b, self.source = tokens, 0, builder, source
        self.depth, self.in_abs = 0, False

    # ---- token helpers ---------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def where(self, token: Token) -> int:
        """The offset, in the answer as typed, where ``token`` begins."""
        return self.source.origin(token.pos)

    def expect(self, kind: str, text: str, what: str) -> None:
        if not self.at(kind, text):
            raise unparseable_at(self.where(self.tok), f"expected {what}", f", found {describe(self.tok)}")
        self.advance()

    def split_first(self) -> None:
        """Keep only the first character of a number or word token (``x^23`` is ``x^2 3``)."""
        token = self.tok
        if len(token.text) < 2 or token.kind not in ("num", "word"):
            return
        rest = ([Token("num", token.text[1:], token.pos + 1)] if token.kind == "num"
                else word_tokens(token.text[1:], token.pos + 1))
        first = Token("num" if token.kind == "num" else "letter", token.text[0], token.pos)
        self.tokens[self.index:self.index + 1] = [first, *rest]

    @contextmanager
    def deeper(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > self.b.limits.depth:
            raise too_large(f"the expression is nested more than {self.b.limits.depth} deep")
        try:
            yield
        finally:
            self.depth -= 1

    # ---- grammar ---------------------------------------------------------

    def parse(self) -> Value:
        value = self.comma_list()
        if not self.at("eof"):
            raise unparseable_at(self.where(self.tok), f"unexpected {describe(self.tok)}")
        return value

    def comma_list(self) -> Value:
        items = [self.expr()]
        while self.at("char", ","):
            self.advance()
            items.append(self.expr())
        return items[0] if len(items) == 1 else tuple(items)

    def expr(self) -> Value:
        first, steps = self.term(), []
        while self.tok.kind == "char" and self.tok.text in ("+", "-"):
            op = self.advance().text
            steps.append((op, self.term()))
        return self.b.fold(first, steps) if steps else first

    def term(self) -> Value:
        first, steps = self.signed(), []
        while (op := self.product_operator()) is not None:
            steps.append((op, self.signed()))
        return self.b.fold(first, steps) if steps else first

    def product_operator(self) -> str | None:
        """Consume ``*``, ``/``, ``\\cdot``...; or return ``*`` for juxtaposition."""
        token = self.tok
        if token.kind == "char" and token.text in ("*", "/"):
            return self.advance().text
        if token.kind == "cmd" and token.text in _TIMES_COMMANDS:
            return _TIMES_COMMANDS[self.advance().text]
        if not self.starts_factor(token):
            return None
        if token.kind == "num" and self.tokens[self.index - 1].kind == "num":
            raise unparseable_at(self.where(token), "two numbers in a row", "; use \\cdot or *")
        return "*"

    def starts_factor(self, token: Token) -> bool:
        if token.kind in ("num", "letter", "word", "text", "begin"):
            return True
        if token.kind == "cmd":
            return token.text not in _STOP_COMMANDS
        return token.kind == "char" and (token.text in "([{" or (token.text == "|" and not self.in_abs))

    def signed(self) -> Value:
        negative = False
        while self.tok.kind == "char" and self.tok.text in ("+", "-"):
            negative ^= self.advance().text == "-"
        value = self.power()
        return self.b.neg(value) if negative else value

    def power(self) -> Value:
        with self.deeper():
            value = self.primes(self.postfix())
            if self.at("char", "^"):
                marker = self.transpose_marker(is_sequence(value))
                if marker:
                    self.index += marker
                    value = self.b.transpose(value) if is_sequence(value) else value
                else:
                    self.advance()
                    value = self.b.power(value, self.argument())
                if self.at("char", "^"):
                    raise unparseable_at(self.where(self.tok), "double superscript", "; use braces")
            return value

    def primes(self, value: Value) -> Value:
        """``v'``: a transposed vector or matrix (as in MATLAB)."""
        while self.at("char", "'"):
            if not is_sequence(value):
                raise unparseable_at(self.where(self.tok), "a prime '", " is only a transpose of a vector or matrix")
            self.advance()
            value = self.b.transpose(value)
        return value

    def transpose_marker(self, of_sequence: bool) -> int:
        """How many tokens after ``^`` say "transposed" (0 if none): ``^\\top``, ``^{\\top}``,
        ``^\\intercal``; ``^T`` and ``^{T}`` only after a vector or matrix (else T is a power)."""
        window = [(t.kind, t.text) for t in self.tokens[self.index + 1:self.index + 4]]
        marks = {("cmd", "top"), ("cmd", "intercal")} | ({("letter", "T"), ("text", "T")} if of_sequence else set())
        if window[:1] and window[0] in marks:
            return 2
        if len(window) == 3 and window[0] == ("char", "{") and window[1] in marks and window[2] == ("char", "}"):
            return 4
        return 0

    def postfix(self) -> Value:
        """A name with optional subscript and ``^{(k)}`` label, or any other atom."""
        name = self.name_token() or self.braced_name()
        if name is None:
            return self.atom()
        if self.b.is_function(name) and self.at("char", "("):
            return self.b.call(name, self.function_arguments())
        if self.at("char", "_"):
            self.advance()
            name += "_" + self.subscript()
        label = self.label_superscript()
        return self.b.name(name if label is None else f"{name}^({label})")

    def name_token(self) -> str | None:
        token = self.tok
        if token.kind == "cmd" and token.text in _ACCENTS:
            return self.accented()
        is_name = (token.kind == "letter"
                   or token.kind in ("word", "cmd") and token.text in GREEK
                   or token.kind == "text" and token.text not in FUNCTIONS)
        if not is_name:
            return None
        self.advance()
        return token.text

    def accented(self) -> str:
        """``\\hat{y}`` is the name ``y_hat`` (also ``\\bar``, ``\\tilde``), as the key names it."""
        accent = _ACCENTS[self.advance().text]
        if not self.at("char", "{"):
            self.split_first()
        name = self.name_token() or self.braced_name(subscripted=False)
        if name is None:
            raise unparseable_at(self.where(self.tok), f"expected a letter under the {accent}")
        return f"{name}_{accent}"

    def braced_name(self, subscripted: bool = True) -> str | None:
        """A name in braces, ``{y}`` or ``{\\hat{{y}}}``, as the sheet prints an entry's name
        (``{y}_{1}``): only when a subscript or label follows (unless ``subscripted`` is
        False), else None and nothing is consumed (the braces are a group)."""
        start, depth = self.index, 0
        while self.at("char", "{"):
            self.advance()
            depth += 1
        name = self.name_token() if depth else None
        while name is not None and depth and self.at("char", "}"):
            self.advance()
            depth -= 1
        if name is None or depth or (subscripted and not self.at("char", "_") and not self.at("char", "^")):
            self.index = start
            return None
        return name

    def subscript(self) -> str:
        """``_1``, ``_i`` or ``_{out}`` as text: it becomes part of a symbol's name."""
        if not self.at("char", "{"):
            self.split_first()
            return self.subscript_piece()
        self.advance()
        parts = []
        while not self.at("char", "}"):
            if self.at("eof"):
                raise unparseable_at(self.where(self.tok), "missing } after a subscript")
            parts.append(self.subscript_piece())
        closing = self.advance()
        if not parts:
            raise unparseable_at(self.where(closing), "empty subscript")
        return "".join(parts)

    def subscript_piece(self) -> str:
        token = self.advance()
        if token.kind in ("letter", "word", "text") or token.kind == "num" and token.text.isdigit():
            return token.text
        if token.kind == "char" and token.text == ",":  # an entry (i, j): ``W_{1,2}``
            return ","
        if token.kind == "cmd" and token.text in GREEK:
            return GREEK_ALIASES.get(token.text, token.text)
        raise unparseable_at(self.where(token),
                             f"a subscript may hold only letters and digits, not {describe(token)}")

    def label_superscript(self) -> str | None:
        """Recognise ``^{(1)}`` (a layer label in ``W^{(1)}``) and return ``"1"``."""
        window = self.tokens[self.index:self.index + 3]
        if [(t.kind, t.text) for t in window] != [("char", "^"), ("char", "{"), ("char", "(")]:
            return None
        end = self.index + 3
        while self.tokens[end].kind in ("letter", "word") or (
                self.tokens[end].kind == "num" and self.tokens[end].text.isdigit()):
            end += 1
        closing = [(t.kind, t.text) for t in self.tokens[end:end + 2]]
        if end == self.index + 3 or closing != [("char", ")"), ("char", "}")]:
            return None
        label = "".join(t.text for t in self.tokens[self.index + 3:end])
        self.index = end + 2
        return label

    def argument(self) -> Value:
        """The argument of ``^``, ``\\frac`` or ``\\sqrt``: ``{...}`` or one character."""
        if self.at("char", "{"):
            self.advance()
            value = self.expr()
            self.expect("char", "}", "}")
            return value
        self.split_first()
        token = self.tok
        if token.kind == "num":
            return self.b.decimal(self.advance().text)
        name = self.name_token()
        if name is None:
            raise unparseable_at(self.where(token), "put the argument", " in braces {...}")
        return self.b.name(name)

    # ---- atoms -----------------------------------------------------------

    def atom(self) -> Value:
        token = self.tok
        if token.kind == "num":
            return self.b.decimal(self.advance().text)
        if token.kind == "char" and token.text in _GROUP_CLOSERS:
            return self.group(_GROUP_CLOSERS[token.text])
        if token.kind == "char" and token.text == "|" and not self.in_abs:
            return self.absolute_value()
        if token.kind in ("word", "text") and token.text in FUNCTIONS:
            return self.function(token.text)
        if token.kind == "begin":
            return self.matrix()
        if token.kind == "cmd":
            return self.command(token)
        if token.kind == "eof":
            raise unparseable_at(self.where(token), "the answer ends too early")
        raise unparseable_at(self.where(token), f"unexpected {describe(token)}")

    def command(self, token: Token) -> Value:
        name = token.text
        if name in _FRACTIONS:
            self.advance()
            numerator = self.argument()
            return self.b.binary("/", numerator, self.argument())
        if name == "sqrt":
            return self.square_root()
        if name in _LATEX_FUNCTIONS:
            return self.function(_LATEX_FUNCTIONS[name])
        if name in _DELIMITED:
            return self.delimited(*_DELIMITED[name])
        if name == "infty":
            raise not_finite("infinity is not a finite answer")
        raise unparseable_at(self.where(token), f"the LaTeX command \\{name}", " is not supported")

    def group(self, closer: str) -> Value:
        """``(...)`` or ``[...]`` (commas make a tuple) or ``{...}`` (one expression)."""
        opener = self.advance()
        saved, self.in_abs = self.in_abs, False
        value = self.comma_list() if opener.text != "{" else self.expr()
        self.in_abs = saved
        self.expect("char", closer, f"{closer!r} (for the {opener.text!r} {at_character(self.where(opener))})")
        return value

    def absolute_value(self) -> Value:
        self.advance()
        self.in_abs = True
        value = self.expr()
        self.in_abs = False
        self.expect("char", "|", "a closing |")
        return self.b.call("abs", [value])

    def delimited(self, closer: str, function: str) -> Value:
        opener = self.advance()
        value = self.expr()
        self.expect("cmd", closer, f"\\{closer} (for the \\{opener.text} {at_character(self.where(opener))})")
        return self.b.call(function, [value])

    def square_root(self) -> Value:
        self.advance()
        index = None
        if self.at("char", "["):
            self.advance()
            index = self.expr()
            self.expect("char", "]", "] after the root's index")
        radicand = self.argument()
        if index is None:
            return self.b.call("sqrt", [radicand])
        return self.b.power(radicand, self.b.binary("/", sympy.Integer(1), index))

    def function(self, name: str) -> Value:
        """``\\ln(x)``, ``\\ln x``, ``\\log_2 x``, ``\\sin^2 x``, ``\\max(a, b)``, ``\\max\\{0, x\\}``."""
        self.advance()
        base = power = None
        if name == "log" and self.at("char", "_"):
            self.advance()
            base = self.argument()
        if self.at("char", "^"):
            self.advance()
            power = self.argument()
        args = self.function_arguments() + ([] if base is None else [base])
        value = self.b.call(name, args)
        return value if power is None else self.b.power(value, power)

    def function_arguments(self) -> list[Value]:
        if self.tok.kind == "char" and self.tok.text in _GROUP_CLOSERS:
            value = self.group(_GROUP_CLOSERS[self.tok.text])
        elif self.at("cmd", "{"):
            self.advance()
            value = self.comma_list()
            self.expect("cmd", "}", "\\} after the arguments")
        else:
            return [self.power()]
        return list(value) if isinstance(value, tuple) else [value]

    def matrix(self) -> sympy.ImmutableMatrix:
        """``\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}`` (also bmatrix, matrix...)."""
        begin = self.advance()
        if begin.text not in _MATRIX_ENVIRONMENTS:
            raise unparseable_at(self.where(begin), f"the environment {begin.text}",
                                 " is not supported; use pmatrix or bmatrix")
        rows = self.matrix_rows()
        end = self.advance()
        if end.text != begin.text:
            raise unparseable_at(self.where(end), f"\\begin{{{begin.text}}} is closed by \\end{{{end.text}}}")
        if any(isinstance(cell, MatrixBase) for row in rows for cell in row):
            return blocks_to_tensor(rows)
        return rows_to_matrix(rows)

    def cell(self, value: Value) -> sympy.Basic:
        if self.b.limits.rank > 2 and isinstance(value, MatrixBase):
            return value
        return self.b.scalar(value)

    def matrix_rows(self) -> list[list[sympy.Basic]]:
        """Cells split by ``&``, rows by ``\\\\``, up to ``\\end``; a trailing ``\\\\`` is allowed.
        Where a tensor is expected a cell may be a matrix (a channel of an image)."""
        rows: list[list[sympy.Basic]] = [[]]
        while not self.at("end"):
            rows[-1].append(self.cell(self.expr()))
            if self.at("char", "&"):
                self.advance()
            elif self.at("cmd", "\\"):
                self.advance()
                rows.append([])
            elif not self.at("end"):
                raise unparseable_at(self.where(self.tok), "expected &, \\\\ or \\end")
        if len(rows) > 1 and not rows[-1]:
            rows.pop()
        return rows
