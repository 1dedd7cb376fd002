"""A graded class as a gradebook: statistics per answer, CSV, Gradescope results, class reports.

* :func:`statistics`: for each answer of the sheet, how many submissions got it right
  and how many made each slip (``41% transposed`` for ``1.3.dL_dW1``): each graded
  answer counts once, under ``correct``, ``carried_forward``, its first diagnosis, or
  its verdict (``missing``, ``unparseable``, an undiagnosed ``incorrect``...);
* :func:`to_csv`: one row per submission (file, student id, name, score, max, error),
  one column per answer with its points; text a student typed is escaped (control
  characters) and defused (a cell starting with ``=``, ``+``, ``-`` or ``@`` is not a
  spreadsheet formula);
* :func:`gradescope_results`: the ``results.json`` of Gradescope's autograder
  specification (``score``, ``output``, and one test per answer with ``name``,
  ``number``, ``score``, ``max_score``, ``status`` and ``output``);
* :func:`render_class`: the class in text, Markdown or JSON.
"""
from __future__ import annotations

import csv
import io
import json
import statistics as stats
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from symderiv.check.batch import Row
from symderiv.check.grade import Graded, Report
from symderiv.check.report import percent, points_text, to_dict
from symderiv.check.show import plain, printable
from symderiv.model import Sheet
from symderiv.render.text import escape_md


@dataclass(frozen=True)
class AnswerStats:
    """How a class did on one answer: ``counts`` of each outcome among ``graded`` submissions."""

    id: str
    graded: int
    counts: tuple[tuple[str, int], ...]

    def share(self, outcome: str) -> float:
        return dict(self.counts).get(outcome, 0) / self.graded if self.graded else 0.0

    def summary(self, most: int = 4) -> str:
        """``58% correct, 41% transposed, 1% missing``."""
        return ", ".join(f"{round(100 * n / self.graded)}% {outcome.replace('_', ' ')}"
                         for outcome, n in self.counts[:most]) if self.graded else "not graded"


def outcome(g: Graded) -> str:
    """The one outcome a graded answer counts under in the statistics."""
    if g.verdict in ("correct", "carried_forward") or not g.diagnoses:
        return g.verdict
    return g.diagnoses[0].kind


def statistics(rows: Sequence[Row], sheet: Sheet) -> list[AnswerStats]:
    """Per answer of the sheet (in sheet order), the outcomes over the graded submissions."""
    counts: dict[str, Counter[str]] = {a.id: Counter() for a in sheet.answers()}
    for row in rows:
        for g in row.report.answers if row.report else ():
            counts.setdefault(g.id, Counter())[outcome(g)] += 1
    return [AnswerStats(i, sum(c.values()), tuple(sorted(c.items(), key=lambda item: (-item[1], item[0]))))
            for i, c in counts.items()]


def _student(row: Row, key: str) -> str:
    return dict(row.report.student).get(key, "") if row.report else ""


def _decimal(value: Fraction | int) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.4g}"


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------


def _cell(text: str) -> str:
    """A cell safe for spreadsheets: no control characters, no formula."""
    text = printable(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(rows: Sequence[Row], sheet: Sheet) -> str:
    """The gradebook: one line per submission, one column per answer (its points)."""
    ids = [a.id for a in sheet.answers()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "id", "name", "score", "max", "error", *ids])
    for row in rows:
        points = {g.id: _decimal(g.points) for g in row.report.answers} if row.report else {}
        score = [_decimal(row.report.points), _decimal(row.report.max_points)] if row.report else ["", ""]
        writer.writerow([_cell(row.source), _cell(_student(row, "id")), _cell(_student(row, "name")), *score,
                         _cell(row.error or ""), *(points.get(i, "") for i in ids)])
    return out.getvalue()


# --------------------------------------------------------------------------
# Gradescope
# --------------------------------------------------------------------------


def _test_output(g: Graded) -> str:
    lines = [f"{g.verdict.replace('_', ' ')}"]
    if g.verdict != "correct":
        lines.append(f"expected: {plain(g.expected)}")
    if g.reason and g.verdict not in ("correct", "missing"):
        lines.append(f"why: {g.reason}")
    lines += [f"note: {note}" for note in g.notes] + [d.message for d in g.diagnoses]
    return "\n".join(printable(line) for line in lines)


