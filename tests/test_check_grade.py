"""symderiv grade: the submission format, verdicts, diagnoses, scores, reports, the CLI.

The example submission's slips are rebuilt here from the derived key and from the
naive network of test_check_diagnose (Fractions and loops), by applying each slip's
transformation; the test then checks the file holds exactly those values and that the
grader names each slip.
"""
from __future__ import annotations

import json
import re
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp
from reference_network import naive_network
from test_check_carry import as_sympy

from symderiv.check.equivalence import canonical, equivalent
from symderiv.check.grade import (
    Policy,
    Submission,
    SubmissionError,
    answer_input,
    grade_submission,
    load_submission,
    parse_submission,
)
from symderiv.check.report import detail_rows, details, render, to_dict
from symderiv.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "homework1_slips.toml"


@pytest.fixture(scope="module")
def network_spec(tmp_path_factory) -> Path:
    """Homework 1 cut down to its first problem (the network): fast to derive."""
    text = (ROOT / "derivations" / "homework1.toml").read_text()
    parts = text.split("[[problem]]")
    path = tmp_path_factory.mktemp("spec") / "network.toml"
    path.write_text(parts[0] + "[[problem]]" + parts[1])
    return path


@pytest.fixture(scope="module")
def network_sheet(network_spec: Path):
    import symderiv

    return symderiv.derive_file(network_spec)


def grade_text(sheet, text: str, **kwargs):
    return grade_submission(sheet, parse_submission(tomllib.loads(text), "sub.toml"), **kwargs)


def by_id(report) -> dict:
    return {g.id: g for g in report.answers + report.unknown}


# ---- the example submission: every slip named, every correct answer credited -----------


def spec_table() -> dict:
    return tomllib.loads((ROOT / "derivations" / "homework1.toml").read_text())


def example_slips(sheet) -> dict[str, tuple[sp.Basic, str, str]]:
    """id -> (the slipped value, the verdict, the diagnosis kind), built from the key."""
    key = {a.id: canonical(a.value) for a in sheet.answers()}
    correct = naive_network()
    a2 = [correct["a2"][0], correct["a2"][1] + 4]            # the forward slip
    own = {name: as_sympy(v) for name, v in naive_network({"a2": a2}).items()}   # carried through
    conv = next(p for p in spec_table()["problem"] if p["kind"] == "conv")
    channels = conv["size"][1]["input"][2]                    # the input's channels, not the filters
    shape = key["4.2.output_shape"]
    flipped = sp.Matrix(own["dL_db2"])
    flipped[0] = -flipped[0]
    return {
        "1.1.a2": (as_sympy(a2), "incorrect", None),
        **{f"1.1.{n}": (own[n], "carried_forward", "carried_forward") for n in ("z2", "a3", "y_hat", "loss")},
        "1.2.dL_dy_hat": (2 * key["1.2.dL_dy_hat"], "incorrect", "factor"),
        "1.2.dL_dW1": (sp.Transpose(key["1.2.dL_dW1"]), "wrong_shape", "transposed"),
        "1.3.dL_dW3": (own["dL_dW3"].T, "wrong_shape", "transposed"),
        "1.3.dL_db3": (2 * own["dL_db3"], "incorrect", "factor"),
        "1.3.dL_dW2": (10 * own["dL_dW2"], "incorrect", "power_of_ten"),
        "1.3.dL_db2": (sp.ImmutableMatrix(flipped), "incorrect", "sign"),
        "1.3.dL_dW1": (own["dL_dW1"], "carried_forward", "carried_forward"),
        "1.3.dL_db1": (own["dL_db1"], "carried_forward", "carried_forward"),
        "1.3.dL_dx": (own["dL_dx"] + sp.ImmutableMatrix([0, 1]), "incorrect", "off_by_one"),
        "2.1.minutes": (key["2.1.minutes"] / 10, "incorrect", "power_of_ten"),
        "2.2.trials_95": (key["2.2.trials_95"] - 1, "incorrect", "off_by_one"),
        "4.2.output_shape": (sp.ImmutableMatrix([[shape[0], shape[1], channels]]), "incorrect", "wrong_quantity"),
    }


@pytest.fixture(scope="module")
def example_report(homework1):
    return grade_submission(homework1, load_submission(EXAMPLE), spec="derivations/homework1.toml")


