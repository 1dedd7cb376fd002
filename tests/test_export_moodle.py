"""Moodle export: the XML parsed as Moodle would (xml.etree), every question's answer checked
against values computed independently, the structure and the cloze syntax checked."""
from __future__ import annotations

import html
import math
import re
import tomllib
import xml.etree.ElementTree as ET

import export_cases as cases
import numpy as np
import pytest
import reference_mathjax
import sympy as sp

from symderiv.check.numbers import Tolerance
from symderiv.export import export
from symderiv.export.source import absolute_tolerance
from symderiv.variants import VariantKey, draw_variant, load_template

BLANK = re.compile(r"\{1:NUMERICAL:=(-?[0-9.eE+-]+):([0-9.eE+-]+)\}")


@pytest.fixture(scope="module")
def homework1(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moodle")
    export(cases.ROOT / "derivations" / "homework1.toml", "moodle", folder)
    return ET.parse(folder / "quiz.xml").getroot()


def text(question, tag: str) -> str:
    found = question.find(f"{tag}/text")
    assert found is not None, (question.get("type"), tag)
    return found.text or ""


def numbers(question) -> list[float]:
    """The values a question accepts: a numerical's answer, or a cloze's blanks in order."""
    if question.get("type") == "numerical":
        return [float(question.find("answer/text").text)]
    return [float(v) for v, _ in BLANK.findall(text(question, "questiontext"))]


def test_every_question_is_well_formed(homework1):
    assert homework1.tag == "quiz"
    questions = [q for q in homework1 if q.get("type") != "category"]
    categories = [text(q, "category") for q in homework1 if q.get("type") == "category"]
    assert categories == [f"$course$/top/Homework 1: backpropagation, search cost, optimizers, convolutions, "
                          f"gradient flow/Problem {n}: {t}" for n, t in enumerate(
                              ["Backpropagation through a small dense ReLU network", "The cost of hyperparameter "
                               "search", "Optimizers: SGD, mini-batch gradient descent, momentum",
                               "Convolution arithmetic", "Vanishing gradients and residual connections"], 1)]
    assert {q.get("type") for q in questions} == {"numerical", "cloze", "essay"}
    for q in questions:
        assert text(q, "name") and text(q, "questiontext") and text(q, "generalfeedback")
        assert q.find("idnumber").text.startswith("homework1-")
        if q.get("type") == "cloze":
            body = text(q, "questiontext")
            assert body.count("{1:NUMERICAL:") == len(BLANK.findall(body)) > 0
        if q.get("type") == "numerical":
            assert float(q.find("answer/tolerance").text) >= 0 and q.find("answer").get("fraction") == "100"
        if q.get("type") == "essay":
            assert "Key:" in text(q, "graderinfo")
    ids = [q.find("idnumber").text for q in questions]
    assert len(ids) == len(set(ids)) == 65


def test_every_answer_matches_the_key_and_an_independent_recomputation(homework1, request):
    sheet = request.getfixturevalue("homework1_sheet")
    network = cases.network_answers(cases.homework1_network())
    for q in (q for q in homework1 if q.get("type") in ("numerical", "cloze")):
        answer_id = q.find("idnumber").text.removeprefix("homework1-")
        value = sheet.answer(answer_id).value
        expected = [float(v) for v in (value if hasattr(value, "shape") else [value])]
        assert np.allclose(numbers(q), expected, rtol=1e-15, atol=0), answer_id
        if answer_id in network:
            assert np.allclose(numbers(q), np.asarray(network[answer_id]).reshape(-1)), answer_id
    shapes = {q.find("idnumber").text: numbers(q) for q in homework1 if q.get("type") == "cloze"}
    assert shapes["homework1-4.1.output_shape"] == [34, 34, 1]   # (32 + 2*2 - 3)/1 + 1 = 34, by hand


@pytest.fixture(scope="module")
def homework1_sheet():
    from symderiv.derive import derive_file

    return derive_file(cases.ROOT / "derivations" / "homework1.toml")


def test_tolerance_stands_for_the_digits_rule():
    digits = Tolerance()
    value = sp.Rational(10, 3)
    tolerance = absolute_tolerance(digits, value)
    assert abs(float(f"{10 / 3:.3g}") - 10 / 3) <= tolerance < abs(3.32 - 10 / 3)
    assert absolute_tolerance(digits, sp.Integer(300)) == 0.0
    assert absolute_tolerance(Tolerance.of(rtol=1e-3), sp.Integer(-2000)) == pytest.approx(2.0)
    assert absolute_tolerance(Tolerance("exact"), sp.Rational(1, 8)) == 0.0
    assert math.isclose(absolute_tolerance(Tolerance("exact"), value), 1e-12 * 10 / 3)


def test_variants_are_one_question_each_in_a_category_per_answer(tmp_path):
    spec = cases.write(tmp_path, cases.DRAWN, "drawn.toml")
    export(spec, "moodle", tmp_path / "out", count=3, seed=2)
    root = ET.parse(tmp_path / "out" / "quiz.xml").getroot()
    template = load_template(spec)
    by_id: dict[str, list] = {}
    for q in (q for q in root if q.get("type") in ("numerical", "cloze")):
        answer_id, variant = q.find("idnumber").text.removeprefix("drawn-").rsplit("-v", 1)
        by_id.setdefault(answer_id, []).append((int(variant), numbers(q)))
    categories = [text(q, "category") for q in root if q.get("type") == "category"]
    answers = draw_variant(template, 2, VariantKey(index=1)).sheet.answers()
    assert len(categories) == len(answers) and categories[0].endswith("/Problem 1: Backpropagation/1.1.a1")
    for variant in (1, 2, 3):
        table = tomllib.loads(draw_variant(template, 2, VariantKey(index=variant)).spec_text)["problem"][0]
        expected = cases.network_answers(table)
        for answer_id, values in expected.items():
            assert np.allclose(dict(by_id[answer_id])[variant], np.asarray(values).reshape(-1)), (answer_id, variant)
    assert len({tuple(v) for _, v in by_id["1.1.a1"]}) > 1


@pytest.mark.skipif(reference_mathjax.missing() is not None, reason=f"MathJax: {reference_mathjax.missing()}")
def test_every_formula_typesets_in_mathjax(homework1):
    """Question texts, solutions and grader information, math as the browser hands it to MathJax."""
    pages = [html.unescape(t.text or "") for t in homework1.iter("text")]
    items = [(m.group(1), True) for page in pages for m in re.finditer(r"\\\[\n(.*?)\n\\\]", page, re.S)]
    items += [(m.group(1), False) for page in pages for m in re.finditer(r"\\\((.*?)\\\)", page, re.S)]
    assert len(items) > 300
    assert reference_mathjax.typeset_errors(items) == []
