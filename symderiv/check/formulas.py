"""Layer rules SymPy cannot evaluate (``W \\star x``, ``maxunpool(g)``, ``\\sum_k g_k``),
compared structurally: the same operator, operands equivalent.

The sheet prints such a rule with a :class:`~symderiv.calculus.printing.Formula` (or
``MatrixFormula``): a LaTeX template and a text template filled with operands. The
templates are the only spelling of the operator this module knows, read from the expected
value itself, so a new layer's rule is gradable as soon as it prints. An answer matches a
formula when it is one of its templates (spacing, ``\\left``/``\\right`` and one-character
braces aside) whose slots hold answers equivalent to the operands; the operands are
compared by the caller (``same``), a nested formula by this module again. A sum of terms
matches term by term, in any order.
"""
from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable, Iterator

import sympy as sp

from symderiv.calculus.printing import Formula, MatrixFormula

Same = Callable[[str, sp.Basic], bool]
"""Whether an answer's text is equivalent to one operand (the caller's comparison)."""

MAX_SPLITS = 200
"""Most ways of cutting one answer into a template's slots that are tried..."""
MAX_STEPS = 20_000
"""...and most places tried for the end of a slot while looking for them."""
MAX_TERMS = 4
"""Most terms of a sum matched in every order (4! orders)."""

_SIZING = re.compile(r"\\(?:left|right|textstyle|displaystyle|[bB]ig{1,2}[lr]?)(?![A-Za-z])|\\[,;:! ]")
_ONE_CHARACTER_BRACES = re.compile(r"([_^])\{(\w)\}")
_ONES = re.compile(r"\\(?:mathbf|mathbb|boldsymbol|vec)\s*(?:\{\s*1\s*\}|1)")
_PRODUCT = r"(?:\s*(?:\*|@|\\cdot|\\times)\s*|\s*)"
"""Juxtaposition in a template (``{0} \\mathbf{{1}}``) may be written as a product sign too."""
_PRINTED = (Formula, MatrixFormula)


def has_formula(value: object) -> bool:
    """Whether a value holds a printed layer rule anywhere."""
    return isinstance(value, sp.Basic) and any(isinstance(node, _PRINTED) for node in sp.preorder_traversal(value))


def normalised(text: str) -> str:
    """Spacing and sizing commands out, ``_{k}`` as ``_k``, whitespace as one space."""
    text = _ONE_CHARACTER_BRACES.sub(r"\1\2", _SIZING.sub("", text))
    return " ".join(_ONES.sub(r"\\mathbf{1}", text).split())  # the ones vector, however bold


def matches(text: str, expected: sp.Basic, same: Same) -> bool:
    """Whether ``text`` writes ``expected`` (a formula, a sum with formula terms, or an
    operand) with equivalent operands."""
    text = _unwrapped(normalised(text))
    if isinstance(expected, _PRINTED):
        return any(_fills(text, template, expected.operands, same) for template in _templates(expected))
    if isinstance(expected, (sp.MatAdd, sp.Add)) and has_formula(expected):
        return _sum_matches(text, list(expected.args), same)
    return same(text, expected)


def _templates(formula: sp.Basic) -> tuple[str, str]:
    """The formula's LaTeX and text templates (``{0} \\star {1}``, ``{0} * {1}``)."""
    return formula.args[0].name, formula.args[1].name


def _fills(text: str, template: str, operands: tuple[sp.Basic, ...], same: Same) -> bool:
    literals, slots = _pieces(template)
    for cut in itertools.islice(_cuts(text, literals), MAX_SPLITS):
        if all(matches(cut[k], operands[slot], same) for k, slot in enumerate(slots)):
            return True
    return False


def _pieces(template: str) -> tuple[list[re.Pattern[str]], list[int]]:
    """The template's literal texts (as patterns, spacing free) and its slots in order."""
    literals, slots, pending = [], [], ""
    for literal, field, _, _ in string.Formatter().parse(template):
        pending += literal  # an escaped brace ends a piece early: join the literal text up to a slot
        if field is not None:
            literals.append(_literal_pattern(pending))
            slots.append(int(field))
            pending = ""
    return [*literals, _literal_pattern(pending)], slots


def _literal_pattern(literal: str) -> re.Pattern[str]:
    words = normalised(literal).split()
    start = _PRODUCT if literal[:1].isspace() else r"\s*"
    end = _PRODUCT if literal[-1:].isspace() and words else r"\s*"
    if not words:
        return re.compile(_PRODUCT if literal else r"\s*")
    return re.compile(start + r"\s*".join(re.escape(w) for w in words) + end)


def _cuts(text: str, literals: list[re.Pattern[str]]) -> Iterator[list[str]]:
    """Every way of reading ``text`` as literal, slot, literal, ..., literal (slots non-empty,
    brackets balanced in each)."""
    first = literals[0].match(text)
    if first is not None:
        yield from _rest(text, first.end(), literals[1:], [MAX_STEPS])


def _rest(text: str, start: int, literals: list[re.Pattern[str]], steps: list[int]) -> Iterator[list[str]]:
    if not literals:
        if start == len(text):
            yield []
        return
    depth = 0
    for end in range(start + 1, len(text) + 1):
        steps[0] -= 1
        depth += (text[end - 1] in "({[") - (text[end - 1] in ")}]")
        if depth < 0 or steps[0] < 0:
            return  # a slot cannot close a bracket it did not open
        found = literals[0].match(text, end) if depth == 0 else None
        if found is not None and (len(literals) > 1 or found.end() == len(text)):
            for tail in _rest(text, found.end(), literals[1:], steps):
                yield [text[start:end].strip(), *tail]


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch in "({[") - (ch in ")}]")
        if depth < 0:
            return False
    return depth == 0


def _unwrapped(text: str) -> str:
    """Without parentheses around the whole text (an operand the printer wrapped)."""
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _sum_matches(text: str, terms: list[sp.Basic], same: Same) -> bool:
    parts = _top_level_terms(text)
    if len(parts) != len(terms) or len(terms) > MAX_TERMS:
        return False
    return any(all(matches(p, t, same) for p, t in zip(parts, order)) for order in itertools.permutations(terms))


def _top_level_terms(text: str) -> list[str]:
    """``a + b + c`` cut at the ``+`` signs outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "({[") - (ch in ")}]")
        if ch == "+" and depth == 0 and text[:i].strip():
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()]
