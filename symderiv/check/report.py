"""A graded submission as text (terminal), JSON, Markdown or a LaTeX feedback sheet.

Everything a student typed is untrusted: in LaTeX it is escaped with
:func:`symderiv.render.text.escape` (and shown in ``\\texttt``), in Markdown with
:func:`symderiv.render.text.escape_md`; math (the expected answer and the answer as
read) is printed by :class:`symderiv.render.printer.SheetPrinter` in the problem's
notation. Output is deterministic: answers in sheet order, no timestamps.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import sympy as sp

from symderiv.check.equivalence import is_matrix_expression
from symderiv.check.grade import Graded, Report
from symderiv.check.shapes import describe_shape, shape_of
from symderiv.check.show import MAX_SHOWN, plain, printable
from symderiv.render.latex import PREAMBLE
from symderiv.render.printer import SheetPrinter
from symderiv.render.text import escape, escape_md, paragraph_md

MAX_MATH = 3000
"""Longest LaTeX of one value typeset in a report; longer values are described instead."""
MAX_MATRIX_SIDE = 40
"""Widest or tallest matrix typeset (the sheet preamble's ``MaxMatrixCols``)."""


# --------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------


def given_text(raw: Any) -> str:
    """What the student submitted, as text (TOML spelling for numbers and arrays), shortened,
    control characters escaped."""
    text = _spell(raw)
    short = text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}... ({len(text)} characters)"
    return printable(short)


def _spell(raw: Any) -> str:
    if isinstance(raw, list):
        return "[" + ", ".join(_spell(x) for x in raw) + "]"
    if isinstance(raw, str):
        return raw
    return repr(raw)


def points_text(points: Fraction, most: Fraction | int) -> str:
    return f"{_number(points)}/{_number(Fraction(most))}"


def _number(points: Fraction) -> str:
    return str(points.numerator) if points.denominator == 1 else f"{float(points):.2f}"


def percent(report: Report) -> str:
    if not report.max_points:
        return "0.0%"
    return f"{100 * float(report.points) / report.max_points:.1f}%"


def _json_number(points: Fraction | int) -> int | float:
    points = Fraction(points)
    return points.numerator if points.denominator == 1 else float(points)


def _read_differently(g: Graded) -> bool:
    """Show "read as" only when the parsed answer does not print as what was typed."""
    return g.parsed is not None and plain(g.parsed) != given_text(g.given)


def details(g: Graded) -> bool:
    """Whether a graded answer needs more than its one-line summary."""
    return g.verdict != "correct" or bool(g.notes)


@dataclass(frozen=True)
class Detail:
    """One row of the details under an answer: a label and a value, with the kind of
    value, which says how each format shows it: ``math`` is a SymPy value (plain text or
    typeset), ``typed`` what the student submitted (untrusted, shown as typed), ``text``
    a sentence of ours."""

    label: str
    value: Any
    kind: Literal["math", "typed", "text"]

    @property
    def title(self) -> str:
        """The label as a heading: ``Read as`` for ``read as``."""
        return self.label[:1].upper() + self.label[1:]


Shown = Mapping[str, Callable[[Any], str]]
"""How one format shows a :class:`Detail`'s value, by its kind."""


def detail_rows(g: Graded) -> list[Detail]:
    """The details of an answer, in the order every format shows them: expected, given,
    read as (only when the answer does not print as typed), why, diagnoses."""
    rows = [Detail("expected", g.expected, "math")]
    if g.given is not None:
        rows.append(Detail("given", g.given, "typed"))
    if _read_differently(g):
        rows.append(Detail("read as", g.parsed, "math"))
    if g.reason and g.verdict not in ("missing", "correct"):
        rows.append(Detail("why", g.reason, "text"))
    rows += [Detail("note", note, "text") for note in g.notes]
    return rows + [Detail("diagnosis", d.message, "text") for d in g.diagnoses]