def gradescope_results(row: Row) -> dict[str, Any]:
    """One submission's ``results.json`` for Gradescope."""
    if row.report is None:
        return {"score": 0.0, "output": printable(f"The submission could not be read: {row.error}"), "tests": []}
    report = row.report
    tests = [{"name": g.id, "number": g.id, "score": float(g.points), "max_score": float(g.max_points),
              "status": "passed" if g.points == g.max_points else "failed", "output": _test_output(g)}
             for g in report.answers]
    return {"score": float(report.points),
            "output": printable(f"{report.title}: {points_text(report.points, report.max_points)} "
                                f"({percent(report)})"), "tests": tests}


# --------------------------------------------------------------------------
# The class as text, Markdown, JSON
# --------------------------------------------------------------------------


def _scores(rows: Sequence[Row]) -> list[float]:
    return [100 * float(r.report.points / r.report.max_points) for r in rows if r.report and r.report.max_points]


def _summary(rows: Sequence[Row]) -> str:
    scores, failed = _scores(rows), sum(1 for r in rows if r.report is None)
    mean = f"mean {stats.mean(scores):.1f}%, median {stats.median(scores):.1f}%" if scores else "nothing graded"
    return f"{mean} ({len(scores)} graded" + (f", {failed} could not be read)" if failed else ")")


def class_text(rows: Sequence[Row], sheet: Sheet, spec: str) -> str:
    """The class on a terminal: a line per submission, a line per answer, the summary."""
    lines = [f"grading {len(rows)} submissions against {spec or sheet.title}", ""]
    for row in rows:
        if row.report is None:
            lines.append(f"{row.source}  could not be read: {row.error}")
            continue
        who = " ".join(x for x in (_student(row, "id"), _student(row, "name")) if x)
        lines.append(f"{row.source}  {who + '  ' if who else ''}"
                     f"{points_text(row.report.points, row.report.max_points)} ({percent(row.report)})")
    lines += ["", "per answer:"] + [f"{s.id:<22} {s.summary()}" for s in statistics(rows, sheet)]
    lines += ["", _summary(rows)]
    return "\n".join(printable(line) for line in lines) + "\n"


def _md(text: str) -> str:
    return escape_md(printable(text))


def class_markdown(rows: Sequence[Row], sheet: Sheet, spec: str) -> str:
    """The class in Markdown: a table of submissions, a table of answers."""
    md = _md
    out = [f"# Class results: {md(sheet.title)}", "", md(f"Graded against {spec}: {_summary(rows)}."), "",
           "| Submission | Student | Score |", "| --- | --- | --- |"]
    for row in rows:
        score = (f"{points_text(row.report.points, row.report.max_points)} ({md(percent(row.report))})"
                 if row.report else md(f"could not be read: {row.error}"))
        who = " ".join(x for x in (_student(row, "id"), _student(row, "name")) if x)
        out.append(f"| {md(row.source)} | {md(who)} | {score} |")
    out += ["", "## Per answer", "", "| Answer | Outcomes |", "| --- | --- |"]
    out += [f"| {md(s.id)} | {md(s.summary(most=6))} |" for s in statistics(rows, sheet)]
    return "\n".join(out) + "\n"


def class_dict(rows: Sequence[Row], sheet: Sheet, spec: str) -> dict[str, Any]:
    """The class as plain data (``--json``)."""
    return {"spec": spec, "title": sheet.title,
            "submissions": [to_dict(r.report) if r.report else {"submission": r.source, "error": r.error}
                            for r in rows],
            "statistics": [{"id": s.id, "graded": s.graded, "counts": dict(s.counts)} for s in statistics(rows, sheet)]}


def render_class(rows: Sequence[Row], sheet: Sheet, spec: str, form: str) -> str:
    """The class in ``text``, ``md`` or ``json``."""
    if form == "json":
        return json.dumps(class_dict(rows, sheet, spec), indent=2, ensure_ascii=True) + "\n"
    return class_markdown(rows, sheet, spec) if form == "md" else class_text(rows, sheet, spec)


def report_row(report: Report) -> Row:
    """A single graded submission as a gradebook row."""
    return Row(report.submission, report)
