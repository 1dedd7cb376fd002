"""The order of a sheet, written once: every renderer walks a sheet the same way.

A question prints as: heading, prompt, Setup (givens), Analysis (numbered steps),
figures, notes, Conclusion (boxed answers). :class:`SheetWalker` fixes that order and
the problem and sheet around it; the LaTeX, MathJax and Markdown renderers subclass it
and override how each piece prints and how pieces join, never the order.
"""
from __future__ import annotations

from typing import Any

import sympy as sp

from symderiv.model import Answer, Figure, Problem, Prose, Question, Sheet, Step
from symderiv.render.printer import SheetPrinter


class SheetWalker:
    """Walk a sheet in its fixed order; subclasses print the pieces.

    Each level returns one string: its pieces joined by :attr:`problem_sep` /
    :attr:`question_sep`. A piece method returns a list of blocks (empty: nothing).
    ``printer_settings`` are passed to every :class:`SheetPrinter` the walker makes.
    """

    question_sep = "\n\n"
    problem_sep = "\n\n"
    sheet_sep = "\n\n"
    printer_settings: dict[str, Any] = {}

    def __init__(self, notation: dict[str, str] | None = None) -> None:
        self.printer = SheetPrinter(notation, **self.printer_settings)

    def math(self, expr: sp.Basic) -> str:
        return self.printer.doprint(expr)

    # -- the order -------------------------------------------------------------------

    def render(self, item: Sheet | Problem | Question | Answer) -> str:
        """Any record of the model (what Jupyter shows for it); a question or an answer
        on its own prints without its problem's notation table."""
        if isinstance(item, Sheet):
            return self.sheet(item)
        if isinstance(item, Problem):
            return self.problem(item)
        if isinstance(item, Question):
            return self.question(item)
        return self.question_sep.join(self.conclusion((item,)))

    def sheet(self, sheet: Sheet) -> str:
        parts = self.sheet_head(sheet) + [self.problem(p) for p in sheet.problems] + self.sheet_tail(sheet)
        return self.sheet_sep.join(parts)

    def problem(self, problem: Problem) -> str:
        self.printer = SheetPrinter(dict(problem.notation), **self.printer_settings)
        parts = self.problem_head(problem)
        if problem.intro:
            parts += self.intro(problem.intro)
        parts += [self.question(q) for q in problem.questions]
        return self.problem_sep.join(parts)

    def question(self, q: Question) -> str:
        parts = self.question_head(q) + self.prompt(q.prompt)
        if q.givens:
            parts += self.setup(q.givens)
        if q.steps:
            parts += self.analysis(q.steps)
        for figure in q.figures:
            parts += self.figure(figure)
        for note in q.notes:
            parts += self.note(note)
        if q.answers:
            parts += self.conclusion(q.answers)
        return self.question_sep.join(p for p in parts if p)

    # -- the pieces (override these) ---------------------------------------------------

    def sheet_head(self, sheet: Sheet) -> list[str]:
        raise NotImplementedError

    def sheet_tail(self, sheet: Sheet) -> list[str]:
        return []

    def problem_head(self, problem: Problem) -> list[str]:
        raise NotImplementedError

    def intro(self, intro: Prose) -> list[str]:
        raise NotImplementedError

    def question_head(self, q: Question) -> list[str]:
        raise NotImplementedError

    def prompt(self, prompt: Prose) -> list[str]:
        raise NotImplementedError

    def setup(self, givens: tuple[tuple[sp.Basic, sp.Basic], ...]) -> list[str]:
        raise NotImplementedError

    def analysis(self, steps: tuple[Step, ...]) -> list[str]:
        raise NotImplementedError

    def figure(self, figure: Figure) -> list[str]:
        raise NotImplementedError

    def note(self, note: Prose) -> list[str]:
        raise NotImplementedError

    def conclusion(self, answers: tuple[Answer, ...]) -> list[str]:
        raise NotImplementedError