def shown_rows(g: Graded, shown: Shown) -> list[tuple[Detail, str]]:
    """Each detail of ``g`` with its value as one format shows it."""
    return [(row, shown[row.kind](row.value)) for row in detail_rows(g)]


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


def to_text(report: Report) -> str:
    """The terminal report: one line per answer, details under the ones that are not correct."""
    lines = [f"grading {report.submission} against {report.spec or report.title}"]
    if report.student:
        lines.append("student: " + ", ".join(f"{k} = {v}" for k, v in report.student))
    lines.append("")
    for g in report.answers:
        lines += _text_answer(g)
    if report.unknown:
        lines += ["", "ids not in the spec (not graded):"]
        lines += [f"  {g.id}  = {given_text(g.given)}" for g in report.unknown]
    lines += ["", f"score: {points_text(report.points, report.max_points)} ({percent(report)})"]
    return "\n".join(printable(line) for line in lines) + "\n"


def _text_answer(g: Graded) -> list[str]:
    lines = [f"{g.id:<22} {g.verdict:<15} {points_text(g.points, g.max_points)}"]
    if not details(g):
        return lines
    shown: Shown = {"math": plain, "typed": given_text, "text": str}
    return lines + [f"    {row.label:<10} {text}" for row, text in shown_rows(g, shown) if text]


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain data (what ``--json`` prints)."""
    return {
        "submission": report.submission, "spec": report.spec, "title": report.title,
        "student": dict(report.student),
        "score": {"points": _json_number(report.points), "max_points": _json_number(report.max_points),
                  "percent": round(100 * float(report.points) / report.max_points, 2) if report.max_points else 0.0},
        "answers": [_graded_dict(g, report) for g in report.answers],
        "unknown": [_graded_dict(g, report) for g in report.unknown],
    }


def _graded_dict(g: Graded, report: Report) -> dict[str, Any]:
    latex = math_of(g.expected, SheetPrinter(report.notation(g.problem)))
    return {"id": g.id, "verdict": g.verdict, "points": _json_number(g.points),
            "max_points": _json_number(g.max_points), "given": None if g.given is None else given_text(g.given),
            "parsed": plain(g.parsed) or None, "expected": plain(g.expected) or None, "expected_latex": latex,
            "reason": g.reason, "notes": list(g.notes),
            "diagnoses": [{"kind": d.kind, "message": d.message} for d in g.diagnoses]}


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=True) + "\n"


# --------------------------------------------------------------------------
# Math for the typeset reports
# --------------------------------------------------------------------------


def math_of(value: sp.Basic | None, printer: SheetPrinter) -> str | None:
    """LaTeX of a value, or None when it is too big to typeset (then it is described)."""
    if value is None:
        return None
    shape = shape_of(value)
    if shape is not None and not is_matrix_expression(value) and max(shape) > MAX_MATRIX_SIDE:
        return None
    text = printer.doprint(value)
    return text if len(text) <= MAX_MATH else None


def _describe(value: sp.Basic) -> str:
    shape = shape_of(value)
    return f"({describe_shape(shape)}, too large to show)" if shape else "(too large to show)"


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def to_markdown(report: Report) -> str:
    """A feedback sheet in Markdown with ``$...$`` math (GitHub, Jupyter)."""
    out = [f"# Feedback: {escape_md(report.title)}", ""]
    out += [paragraph_md(escape_md(printable(f"{k}: {v}"))) + "  " for k, v in report.student]
    out += [paragraph_md(escape_md(printable(f"Submission {report.submission}, graded against {report.spec}."))), "",
            f"**Score: {points_text(report.points, report.max_points)} ({escape_md(percent(report))})**", "",
            "| Answer | Verdict | Points |", "| --- | --- | --- |"]
    out += [f"| {escape_md(g.id)} | {escape_md(g.verdict)} | {points_text(g.points, g.max_points)} |"
            for g in report.answers]
    wrong = [g for g in report.answers if details(g)]
    if wrong:
        out += ["", "## Details"]
    for g in wrong:
        out += ["", f"### {escape_md(g.id)}: {escape_md(g.verdict)}", ""] + _md_items(g, report)
    if report.unknown:
        out += ["", "## Ids not in the spec (not graded)", ""]
        out += [f"- {escape_md(printable(g.id))}" for g in report.unknown]
    return "\n".join(out) + "\n"


def _md_items(g: Graded, report: Report) -> list[str]:
    printer = SheetPrinter(report.notation(g.problem))
    shown = {"math": lambda value: _md_value(value, printer), "typed": lambda raw: escape_md(given_text(raw)),
             "text": lambda text: escape_md(printable(text))}
    return [f"- {row.title}: {text}" for row, text in shown_rows(g, shown)]


def _md_value(value: sp.Basic, printer: SheetPrinter) -> str:
    text = math_of(value, printer)
    return escape_md(_describe(value)) if text is None else f"${_md_math(text)}$"


def _md_math(text: str) -> str:
    """Math inside ``$...$`` in Markdown: a ``$`` cannot occur (SymPy never prints one);
    newlines would end the paragraph."""
    return text.replace("\n", " ")


# --------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------


def to_latex(report: Report) -> str:
    """A standalone LaTeX feedback sheet (the solution sheet's preamble)."""
    body = [r"\section*{Feedback: " + escape(report.title) + "}"]
    body += [escape(printable(f"{k}: {v}")) + r"\\" for k, v in report.student]
    body += [escape(f"Submission {report.submission}, graded against {report.spec}.") + r"\\",
             r"\textbf{Score: " + escape(f"{points_text(report.points, report.max_points)} ({percent(report)})") + "}",
             "", _latex_summary(report)]
    wrong = [g for g in report.answers if details(g)]
    if wrong:
        body += [r"\subsection*{Details}", r"\begin{description}"]
        body += [_latex_item(g, report) for g in wrong]
        body.append(r"\end{description}")
    if report.unknown:
        body += [r"\subsection*{Ids not in the spec (not graded)}",
                 ", ".join(r"\texttt{" + escape(g.id) + "}" for g in report.unknown)]
    preamble = PREAMBLE.replace("%(extra)s", "\\usepackage{longtable}\n")
    return preamble + "\\begin{document}\n" + "\n".join(body) + "\n\\end{document}\n"


def _latex_summary(report: Report) -> str:
    rows = [r"\texttt{" + escape(g.id) + "} & " + escape(g.verdict) + " & " + points_text(g.points, g.max_points)
            + r" \\" for g in report.answers]
    return "\n".join([r"\begin{longtable}{llr}", r"\toprule", r"Answer & Verdict & Points \\", r"\midrule",
                      r"\endhead", *rows, r"\bottomrule", r"\end{longtable}"])


def _latex_item(g: Graded, report: Report) -> str:
    printer = SheetPrinter(report.notation(g.problem))
    shown = {"math": lambda value: _latex_value(value, printer) + ".",
             "typed": lambda raw: r"\texttt{" + escape(given_text(raw)) + "}", "text": escape}
    lines = [r"\item[\texttt{" + escape(g.id) + "}] " + escape(g.verdict) + ". "]
    lines += [f"{row.title}: {text}" + r"\\" for row, text in shown_rows(g, shown)]
    return "\n".join(lines)


def _latex_value(value: sp.Basic, printer: SheetPrinter) -> str:
    text = math_of(value, printer)
    return escape(_describe(value)) if text is None else r"\sdshrink{0.8\linewidth}{$" + text + "$}"


RENDERERS: dict[str, Callable[[Report], str]] = {"text": to_text, "json": to_json, "md": to_markdown,
                                                 "tex": to_latex}


def render(report: Report, form: str) -> str:
    """The report in one of :data:`RENDERERS`' formats."""
    return RENDERERS[form](report)