def test_example_file_holds_exactly_the_constructed_slips(homework1) -> None:
    submission = load_submission(EXAMPLE)
    for answer_id, (value, _, _) in example_slips(homework1).items():
        raw = submission.answer(answer_id)
        assert raw is not None, answer_id
        assert equivalent(answer_input(raw), value, orientation="any").equivalent, answer_id


def test_example_slips_are_diagnosed(example_report, homework1) -> None:
    graded = by_id(example_report)
    for answer_id, (_, verdict, kind) in example_slips(homework1).items():
        g = graded[answer_id]
        assert g.verdict == verdict, answer_id
        assert [d.kind for d in g.diagnoses][:1] == ([kind] if kind else []), (answer_id, g.diagnoses)
    assert "c" in graded["4.2.output_shape"].diagnoses[0].message.split("=")[0]
    for answer_id in ("1.1.z2", "1.1.loss", "1.3.dL_dW1"):
        assert "1.1.a2" in graded[answer_id].diagnoses[0].message
    for answer_id in ("1.3.dL_db3", "1.3.dL_dW2", "1.3.dL_dx"):
        assert "relative to what your 1.1.a2 gives" in graded[answer_id].diagnoses[0].message


def test_example_credits_correct_and_carried_answers(example_report, homework1) -> None:
    slips = example_slips(homework1)
    submission = load_submission(EXAMPLE)
    key = {a.id: canonical(a.value) for a in homework1.answers()}
    for g in example_report.answers:
        if g.id in slips:
            carried = slips[g.id][2] == "carried_forward"
            assert g.points == (1 if carried else 0), g.id
        elif submission.answer(g.id) is None:
            assert (g.verdict, g.points) == ("missing", 0), g.id
        else:
            assert (g.verdict, g.points) == ("correct", 1), g.id
            if not key[g.id].free_symbols:  # a number: check it without the grader too
                parsed = g.parsed
                assert parsed == key[g.id] or parsed.T == key[g.id], g.id
    expected = sum(1 for g in example_report.answers if g.verdict == "correct") + sum(
        1 for s in slips.values() if s[2] == "carried_forward")
    assert example_report.points == expected
    assert example_report.max_points == len(homework1.answers())
    assert example_report.unknown == ()


def test_example_reports_in_every_format(example_report) -> None:
    for form in ("text", "md", "tex", "json"):
        out = render(example_report, form)
        for needle in ("1.3.dL", "2.2.trials", "carried forward", "transposed", "misplaced decimal point"):
            assert needle.replace("_", "\\_") in out or needle in out, (form, needle)
    data = json.loads(render(example_report, "json"))
    assert data["score"]["max_points"] == example_report.max_points
    assert render(example_report, "json") == render(example_report, "json")


def test_every_format_prints_the_same_detail_rows(example_report) -> None:
    """The rows under a wrong answer are built once (detail_rows) and printed by each format."""
    rows = [[row.label for row in detail_rows(g)] for g in example_report.answers if details(g)]
    assert {"expected", "given", "read as", "why", "diagnosis"} <= {label for labels in rows for label in labels}
    text = render(example_report, "text").split("\n\nscore")[0]
    blocks = [b.splitlines() for b in re.split(r"\n(?=\S)", text) if "\n    " in b]  # an answer and its rows
    assert [[line[4:14].strip() for line in block[1:]] for block in blocks] == rows
    md = [re.findall(r"^- ([A-Z][a-z ]+): ", s, re.MULTILINE) for s in render(example_report, "md").split("\n### ")[1:]]
    items = render(example_report, "tex").split(r"\item[")[1:]
    tex = [re.findall(r"^([A-Z][a-z ]+): ", s, re.MULTILINE) for s in items]
    assert md == tex == [[label.capitalize() for label in labels] for labels in rows]


