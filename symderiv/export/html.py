"""A question as HTML with MathJax math: what PrairieLearn and Moodle show.

The order is :class:`~symderiv.render.walker.SheetWalker`'s (prompt, Setup, Analysis,
figures, notes, Conclusion); the math is the sheet's (:class:`SheetPrinter`). Text from a
spec is HTML-escaped (no markup can come from a spec), and so is the math (``<`` and the
``&`` of an alignment), which the browser turns back into characters before MathJax reads
them. Math delimiters differ by platform: PrairieLearn's MathJax reads ``$...$``, Moodle's
MathJax filter ``\\(...\\)`` (:data:`DOLLARS`, :data:`PARENS`).

:func:`question_html` is what is asked (prompt, givens, figures' givens); :func:`solution_html`
the worked solution (analysis, notes, conclusion), each for one question.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import sympy as sp

from symderiv.model import Answer, Problem, Question, Step, Table
from symderiv.render.text import prose
from symderiv.render.walker import SheetWalker


@dataclass(frozen=True)
class Delimiters:
    """How math is marked for a platform's MathJax: inline and display."""

    inline: tuple[str, str]
    display: tuple[str, str]


DOLLARS = Delimiters(("$", "$"), ("$$", "$$"))
PARENS = Delimiters(("\\(", "\\)"), ("\\[", "\\]"))


def text_html(text: str) -> str:
    """Plain text as HTML: escaped, and a ``$`` escaped for MathJax (``\\$``)."""
    return html.escape(text, quote=False).replace("$", "\\$")


class HtmlQuestion(SheetWalker):
    """Renders one question's parts as HTML paragraphs with MathJax math; with ``solution``
    the prompt and givens are left out (they stand above the solution already)."""

    question_sep = "\n"

    def __init__(self, problem: Problem, digits: int, delimiters: Delimiters, *, handout: bool = False,
                 solution: bool = False) -> None:
        super().__init__(handout=handout)
        self.delimiters, self.solution = delimiters, solution
        self.use_printer(dict(problem.notation), {"digits": problem.digits or digits, "decimals": problem.decimals})

    def inline(self, expr: sp.Basic) -> str:
        left, right = self.delimiters.inline
        return left + html.escape(self.math(expr), quote=False) + right

    def display(self, rows: list[str]) -> str:
        left, right = self.delimiters.display
        body = "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
        return f"<div>{left}\n{html.escape(body, quote=False)}\n{right}</div>"

    def text(self, parts) -> str:
        return prose(parts, self.inline, text_html)

    def question_head(self, q: Question) -> list[str]:
        return []

    def prompt(self, prompt) -> list[str]:
        return [f"<p>{self.text(prompt)}</p>"] if prompt and not self.solution else []

    def setup(self, givens) -> list[str]:
        if self.solution:
            return []
        rows = [f"{self.math(lhs)} &= {self.math(rhs)}" for lhs, rhs in givens]
        return ["<p><em>Given.</em></p>", self.display(rows)]

    def analysis(self, steps) -> list[str]:
        return ["<p><em>Analysis.</em></p>", "<ol>\n" + "\n".join(self.step(s) for s in steps) + "\n</ol>"]

    def step(self, s: Step) -> str:
        parts = [self.text(s.text)]
        left, rows = self.step_rows(s)
        if rows:
            lines = [f"&{rel} {rhs}" for rel, rhs in rows]
            parts.append(self.display([left + lines[0]] + lines[1:]))
        if s.table is not None:
            parts.append(self.table(s.table))
        if s.note:
            parts.append(f"<p>{self.text(s.note)}</p>")
        return "<li>" + "\n".join(parts) + "</li>"

    def table(self, t: Table) -> str:
        t = self.distinct_columns(t)
        head = "".join(f"<th>{text_html(h)}</th>" for h in t.header)
        rows = "".join("<tr>" + "".join(f"<td>{self.cell(c)}</td>" for c in row) + "</tr>" for row in t.rows)
        return f"<table>\n<tr>{head}</tr>\n{rows}\n</table>"

    def cell(self, c) -> str:
        return text_html(c) if isinstance(c, str) else self.inline(c)

    def figure(self, figure) -> list[str]:
        return [] if self.handout else [f"<p><em>Figure:</em> {text_html(figure.caption)}</p>"]

    def note(self, note) -> list[str]:
        return [f"<p><em>Note.</em> {self.text(note)}</p>"]

    def conclusion(self, answers: tuple[Answer, ...]) -> list[str]:
        items = "\n".join(f"<li>{self.answer(a)}</li>" for a in answers)
        return ["<p><em>Conclusion.</em></p>", f"<ul>\n{items}\n</ul>"]

    def answer(self, a: Answer) -> str:
        left, right = self.delimiters.inline
        boxed = left + html.escape(f"\\boxed{{{self.answer_math(a)}}}", quote=False) + right
        return f"{boxed} <code>{html.escape(a.id)}</code>" + (f" {self.text(a.text)}" if a.text else "")

    def blanks(self, answers) -> list[str]:
        return []


def question_html(problem: Problem, q: Question, digits: int, delimiters: Delimiters = DOLLARS) -> str:
    """What is asked: the prompt, the givens and the figures' givens (no derived number)."""
    return HtmlQuestion(problem, digits, delimiters, handout=True).question(q) + "\n"


def solution_html(problem: Problem, q: Question, digits: int, delimiters: Delimiters = DOLLARS) -> str:
    """The worked solution: the analysis steps, figures, notes and the boxed answers."""
    return HtmlQuestion(problem, digits, delimiters, solution=True).question(q) + "\n"


def symbol_math(problem: Problem, answer: Answer, digits: int) -> str:
    """An answer's symbol in LaTeX (for an input's label)."""
    return HtmlQuestion(problem, digits, DOLLARS).math(answer.symbol)
