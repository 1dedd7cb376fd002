"""Gradescope export, run as Gradescope runs it: the zip unpacked into a temporary
/autograder-shaped directory, a submission in submission/, run_autograder as a process
(symderiv on PYTHONPATH instead of setup.sh), results.json checked against the spec."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import export_cases as cases
import numpy as np
import pytest

from symderiv.export import export
from symderiv.export.gradescope import run_autograder
from symderiv.variants import VariantKey, draw_variant, load_template

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMULAS = {  # problem 1.2 of the small spec, as a student writes them
    "1.2.dL_dy_hat": "2*(y_hat - y)", "1.2.dL_dz3": "dL_dy_hat", "1.2.dL_da3": "hadamard(dL_dz3, relu'(a3))",
    "1.2.dL_dW3": "dL_da3 @ z2.T", "1.2.dL_db3": "dL_da3", "1.2.dL_dz2": "W3.T @ dL_da3",
    "1.2.dL_da2": "hadamard(dL_dz2, relu'(a2))", "1.2.dL_dW2": "dL_da2 @ z1.T", "1.2.dL_db2": "dL_da2",
    "1.2.dL_dz1": "W2.T @ dL_da2", "1.2.dL_da1": "hadamard(dL_dz1, relu'(a1))", "1.2.dL_dW1": "dL_da1 @ x.T",
    "1.2.dL_db1": "dL_da1", "1.2.dL_dz0": "W1.T @ dL_da1", "1.2.dL_dx": "dL_dz0"}


def unpack(zip_path: Path, root: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    return root


def run(*cases_: tuple[Path, str]) -> list[dict]:
    """Run the autograder once per (directory, submission), the runs side by side."""
    runs = []
    for root, text in cases_:
        (root / "submission" / "answers.toml").write_text(text, encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(cases.ROOT), SYMDERIV_AUTOGRADER_ROOT=str(root))
        runs.append(subprocess.Popen([sys.executable, str(root / "source" / "run_autograder")], cwd=root, env=env))
    assert [process.wait(timeout=120) for process in runs] == [0] * len(runs)
    out = [json.loads((root / "results" / "results.json").read_text()) for root, _ in cases_]
    for results in out:
        check_spec(results)
    return out


def check_spec(results: dict) -> None:
    """Gradescope's autograder specification: types, keys, the score the sum of the tests'."""
    assert isinstance(results["score"], float) and isinstance(results["output"], str)
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"] and test["visibility"] in VISIBILITY
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def submission(answers: dict, student: str | None = None) -> str:
    lines = ([f'[student]\nid = "{student}"'] if student else []) + ["[answers]"]
    for answer_id, value in answers.items():
        if not isinstance(value, str):
            value = np.asarray(value).tolist() if np.size(value) > 1 else np.asarray(value).item()
        lines.append(f'"{answer_id}" = {json.dumps(value)}')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def small_zip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gs")
    export(cases.write(folder, cases.SMALL, "small.toml"), "gradescope", folder / "out")
    return folder / "out" / "autograder.zip"


def test_zip_layout(small_zip):
    with zipfile.ZipFile(small_zip) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        setup = archive.read("setup.sh").decode()
    assert names == sorted(names)
    assert {"setup.sh", "run_autograder", "small.toml", "symderiv-export.json", "symderiv-src/pyproject.toml",
            "symderiv-src/symderiv/export/gradescope.py"} <= set(names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111 and not modes["small.toml"] & 0o111
    assert "pip install" in setup and "symderiv-src" in setup


def test_correct_slipped_and_malformed_submissions(small_zip, tmp_path):
    network = cases.network_answers(cases.homework1_network())
    slipped = dict(network | FORMULAS, **{"1.3.dL_dW1": network["1.3.dL_dW1"].T, "1.3.dL_db3": -network["1.3.dL_db3"]})
    correct, graded, broken = run((unpack(small_zip, tmp_path / "a"), submission(network | FORMULAS)),
                                  (unpack(small_zip, tmp_path / "b"), submission(slipped)),
                                  (unpack(small_zip, tmp_path / "c"), '[answers\n"1.1.a1" = 3\n'))
    assert correct["score"] == 29.0 and all(t["score"] == t["max_score"] == 1.0 for t in correct["tests"])
    tests = {t["name"]: t for t in graded["tests"]}
    assert graded["score"] == 27.0
    assert tests["1.3.dL_dW1"]["score"] == 0.0 and "transpose" in tests["1.3.dL_dW1"]["output"]
    assert tests["1.3.dL_db3"]["score"] == 0.0 and "sign" in tests["1.3.dL_db3"]["output"]
    assert broken["score"] == 0.0 and broken["tests"] == [] and "answers.toml" in broken["output"]


def test_a_drawn_spec_grades_each_student_against_their_variant(tmp_path):
    spec = cases.write(tmp_path, cases.DRAWN, "drawn.toml")
    export(spec, "gradescope", tmp_path / "out", seed=4)
    variant = draw_variant(load_template(spec), 4, VariantKey(student="s0001"))
    answers = cases.network_answers(tomllib.loads(variant.spec_text)["problem"][0])
    archive = tmp_path / "out" / "autograder.zip"
    (mine,) = run((unpack(archive, tmp_path / "a"), submission(answers, "s0001")))
    numeric = [t for t in mine["tests"] if t["name"] in answers]
    assert len(numeric) == len(answers) and all(t["score"] == 1.0 for t in numeric)
    anonymous = unpack(archive, tmp_path / "b")  # in this process: the same function the script calls
    (anonymous / "submission" / "answers.toml").write_text(submission(answers), encoding="utf-8")
    assert run_autograder(anonymous) == 0
    results = json.loads((anonymous / "results" / "results.json").read_text())
    check_spec(results)
    assert results["score"] == 0.0 and "student.id" in results["output"]
