"""``symderiv export`` from the command line: the same bytes every time, one-line refusals
that write nothing, and ``symderiv grade --variants`` finding each student's variant."""
from __future__ import annotations

import json
from pathlib import Path

import export_cases as cases
import pytest

from symderiv.cli import main
from symderiv.variants import spec_for_student


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("platform", ["prairielearn", "moodle", "gradescope"])
def test_same_spec_and_seed_same_bytes(tmp_path, platform, capsys):
    spec = cases.write(tmp_path, cases.SMALL, "small.toml")
    for out in ("a", "b"):
        assert main(["export", str(spec), "--to", platform, "-o", str(tmp_path / out)]) == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b") != {}
    assert main(["export", str(spec), "--to", platform, "-o", str(tmp_path / "a")]) == 0   # again, in place
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert "wrote" in capsys.readouterr().out


def test_a_reexport_keeps_the_courses_other_questions(tmp_path):
    spec = cases.write(tmp_path, cases.SMALL, "small.toml")
    other = tmp_path / "course" / "questions" / "mine" / "info.json"
    other.parent.mkdir(parents=True)
    other.write_text("{}")
    assert main(["export", str(spec), "--to", "prairielearn", "-o", str(tmp_path / "course")]) == 0
    assert other.read_text() == "{}" and (tmp_path / "course" / "questions" / "small" / "1_1" / "server.py").is_file()


BAD = [
    (["--to", "canvas"], "--to: unknown platform 'canvas'; expected prairielearn, moodle, gradescope"),
    (["--to", "moodle", "--count", "3"], "--count: {spec} has no draws"),
    (["--to", "gradescope", "--count", "0"], "--count: {spec} has no draws"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_options_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    spec = cases.write(tmp_path, cases.SMALL, "small.toml")
    assert main(["export", str(spec), *args, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symderiv: " + message.format(spec=spec)) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_spec_with_errors_is_one_line_naming_file_and_field(tmp_path, capsys):
    spec = cases.write(tmp_path, cases.SMALL.replace("x = [2, 1]", "x = [2, 1, 5]"), "bad.toml")
    assert main(["export", str(spec), "--to", "moodle", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symderiv: {spec}: problem[1]") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_no_spec_gets_the_specs_error(tmp_path, capsys):
    spec = cases.write(tmp_path, '[student]\nid = "s1"\n[answers]\n"1.1.a1" = 2\n', "answers.toml")
    assert main(["export", str(spec), "--to", "moodle", "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (f"symderiv: {spec}: student: unknown field; expected one of grading, "
                                       f"problem, sheet\n")


def test_drawn_specs_need_count_for_moodle_and_refuse_it_for_gradescope(tmp_path, capsys):
    spec = cases.write(tmp_path, cases.DRAWN, "drawn.toml")
    assert main(["export", str(spec), "--to", "moodle", "-o", str(tmp_path / "out")]) == 2
    assert main(["export", str(spec), "--to", "gradescope", "--count", "2", "-o", str(tmp_path / "out")]) == 2
    assert [line.split(":")[1] for line in capsys.readouterr().err.splitlines()] == [" --count", " --count"]
    assert not (tmp_path / "out").exists()


def test_an_unwritable_output_is_one_line(tmp_path, capsys):
    spec = cases.write(tmp_path, cases.SMALL, "small.toml")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["export", str(spec), "--to", "moodle", "-o", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symderiv: {blocker / 'out'}: cannot write the output") and err.count("\n") == 1
    assert blocker.read_text() == ""


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    spec = cases.write(folder, cases.DRAWN, "drawn.toml")
    roster = folder / "roster.csv"
    roster.write_text("id,name\ns0001,Ada\ns0002,Alan\n")
    assert main(["variants", str(spec), "--roster", str(roster), "--seed", "5", "-o", str(folder / "out"),
                 "--no-pdf", "--format", "key", "--jobs", "1"]) == 0
    return folder / "out"


def answers_of(variants: Path, student: str) -> str:
    key = json.loads(spec_for_student(variants, student).with_suffix(".key.json").read_text())
    lines = [f'"{i}" = {json.dumps(e["value"] if "value" in e else e["exact"])}' for i, e in key.items()]
    return "[answers]\n" + "\n".join(lines) + "\n"


def test_grade_picks_each_students_variant(variants, tmp_path, capsys):
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "a.toml").write_text('[student]\nid = "s0001"\n' + answers_of(variants, "s0001"))
    (folder / "b.toml").write_text('[student]\nid = "s0002"\n' + answers_of(variants, "s0001"))  # the wrong numbers
    (folder / "c.toml").write_text(answers_of(variants, "s0001"))
    (folder / "d.toml").write_text('[student]\nid = "s9999"\n' + answers_of(variants, "s0001"))
    assert main(["grade", str(folder), "--variants", str(variants), "--json"]) == 1
    rows = {Path(r["submission"]).name: r for r in json.loads(capsys.readouterr().out)["submissions"]}
    mine, wrong = rows["a.toml"]["score"], rows["b.toml"]["score"]
    assert mine["points"] == mine["max_points"] > 0 and rows["a.toml"]["spec"].endswith("drawn_s0001.toml")
    assert wrong["points"] < wrong["max_points"] and rows["b.toml"]["spec"].endswith("drawn_s0002.toml")
    assert "student.id: missing" in rows["c.toml"]["error"]
    assert "no variant for student id 's9999'" in rows["d.toml"]["error"]
    assert main(["grade", str(folder / "c.toml"), "--variants", str(variants)]) == 2
    err = capsys.readouterr().err
    assert "student.id: missing" in err and err.count("\n") == 1
