"""symderiv.check.batch and ``symderiv grade`` on a class: one row per file, whatever the files hold.

The class is made here: right answers from the derived key, slips made by hand, one
malformed file and one with a hostile answer. The serial run is the reference; the
parallel and the Dask runs must give identical reports.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from symderiv.check.batch import default_workers, find_submissions, grade_class
from symderiv.check.report import to_dict
from symderiv.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    """Problems 2 and 4 of homework 1 (search and convolution): quick to derive."""
    path = tmp_path_factory.mktemp("spec") / "small.toml"
    path.write_text('[sheet]\nname = "small"\ntitle = "Small"\n\n'
                    '[[problem]]\nkind = "search"\n[problem.grid]\nepochs_per_combination = 10\n'
                    'minutes_per_epoch = 2\n[[problem.grid.hyperparameter]]\nname = "rho"\nvalues = 30\n'
                    '[problem.random]\nsuccess_rate = 0.05\nconfidence = [0.95]\n\n'
                    '[[problem]]\nkind = "conv"\n[[problem.size]]\ninput = [36, 36, 3]\nfilters = 2\n'
                    'kernel = [3, 3, 3]\nstride = 2\npadding = 3\n')
    return path


ANSWERS = [
    {"1.1.combinations": 30, "1.1.epochs": "300", "1.1.minutes": "600 min", "1.2.trials_95": "N = 59",
     "2.1.output_shape": r"20 \times 20 \times 2"},
    {"1.1.combinations": 30, "1.1.minutes": 60, "1.2.trials_95": 58, "2.1.output_shape": "[20, 20]"},
    {"1.1.combinations": "3,0", "1.1.epochs": "9^9^9^9", "2.1.output_shape": [20, 20, 3]},
    {"1.1.minutes": "10 h", "1.2.formula": r"\left\lceil \frac{\ln(1-P)}{\ln(1-q)} \right\rceil"},
]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class")
    for copy in range(3):
        for index, answers in enumerate(ANSWERS):
            lines = ["[student]", f'id = "s{copy}{index}"', f'name = "Student {copy}{index}"', "[answers]"]
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in answers.items()]
            (folder / f"s{copy}{index}.toml").write_text("\n".join(lines) + "\n")
    (folder / "broken.toml").write_text("[answers\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "late.toml").write_text('[answers]\n"1.1.combinations" = 30\n')
    (folder / "notes.txt").write_text("not a submission")
    return folder


@pytest.fixture(scope="module")
def serial(classroom: Path, spec: Path):
    return grade_class([classroom], spec, workers=1)


def comparable(rows) -> list:
    return [(row.source, row.error, to_dict(row.report) if row.report else None) for row in rows]


def test_every_file_gets_its_row_in_order(serial, classroom: Path) -> None:
    sheet, rows = serial
    assert [row.source for row in rows] == [str(p) for p in find_submissions([classroom])]
    assert len(rows) == 14 and not any(r.source.endswith("notes.txt") for r in rows)
    broken = next(row for row in rows if row.source.endswith("broken.toml"))
    assert broken.report is None and "(syntax)" in broken.error
    graded = {row.source.rsplit("/", 1)[-1]: row.report for row in rows if row.report}
    first = {g.id: g.verdict for g in graded["s00.toml"].answers}
    assert {first[i] for i in ANSWERS[0]} == {"correct"} and first["1.2.formula"] == "missing"
    assert {g.id: g.verdict for g in graded["s02.toml"].answers}["1.1.epochs"] == "too_large"


def test_workers_give_the_serial_reports(serial, classroom: Path, spec: Path) -> None:
    _, rows = grade_class([classroom], spec, workers=2)
    assert comparable(rows) == comparable(serial[1])


def test_a_dask_cluster_gives_the_serial_reports(serial, classroom: Path, spec: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        _, rows = grade_class([classroom], spec, scheduler=cluster.scheduler_address)
    assert comparable(rows) == comparable(serial[1])


def test_progress_is_reported_as_files_are_graded(classroom: Path, spec: Path) -> None:
    seen = []
    grade_class([classroom / "s00.toml", classroom / "s01.toml"], spec, workers=1,
                progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]


def test_default_workers_follow_idle_cores_and_class_size() -> None:
    assert default_workers(1) == 1
    assert 1 <= default_workers(10**6)


def test_the_cli_grades_a_class_with_a_gradebook(classroom: Path, spec: Path, tmp_path: Path, capsys) -> None:
    gradebook, results = tmp_path / "book.csv", tmp_path / "gradescope"
    status = main(["grade", str(classroom), "--spec", str(spec), "--workers", "1", "--csv", str(gradebook),
                   "--gradescope", str(results)])
    out, err = capsys.readouterr()
    assert status == 1 and "1 of 14 submissions could not be graded" in err
    assert "per answer:" in out and "could not be read" in out and "\r" not in err   # no progress bar off a terminal
    table = {row["submission"].rsplit("/", 1)[-1]: row for row in csv.DictReader(io.StringIO(gradebook.read_text()))}
    assert len(table) == 14 and table["s00.toml"]["id"] == "s00" and table["s00.toml"]["1.1.minutes"] == "1"
    assert table["broken.toml"]["error"] and not table["broken.toml"]["score"]
    written = sorted(p.relative_to(results).as_posix() for p in results.rglob("results.json"))
    assert len(written) == 14 and all(name.endswith("/results.json") for name in written)
    data = json.loads(next(results.rglob("results.json")).read_text())
    assert {"score", "output", "tests"} <= set(data)


def test_the_cli_with_one_submission_keeps_its_report(classroom: Path, spec: Path, tmp_path: Path, capsys) -> None:
    results = tmp_path / "gs"
    assert main(["grade", str(classroom / "s01.toml"), "--spec", str(spec), "--gradescope", str(results)]) == 0
    assert "score:" in capsys.readouterr().out
    data = json.loads((results / "results.json").read_text())
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["1.1.combinations"]["status"] == "passed" and tests["1.2.trials_95"]["status"] == "failed"
    assert data["score"] == sum(t["score"] for t in data["tests"])


def test_the_cli_refuses_what_it_cannot_do(classroom: Path, spec: Path, tmp_path: Path, capsys,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from symderiv.check import batch

    monkeypatch.setattr(batch, "CONNECT_SECONDS", 1)
    assert main(["grade", str(classroom), "--spec", str(spec), "--report", "tex"]) == 2
    assert "--report tex" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["grade", str(empty), "--spec", str(spec)]) == 2
    assert "no submissions" in capsys.readouterr().err
    assert main(["grade", str(classroom), "--spec", str(spec), "--workers", "0"]) == 2
    assert main(["grade", str(classroom), "--spec", str(spec), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler" in capsys.readouterr().err
