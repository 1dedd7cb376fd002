"""Moodle: one Moodle XML file (``quiz.xml``) to import into a course's question bank.

* A ``<question type="category">`` per problem (``$course$/top/<sheet title>/Problem N:
  <title>``); with ``--count N``, a sub-category per answer holding its N variants, so a
  quiz's "random question from this category" gives each student one variant.
* A number is a ``numerical`` question. Moodle's ``<tolerance>`` is absolute, so the
  grading policy is turned into an absolute tolerance per answer value
  (:func:`symderiv.export.source.absolute_tolerance`: the digits rule accepts every
  decimal that rounds to the value's first ``sig_figs`` figures; ``rtol`` becomes
  ``rtol * |value|``).
* A vector, a matrix or a tensor shape is a ``cloze`` question, one
  ``{1:NUMERICAL:=value:tolerance}`` blank per entry, laid out as the matrix.
* A formula is an ``essay`` question (graded by hand: Moodle's own question types cannot
  compare formulas, STACK can), with the key's answer in the grader information.
* The question text is the question's prompt and givens, and the worked solution is the
  ``<generalfeedback>``, in HTML with ``\\( \\)`` / ``\\[ \\]`` math for Moodle's MathJax
  filter. HTML is written in CDATA sections, names as escaped text.

Every question carries an ``idnumber`` ``<sheet>-<answer id>[-v<variant>]``.
"""
from __future__ import annotations

import html
from xml.sax.saxutils import escape

from symderiv.export.html import PARENS, question_html, solution_html, symbol_math, text_html
from symderiv.export.source import (
    ExportError,
    Source,
    absolute_tolerance,
    answer_form,
    as_float,
    entries,
    key_text,
    map_variants,
    tolerance_of,
    variant_keys,
)
from symderiv.model import Answer, Problem, Question, Sheet
from symderiv.variants import VariantKey

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n'


def export_files(source: Source, seed: int, count: int | None, jobs: int = 1) -> dict[str, str]:
    """``quiz.xml``: every answer of the sheet, or of each of variants 1 .. count (drawn and
    rendered in ``jobs`` processes)."""
    keys = variant_keys(source, count)
    rendered = map_variants(lambda key: variant_questions(source, seed, key), keys, jobs)
    first = source.sheet(seed, keys[0])
    _same_ids(first, rendered, keys)
    out = [HEADER, f"<!-- {escape(source.title)}: written by symderiv export from {escape(source.path.name)}"
                   f"{f', seed {seed}, variants 1-{count}' if count else ''} -->\n"]
    for problem in first.problems:
        for q in problem.questions:
            for answer in q.answers:
                out += category(source, problem, answer if count else None)
                out += [questions_of[answer.id] for questions_of in rendered]
    return {"quiz.xml": "".join(_dedupe_categories(out)) + "</quiz>\n"}


def _same_ids(first: Sheet, rendered: list[dict[str, str]], keys: tuple[VariantKey | None, ...]) -> None:
    """Every variant must have the answer ids of the first (a category holds one id's variants)."""
    ids = {a.id for a in first.answers()}
    for key, questions_of in zip(keys, rendered):
        if set(questions_of) != ids:
            other = sorted(set(questions_of) ^ ids)[0]
            raise ExportError(f"--count: variant {key.index if key else 1} and variant 1 differ in answer "
                              f"{other!r}: keep the fields that name answers fixed (see Per-student variants)")


def variant_questions(source: Source, seed: int, key: VariantKey | None) -> dict[str, str]:
    """Every answer's question of one variant (answer id -> XML)."""
    sheet = source.sheet(seed, key)
    return {a.id: question_xml(sheet, (p, q), a.id, source.name, key)
            for p in sheet.problems for q in p.questions for a in q.answers}


def category(source: Source, problem: Problem, answer: Answer | None) -> list[str]:
    path = f"$course$/top/{source.title}/Problem {problem.number}: {problem.title}"
    if answer is not None:
        path += f"/{answer.id}"
    return [f'<question type="category">\n<category><text>{escape(path)}</text></category>\n'
            f'<info format="html"><text></text></info>\n</question>\n']


