"""The data model every renderer reads: Sheet > Problem > Question > Step / Answer.

Derivations produce these records and nothing else; they hold SymPy objects, never
formatted strings, so the LaTeX sheet, the Markdown sheet, the answer key and the
kernels all print the very same expressions. Records are frozen so a derived sheet
can be cached, compared and shared without defensive copies.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import sympy as sp

#: Anything a record holds as math: expressions, matrices, matrix expressions, relations.
Math: TypeAlias = sp.Basic

#: Prose is plain text, or a sequence of plain-text pieces and SymPy objects that are
#: printed inline as math. Plain text is always escaped: it may come from a spec.
Prose = str | tuple[str | sp.Basic, ...]


#: How a record shows itself in Jupyter, by format (``"latex"``, ``"markdown"``): filled
#: in by :mod:`symderiv.render` when it is imported, so the model never imports its printers.
DISPLAY: dict[str, Callable[[Any], str]] = {}


class Displayable:
    """Jupyter's rich display for every record, from one place (as SymPy's ``Printable``
    gives every expression ``_repr_latex_``)."""

    def _repr_latex_(self) -> str | None:
        """Math for Jupyter (MathJax): see :func:`symderiv.render.mathjax.latex_of`."""
        show = DISPLAY.get("latex")
        return show(self) if show is not None else None

    def _repr_markdown_(self) -> str | None:
        """Jupyter's Markdown view: see :func:`symderiv.render.markdown.markdown_of`."""
        show = DISPLAY.get("markdown")
        return show(self) if show is not None else None


class TensorShape(sp.ImmutableDenseMatrix):
    """A tensor shape (height, width, channels): a 1-row matrix that prints ``34 x 34 x 1``
    and is keyed as a flat list; it equals, and hashes like, the plain matrix of its entries."""

    def __hash__(self) -> int:
        return hash(sp.ImmutableDenseMatrix(self.rows, self.cols, list(self)))


class GivenDecimal(sp.Rational):
    """A number the spec wrote as a decimal (``0.05``): exactly the Rational 1/20, equal to it and
    hashing like it, but printed as ``0.05`` wherever it stands as it was given.

    Arithmetic gives plain Rationals (SymPy builds new numbers), so only the given number
    itself keeps the decimal spelling; a matrix stores plain Rationals (see
    :attr:`Problem.decimals` for how its entries print).
    """

    __slots__ = ()

    def __new__(cls, value: sp.Rational) -> GivenDecimal:
        obj = sp.Expr.__new__(cls)
        obj.p, obj.q = int(value.p), int(value.q)
        return obj

    def __hash__(self) -> int:
        return hash(sp.Rational(self.p, self.q))

    def __reduce__(self):
        return (GivenDecimal, (sp.Rational(self.p, self.q),))


@dataclass(frozen=True)
class Table:
    """A small table of values: a header of plain-text labels and rows of SymPy values."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Step:
    """One numbered step of an analysis: ``lhs = rule = chain = expanded = substituted = value``.

    ``rule`` is the general one-step rule (in terms of the previous step's quantity),
    ``chain`` the same quantity as a product of local factors (Leibniz form),
    ``expanded`` the rule with every earlier quantity substituted, ``substituted`` the
    rule with the numbers put in but not evaluated, ``value`` the exact result. Any of
    them may be missing; ``math`` holds further displayed relations (inequalities,
    recurrences, solutions) for steps that are not a chain of equalities.
    """

    text: Prose
    lhs: Math | None = None
    rule: Math | None = None
    chain: Math | None = None
    expanded: Math | None = None
    substituted: Math | None = None
    value: Math | None = None
    math: tuple[Math, ...] = ()
    table: Table | None = None
    note: Prose = ""


@dataclass(frozen=True)
class Answer(Displayable):
    """A named result of a question, keyed in the answer key by ``id`` (e.g. ``1.3.dL_dW2``).

    ``symbol`` is what the answer is called in print (``\\hat y``, ``N_out``); ``value``
    is the exact SymPy value or formula.
    """

    id: str
    symbol: Math
    value: Math
    text: Prose = ""


@dataclass(frozen=True)
class Figure:
    """Data for a figure, drawn by ``render.figures``: ``kind`` names the drawing.

    The derivation supplies numbers only (``data`` is a tuple of name/value pairs so the
    record stays hashable); the renderer decides how they look.
    """

    kind: str
    caption: str
    data: tuple[tuple[str, Any], ...]

    def get(self, name: str) -> Any:
        """The datum called ``name``."""
        return dict(self.data)[name]


@dataclass(frozen=True)
class Question(Displayable):
    """Setup (givens), Analysis (numbered steps), Conclusion (answers)."""

    id: str
    title: str
    prompt: Prose
    givens: tuple[tuple[Math, Math], ...] = ()
    steps: tuple[Step, ...] = ()
    answers: tuple[Answer, ...] = ()
    notes: tuple[Prose, ...] = ()
    figures: tuple[Figure, ...] = ()



@dataclass(frozen=True)
class Problem(Displayable):
    """One problem of a sheet, produced by a problem kind's ``derive``.

    ``notation`` maps symbol names to their LaTeX spelling (a kind knows how its
    quantities are written; the printers apply it). ``data`` keeps kind-specific
    structures that later stages need (e.g. the network program for kernels).
    ``digits`` (the spec's per-problem ``digits``; None: the sheet's) and ``decimals``
    (the problem's spec wrote decimals) are set by :func:`symderiv.derive.derive_sheet`
    for the number policy; a kind leaves them alone.
    """

    number: int
    title: str
    kind: str
    questions: tuple[Question, ...]
    intro: Prose = ""
    notation: tuple[tuple[str, str], ...] = ()
    data: Any = field(default=None, compare=False)
    digits: int | None = None
    decimals: bool = False



@dataclass(frozen=True)
class Sheet(Displayable):
    """A problem set: what ``symderiv build`` turns into a sheet, a key and kernels.

    ``digits`` is how many significant digits a rounded number shows; ``paper`` the
    typeset sheet's paper (``letter`` or ``a4``).
    """

    name: str
    title: str
    problems: tuple[Problem, ...]
    source: str = ""
    author: str = ""
    digits: int = 4
    paper: str = "letter"
    grading: Any = field(default=None, compare=False)  # the [grading] policy (symderiv.check.policy)

    def answers(self) -> tuple[Answer, ...]:
        """Every answer of every question, in sheet order."""
        return tuple(a for p in self.problems for q in p.questions for a in q.answers)

    def answer(self, answer_id: str) -> Answer:
        """The answer with this id; ``KeyError`` names it when absent."""
        for a in self.answers():
            if a.id == answer_id:
                return a
        raise KeyError(answer_id)

    def notation(self) -> dict[str, str]:
        """All problems' notation tables merged (names are unique per kind)."""
        return {k: v for p in self.problems for k, v in p.notation}

