"""symderiv.check.gradebook: statistics, CSV and Gradescope results of graded rows."""
from __future__ import annotations

import csv
import io
import tomllib
from fractions import Fraction

import pytest

import symderiv
from symderiv.check.batch import Row
from symderiv.check.grade import Grader, parse_submission
from symderiv.check.gradebook import gradescope_results, render_class, statistics, to_csv

SPEC = {"problem": [{"kind": "search", "random": {"success_rate": 0.05, "confidence": [0.95, 0.995]}}]}


@pytest.fixture(scope="module")
def rows():
    sheet = symderiv.derive_table(SPEC, name="s")
    grader = Grader(sheet)
    texts = ['[student]\nid = "=1+1"\nname = "A\\u001b[2J"\n[answers]\n"1.1.trials_95" = 59\n"1.1.trials_995" = 103\n',
             '[answers]\n"1.1.trials_95" = 58\n"1.1.trials_995" = 104\n',
             '[answers]\n"1.1.trials_95" = 58\n']
    graded = [Row(f"s{i}.toml", grader.grade(parse_submission(tomllib.loads(t), f"s{i}.toml")))
              for i, t in enumerate(texts)]
    return sheet, graded + [Row("bad.toml", error="bad.toml: (syntax): invalid TOML")]


def test_statistics_count_each_outcome_once(rows) -> None:
    sheet, graded = rows
    stats = {s.id: s for s in statistics(graded, sheet)}
    trials = stats["1.1.trials_95"]
    assert trials.graded == 3 and dict(trials.counts) == {"off_by_one": 2, "correct": 1}
    assert trials.share("off_by_one") == pytest.approx(2 / 3)
    assert trials.summary().startswith("67% off by one, 33% correct")
    assert dict(stats["1.1.trials_995"].counts) == {"off_by_one": 1, "correct": 1, "missing": 1}


def test_csv_is_one_row_per_submission_and_safe_in_a_spreadsheet(rows) -> None:
    sheet, graded = rows
    table = list(csv.reader(io.StringIO(to_csv(graded, sheet))))
    assert table[0][:6] == ["submission", "id", "name", "score", "max", "error"]
    assert table[1][1] == "'=1+1" and table[1][2] == "A\\x1b[2J"
    assert table[1][3:5] == ["1", "3"] and table[4][5].startswith("bad.toml")


def test_gradescope_results_follow_the_specification(rows) -> None:
    _, graded = rows
    data = gradescope_results(graded[1])
    assert set(data) == {"score", "output", "tests"}
    assert data["score"] == sum(t["score"] for t in data["tests"]) == 1.0
    for test in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output"} <= set(test)
        assert test["status"] in ("passed", "failed")
    assert gradescope_results(graded[3]) == {"score": 0.0, "tests": [],
                                             "output": "The submission could not be read: bad.toml: (syntax): "
                                                       "invalid TOML"}


@pytest.mark.parametrize("form", ["text", "md", "json"])
def test_class_reports(rows, form: str) -> None:
    sheet, graded = rows
    out = render_class(graded, sheet, "s.toml", form)
    assert "\x1b" not in out and "trials" in out
    assert Fraction(1) and ("could not be read" in out or '"error"' in out)
