"""The plain-syntax reader: Python's own parser for the tree, then a whitelist walker.

Plain answers such as ``floor((n+2*p-k)/s)+1`` or ``[[1,2],[3,4]]`` are read by
:func:`ast.parse`, which only builds a syntax tree (nothing is compiled or run),
and a walker that accepts a short *whitelist* of node types: numbers, names,
``+ - * / // ** ^``, unary signs, calls of whitelisted functions, and lists and
tuples at the top.  Everything else (attributes, subscripts, strings, lambdas,
comparisons, keyword arguments, ...) is refused.

Before parsing, student habits are rewritten into Python syntax (``^`` is a
power, ``2p`` is ``2*p``) in a :class:`~.source.SourceText`, so that an error
still points at the character the student typed.
"""
from __future__ import annotations

import ast
import io
import keyword
import math
import re
import tokenize
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import sympy

from symderiv.check.parse.builder import Builder, Value, is_sequence
from symderiv.check.parse.errors import (
    ParseError,
    not_finite,
    too_large,
    unparseable,
    unparseable_at,
)
from symderiv.check.parse.functions import FUNCTIONS
from symderiv.check.parse.source import SourceText

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SPACES = re.compile(r"\s+")
_LAMBDA = re.compile(r"\blambda\b")
_CARET = re.compile(r"\^")
_TRANSPOSE_PRIME = re.compile(r"(?<=[\])])'")
_SPACED_ROW = re.compile(r"\s*[+-]?[0-9.]+(?:\s+[+-]?[0-9.]+)+\s*", re.ASCII)
_INNER_SPACE = re.compile(r"\s+")
_LAMBDA_PLACEHOLDER = "_kw_lambda"  # 'lambda' is a Python keyword but a common symbol
_SKIPPED_TOKENS = frozenset({tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                             tokenize.INDENT, tokenize.DEDENT})


def read_plain(source: SourceText, builder: Builder) -> Value:
    """Read plain math such as ``floor((n+2*p-k)/s)+1`` or ``[[1,2],[3,4]]``."""
    python = plain_source(source, builder.is_function)
    tree = _ast_parse(python)
    return _PlainWalker(python, builder).top(tree.body)


def plain_source(source: SourceText, is_function: Callable[[str], bool] = FUNCTIONS.__contains__) -> SourceText:
    """Rewrite student habits into Python syntax: ``^`` is a power, ``2p`` is ``2*p``,
    ``[1, 2; 3, 4]`` is a list of rows, a final ``'`` after a bracket is a transpose."""
    source = source.sub(_SPACES, " ").strip()
    if "#" in source.text:
        raise unparseable_at(source.origin(source.text.index("#")), "'#'", " is not allowed in an answer")
    source = semicolon_rows(source).sub(_TRANSPOSE_PRIME, "**T")
    source = source.sub(_LAMBDA, _LAMBDA_PLACEHOLDER).sub(_CARET, "**")
    return _insert_implicit_products(source, is_function)


def semicolon_rows(source: SourceText) -> SourceText:
    """``[2; 8; 9]`` (MATLAB's rows) as ``[[2], [8], [9]]``; ``[1 2; 3 4]`` as ``[[1, 2], [3, 4]]``.

    Only a whole answer in one pair of brackets with ``;`` directly inside is rewritten.
    """
    text = source.text
    if len(text) < 2 or text[0] not in "([" or text[-1] != {"(": ")", "[": "]"}[text[0]]:
        return source
    depth, cuts = 0, []
    for index, char in enumerate(text[1:-1], start=1):
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return source  # the first bracket closes before the end: not one pair around the whole
        if depth == 0 and char == ";":
            cuts.append(index)
    if not cuts:
        return source
    bounds = [0, *cuts, len(text) - 1]
    edits = [(0, 1, "[[")] + [(c, c + 1, "], [") for c in cuts] + [(len(text) - 1, len(text), "]]")]
    spaced = [e for start, end in pairwise(bounds) for e in _spaced_numbers(text, start + 1, end)]
    return source.edit(sorted(edits + spaced))


