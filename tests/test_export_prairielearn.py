"""PrairieLearn export, run as PrairieLearn runs it: server.py imported from its file,
generate(data) and grade(data) called with PrairieLearn's data dict."""
from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path

import export_cases as cases
import pytest

from symderiv.export import export


def server(folder: Path):
    spec = importlib.util.spec_from_file_location(f"server_{abs(hash(folder))}", folder / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data(seed: int = 7) -> dict:
    """The data dict PrairieLearn passes (the keys server.py reads and writes)."""
    return {"params": {}, "correct_answers": {}, "submitted_answers": {}, "raw_submitted_answers": {},
            "format_errors": {}, "partial_scores": {}, "score": 0.0, "feedback": {}, "variant_seed": seed,
            "options": {}}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pl")
    export(cases.write(folder, cases.SMALL, "small.toml"), "prairielearn", folder / "course")
    return folder / "course" / "questions" / "small"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pl_drawn")
    export(cases.write(folder, cases.DRAWN, "drawn.toml"), "prairielearn", folder / "course", seed=3)
    return folder / "course" / "questions" / "drawn"


def test_one_folder_per_question_with_stable_uuids(small):
    assert sorted(p.name for p in small.iterdir()) == ["1_1", "1_2", "1_3"]
    for folder in small.iterdir():
        info = json.loads((folder / "info.json").read_text())
        assert info["type"] == "v3" and info["singleVariant"] is True and info["topic"] == "Backpropagation"
        assert uuid.UUID(info["uuid"]).version == 5
        assert {"server.py", "question.html", "small.toml"} <= {p.name for p in folder.iterdir()}
    uuids = {json.loads((f / "info.json").read_text())["uuid"] for f in small.iterdir()}
    assert len(uuids) == 3


def test_question_html_has_prose_inputs_and_solution(small):
    page = (small / "1_3" / "question.html").read_text()
    assert page.startswith("<pl-question-panel>") and "<pl-answer-panel>" in page
    assert "{{" not in page.replace("{{{params", "") and "}}" not in page.replace("}}}", "")
    assert re.search(r'<pl-matrix-input answers-name="ans_1_3_dL_dW1" label="\$[^"]+ =\$" comparison="sigfig" '
                     r'digits="3"></pl-matrix-input>', page)
    assert '<pl-number-input answers-name="ans_1_3_dL_db3"' in page
    assert "\\begin{pmatrix}1 &amp; 0\\\\3 &amp; 4\\\\1 &amp; 2\\end{pmatrix}" in page   # W1, given
    formulas = (small / "1_2" / "question.html").read_text()
    assert formulas.count("<pl-string-input") == 15 and "<pl-number-input" not in formulas


def test_generate_gives_the_independently_computed_answers(small):
    expected = cases.network_answers(cases.homework1_network())
    for question in ("1_1", "1_3"):
        module, d = server(small / question), data()
        module.generate(d)
        for name, answer_id in module.ANSWERS.items():
            value = d["correct_answers"][name]
            value = value["_value"] if isinstance(value, dict) else value
            assert cases.same(value, expected[answer_id]), answer_id
    formulas, d = server(small / "1_2"), data()
    formulas.generate(d)
    assert d["correct_answers"]["ans_1_2_dL_dW2"] == "dL_da2 @ z1.T"


def test_grade_full_credit_for_the_key_and_diagnoses_for_slips(small):
    module, d = server(small / "1_3"), data()
    module.generate(d)
    d["submitted_answers"] = dict(d["correct_answers"])
    module.grade(d)
    assert d["score"] == 1.0 and all(s["score"] == 1.0 for s in d["partial_scores"].values())
    d = data()
    module.generate(d)
    key = cases.network_answers(cases.homework1_network())
    d["submitted_answers"] = dict(d["correct_answers"])
    d["submitted_answers"]["ans_1_3_dL_dW1"] = {"_type": "ndarray", "_value": key["1.3.dL_dW1"].T.tolist(),
                                                "_dtype": "float64"}
    d["submitted_answers"]["ans_1_3_dL_db3"] = -float(key["1.3.dL_db3"].item())
    module.grade(d)
    transposed, sign = d["partial_scores"]["ans_1_3_dL_dW1"], d["partial_scores"]["ans_1_3_dL_db3"]
    assert transposed["score"] == 0.0 and "transpose" in transposed["feedback"]
    assert sign["score"] == 0.0 and "sign" in sign["feedback"]
    assert d["score"] == pytest.approx(5 / 7)


def test_grade_reads_formulas_typed_into_string_inputs(small):
    module, d = server(small / "1_2"), data()
    module.generate(d)
    d["submitted_answers"] = dict(d["correct_answers"])
    d["submitted_answers"]["ans_1_2_dL_dW2"] = "z1 @ dL_da2.T"
    module.grade(d)
    assert d["partial_scores"]["ans_1_2_dL_dW2"]["score"] == 0.0
    assert d["score"] == pytest.approx(14 / 15)


def test_draws_give_each_variant_seed_its_variant(drawn):
    info = json.loads((drawn / "1_1" / "info.json").read_text())
    assert info["singleVariant"] is False
    assert "{{{params.question_html}}}" in (drawn / "1_1" / "question.html").read_text()
    module = server(drawn / "1_1")
    first, second = data(seed=11), data(seed=12)
    module.generate(first)
    module.generate(second)
    assert first["params"] != second["params"] and first["correct_answers"] != second["correct_answers"]
    again = data(seed=11)
    module.generate(again)
    assert again == first


def test_drawn_answers_match_the_variant_recomputed_independently(drawn):
    import tomllib

    from symderiv.variants import VariantKey, draw_variant, load_template

    module, d = server(drawn / "1_3"), data(seed=5)
    module.generate(d)
    variant = draw_variant(load_template(drawn / "1_3" / "drawn.toml"), 3, VariantKey(index=d["params"]["variant"]))
    expected = cases.network_answers(tomllib.loads(variant.spec_text)["problem"][0])
    for name, answer_id in module.ANSWERS.items():
        value = d["correct_answers"][name]
        assert cases.same(value["_value"] if isinstance(value, dict) else value, expected[answer_id]), answer_id
    d["submitted_answers"] = dict(d["correct_answers"])
    module.grade(d)
    assert d["score"] == 1.0
