"""PrairieLearn: one question folder per question, whose ``server.py`` draws and grades with symderiv.

``questions/<sheet>/<problem>_<question>/`` holds (see PrairieLearn's docs, "Questions"):

* ``info.json``: a stable ``uuid`` (UUID 5 of the sheet's name and the question's answer
  ids, so a re-export keeps each question's identity and its students' data), ``title``,
  ``topic`` (the problem), ``tags``, ``"type": "v3"``, and ``singleVariant`` (true
  when the spec has no draws);
* ``question.html``: the prompt and givens in ``<pl-question-panel>``, one input per
  answer (``pl-number-input`` for a number, ``pl-matrix-input`` for a vector or a
  matrix, ``pl-string-input`` for a formula or a tensor shape: PrairieLearn's symbolic
  input cannot hold matrix expressions such as ``dL_da2 @ z1.T``, and symderiv reads
  the text itself), and the worked solution in ``<pl-answer-panel>``. With draws the
  prose and the solution differ by variant, so they come from ``params``;
* ``server.py``: ``generate(data)`` draws the variant of ``data["variant_seed"]`` (with
  ``--count N``, one of variants 1 .. N, the same as ``symderiv variants --count N``
  writes) and fills ``params`` and ``correct_answers``; ``grade(data)`` grades the
  submitted answers with symderiv's checker (diagnoses, carried-forward errors, the
  spec's grading policy) and sets ``partial_scores`` (score and feedback per answer)
  and ``score``. It imports symderiv, which the image that runs question code must have;
* the spec itself, which ``server.py`` reads.

:func:`generate_question` and :func:`grade_question` are what ``server.py`` calls.
"""
from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from symderiv.check.grade import Grader, parse_submission
from symderiv.check.numbers import Tolerance
from symderiv.export.feedback import answer_results
from symderiv.export.html import DOLLARS, question_html, solution_html, symbol_math
from symderiv.export.source import (
    Source,
    answer_form,
    as_float,
    entries,
    key_text,
    load_source,
    questions,
    tolerance_of,
)
from symderiv.model import Answer, Problem, Question, Sheet
from symderiv.variants import VariantKey
from symderiv.variants.batch import MAX_VARIANTS

#: The namespace of the questions' UUIDs (UUID 5 of this name): fixed, so uuids are stable.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/symderiv/export/prairielearn")


def export_files(source: Source, seed: int, count: int | None) -> dict[str, str]:
    """Every file of the export (path -> text), for the sheet (or variant 1, as the example
    the question files are laid out from)."""
    sheet = source.sheet(seed, VariantKey(index=1) if source.drawn else None)
    files: dict[str, str] = {}
    for problem, q in questions(sheet):
        folder = f"questions/{source.name}/{q.id.replace('.', '_')}"
        names = answer_names(q)
        files[f"{folder}/info.json"] = info_json(source, problem, q)
        files[f"{folder}/question.html"] = question_page(source, sheet, problem, q, names)
        files[f"{folder}/server.py"] = server_py(source, q, names, seed, count)
        files[f"{folder}/{source.path.name}"] = source.text
    return files


def answer_names(q: Question) -> dict[str, str]:
    """Element name (``answers-name``) -> answer id: ``ans_1_1_a1`` for ``1.1.a1``."""
    names: dict[str, str] = {}
    for a in q.answers:
        name = "ans_" + re.sub(r"[^A-Za-z0-9_]", "_", a.id)
        while name in names:
            name += "_"
        names[name] = a.id
    return names