def test_cli_grades_the_example(capsys) -> None:
    assert main(["grade", str(EXAMPLE), "--spec", "derivations/homework1.toml", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    kinds = {a["id"]: [d["kind"] for d in a["diagnoses"]] for a in data["answers"]}
    assert kinds["2.1.minutes"] == ["power_of_ten"] and kinds["1.1.loss"] == ["carried_forward"]


# ---- the submission format ---------------------------------------------------------------


def test_quoted_dotted_and_nested_ids_are_the_same() -> None:
    text = '[answers]\n"1.1.a1" = "[2, 8, 9]"\n1.1.z1 = [2, 8, 9]\n[answers.1.3]\ndL_dx = "1"\n'
    sub = parse_submission(tomllib.loads(text), "s.toml")
    assert dict(sub.answers) == {"1.1.a1": "[2, 8, 9]", "1.1.z1": [2, 8, 9], "1.3.dL_dx": "1"}


def test_toml_numbers_are_exact(network_sheet) -> None:
    key = canonical(network_sheet.answer("1.1.loss").value)
    report = grade_text(network_sheet, f'[answers]\n"1.1.loss" = {float(key)!r}\n"1.1.a3" = 8.0000000001\n')
    graded = by_id(report)
    assert graded["1.1.loss"].verdict == "correct"
    assert graded["1.1.a3"].verdict == "incorrect"    # a decimal is exact: 8.0000000001 is not 8
    assert answer_input(0.05) == 0.05 and equivalent(0.05, sp.Rational(1, 20)).verdict == "correct"


def test_student_table_is_kept(network_sheet) -> None:
    report = grade_text(network_sheet, '[student]\nname = "Ada"\nid = "7"\n[answers]\n')
    assert report.student == (("name", "Ada"), ("id", "7"))
    assert "Ada" in render(report, "text")


def test_missing_and_unknown_ids(network_sheet) -> None:
    report = grade_text(network_sheet, '[answers]\n"1.1.a1" = "[2, 8, 9]"\n"7.7.nothing" = 3\n')
    graded = by_id(report)
    assert graded["7.7.nothing"].verdict == "unknown_id"
    assert all(g.verdict == "missing" for g in report.answers if g.id != "1.1.a1")
    assert report.points == 1 and report.max_points == len(network_sheet.answers())


def test_carried_forward_credit_policy(network_sheet) -> None:
    own = naive_network({"a3": [Fraction(20)]})
    text = f'[answers]\n"1.1.a3" = 20\n"1.1.y_hat" = {own["y_hat"][0]}\n"1.1.loss" = {own["loss"]}\n'
    full = by_id(grade_text(network_sheet, text))
    half = by_id(grade_text(network_sheet, text, policy=Policy(points=2, carried_forward=Fraction(1, 2))))
    assert (full["1.1.a3"].points, full["1.1.y_hat"].points, full["1.1.loss"].points) == (0, 1, 1)
    assert (half["1.1.y_hat"].points, half["1.1.y_hat"].max_points) == (1, 2)


# ---- hostile answers in a submission: a verdict each, grading goes on ------------------


HOSTILE = {
    "1.1.a1": ("__import__('os').system('true')", "unparseable"),
    "1.1.z1": ("z1.__class__.__bases__", "unparseable"),
    "1.1.a2": ("lambda: 0", "unparseable"),
    "1.1.z2": (r"\input{/etc/passwd}", "unparseable"),
    "1.1.a3": ("9^9^9^9", "too_large"),
    "1.1.y_hat": ("10**10**10", "too_large"),
    "1.1.loss": ("7" * 10**6, "too_large"),
    "1.3.dL_dW3": ("[" * 200 + "1" + "]" * 200, "too_large"),
    "1.3.dL_db3": (r"\frac{1}{2", "unparseable"),
    "1.3.dL_dW2": ("nan", "not_finite"),
    "1.3.dL_db2": ("[inf, 1]", "not_finite"),
    "1.3.dL_dW1": ("[[1, 2, 3], [4, 5, 6]]", "wrong_shape"),
    "1.2.dL_dW2": ("dL_da2 @ z1.T.__class__", "unparseable"),
}


def hostile_toml(tmp_path: Path, correct_id: str, correct: str) -> Path:
    lines = ["[answers]", f'"{correct_id}" = {json.dumps(correct)}', '"8.8.unknown" = "1"',
             '"1.3.dL_dx" = nan', '"1.3.dL_db1" = [[[[1]]]]']
    lines += [f'"{i}" = {json.dumps(text)}' for i, (text, _) in HOSTILE.items()]
    path = tmp_path / "hostile.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_hostile_answers_each_get_a_verdict(tmp_path: Path, network_sheet, monkeypatch) -> None:
    import os

    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("os.system was called"))
    path = hostile_toml(tmp_path, "1.2.dL_db2", "dL_da2")
    graded = by_id(grade_submission(network_sheet, load_submission(path)))
    for answer_id, (_, verdict) in HOSTILE.items():
        assert graded[answer_id].verdict == verdict, answer_id
    assert graded["1.3.dL_dx"].verdict == "not_finite"
    assert graded["1.3.dL_db1"].verdict == "unparseable"
    assert graded["8.8.unknown"].verdict == "unknown_id"
    assert graded["1.2.dL_db2"].verdict == "correct"


def test_hostile_text_is_escaped_in_every_report(tmp_path: Path, network_sheet) -> None:
    report = grade_submission(network_sheet, load_submission(hostile_toml(tmp_path, "1.2.dL_db2", "dL_da2")))
    tex = render(report, "tex")
    assert r"\input{" not in tex and r"\textbackslash{}input\{/etc/passwd\}" in tex
    md = render(report, "md")
    assert r"\\input" in md
    assert len(render(report, "text")) < 20_000  # the 10^6-character answer is shown shortened
    json.loads(render(report, "json"))


def test_latex_feedback_compiles(tmp_path: Path, network_sheet) -> None:
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    report = grade_submission(network_sheet, load_submission(hostile_toml(tmp_path, "1.2.dL_db2", "dL_da2")))
    (tmp_path / "feedback.tex").write_text(render(report, "tex"))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                          "feedback.tex"], cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout.decode(errors="replace")[-2000:]


