"""Sheet -> standalone LaTeX document: Setup, numbered Analysis steps, boxed Conclusion.

Every formula is printed by :class:`SheetPrinter` from the model's SymPy objects, and
every piece of text is escaped, so nothing from a spec can reach TeX as a command.

Long formulas never run off the page: each displayed right-hand side goes through
``\\sdbreak``, which sets it as it is when it fits and otherwise as a ragged paragraph
of math that TeX breaks after an operator (the printer leaves break points inside
products); boxed answers and tables that cannot break are scaled down to fit.

The same step layout (:func:`step_rows`) feeds the Markdown sheet and the Jupyter
displays, so a step reads the same everywhere; the order of a question's parts is
:class:`~symderiv.render.walker.SheetWalker`'s, shared by all three.
"""
from __future__ import annotations

from itertools import groupby
from typing import Callable, Iterable

import sympy as sp

from symderiv.model import Answer, Problem, Question, Sheet, Step, Table
from symderiv.render import figures
from symderiv.render.walker import SheetWalker
from symderiv.render.text import escape, prose

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[margin=2cm]{geometry}
\usepackage{booktabs}
%(extra)s\allowdisplaybreaks
\setcounter{MaxMatrixCols}{40}
\setlength{\emergencystretch}{3em}
\newcommand{\answerid}[1]{\text{\small\ttfamily[#1]}}
% \sdafter{LHS}: the room left for a right-hand side after "LHS = ".
% \sdbreak{MATH}: MATH as it is when it fits that room, else broken over lines.
% \sdshrink{WIDTH}{MATERIAL}: MATERIAL scaled down to WIDTH when wider (never up).
\newsavebox{\sdbox}
\newlength{\sdwidth}
\newcommand{\sdafter}[1]{\settowidth{\sdwidth}{$\displaystyle#1{}={}$}%
  \setlength{\sdwidth}{\dimexpr\linewidth-\sdwidth-2em\relax}}
\newcommand{\sdbreak}[1]{\sbox{\sdbox}{$\displaystyle#1$}%
  \ifdim\wd\sdbox>\sdwidth\parbox[t]{\sdwidth}{\raggedright\hangindent=2em\hangafter=1
    \lineskiplimit=2pt\lineskip=5pt$\displaystyle#1$}\else\usebox{\sdbox}\fi}
\newcommand{\sdshrink}[2]{\sbox{\sdbox}{#2}%
  \ifdim\wd\sdbox>#1\relax\resizebox{#1}{!}{\usebox{\sdbox}}\else\usebox{\sdbox}\fi}
% \sdtable{TABULAR}: centred, rows spaced for fractions, scaled down when too wide.
\newcommand{\sdtable}[1]{\begin{center}\renewcommand{\arraystretch}{1.3}\sdshrink{\linewidth}{#1}\end{center}}
"""

#: Givens this short (printed LaTeX) sit two to a row in the Setup.
_NARROW = 90


def approx(value: sp.Basic) -> sp.Basic | None:
    """A decimal approximation for exact values that are not plain rationals."""
    if not isinstance(value, sp.Basic) or value.free_symbols or isinstance(value, sp.MatrixExpr):
        return None
    if isinstance(value, sp.MatrixBase):
        return value.evalf(6) if any(not e.is_Rational for e in value) else None
    return value.evalf(6) if value.is_number and not value.is_Rational else None


def chain(left: str, texts: Iterable[str]) -> list[str]:
    """The distinct right-hand sides of ``left = t1 = t2 ...``: a form that prints like the
    one before it (or like ``left``) says nothing new and is skipped."""
    out: list[str] = []
    for text in texts:
        if text != left and (not out or text != out[-1]):
            out.append(text)
    return out


def step_rows(s: Step, math: Callable[[sp.Basic], str]) -> tuple[str, list[tuple[str, str]]]:
    """A step's display as ``(lhs, [(relation, right-hand side), ...])``.

    The chain ``lhs = rule = chain = expanded = substituted = value`` (with ``\\approx``
    a decimal when the value is not rational), then each of ``Step.math`` with an empty
    relation (it carries its own). ``lhs`` is empty when there is no chain.
    """
    forms = [f for f in (s.rule, s.chain, s.expanded, s.substituted, s.value) if f is not None]
    rows: list[tuple[str, str]] = []
    left = ""
    if s.lhs is not None and forms:
        left = math(s.lhs)
        rows = [("=", t) for t in chain(left, (math(f) for f in forms))]
        extra = approx(s.value)
        if extra is not None:
            rows.append((r"\approx", math(extra)))
    rows += [("", math(m)) for m in s.math]
    return left, rows


def answer_math(a: Answer, math: Callable[[sp.Basic], str]) -> str:
    """``symbol = value`` (``\\approx`` a decimal where the value is irrational)."""
    extra = approx(a.value)
    tail = rf" \approx {math(extra)}" if extra is not None else ""
    return f"{math(a.symbol)} = {math(a.value)}{tail}"


class LatexSheet(SheetWalker):
    """Renders one sheet as a LaTeX document; the order of its parts is :class:`SheetWalker`'s."""

    sheet_sep = "\n"
    printer_settings = {"breakable": True}

    def inline(self, expr: sp.Basic) -> str:
        return f"${self.math(expr)}$"

    def text(self, parts) -> str:
        return prose(parts, self.inline)

    def document(self, sheet: Sheet) -> str:
        return self.sheet(sheet)

    def sheet_head(self, sheet: Sheet) -> list[str]:
        head = PREAMBLE.replace("%(extra)s", figures.PREAMBLE)
        title = [r"\begin{document}", r"\begin{center}", rf"{{\LARGE {escape(sheet.title)}\par}}"]
        if sheet.author:
            title.append(rf"\medskip{{\large {escape(sheet.author)}\par}}")
        return [head] + title + [r"\end{center}"]

    def sheet_tail(self, sheet: Sheet) -> list[str]:
        return [r"\end{document}", ""]

    def problem_head(self, problem: Problem) -> list[str]:
        return [rf"\section*{{Problem {problem.number}: {escape(problem.title)}}}"]

    def intro(self, intro) -> list[str]:
        return [self.text(intro)]

    def question_head(self, q: Question) -> list[str]:
        return [rf"\subsection*{{Q{escape(q.id)}. {escape(q.title)}}}"]

    def prompt(self, prompt) -> list[str]:
        return [self.text(prompt)]

    def setup(self, givens) -> list[str]:
        return [r"\paragraph{Setup.}", self.givens(givens)]

    def analysis(self, steps) -> list[str]:
        items = "\n".join(rf"\item {self.step(s)}" for s in steps)
        return [r"\paragraph{Analysis.}", "\\begin{enumerate}\n" + items + "\n\\end{enumerate}"]

    def figure(self, figure) -> list[str]:
        return [figures.render(figure, self.math)]

    def note(self, note) -> list[str]:
        return [rf"\emph{{Note.}} {self.text(note)}"]

    def conclusion(self, answers) -> list[str]:
        return [r"\paragraph{Conclusion.}", "\n".join(self.answer(a) for a in answers)]

    def givens(self, givens: tuple) -> str:
        """The Setup: runs of short givens two to a row; long ones on rows of their own, in a
        display of their own (sharing columns with them would push short ones off the page)."""
        pairs = [(self.math(lhs), self.math(rhs)) for lhs, rhs in givens]
        out = []
        for wide, group in groupby(pairs, key=lambda pair: len(pair[0]) + len(pair[1]) >= _NARROW):
            run = list(group)
            if wide:
                out.append(self.align(f"{l} &= \\sdafter{{{l}}}\\sdbreak{{{r}}}" for l, r in run))
                continue
            rows = [" &\\qquad ".join(f"{l} &= {r}" for l, r in run[i:i + 2]) for i in range(0, len(run), 2)]
            out.append(self.align(rows, min(len(run), 2)))
        return "\n".join(out)

    def step(self, s: Step) -> str:
        out = [self.text(s.text)]
        left, rows = step_rows(s, self.math)
        if rows:
            lines = [f"&{rel} \\sdbreak{{{rhs}}}" for rel, rhs in rows]
            out.append(f"\\sdafter{{{left}}}\n" + self.align([left + lines[0]] + lines[1:]))
        if s.table is not None:
            out.append(self.table(s.table))
        if s.note:
            out.append(self.text(s.note))
        return "\n".join(out)

    def eq(self, lhs: sp.Basic, forms: list, approximation: sp.Basic | None = None) -> str:
        """``lhs &= f1 \\\\ &= f2 ...``, skipping forms that print the same as the one before."""
        left = self.math(lhs)
        lines = [f"&= {t}" for t in chain(left, (self.math(f) for f in forms))]
        if approximation is not None:
            lines.append(rf"&\approx {self.math(approximation)}")
        return left + r" \\ ".join(lines)

    @staticmethod
    def align(rows: Iterable[str], columns: int = 1) -> str:
        """An ``align*`` of rows; with several columns an ``alignat*``, packed, not spread."""
        begin, end = ("\\begin{align*}", "\\end{align*}") if columns == 1 else (
            f"\\begin{{alignat*}}{{{columns}}}", "\\end{alignat*}")
        return begin + "\n" + " \\\\\n".join(rows) + "\n" + end

    def table(self, t: Table) -> str:
        cols = "l" * len(t.header)
        head = " & ".join(escape(h) for h in t.header)
        rows = [" & ".join(self.cell(c) for c in row) for row in t.rows]
        body = head + " \\\\ \\midrule\n" + " \\\\\n".join(rows)
        tabular = f"\\begin{{tabular}}{{{cols}}}\\toprule\n{body} \\\\ \\bottomrule\\end{{tabular}}"
        return f"\\sdtable{{{tabular}}}"

    def cell(self, c) -> str:
        return escape(c) if isinstance(c, str) else self.inline(c)

    def answer(self, a: Answer) -> str:
        boxed = rf"$\displaystyle\boxed{{{answer_math(a, self.math)}}}$"
        text = f" {self.text(a.text)}" if a.text else ""
        return (rf"\[\sdshrink{{\dimexpr\linewidth-10em\relax}}{{{boxed}}}"
                rf"\tag*{{\answerid{{{escape(a.id)}}}}}\]{text}")


def render_latex(sheet: Sheet) -> str:
    """The whole sheet as a standalone LaTeX document."""
    return LatexSheet().document(sheet)
