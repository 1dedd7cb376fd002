"""Sheet -> standalone LaTeX document: Setup, numbered Analysis steps, boxed Conclusion.

Every formula is printed by :class:`SheetPrinter` from the model's SymPy objects, and
every piece of text is escaped, so nothing from a spec can reach TeX as a command.

Long formulas never run off the page: each displayed right-hand side goes through
``\\sdbreak``, which sets it as it is when it fits and otherwise as a ragged paragraph
of math that TeX breaks after an operator (the printer leaves break points inside
products); boxed answers and tables that cannot break are scaled down to fit.

The same step layout (:meth:`~symderiv.render.walker.SheetWalker.step_rows`) feeds the
Markdown sheet and the Jupyter displays, so a step reads the same everywhere; the order
of a question's parts is :class:`~symderiv.render.walker.SheetWalker`'s, shared by all three.
"""
from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

import sympy as sp

from symderiv.model import Answer, Problem, Question, Sheet, Step, Table
from symderiv.render import figures
from symderiv.render.text import escape, prose
from symderiv.render.walker import SheetWalker

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
\newlength{\sdtarget}
\newcommand{\sdafter}[1]{\settowidth{\sdwidth}{$\displaystyle#1{}={}$}%
  \setlength{\sdwidth}{\dimexpr\linewidth-\sdwidth-2em\relax}}
\newcommand{\sdbreak}[1]{\sbox{\sdbox}{$\displaystyle#1$}%
  \ifdim\wd\sdbox>\sdwidth\parbox[t]{\sdwidth}{\raggedright\hangindent=2em\hangafter=1
    \lineskiplimit=2pt\lineskip=5pt$\displaystyle#1$}\else\usebox{\sdbox}\fi}
\newcommand{\sdshrink}[2]{\sbox{\sdbox}{#2}%
  \ifdim\wd\sdbox>#1\relax\setlength{\sdtarget}{#1}\typeout{sdshrink: \the\wd\sdbox\space to \the\sdtarget}%
  \resizebox{#1}{!}{\usebox{\sdbox}}\else\usebox{\sdbox}\fi}
% \sdpick{WIDE}{NARROW}: WIDE when it fits the room \sdafter left (the text width before any
% step), else NARROW (a tensor's matrices side by side, else one above the other).
\newsavebox{\sdpickbox}
\AtBeginDocument{\setlength{\sdwidth}{\linewidth}}
\newcommand{\sdpick}[2]{\sbox{\sdpickbox}{$\displaystyle#1$}\ifdim\wd\sdpickbox>\sdwidth#2\else#1\fi}
% \sdfit{MATH}: MATH (a wide matrix) scaled down to 3/4 of the room \sdafter left when wider
% (the rest is for the factor beside it: W x).
\newcommand{\sdfit}[1]{\sdshrink{0.75\sdwidth}{$\displaystyle#1$}}
% \sdtable{TABULAR}: centred, rows spaced for fractions, scaled down when too wide.
\newcommand{\sdtable}[1]{\begin{center}\renewcommand{\arraystretch}{1.3}\sdshrink{\linewidth}{#1}\end{center}}
"""

#: Givens this short (printed LaTeX) sit two to a row in the Setup.
_NARROW = 90


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
        if sheet.paper != "letter":
            head = head.replace("[margin=2cm]{geometry}", f"[{sheet.paper}paper,margin=2cm]{{geometry}}")
        title = [r"\begin{document}", r"\begin{center}", rf"{{\LARGE {escape(sheet.title)}\par}}"]
        if self.handout:
            title.append(r"\medskip{\large Questions (write each answer where its id stands)\par}")
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
        return [figures.render(figure, self.math, handout=self.handout)]

    def note(self, note) -> list[str]:
        return [rf"\emph{{Note.}} {self.text(note)}"]

    def blanks(self, answers) -> list[str]:
        rows = [rf"\[{self.blank(a)}\tag*{{\answerid{{{escape(a.id)}}}}}\]" for a in answers]
        return [r"\paragraph{Answers.}", "\n".join(rows)]

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
        left, rows = self.step_rows(s)
        if rows:
            lines = [f"&{rel} \\sdbreak{{{rhs}}}" for rel, rhs in rows]
            out.append(f"\\sdafter{{{left}}}\n" + self.align([left + lines[0]] + lines[1:]))
        if s.table is not None:
            out.append(self.table(s.table))
        if s.note:
            out.append(self.text(s.note))
        return "\n".join(out)

    @staticmethod
    def align(rows: Iterable[str], columns: int = 1) -> str:
        """An ``align*`` of rows; with several columns an ``alignat*``, packed, not spread."""
        begin, end = ("\\begin{align*}", "\\end{align*}") if columns == 1 else (
            f"\\begin{{alignat*}}{{{columns}}}", "\\end{alignat*}")
        return begin + "\n" + " \\\\\n".join(rows) + "\n" + end

    def table(self, t: Table) -> str:
        t = self.distinct_columns(t)
        cols = "l" * len(t.header)
        head = " & ".join(escape(h) for h in t.header)
        rows = [" & ".join(self.cell(c) for c in row) for row in t.rows]
        body = head + " \\\\ \\midrule\n" + " \\\\\n".join(rows)
        tabular = f"\\begin{{tabular}}{{{cols}}}\\toprule\n{body} \\\\ \\bottomrule\\end{{tabular}}"
        return f"\\sdtable{{{tabular}}}"

    def cell(self, c) -> str:
        return escape(c) if isinstance(c, str) else self.inline(c)

    def answer(self, a: Answer) -> str:
        boxed = rf"$\displaystyle\boxed{{{self.answer_math(a)}}}$"
        text = f" {self.text(a.text)}" if a.text else ""
        return (rf"\[\sdshrink{{\dimexpr\linewidth-10em\relax}}{{{boxed}}}"
                rf"\tag*{{\answerid{{{escape(a.id)}}}}}\]{text}")


def render_latex(sheet: Sheet) -> str:
    """The whole sheet as a standalone LaTeX document."""
    return LatexSheet().document(sheet)


def render_handout_latex(sheet: Sheet) -> str:
    """The questions only (prompts, givens, figures of givens, a blank per answer id), as LaTeX."""
    return LatexSheet(handout=True).document(sheet)