# ---- malformed submission files: one line naming the file and the field, exit 2 ---------


@pytest.mark.parametrize("text, field", [
    ('[answers\n"1.1.a1" = 1\n', "(syntax)"),
    ('answers = 5\n', "answers"),
    ('[student]\nname = "x"\n', "answers"),
    ('[answers]\n"1.1.a1" = true\n', 'answers."1.1.a1"'),
    ('[answers]\n"1.1.a1" = 1979-05-27\n', 'answers."1.1.a1"'),
    ('[answers]\n"1.1.a1" = [1, {x = 2}]\n', 'answers."1.1.a1"'),
    ('[answers]\n"1.1.a1" = [true]\n', 'answers."1.1.a1"'),
    ('[grading]\nbonus = 10\n[answers]\n', "grading"),
    ('student = 3\n[answers]\n', "student"),
    ('[student]\nname = 3\n[answers]\n', "student.name"),
    ('[answers]\n"1.1" = {a1 = 1}\n"1.1.a1" = 2\n', 'answers."1.1.a1"'),
    ("a = " + "[" * 2000 + "]" * 2000 + "\n[answers]\n", "(syntax)"),
])
def test_malformed_files_exit_2_naming_the_field(tmp_path: Path, capsys, text: str, field: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["grade", str(path), "--spec", "derivations/homework1.toml"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err and f": {field}:" in err


def test_a_field_with_control_characters_is_named_escaped_in_the_library_error() -> None:
    with pytest.raises(SubmissionError) as caught:
        parse_submission({"answers": {"1.1.\x1b[2J\x07": True}, "student": {"name\r": 3}})
    message = str(caught.value)
    assert 'answers."1.1.\\u001b[2J\\u0007"' in message
    assert not any(ord(ch) < 32 for ch in message), message


def test_missing_file_and_conflicting_options(tmp_path: Path, capsys) -> None:
    assert main(["grade", str(tmp_path / "none.toml"), "--spec", "derivations/homework1.toml"]) == 2
    assert "none.toml" in capsys.readouterr().err
    assert main(["grade", str(EXAMPLE), "--spec", "derivations/homework1.toml", "--json", "--report", "md"]) == 2
    assert "--json" in capsys.readouterr().err


def test_submission_error_is_an_answer_error() -> None:
    from symderiv.errors import AnswerError

    assert issubclass(SubmissionError, AnswerError)
    assert isinstance(Submission("s", ()), Submission)


def test_markdown_and_latex_reports_for_a_small_submission(network_sheet) -> None:
    report = grade_text(network_sheet, '[answers]\n"1.3.dL_db3" = "4"\n"1.2.dL_dW2" = "z1 @ dL_da2.T"\n')
    md, tex = render(report, "md"), render(report, "tex")
    assert "sign flipped" in md and "transposed" in md
    assert r"\begin{document}" in tex and "sign flipped" in tex
    assert to_dict(report)["score"]["points"] == 0


def test_key_values_the_checker_cannot_read_are_not_counted(network_sheet) -> None:
    import dataclasses

    from symderiv.model import Answer, Question, Sheet

    odd = Question("9.1", "Odd", "", answers=(Answer("9.1.odd", sp.Symbol("o"), object()),))  # type: ignore[arg-type]
    problem = dataclasses.replace(network_sheet.problems[0], number=9, questions=(odd,), data=None)
    sheet = Sheet("s", "S", network_sheet.problems + (problem,))
    report = grade_text(sheet, '[answers]\n"9.1.odd" = 1\n"1.1.loss" = 4\n')
    graded = by_id(report)
    assert (graded["9.1.odd"].verdict, graded["9.1.odd"].max_points) == ("not_gradable", 0)
    assert graded["1.1.loss"].verdict == "correct"
    assert report.max_points == len(network_sheet.answers())


# ---- answers as students write them ------------------------------------------------------


STUDENT_FORMS = {
    "1.1.a1": ["(2, 8, 9)^T", "[2; 8; 9]", r"\begin{bmatrix} 2 \\ 8 \\ 9 \end{bmatrix}", "a1 = [2, 8, 9]"],
    "1.1.loss": ["L = 4", "L = (8 - 10)^2 = 4", r"\mathcal L = 4" if False else "4.0"],
    "1.1.y_hat": [r"\hat{y} = 8", "y_hat = 8"],
    "1.2.dL_dW1": ["dL_da1 x^T", r"\frac{\partial L}{\partial \mathbf{a}^{(1)}} \mathbf{x}^{\top}",
                   "dL_dW1 = dL_da1 @ x.T"],
    "1.2.dL_da2": ["dL_dz2 ⊙ relu'(a2)", r"\frac{\partial L}{\partial z^{(2)}} \odot \operatorname{ReLU}'(a^{(2)})"],
    "1.2.dL_dy_hat": [r"2(\hat{y} - y)", "2*(y_hat - y)"],
    "1.3.dL_dW3": ["[[-152, -88]]", r"\begin{pmatrix} -152 & -88 \end{pmatrix}"],
    "2.1.minutes": ["6000 min", "6,000 minutes", "100 h", r"10 \times 6 \times 5 \times 10 \times 2 = 6000"],
    "2.1.combinations": [r"10 \times 6 \times 5 = 300"],
    "2.2.trials_95": ["N = 59", "59 trials"],
    "3.3.gain": ["3.33", "10/3", "3.333"],
    "4.2.output_shape": [r"20 \times 20 \times 2", "20x20x2", "[20, 20, 2]", "(20, 20, 2)"],
    "4.1.output_shape": [r"34 \times 34 \times 1"],
    "5.6.dL_dx_n6": ["0.977", "0.9766", "125/128"],
    "5.5.formula": [r"\frac{\partial L}{\partial z_n} d^{n}", "g d^n"],
}


@pytest.fixture(scope="module")
def homework_grader(homework1):
    from symderiv.check.grade import Grader

    return Grader(homework1)


@pytest.mark.parametrize("answer_id, written", [(i, w) for i, forms in STUDENT_FORMS.items() for w in forms])
def test_the_forms_students_write_are_credited(homework_grader, answer_id: str, written: str) -> None:
    result = homework_grader.compare(answer_id, written)
    assert result.verdict == "correct", result.reason


@pytest.mark.parametrize("answer_id, written, verdict, kind", [
    ("3.3.gain", "3.3", "incorrect", "rounded"),
    ("2.2.trials_95", "58.4", "incorrect", "not_rounded"),
    ("4.2.output_shape", r"20 \times 20", "wrong_shape", "missing_dimension"),
    ("4.2.output_shape", "20 x 20 x 3", "incorrect", "wrong_quantity"),
    ("1.3.dL_dW3", "[-152, -88]", "wrong_shape", "transposed"),
    ("5.4.ratio", "1/2001", "incorrect", "reciprocal"),
    ("2.1.minutes", "6*10^400", "incorrect", "power_of_ten"),
    ("2.1.minutes", "6*10^-400", "incorrect", "power_of_ten"),
])
def test_slips_in_students_forms_are_named(homework1, answer_id, written, verdict, kind) -> None:
    graded = by_id(grade_text(homework1, f"[answers]\n{json.dumps(answer_id)} = {json.dumps(written)}\n"))
    assert graded[answer_id].verdict == verdict
    assert [d.kind for d in graded[answer_id].diagnoses][:1] == [kind]


def test_api_and_grading_agree_on_shapes(homework1) -> None:
    key = homework1.answer("4.2.output_shape").value
    for written in ("[20, 20, 2]", "[[20, 20, 2]]", r"20 \times 20 \times 2"):
        graded = by_id(grade_text(homework1, f'[answers]\n"4.2.output_shape" = {json.dumps(written)}\n'))
        assert graded["4.2.output_shape"].verdict == equivalent(written, key).verdict == "correct"
    gradient = homework1.answer("1.3.dL_dW3").value
    graded = by_id(grade_text(homework1, '[answers]\n"1.3.dL_dW3" = "[-152, -88]"\n'))
    assert graded["1.3.dL_dW3"].verdict == equivalent("[-152, -88]", gradient).verdict == "wrong_shape"


def test_partial_credit_for_a_diagnosed_slip(network_sheet) -> None:
    policy = Policy(credit=(("transposed", Fraction(1, 2)),))
    rows = naive_network()["dL_dW1"]
    transposed = [[int(v) for v in col] for col in zip(*rows)]
    graded = by_id(grade_text(network_sheet, f'[answers]\n"1.3.dL_dW1" = {transposed}\n', policy=policy))
    assert graded["1.3.dL_dW1"].points == Fraction(1, 2)


def test_a_wrong_side_of_a_chain_is_noted(network_sheet) -> None:
    report = grade_text(network_sheet, '[answers]\n"1.1.loss" = "L = (8 - 9)^2 = 4"\n')
    g = by_id(report)["1.1.loss"]
    assert g.verdict == "correct" and g.notes and "(8 - 9)^2" in g.notes[0]
    assert "note" in render(report, "text") and "(8 - 9)^2" in render(report, "md")


# ---- what must not reach a terminal or crash a report ------------------------------------


def test_control_characters_cannot_forge_a_line_of_the_text_report(network_sheet) -> None:
    text = ('[student]\nname = "Eve\\nscore: 21/21 (100.0%)\\u001b[2J\\u0007"\n'
            '[answers]\n"1.1.loss" = "5\\nscore: 21/21 (100.0%)"\n"9.9.x\\u001b[31m" = 1\n')
    report = grade_text(network_sheet, text)
    out = render(report, "text")
    assert "\x1b" not in out and "\x07" not in out
    assert [line for line in out.splitlines() if line.startswith("score:")] == [out.splitlines()[-1]]
    for form in ("md", "json"):
        rendered = render(report, form)
        assert "\x1b" not in rendered and "\x07" not in rendered


@pytest.mark.parametrize("text, verdict", [
    ('"1.1.loss" = "10^400"', "incorrect"), ('"1.1.loss" = "-10^-400"', "incorrect"),
    ('"1.1.loss" = 1e300', "incorrect"), ('"1.1.loss" = 1e-300', "incorrect"),
    ('"1.1.loss" = "٤"', "unparseable"), ('"1.1.loss" = 1e400', "not_finite"),
    ('"1.3.dL_dW1" = [["10^400", 1], [2, 3], [4, 5]]', "incorrect"),
])
def test_huge_tiny_and_foreign_answers_get_a_verdict(network_sheet, text: str, verdict: str) -> None:
    report = grade_text(network_sheet, "[answers]\n" + text + "\n")
    answer_id = json.loads(text.split(" = ")[0])
    assert by_id(report)[answer_id].verdict == verdict
    for form in ("text", "md", "json", "tex"):
        render(report, form)


def test_a_byte_order_mark_is_allowed_and_a_huge_integer_is_one_line(tmp_path: Path, capsys, network_spec) -> None:
    bom = tmp_path / "bom.toml"
    bom.write_bytes("\ufeff[answers]\n\"1.1.loss\" = 4\n".encode("utf-8"))
    assert by_id(grade_submission(symderiv_sheet(network_spec), load_submission(bom)))["1.1.loss"].verdict == "correct"
    huge = tmp_path / "huge.toml"
    huge.write_text('[answers]\n"1.1.loss" = ' + "9" * 5000 + "\n")
    assert main(["grade", str(huge), "--spec", str(network_spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "huge.toml" in err and "5,000 digits" in err and "answers.1.1.loss" in err


def symderiv_sheet(spec: Path):
    import symderiv

    return symderiv.derive_file(spec)