def _spaced_numbers(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """In a row of numbers separated only by spaces (``1 2 -3``), commas for those spaces."""
    row = text[start:end]
    if not _SPACED_ROW.fullmatch(row):
        return []
    inner = row.strip()
    offset = start + row.index(inner)
    return [(offset + m.start(), offset + m.end(), ", ") for m in _INNER_SPACE.finditer(inner)]


def _insert_implicit_products(source: SourceText, is_function: Callable[[str], bool]) -> SourceText:
    """Insert ``*`` where a student wrote a product by juxtaposition.

    ``2p``, ``2 (n+1)``, ``(a+b)(c+d)``, ``alpha g`` and ``p(1-p)`` become
    products; ``floor(x)`` stays a call because ``floor`` is a known function.
    Python's tokenizer finds the tokens (it only splits text, it runs nothing);
    if it fails, the text is left for ``ast.parse`` to reject.
    """
    try:
        tokens = [token for token in tokenize.generate_tokens(io.StringIO(source.text).readline)
                  if token.type not in _SKIPPED_TOKENS]
    except (tokenize.TokenError, SyntaxError):
        return source
    cuts = [cur.start[1] for prev, cur in pairwise(tokens) if _is_juxtaposition(prev, cur, is_function)]
    return source.edit((column, column, "*") for column in cuts)


def _is_name_token(token: tokenize.TokenInfo) -> bool:
    return token.type == tokenize.NAME and not keyword.iskeyword(token.string)


def _is_juxtaposition(prev: tokenize.TokenInfo, cur: tokenize.TokenInfo, is_function: Callable[[str], bool]) -> bool:
    if cur.type == tokenize.NUMBER:
        return prev.string == ")"
    if not (_is_name_token(cur) or cur.string == "("):
        return False
    if prev.type == tokenize.NUMBER or prev.string == ")":
        return True
    return _is_name_token(prev) and not (cur.string == "(" and is_function(prev.string))


def _ast_parse(source: SourceText) -> ast.Expression:
    """Parse to a syntax tree only; nothing is compiled or run."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source.text, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(exc, source) from exc
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise unparseable(f"not a valid expression ({type(exc).__name__})") from exc


def _syntax_error(exc: SyntaxError, source: SourceText) -> ParseError:
    """Python's complaint, located where Python points (the source is one line).

    ``offset`` counts from 1; CPython gives 0 when the text ended too early
    (``x +``), which is the end of the text.
    """
    if exc.lineno != 1 or exc.offset is None:
        return unparseable(f"not a valid expression ({exc.msg})")
    index = exc.offset - 1 if exc.offset > 0 else len(source.text)
    return unparseable_at(source.origin(index), "not a valid expression", f" ({exc.msg})")


_LEFT_OPERATORS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
                                    ast.Div: "/", ast.FloorDiv: "//"}
_REFUSED_NODES: dict[type, str] = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "indexing ('[...]' after a value)",
    ast.Lambda: "a lambda", ast.Compare: "a comparison", ast.BoolOp: "and/or",
    ast.List: "a list inside an expression", ast.Tuple: "a tuple inside an expression",
    ast.IfExp: "if/else", ast.JoinedStr: "a string", ast.Starred: "'*' unpacking",
}


@dataclass
class _PlainWalker:
    """Walks the tree from ``ast.parse``, accepting only whitelisted node types."""

    source: SourceText
    builder: Builder

    def top(self, node: ast.AST) -> Value:
        """The whole answer: a list/tuple (vector or matrix), possibly transposed
        (``[2, 8, 9]^T``, ``[[1, 2]].T``), or one expression."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.sequence(node, 1)
        transposed = _transposed_operand(node)
        if transposed is not None:
            inner = self.top(transposed)
            if not isinstance(inner, (tuple, list)) and not is_sequence(inner):
                raise unparseable_at(self.where(node), "a transpose", " needs a vector or a matrix")
            return self.builder.transpose(inner)
        return self.visit(node, 1)

    def sequence(self, node: ast.List | ast.Tuple, depth: int) -> tuple:
        self._check_depth(depth)
        return tuple(self.sequence(item, depth + 1) if isinstance(item, (ast.List, ast.Tuple))
                     else self.visit(item, depth + 1) for item in node.elts)

    def visit(self, node: ast.AST, depth: int) -> sympy.Basic:
        self._check_depth(depth)
        handler = _PLAIN_HANDLERS.get(type(node))
        if handler is None:
            what = _REFUSED_NODES.get(type(node), type(node).__name__)
            raise unparseable_at(self.where(node), what, " is not allowed in an answer")
        return handler(self, node, depth)

    def _check_depth(self, depth: int) -> None:
        if depth > self.builder.limits.depth:
            raise too_large(f"the expression is nested more than {self.builder.limits.depth} deep")

    def where(self, node: ast.AST) -> int:
        """The offset, in the answer as typed, where ``node`` begins."""
        return self.source.origin(getattr(node, "col_offset", 0))

    def operator_offset(self, node: ast.BinOp) -> int:
        """Where the operator of ``left op right`` was typed: the first character after
        the left operand that is neither a space nor a closing parenthesis."""
        start = node.left.end_col_offset or 0
        gap = self.source.text[start:node.right.col_offset]
        return self.source.origin(start + len(gap) - len(gap.lstrip(" )")))

    def binop(self, top: ast.BinOp, depth: int) -> sympy.Basic:
        """A left-leaning chain like ``a+b-c*d`` is folded in a loop, not recursion."""
        if isinstance(top.op, ast.Pow):
            return self.builder.power(self.visit(top.left, depth + 1), self.visit(top.right, depth + 1))
        chain: list[tuple[str, ast.AST]] = []
        node: ast.expr = top
        while isinstance(node, ast.BinOp) and type(node.op) in _LEFT_OPERATORS:
            chain.append((_LEFT_OPERATORS[type(node.op)], node.right))
            node = node.left
        if not chain:
            raise unparseable_at(self.operator_offset(top), f"the operator {type(top.op).__name__}",
                                 " is not allowed")
        first = self.visit(node, depth + 1)
        steps = [(op, self.visit(right, depth + 1)) for op, right in reversed(chain)]
        return self.builder.fold(first, steps)

    def unary(self, top: ast.UnaryOp, depth: int) -> sympy.Basic:
        negative = False
        node: ast.expr = top
        while isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise unparseable_at(self.where(node), f"the operator {type(node.op).__name__}", " is not allowed")
            negative ^= isinstance(node.op, ast.USub)
            node = node.operand
        value = self.visit(node, depth + 1)
        return self.builder.neg(value) if negative else value

    def constant(self, node: ast.Constant, depth: int) -> sympy.Basic:
        """Only int and float literals; a float is re-read exactly from its source text."""
        value = node.value
        if type(value) is int:
            return self.builder.integer(value)
        if type(value) is float:
            text = ast.get_source_segment(self.source.text, node)
            if not math.isfinite(value):
                raise not_finite(f"{text} is not a finite number")
            return self.builder.decimal(text or "")
        raise unparseable_at(self.where(node), f"{type(value).__name__} literals", " are not allowed")

    def name(self, node: ast.Name, depth: int) -> sympy.Basic:
        name = "lambda" if node.id == _LAMBDA_PLACEHOLDER else node.id
        if not _NAME.fullmatch(name):
            raise unparseable_at(self.where(node), f"the name {name!r}",
                                 " is not allowed (use letters, digits and _)")
        return self.builder.name(name)

    def subscript(self, node: ast.Subscript, depth: int) -> sympy.Basic:
        """``y_hat[0, 0]``, an entry of a matrix quantity, only where the caller names it."""
        name = _indexed_name(node)
        if name is None or name not in self.builder.symbols:
            raise unparseable_at(self.where(node), _REFUSED_NODES[ast.Subscript], " is not allowed in an answer")
        return self.builder.name(name)

    def call(self, node: ast.Call, depth: int) -> sympy.Basic:
        if not isinstance(node.func, ast.Name) or not self.builder.is_function(node.func.id):
            raise unparseable_at(self.where(node), "a call", " is not allowed; only these functions may be "
                                 "called: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise unparseable_at(self.where(node.keywords[0]), "keyword arguments", " are not allowed")
        args = [self.visit(arg, depth + 1) for arg in node.args]
        return self.builder.call(node.func.id, args)


_PLAIN_HANDLERS: dict[type, Callable[..., sympy.Basic]] = {
    ast.BinOp: _PlainWalker.binop, ast.UnaryOp: _PlainWalker.unary,
    ast.Constant: _PlainWalker.constant, ast.Name: _PlainWalker.name, ast.Call: _PlainWalker.call,
    ast.Subscript: _PlainWalker.subscript,
}
"""The only node types a plain answer may contain (besides a top-level list/tuple)."""


def _transposed_operand(node: ast.AST) -> ast.AST | None:
    """The operand of ``v**T`` (``v^T``, ``v'``) or ``v.T`` at the top of an answer, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Name) \
            and node.right.id == "T" and isinstance(node.left, (ast.List, ast.Tuple)):
        return node.left
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.value, (ast.List, ast.Tuple)):
        return node.value
    return None


def _indexed_name(node: ast.Subscript) -> str | None:
    """``name[i, j]`` with integer indices, spelled as SymPy prints a matrix entry."""
    index = node.slice
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    if not isinstance(node.value, ast.Name) or not all(
            isinstance(i, ast.Constant) and type(i.value) is int for i in items):
        return None
    return f"{node.value.id}[{', '.join(str(i.value) for i in items)}]"  # type: ignore[attr-defined]
