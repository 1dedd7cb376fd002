"""The order of a sheet, written once: every renderer walks a sheet the same way.

A question prints as: heading, prompt, Setup (givens), Analysis (numbered steps),
figures, notes, Conclusion (boxed answers). :class:`SheetWalker` fixes that order and
the problem and sheet around it; the LaTeX, MathJax and Markdown renderers subclass it
and override how each piece prints and how pieces join, never the order.

With ``handout=True`` the same walk gives the questions only: heading, prompt, Setup,
the figures that show givens only (drawn without derived numbers), and one blank per
answer id where the student writes the answer; no analysis, notes or values.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sympy as sp

from symderiv.model import Answer, Figure, Problem, Prose, Question, Sheet, Step, Table, TensorShape
from symderiv.render.numbers import DEFAULT_DIGITS
from symderiv.render.printer import SheetPrinter

#: A row of a displayed chain: the relation (``=``, ``\\approx``, or empty when the
#: right-hand side carries its own) and the right-hand side.
Row = tuple[str, str]


def chain(left: str, texts: Iterable[str]) -> list[str]:
    """The distinct right-hand sides of ``left = t1 = t2 ...``: a form that prints like the
    one before it (or like ``left``) says nothing new and is skipped."""
    out: list[str] = []
    for text in texts:
        if text != left and (not out or text != out[-1]):
            out.append(text)
    return out


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

    def __init__(self, notation: dict[str, str] | None = None, *, handout: bool = False) -> None:
        self.handout = handout
        self.digits = DEFAULT_DIGITS
        self.use_printer(notation or {}, {})

    def use_printer(self, notation: dict[str, str], numbers: dict[str, Any]) -> None:
        """Print with this notation and these number settings (``digits``, ``decimals``);
        :attr:`decimals_printer` prints the same values as decimals only."""
        self.printer = SheetPrinter(notation, **self.printer_settings, **numbers)
        self.decimals_printer = SheetPrinter(notation, **self.printer_settings, **numbers, all_decimal=True)

    def math(self, expr: sp.Basic) -> str:
        return self.printer.doprint(expr)

    # -- values and steps: one layout for every renderer ------------------------------

    def value_rows(self, value: sp.Basic) -> list[Row]:
        """How a value is shown where it stands alone (the end of a step, an answer):
        ``= \\frac{5}{8} = 0.625``; a rounded value gets ``\\approx``."""
        shown = self.printer.show(value)
        rows = [(r"\approx" if shown.rounded else "=", shown.text)]
        if not getattr(value, "free_symbols", True):
            decimal = self.decimals_printer.show(value)
            if decimal.text != shown.text:
                rows.append((r"\approx" if decimal.rounded else "=", decimal.text))
        return rows

    def step_rows(self, s: Step) -> tuple[str, list[Row]]:
        """A step's display as ``(lhs, [(relation, right-hand side), ...])``.

        The chain ``lhs = rule = chain = expanded = substituted = value`` (the value by
        :meth:`value_rows`), then each of ``Step.math`` with an empty relation (it carries
        its own). ``lhs`` is empty when there is no chain.
        """
        forms = [f for f in (s.rule, s.chain, s.expanded, s.substituted) if f is not None]
        rows: list[Row] = []
        left = ""
        if s.lhs is not None and (forms or s.value is not None):
            left = self.math(s.lhs)
            texts = chain(left, (self.math(f) for f in forms))
            rows = [("=", t) for t in texts]
            if s.value is not None:
                values = self.value_rows(s.value)
                if values[0][1] not in (left, texts[-1] if texts else None):
                    rows += values
                else:
                    rows += values[1:]
        rows += [("", self.math(m)) for m in s.math]
        return left, rows

    def distinct_columns(self, t: Table) -> Table:
        """``t`` without the columns that print exactly like the column before them (a
        "decimal" column beside values that print as decimals already says nothing new)."""
        printed = [[c if isinstance(c, str) else self.math(c) for c in row] for row in t.rows]
        keep = [j for j in range(len(t.header))
                if j == 0 or not printed or any(len(r) <= j or r[j] != r[j - 1] for r in printed)]
        if len(keep) == len(t.header):
            return t
        return Table(tuple(t.header[j] for j in keep), tuple(tuple(r[j] for j in keep if j < len(r)) for r in t.rows))

    def answer_math(self, a: Answer) -> str:
        """``symbol = value`` as the Conclusion boxes it (``= 0.625``, ``\\approx 0.5933`` after)."""
        rows = self.value_rows(a.value)
        return self.math(a.symbol) + "".join(f" {rel} {text}" for rel, text in rows)

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
        self.digits = sheet.digits
        parts = self.sheet_head(sheet) + [self.problem(p) for p in sheet.problems] + self.sheet_tail(sheet)
        return self.sheet_sep.join(parts)

    def problem(self, problem: Problem) -> str:
        self.use_printer(dict(problem.notation), {"digits": problem.digits or self.digits,
                                                  "decimals": problem.decimals})
        parts = self.problem_head(problem)
        if problem.intro:
            parts += self.intro(problem.intro)
        parts += [self.question(q) for q in problem.questions]
        return self.problem_sep.join(parts)

    def question(self, q: Question) -> str:
        if self.handout:
            return self.question_sep.join(p for p in self.handout_question(q) if p)
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

    def handout_question(self, q: Question) -> list[str]:
        """The handout's question: what is asked and given, and where each answer goes."""
        parts = self.question_head(q) + self.prompt(q.prompt)
        if q.givens:
            parts += self.setup(q.givens)
        for figure in q.figures:
            parts += self.figure(figure)
        if q.answers:
            parts += self.blanks(q.answers)
        return parts

    def blank(self, a: Answer) -> str:
        """``symbol = `` and room to write: a matrix of empty cells for a matrix answer (its
        shape follows from the givens), three blanks for a tensor shape, else a line."""
        value = a.value
        if isinstance(value, TensorShape):
            room = r" \times ".join([r"\underline{\qquad\quad}"] * len(value))
        elif isinstance(value, sp.MatrixBase) and value.shape != (1, 1):
            row = " & ".join([r"\qquad\quad"] * value.cols)
            room = r"\begin{pmatrix}" + r" \\ ".join([row] * value.rows) + r"\end{pmatrix}"
        else:
            room = r"\underline{\hspace{12em}}"
        return f"{self.math(a.symbol)} = {room}"

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

    def blanks(self, answers: tuple[Answer, ...]) -> list[str]:
        raise NotImplementedError