def _dedupe_categories(parts: list[str]) -> list[str]:
    """A category element once, where it first changes (questions follow it)."""
    out, last = [], None
    for part in parts:
        if part.startswith('<question type="category">'):
            if part == last:
                continue
            last = part
        out.append(part)
    return out


def cdata(text: str) -> str:
    """``text`` in a CDATA section (a ``]]>`` in it split across two)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def question_xml(sheet: Sheet, where: tuple[Problem, Question], answer_id: str, name: str,
                 key: VariantKey | None) -> str:
    """One Moodle question for one answer (of one variant)."""
    problem, q = where
    answer = next(a for a in q.answers if a.id == answer_id)
    form = answer_form(answer)
    asked = question_html(problem, q, sheet.digits, PARENS)
    symbol = "\\(" + html.escape(symbol_math(problem, answer, sheet.digits), quote=False) + "\\)"
    code = f"<code>{text_html(answer.id)}</code>"
    if form == "number":
        kind, text, body = "numerical", asked + f"<p>{symbol} = ? {code}</p>\n", numerical(sheet, problem, answer)
    elif form == "text":
        kind, text, body = "essay", asked + f"<p>Give {symbol} as a formula. {code}</p>\n", essay(answer)
    else:
        kind, text, body = "cloze", asked + f"<p>{symbol} = {code}</p>\n" + blanks(sheet, problem, answer), ""
    label = f"Q{q.id} {answer.id}" + (f" (variant {key.index})" if key is not None else "")
    ident = f"{name}-{answer.id}" + (f"-v{key.index}" if key is not None else "")
    solution = solution_html(problem, q, sheet.digits, PARENS)
    return (f'<question type="{kind}">\n<name><text>{escape(label)}</text></name>\n'
            f'<questiontext format="html"><text>{cdata(text)}</text></questiontext>\n'
            f'<generalfeedback format="html"><text>{cdata(solution)}</text></generalfeedback>\n'
            f"<defaultgrade>1</defaultgrade>\n<penalty>0</penalty>\n<hidden>0</hidden>\n"
            f"<idnumber>{escape(ident)}</idnumber>\n{body}</question>\n")


def number_text(value: float | int) -> str:
    """A number as Moodle reads it: an integer, or Python's shortest round-trip float."""
    return str(value) if isinstance(value, int) else repr(value)


def numerical(sheet: Sheet, problem: Problem, answer: Answer) -> str:
    value = entries(answer)[0][0]
    tolerance = absolute_tolerance(tolerance_of(sheet, answer, problem.number), value)
    shown = number_text(int(value) if value.is_Integer else as_float(value))
    return (f'<answer fraction="100" format="moodle_auto_format"><text>{shown}</text>'
            f'<feedback format="html"><text></text></feedback><tolerance>{number_text(tolerance)}</tolerance>'
            f"</answer>\n<unitgradingtype>0</unitgradingtype>\n<unitpenalty>0</unitpenalty>\n"
            f"<showunits>3</showunits>\n<unitsleft>0</unitsleft>\n")


def blank(value, tolerance: float) -> str:
    """A cloze NUMERICAL blank worth 1: ``{1:NUMERICAL:=value:tolerance}``."""
    shown = number_text(int(value) if value.is_Integer else as_float(value))
    return "{1:NUMERICAL:=" + shown + ":" + number_text(tolerance) + "}"


def blanks(sheet: Sheet, problem: Problem, answer: Answer) -> str:
    """One blank per entry: a row of blanks for a shape (``_ x _ x _``), a table for a matrix."""
    policy = tolerance_of(sheet, answer, problem.number)
    rows = [[blank(x, absolute_tolerance(policy, x)) for x in row] for row in entries(answer)]
    if answer_form(answer) == "shape":
        return "<p>" + " &times; ".join(rows[0]) + "</p>\n"
    cells = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>\n{cells}\n</table>\n"


def essay(answer: Answer) -> str:
    key = text_html(key_text(answer))
    return ("<responseformat>editor</responseformat>\n<responserequired>1</responserequired>\n"
            "<responsefieldlines>3</responsefieldlines>\n<attachments>0</attachments>\n"
            f'<graderinfo format="html"><text>{cdata(f"<p>Key: <code>{key}</code></p>")}</text></graderinfo>\n'
            '<responsetemplate format="html"><text></text></responsetemplate>\n')
