"""Sheet -> Markdown with ``$...$`` / ``$$...$$`` math (renders on GitHub and in Jupyter).

The same shape as the typeset sheet (Setup, numbered Analysis steps, Conclusion with
answer ids) and the same math: formulas come from :class:`SheetPrinter` through the
step layout of :mod:`symderiv.render.latex`. Text is escaped for Markdown (no markup,
no raw HTML can come from a spec); figures become a caption and a table of their
numbers. ``markdown_of`` is what Jupyter shows for a sheet, problem or question.
"""
from __future__ import annotations

import sympy as sp

from symderiv.model import Answer, Problem, Question, Sheet, Step, Table
from symderiv.render import figures
from symderiv.render.text import escape_md, paragraph_md, prose
from symderiv.render.walker import SheetWalker

#: Indentation that keeps a block inside a numbered list item.
INDENT = "    "


def display(lines: list[str]) -> str:
    """A ``$$`` block of ``aligned`` rows, one row too: its ``&`` marks the alignment point,
    which only an alignment environment accepts (MathJax: "Misplaced &")."""
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n$$"


def table_math(text: str) -> str:
    """Math for a table cell: a ``|`` would end the cell, so bars are spelled ``\\vert``."""
    return text.replace(r"\|", r"\Vert ").replace("|", r"\vert ")


def indent(text: str) -> str:
    """``text`` indented into a list item (blank lines stay blank)."""
    return "\n".join(INDENT + line if line else line for line in text.split("\n"))


class MarkdownSheet(SheetWalker):
    """Renders a sheet as Markdown; the order of its parts is :class:`SheetWalker`'s."""

    def inline(self, expr: sp.Basic) -> str:
        return f"${self.math(expr)}$"

    def text(self, parts) -> str:
        return prose(parts, self.inline, escape_md)

    def paragraph(self, parts) -> str:
        """Prose that starts a paragraph (its first character must not start a block)."""
        return paragraph_md(self.text(parts))

    def sheet(self, sheet: Sheet) -> str:
        return super().sheet(sheet) + "\n"

    def sheet_head(self, sheet: Sheet) -> list[str]:
        head = [f"# {escape_md(sheet.title)}"] + ([f"*{escape_md(sheet.author)}*"] if sheet.author else [])
        return head + (["*Questions: write each answer where its id stands.*"] if self.handout else [])

    def problem_head(self, problem: Problem) -> list[str]:
        return [f"## Problem {problem.number}: {escape_md(problem.title)}"]

    def intro(self, intro) -> list[str]:
        return [self.paragraph(intro)]

    def question_head(self, q: Question) -> list[str]:
        return [f"### Q{escape_md(q.id)}. {escape_md(q.title)}"]

    def prompt(self, prompt) -> list[str]:
        return [self.paragraph(prompt)]

    def setup(self, givens) -> list[str]:
        return ["**Setup.**", display([f"{self.math(lhs)} &= {self.math(rhs)}" for lhs, rhs in givens])]

    def analysis(self, steps) -> list[str]:
        return ["**Analysis.**", "\n\n".join(self.step(i, s) for i, s in enumerate(steps, start=1))]

    def figure(self, figure) -> list[str]:
        return [figures.describe(figure, self.math, handout=self.handout)]

    def note(self, note) -> list[str]:
        return [f"*Note.* {self.text(note)}"]

    def blanks(self, answers) -> list[str]:
        rows = [f"- `{a.id.replace('`', '')}`: ${self.blank(a)}$" for a in answers]
        return ["**Answers.**", "\n".join(rows)]

    def conclusion(self, answers) -> list[str]:
        return ["**Conclusion.**", "\n".join(self.answer(a) for a in answers)]

    def step(self, number: int, s: Step) -> str:
        parts = [f"{number}. {self.text(s.text)}"]
        left, rows = self.step_rows(s)
        if rows:
            lines = [f"&{rel} {rhs}" for rel, rhs in rows]
            parts.append(indent(display([left + lines[0]] + lines[1:])))
        if s.table is not None:
            parts.append(indent(self.table(s.table)))
        if s.note:
            parts.append(indent(self.paragraph(s.note)))
        return "\n\n".join(parts)

    def table(self, t: Table) -> str:
        t = self.distinct_columns(t)
        rows = ["| " + " | ".join(escape_md(h) for h in t.header) + " |", "|" + "---|" * len(t.header)]
        rows += ["| " + " | ".join(self.cell(c) for c in row) + " |" for row in t.rows]
        return "\n".join(rows)

    def cell(self, c) -> str:
        return escape_md(c) if isinstance(c, str) else f"${table_math(self.math(c))}$"

    def answer(self, a: Answer) -> str:
        text = f" {self.text(a.text)}" if a.text else ""
        return f"- `{a.id.replace('`', '')}`: $\\boxed{{{self.answer_math(a)}}}${text}"


def render_markdown(sheet: Sheet) -> str:
    """The sheet as Markdown."""
    return MarkdownSheet().sheet(sheet)


def render_handout_markdown(sheet: Sheet) -> str:
    """The questions only, as Markdown (see :class:`~symderiv.render.walker.SheetWalker`)."""
    return MarkdownSheet(handout=True).sheet(sheet)


def markdown_of(item: Sheet | Problem | Question | Answer) -> str:
    """Markdown for any record of the model (Jupyter's ``_repr_markdown_``)."""
    return MarkdownSheet().render(item)
