"""Sheet -> standalone LaTeX document: Setup, numbered Analysis steps, boxed Conclusion.

Every formula is printed by :class:`SheetPrinter` from the model's SymPy objects, and
every piece of text is escaped, so nothing from a spec can reach TeX as a command.
"""
from __future__ import annotations

from typing import Iterable

import sympy as sp

from symderiv.model import Answer, Problem, Question, Sheet, Step, Table
from symderiv.render import figures
from symderiv.render.printer import SheetPrinter
from symderiv.render.text import escape, prose

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\usepackage{booktabs}
%(extra)s\allowdisplaybreaks
\setcounter{MaxMatrixCols}{30}
\newcommand{\answerid}[1]{\quad\text{\small\ttfamily[#1]}}
"""


def approx(value: sp.Basic) -> sp.Basic | None:
    """A decimal approximation for exact values that are not plain rationals."""
    if not isinstance(value, sp.Basic) or value.free_symbols or isinstance(value, sp.MatrixExpr):
        return None
    if isinstance(value, sp.MatrixBase):
        return value.evalf(6) if any(not e.is_Rational for e in value) else None
    return value.evalf(6) if value.is_number and not value.is_Rational else None


class LatexSheet:
    """Renders one sheet; holds the printer of the problem being rendered."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.printer = SheetPrinter()

    def math(self, expr: sp.Basic) -> str:
        return self.printer.doprint(expr)

    def inline(self, expr: sp.Basic) -> str:
        return f"${self.math(expr)}$"

    def text(self, parts) -> str:
        return prose(parts, self.inline)

    def document(self) -> str:
        head = PREAMBLE % {"extra": figures.PREAMBLE}
        title = [rf"\title{{{escape(self.sheet.title)}}}", rf"\author{{{escape(self.sheet.author)}}}",
                 r"\date{}", r"\begin{document}", r"\maketitle"]
        body = [self.problem(p) for p in self.sheet.problems]
        return "\n".join([head] + title + body + [r"\end{document}", ""])

    def problem(self, problem: Problem) -> str:
        self.printer = SheetPrinter(dict(problem.notation))
        out = [rf"\section*{{Problem {problem.number}: {escape(problem.title)}}}"]
        if problem.intro:
            out.append(self.text(problem.intro))
        out += [self.question(q) for q in problem.questions]
        return "\n\n".join(out)

    def question(self, q: Question) -> str:
        out = [rf"\subsection*{{Q{escape(q.id)}. {escape(q.title)}}}", self.text(q.prompt)]
        if q.givens:
            out += [r"\paragraph{Setup.}", self.align(self.eq(lhs, [rhs]) for lhs, rhs in q.givens)]
        if q.steps:
            items = "\n".join(rf"\item {self.step(s)}" for s in q.steps)
            out += [r"\paragraph{Analysis.}", rf"\begin{{enumerate}}" + "\n" + items + "\n" + r"\end{enumerate}"]
        out += [figures.render(f, self.math) for f in q.figures]
        out += [rf"\emph{{Note.}} {self.text(n)}" for n in q.notes]
        if q.answers:
            out += [r"\paragraph{Conclusion.}", "\n".join(self.answer(a) for a in q.answers)]
        return "\n\n".join(x for x in out if x)

    def step(self, s: Step) -> str:
        out = [self.text(s.text)]
        forms = [f for f in (s.rule, s.chain, s.expanded, s.substituted, s.value) if f is not None]
        rows = []
        if s.lhs is not None and forms:
            rows.append(self.eq(s.lhs, forms, approx(s.value)))
        rows += [f"& {self.math(m)}" for m in s.math]
        if rows:
            out.append(self.align(rows))
        if s.table is not None:
            out.append(self.table(s.table))
        if s.note:
            out.append(self.text(s.note))
        return "\n".join(out)

    def eq(self, lhs: sp.Basic, forms: list, approximation: sp.Basic | None = None) -> str:
        """``lhs &= f1 \\\\ &= f2 ...``, skipping forms that print the same as the one before."""
        left = self.math(lhs)
        texts: list[str] = []
        for form in forms:
            text = self.math(form)
            if text != left and (not texts or text != texts[-1]):
                texts.append(text)
        lines = [f"&= {t}" for t in texts]
        if approximation is not None:
            lines.append(rf"&\approx {self.math(approximation)}")
        return left + r" \\ ".join(lines)

    @staticmethod
    def align(rows: Iterable[str]) -> str:
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def table(self, t: Table) -> str:
        cols = "l" * len(t.header)
        head = " & ".join(escape(h) for h in t.header)
        rows = [" & ".join(self.cell(c) for c in row) for row in t.rows]
        body = " \\\\\n".join([head + r" \\ \midrule"] + rows)
        return f"\\begin{{center}}\\begin{{tabular}}{{{cols}}}\\toprule\n{body} \\\\ \\bottomrule\\end{{tabular}}\\end{{center}}"

    def cell(self, c) -> str:
        return escape(c) if isinstance(c, str) else self.inline(c)

    def answer(self, a: Answer) -> str:
        value = self.math(a.value)
        extra = approx(a.value)
        tail = rf" \approx {self.math(extra)}" if extra is not None else ""
        text = f" {self.text(a.text)}" if a.text else ""
        return rf"\[\boxed{{{self.math(a.symbol)} = {value}{tail}}}\answerid{{{escape(a.id)}}}\]{text}"


def render_latex(sheet: Sheet) -> str:
    """The whole sheet as a standalone LaTeX document."""
    return LatexSheet(sheet).document()
