"""A sheet, problem, question or answer as math-mode ``array`` blocks for MathJax (Jupyter).

Jupyter renders ``_repr_latex_`` with MathJax, which knows math but not LaTeX's text
commands, so text becomes ``\\text{}`` runs (:func:`escape_mathjax`) and every line is
a row of an array. A question is one ``$$`` block; a problem or a sheet is one block per
heading and per question, since MathJax refuses a formula over its buffer size (5 KB of
TeX by default), which a whole problem exceeds. Figures show as their caption. The order
of the parts is :class:`~symderiv.render.walker.SheetWalker`'s, as in the typeset sheet.
"""
from __future__ import annotations

from itertools import chain

from symderiv.model import Answer, Problem, Question, Sheet, Step, Table
from symderiv.render.text import escape_mathjax, prose
from symderiv.render.walker import SheetWalker

#: Rows of an array are joined by this within a question.
ROW = " \\\\\n"

#: A question, a problem's heading and the sheet's title are each one block.
OPEN, CLOSE = "$$\\begin{array}{l}\n", "\n\\end{array}$$"
BLOCK = CLOSE + "\n" + OPEN


class MathJaxSheet(SheetWalker):
    """Rows of ``array`` blocks: a question's rows joined by :data:`ROW`, questions and
    headings by :data:`BLOCK`."""

    question_sep = ROW
    problem_sep = sheet_sep = BLOCK

    def text(self, parts) -> str:
        return prose(parts, self.math, escape_mathjax)

    def sheet_head(self, sheet: Sheet) -> list[str]:
        return [escape_mathjax(sheet.title, "textbf")]

    def problem_head(self, problem: Problem) -> list[str]:
        return [escape_mathjax(f"Problem {problem.number}: {problem.title}", "textbf")]

    def intro(self, intro) -> list[str]:
        return [self.text(intro)]

    def question_head(self, q: Question) -> list[str]:
        return [escape_mathjax(f"Q{q.id}. {q.title}", "textbf")]

    def prompt(self, prompt) -> list[str]:
        return [self.text(prompt)]

    def setup(self, givens) -> list[str]:
        return [r"\textit{Setup.}", self.aligned([f"{self.math(lhs)} &= {self.math(rhs)}" for lhs, rhs in givens])]

    def analysis(self, steps) -> list[str]:
        return [r"\textit{Analysis.}"] + list(chain.from_iterable(self.step(i, s) for i, s in enumerate(steps, 1)))

    def figure(self, figure) -> list[str]:
        return [] if self.handout else [escape_mathjax(f"Figure: {figure.caption}", "textit")]

    def note(self, note) -> list[str]:
        return [r"\textit{Note. }" + self.text(note)]

    def blanks(self, answers: tuple[Answer, ...]) -> list[str]:
        return [r"\textit{Answers.}"] + [
            rf"\qquad {self.blank(a)}\quad{escape_mathjax(f'[{a.id}]', 'texttt')}" for a in answers]

    def conclusion(self, answers: tuple[Answer, ...]) -> list[str]:
        return [r"\textit{Conclusion.}"] + [
            rf"\qquad\boxed{{{self.answer_math(a)}}}\quad{escape_mathjax(f'[{a.id}]', 'texttt')}"
            for a in answers]

    def step(self, number: int, s: Step) -> list[str]:
        rows = [rf"\text{{{number}. }}" + self.text(s.text)]
        left, lines = self.step_rows(s)
        if lines:
            aligned = [f"&{rel} {rhs}" for rel, rhs in lines]
            rows.append(self.aligned([left + aligned[0]] + aligned[1:]))
        if s.table is not None:
            rows.append(r"\qquad" + self.table(s.table))
        return rows + ([self.text(s.note)] if s.note else [])

    @staticmethod
    def aligned(lines: list[str]) -> str:
        return "\\qquad\\begin{aligned}" + r" \\ ".join(lines) + "\\end{aligned}"

    def table(self, t: Table) -> str:
        t = self.distinct_columns(t)
        head = " & ".join(escape_mathjax(h) for h in t.header)
        rows = [" & ".join(escape_mathjax(c) if isinstance(c, str) else self.math(c) for c in r) for r in t.rows]
        return "\\begin{array}{" + "l" * len(t.header) + "}" + r" \\ \hline ".join(
            [head, r" \\ ".join(rows)]) + "\\end{array}"


def latex_of(item: Sheet | Problem | Question | Answer) -> str:
    """``$$...$$`` math blocks for any record of the model (Jupyter's ``_repr_latex_``)."""
    return OPEN + MathJaxSheet().render(item) + CLOSE
