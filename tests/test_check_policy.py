"""symderiv.check.policy: weights, partial credit and tolerances from a spec's [grading] table."""
from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path

import pytest

import symderiv
from symderiv.check.grade import Grader, parse_submission
from symderiv.check.numbers import Tolerance
from symderiv.check.policy import Policy, load_policy, parse_grading
from symderiv.cli import main
from symderiv.errors import SpecError
from symderiv.spec import Fields

SEARCH = {"kind": "search", "grid": {"epochs_per_combination": 10, "minutes_per_epoch": 2,
                                     "hyperparameter": [{"name": "rho", "values": 5}]},
          "random": {"success_rate": 0.05, "confidence": 0.95}}
OPTIMIZERS = {"kind": "optimizers"}


def policy_of(text: str) -> Policy:
    return parse_grading(Fields(tomllib.loads(text)["grading"], "hw.toml", "grading"))


def test_the_defaults_are_todays() -> None:
    policy = Policy().for_answer("1.1.a1", 1)
    assert policy.points == 1 and policy.tolerance == Tolerance()
    assert policy.credit == {"carried_forward": 1}


def test_sheet_problem_and_answer_settings_layer() -> None:
    policy = policy_of("""
        [grading]
        points = 2
        tolerance = "exact"
        credit = {transposed = 0.5, rounded = "1/4"}
        [grading.problem.2]
        tolerance = {rtol = 1e-3}
        credit = {rounded = 0.5}
        [grading.answer."2.1.minutes"]
        points = 3
        tolerance = {sig_figs = 4}
        unit = "hours"
        credit = {carried_forward = 0}
    """)
    sheet_wide = policy.for_answer("1.1.a1", 1)
    assert (sheet_wide.points, sheet_wide.tolerance.mode) == (2, "exact")
    assert sheet_wide.credit == {"carried_forward": 1, "transposed": Fraction(1, 2), "rounded": Fraction(1, 4)}
    problem = policy.for_answer("2.2.trials_95", 2)
    assert problem.tolerance == Tolerance.of(rtol=1e-3) and problem.credit["rounded"] == Fraction(1, 2)
    answer = policy.for_answer("2.1.minutes", 2)
    assert (answer.points, answer.tolerance.sig_figs, answer.unit) == (3, 4, "hours")
    assert answer.credit["carried_forward"] == 0 and answer.credit["rounded"] == Fraction(1, 2)


@pytest.mark.parametrize("text, field", [
    ("[grading]\nbonus = 1\n", "grading.bonus"),
    ("[grading]\npoints = -1\n", "grading.points"),
    ("[grading]\ncredit = {transpose = 1}\n", "grading.credit.transpose"),
    ("[grading]\ncredit = {transposed = 2}\n", "grading.credit.transposed"),
    ("[grading]\ntolerance = \"loose\"\n", "grading.tolerance"),
    ("[grading]\ntolerance = {sig_figs = 0}\n", "grading.tolerance.sig_figs"),
    ("[grading]\ntolerance = {sig_figs = 3, rtol = 0.1}\n", "grading.tolerance.sig_figs"),
    ("[grading]\ntolerance = {rtol = -1}\n", "grading.tolerance.rtol"),
    ("[grading.problem.two]\npoints = 1\n", "grading.problem.two"),
    ("[grading.answer.\"1.1.a1\"]\nunit = \"parsecs\"\n", "grading.answer.1.1.a1.unit"),
])
def test_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        policy_of(text)
    assert f": {field}:" in str(caught.value)


def test_a_spec_carries_its_grading_and_scores_follow_it() -> None:
    table = {"grading": {"points": 2, "credit": {"off_by_one": 0.5},
                         "answer": {"1.1.minutes": {"points": 4}}},
             "problem": [SEARCH]}
    sheet = symderiv.derive_table(table, name="hw")
    text = '[answers]\n"1.1.minutes" = "1.6667 h"\n"1.2.trials_95" = 58\n"1.1.epochs" = 7\n'
    report = Grader(sheet).grade(parse_submission(tomllib.loads(text)))
    graded = {g.id: g for g in report.answers}
    assert graded["1.1.minutes"].verdict == "correct" and graded["1.1.minutes"].points == 4
    assert graded["1.2.trials_95"].points == 1            # off by one: half of 2
    assert graded["1.1.epochs"].points == 0
    assert report.max_points == 2 * len(sheet.answers()) + 2


def test_a_policy_naming_what_the_sheet_lacks_is_an_error() -> None:
    sheet = symderiv.derive_table({"problem": [OPTIMIZERS]}, name="hw")
    with pytest.raises(SpecError, match='grading.answer."9.9.x"'):
        Grader(sheet, policy_of('[grading.answer."9.9.x"]\npoints = 1\n'))
    with pytest.raises(SpecError, match="grading.problem.7"):
        Grader(sheet, policy_of("[grading.problem.7]\npoints = 1\n"))


def test_a_policy_file_and_the_cli(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "hw.toml"
    spec.write_text('[[problem]]\nkind = "search"\n[problem.random]\nsuccess_rate = 0.05\nconfidence = 0.95\n')
    policy = tmp_path / "policy.toml"
    policy.write_text('[grading]\npoints = 5\ncredit = {off_by_one = 0.2}\n')
    assert load_policy(policy).points == 5
    submission = tmp_path / "s.toml"
    submission.write_text('[answers]\n"1.1.trials_95" = "58 trials"\n')
    assert main(["grade", str(submission), "--spec", str(spec), "--policy", str(policy), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"points": 1' in out and '"max_points": 10' in out
    policy.write_text('[grading]\nbonus = 1\n')
    assert main(["grade", str(submission), "--spec", str(spec), "--policy", str(policy)]) == 2
    assert "grading.bonus" in capsys.readouterr().err