def info_json(source: Source, problem: Problem, q: Question) -> str:
    ids = ",".join(a.id for a in q.answers)
    info = {"uuid": str(uuid.uuid5(NAMESPACE, f"{source.name}:{ids}")),
            "title": f"{source.title}: Q{q.id}. {q.title}", "topic": problem.title,
            "tags": ["symderiv", source.name, f"problem{problem.number}"], "type": "v3",
            "singleVariant": not source.drawn}
    return json.dumps(info, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------
# question.html
# --------------------------------------------------------------------------


def mustache_safe(text: str) -> str:
    """HTML that PrairieLearn's Mustache templating leaves alone: no ``{{`` or ``}}`` (LaTeX's
    ``}}`` becomes ``} }``, the same in math)."""
    while "{{" in text or "}}" in text:
        text = text.replace("{{", "{ {").replace("}}", "} }")
    return text


def question_page(source: Source, sheet: Sheet, problem: Problem, q: Question, names: dict[str, str]) -> str:
    if source.drawn:
        asked, solution = "{{{params.question_html}}}", "{{{params.solution_html}}}"
    else:
        asked = mustache_safe(question_html(problem, q, sheet.digits, DOLLARS))
        solution = mustache_safe(solution_html(problem, q, sheet.digits, DOLLARS))
    by_id = {a.id: a for a in q.answers}
    inputs = [input_element(name, by_id[i], problem, sheet) for name, i in names.items()]
    return (f"<pl-question-panel>\n{asked}\n</pl-question-panel>\n\n" + "\n".join(inputs)
            + f"\n\n<pl-answer-panel>\n{solution}\n</pl-answer-panel>\n")


def input_element(name: str, answer: Answer, problem: Problem, sheet: Sheet) -> str:
    """The input for one answer; attributes as PrairieLearn's element docs name them."""
    label = mustache_safe(f"${symbol_math(problem, answer, sheet.digits)} =$")
    attrs = {"answers-name": name, "label": label}
    form = answer_form(answer)
    if form in ("number", "matrix"):
        attrs |= comparison(tolerance_of(sheet, answer, problem.number))
        element = "pl-number-input" if form == "number" else "pl-matrix-input"
    else:
        element = "pl-string-input"
        attrs |= {"placeholder": "a formula, e.g. dL_da2 @ z1.T" if form == "text" else "e.g. 20 x 20 x 3",
                  "size": "50"}
    text = " ".join(f'{key}="{html.escape(value, quote=True)}"' for key, value in attrs.items())
    return f"<{element} {text}></{element}>"


def comparison(tolerance: Tolerance) -> dict[str, str]:
    """The element's own comparison for the policy (symderiv's ``grade`` has the last word):
    significant figures for the digits rule, ``rtol``/``atol`` otherwise."""
    if tolerance.mode == "digits":
        return {"comparison": "sigfig", "digits": str(tolerance.sig_figs)}
    if tolerance.mode == "exact":
        return {"comparison": "relabs", "rtol": "1e-12", "atol": "0"}
    return {"comparison": "relabs", "rtol": repr(tolerance.rtol or 0.0), "atol": repr(tolerance.atol or 0.0)}


# --------------------------------------------------------------------------
# server.py
# --------------------------------------------------------------------------

SERVER = '''"""PrairieLearn server code for Q{question} of {name}, written by `symderiv export`.

This file imports symderiv: the image that runs the course's question code must have it
installed (`pip install symderiv`, or PrairieLearn's custom image / workspace setup for
the course). generate() draws the variant and fills params and correct_answers;
grade() grades with symderiv's checker (diagnoses and partial credit per answer).
Regenerate it with `symderiv export` rather than editing it.
"""
from pathlib import Path

from symderiv.export.prairielearn import generate_question, grade_question

SPEC = Path(__file__).with_name({spec!r})
QUESTION = {question!r}
SEED = {seed!r}
COUNT = {count!r}  # variants 1 .. COUNT are drawn (None: any variant, from the variant seed)
ANSWERS = {answers}


def generate(data):
    generate_question(data, SPEC, QUESTION, ANSWERS, seed=SEED, count=COUNT)


def grade(data):
    grade_question(data, SPEC, QUESTION, ANSWERS, seed=SEED, count=COUNT)
'''


def server_py(source: Source, q: Question, names: dict[str, str], seed: int, count: int | None) -> str:
    answers = "{\n" + "".join(f"    {name!r}: {i!r},\n" for name, i in names.items()) + "}"
    return SERVER.format(question=q.id, name=source.name, spec=source.path.name, seed=seed, count=count,
                         answers=answers)


# --------------------------------------------------------------------------
# What server.py calls
# --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _source(spec: Path) -> Source:
    return load_source(spec)


def variant_of(data: Mapping[str, Any], count: int | None) -> VariantKey:
    """The variant of a PrairieLearn variant seed: one of 1 .. count (any, without count)."""
    return VariantKey(index=int(data.get("variant_seed", 0)) % (count or MAX_VARIANTS) + 1)


def _question(spec: Path, question: str, data: Mapping[str, Any], seed: int,
              count: int | None) -> tuple[Source, Sheet, Problem, Question, VariantKey | None]:
    source = _source(Path(spec))
    key = variant_of(data, count) if source.drawn else None
    number = int(question.split(".")[0])
    sheet = source.problem(number, seed, key)
    q = next(q for p in sheet.problems for q in p.questions if q.id == question)
    return source, sheet, sheet.problems[0], q, key


def generate_question(data: dict[str, Any], spec: Path, question: str, names: Mapping[str, str], *,
                      seed: int = 0, count: int | None = None) -> None:
    """Fill ``data["params"]`` (the variant, and with draws its prose and solution) and
    ``data["correct_answers"]`` (numbers, matrices as PrairieLearn's ndarray JSON, text)."""
    source, sheet, problem, q, key = _question(spec, question, data, seed, count)
    params = data.setdefault("params", {})
    if key is not None:
        params["variant"] = key.index
        params["question_html"] = question_html(problem, q, sheet.digits, DOLLARS)
        params["solution_html"] = solution_html(problem, q, sheet.digits, DOLLARS)
    by_id = {a.id: a for a in q.answers}
    answers = data.setdefault("correct_answers", {})
    for name, answer_id in names.items():
        answers[name] = correct_answer(by_id[answer_id])


def correct_answer(answer: Answer) -> Any:
    """The key's value as PrairieLearn stores correct answers."""
    form = answer_form(answer)
    if form == "number":
        value = entries(answer)[0][0]
        return int(value) if value.is_Integer else as_float(value)
    if form == "matrix":
        return {"_type": "ndarray", "_value": [[as_float(x) for x in row] for row in entries(answer)],
                "_dtype": "float64"}
    return key_text(answer)


def grade_question(data: dict[str, Any], spec: Path, question: str, names: Mapping[str, str], *,
                   seed: int = 0, count: int | None = None) -> None:
    """Grade ``data["submitted_answers"]`` with symderiv: ``partial_scores[name]`` gets the
    share of the answer's points and the diagnosis as feedback, ``score`` the question's share."""
    _, sheet, _, q, _ = _question(spec, question, data, seed, count)
    submitted = {names[n]: submitted_value(data, n) for n in names}
    submission = parse_submission({"answers": {i: v for i, v in submitted.items() if v is not None}},
                                  "PrairieLearn submission")
    results = answer_results(Grader(sheet).grade(submission))
    scores = data.setdefault("partial_scores", {})
    earned, most = Fraction(0), Fraction(0)
    for name, answer_id in names.items():
        result = results[answer_id]
        share = result.points / result.max_points if result.max_points else Fraction(0)
        scores[name] = {"score": float(share), "weight": 1, "feedback": result.output}
        earned, most = earned + result.points, most + result.max_points
    data["score"] = float(earned / most) if most else 0.0


def submitted_value(data: Mapping[str, Any], name: str) -> Any:
    """A submitted answer as symderiv reads it: a matrix element's ndarray JSON as its rows,
    a symbolic element's parsed form as the text the student typed."""
    value = data.get("submitted_answers", {}).get(name)
    if isinstance(value, dict):
        if value.get("_type") == "ndarray":
            return value.get("_value")
        raw = data.get("raw_submitted_answers", {}).get(name)
        return raw if isinstance(raw, str) else None
    if isinstance(value, (int, float, str, list)) and not isinstance(value, bool):
        return value
    return None
