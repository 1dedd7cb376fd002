"""``symderiv variants``: deterministic output for any number of workers, constraints met (checked by
the oracle from the written files), rosters, and one-line refusals that write nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import reference_variants as ref

from symderiv.cli import main
from symderiv.errors import SymderivError
from symderiv.variants import VariantKey, draw_variant, load_template, spec_for_student

EXAMPLE = Path("examples/homework1_variants.toml")

GRID = '''
[sheet]
name = "grid"
title = "Grid search"

[variants]
attempts = {attempts}

[[problem]]
kind = "search"

[problem.variants]
max_abs = {bound}

[problem.grid]
epochs_per_combination = "choice([1, 2, 3, 4])"
minutes_per_epoch = "uniform(0.5, 2, step=0.5)"

[[problem.grid.hyperparameter]]
name = "lambda1"
values = "randint(2, 3)"
'''


def grid(tmp_path: Path, attempts: int = 1000, bound: int = 30) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(GRID.format(attempts=attempts, bound=bound), encoding="utf-8")
    return path


def run(*args: str) -> int:
    return main(["variants", *map(str, args)])


def tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def refused(capsys, out: Path, *args: str) -> str:
    """Exit status 2, one line on stderr, nothing written; the line."""
    assert run(*args, "-o", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symderiv: "), err
    assert not out.exists()
    return err


def test_same_seed_same_bytes_for_any_number_of_workers(tmp_path):
    spec = grid(tmp_path)
    for name, jobs in (("serial", 1), ("parallel", 2), ("again", 2)):
        assert run(spec, "--count", 5, "--seed", 3, "--no-pdf", "--jobs", jobs, "-o", tmp_path / name) == 0
    serial = tree(tmp_path / "serial")
    assert serial == tree(tmp_path / "parallel") == tree(tmp_path / "again")
    assert len(serial) == 5 * 6 + 1  # spec, tex, key, md, handout tex and md per variant, and the index
    assert run(spec, "--count", 5, "--seed", 4, "--no-pdf", "--jobs", 2, "-o", tmp_path / "other") == 0
    assert tree(tmp_path / "other")["grid_v001.toml"] != serial["grid_v001.toml"]


def test_same_bytes_from_separate_runs_with_different_hash_seeds(tmp_path):
    spec = grid(tmp_path)
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(Path.cwd()))
        subprocess.run([sys.executable, "-m", "symderiv", "variants", str(spec), "--count", "3", "--seed", "8",
                        "--no-pdf", "-o", str(tmp_path / hash_seed)], env=env, check=True, capture_output=True)
    assert tree(tmp_path / "1") == tree(tmp_path / "2")


def test_the_index_maps_variants_to_files_and_counts_the_rejections(tmp_path, capsys):
    spec = grid(tmp_path)
    assert run(spec, "--count", 4, "--seed", 1, "--no-pdf", "--jobs", 1, "-o", tmp_path / "out") == 0
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert [v["variant"] for v in index["variants"]] == [1, 2, 3, 4]
    for entry in index["variants"]:
        assert all((tmp_path / "out" / name).is_file() for name in entry["files"].values())
        assert set(entry["files"]) == {"spec", "tex", "key.json", "md", "handout.tex", "handout.md"}
    # the oracle's count: the answers are 2 or 3 combinations, x E epochs, x t minutes; max_abs 30
    (draws,) = index["draws"]
    expected = [_oracle_draws(1, f"variant:{i}") for i in range(1, 5)]
    assert draws == {"problem": 1, "variants": 4, "draws": sum(expected), "rejected": sum(expected) - 4,
                     "by_constraint": {"max_abs": sum(expected) - 4} if sum(expected) > 4 else {}}
    out = capsys.readouterr().out
    assert f"problem 1: {sum(expected)} draws for 4 variants" in out


def _oracle_draws(seed: int, token: str) -> int:
    """Draws until combinations x epochs x minutes <= 30 (the only answer that can exceed it),
    each number from the oracle's stream (draws in file order: E, t, values)."""
    attempt = 0
    while True:
        epochs = [1, 2, 3, 4][ref.stream_index(seed, token, 1, attempt, 0, 4)]
        minutes = [0.5, 1, 1.5, 2][ref.stream_index(seed, token, 1, attempt, 1, 4)]
        values = [2, 3][ref.stream_index(seed, token, 1, attempt, 2, 2)]
        if values * epochs * minutes <= 30:
            return attempt + 1
        attempt += 1


def test_homework1_variants_meet_every_constraint_checked_from_the_written_files(tmp_path, homework1):
    out = tmp_path / "hw"
    assert run(EXAMPLE, "--count", 3, "--seed", 1, "--no-pdf", "--jobs", 2, "-o", out) == 0
    ids = [a.id for a in homework1.answers()]
    for number in (1, 2, 3):
        name = f"homework1_v{number:03d}"
        values = ref.exact_values(out / f"{name}.key.json")
        assert list(json.loads((out / f"{name}.key.json").read_text())) == ids  # homework 1's answer ids
        drawn = {k: v for k, v in values.items() if not k.startswith("3.")}   # problem 3 has no draws
        assert all(ref.distinguishable(v) for v in drawn.values())
        assert all(ref.integral(v) and ref.within(v, 1000) for k, v in drawn.items() if k.startswith("1."))
        assert all(ref.decimals_at_most(v, 1) for k, v in drawn.items() if k.startswith("2."))
        assert all(ref.integral(v) and ref.within(v, 100) for k, v in drawn.items() if k.startswith("4."))
        assert all(ref.decimals_at_most(v, 8) for k, v in drawn.items() if k.startswith("5."))
        assert not any(v == 0 for _, layer in ref.network_preactivations(out / f"{name}.toml", 1) for v in layer)
    specs = [tomllib.loads((out / f"homework1_v{n:03d}.toml").read_text()) for n in (1, 2, 3)]
    assert specs[0]["problem"][0] != specs[1]["problem"][0] != specs[2]["problem"][0]
    assert specs[0]["problem"][2] == specs[1]["problem"][2]  # problem 3 is the same for everyone


def test_an_exporter_gets_the_same_variant_as_the_command(tmp_path):
    spec = grid(tmp_path)
    assert run(spec, "--count", 2, "--seed", 9, "--no-pdf", "--jobs", 1, "-o", tmp_path / "out") == 0
    variant = draw_variant(load_template(spec), 9, VariantKey(index=2))
    assert (tmp_path / "out" / "grid_v002.toml").read_text() == variant.spec_text


def test_a_variants_spec_builds_to_the_very_files_written_beside_it(tmp_path):
    assert run(grid(tmp_path), "--count", 2, "--seed", 5, "--no-pdf", "--jobs", 1, "-o", tmp_path / "out") == 0
    spec = tmp_path / "out" / "grid_v002.toml"
    assert main(["build", str(spec), "--no-pdf", "--format", "tex,key,md", "-o", str(tmp_path / "built")]) == 0
    built, written = tree(tmp_path / "built"), tree(tmp_path / "out")
    assert built and all(written[name] == content for name, content in built.items())


def test_a_roster_gives_one_variant_per_student_whatever_its_order(tmp_path):
    spec = grid(tmp_path)
    (tmp_path / "a.csv").write_text("\ufeffName,ID,email\nAda,s0001,a@x\nBob,bob@uni.edu,b@x\n\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id\nbob@uni.edu\nCy\ns0001\n", encoding="utf-8")
    for roster in ("a", "b"):
        assert run(spec, "--roster", tmp_path / f"{roster}.csv", "--seed", 2, "--no-pdf", "--jobs", 1,
                   "-o", tmp_path / roster) == 0
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a["grid_bob-uni-edu.toml"] == b["grid_bob-uni-edu.toml"] and a["grid_s0001.tex"] == b["grid_s0001.tex"]
    assert spec_for_student(tmp_path / "a", "bob@uni.edu") == tmp_path / "a" / "grid_bob-uni-edu.toml"
    index = json.loads(a["index.json"])
    assert [v["student_id"] for v in index["variants"]] == ["s0001", "bob@uni.edu"]
    assert b"(bob@uni.edu)" in a["grid_bob-uni-edu.toml"]


@pytest.mark.parametrize("text, message", [
    ("", "roster.csv: line 1: empty"),
    ("name,email\nAda,a@x\n", "roster.csv: line 1: no 'id' column (the columns are 'name', 'email')"),
    ("id,ID\ns1,s2\n", "roster.csv: line 1: two 'id' columns"),
    ("id\n", "roster.csv: (file): no students"),
    ("id,name\ns1,Ada\n,Bob\n", "roster.csv: line 3, column id: no student id"),
    ("id\ns1\ns2\ns1\n", "roster.csv: line 4, column id: 's1' repeats line 2"),
    ("id\na.b\na b\n", "roster.csv: line 3, column id: 'a b' and 'a.b' (line 2) would name the same files"),
    ("id\n" + "x" * 65 + "\n", "roster.csv: line 2, column id: a student id is at most 64 printable"),
    ("id\n\"s\x1b1\"\n", "line 2, column id: a student id is at most 64 printable"),
])
def test_bad_rosters_are_refused_naming_the_line(tmp_path, capsys, text, message):
    (tmp_path / "roster.csv").write_text(text, encoding="utf-8")
    err = refused(capsys, tmp_path / "out", grid(tmp_path), "--roster", tmp_path / "roster.csv")
    assert message in err


def test_a_roster_that_is_not_text_or_missing_is_refused(tmp_path, capsys):
    (tmp_path / "roster.csv").write_bytes(b"id\n\xff\xfe\n")
    assert "roster.csv: (file): not UTF-8 text" in refused(capsys, tmp_path / "out", grid(tmp_path), "--roster",
                                                            tmp_path / "roster.csv")
    assert "nope.csv: (file): No such file" in refused(capsys, tmp_path / "out", grid(tmp_path), "--roster",
                                                        tmp_path / "nope.csv")


def test_impossible_constraints_are_refused_and_nothing_is_written(tmp_path, capsys):
    err = refused(capsys, tmp_path / "out", grid(tmp_path, attempts=20, bound=1), "--count", 3, "--no-pdf")
    assert "grid.toml: problem[1].variants: no draw met the constraints in 20 attempts (variant 1)" in err


def test_a_failing_variant_among_good_ones_writes_nothing_whatever_the_workers(tmp_path, capsys):
    # a bound some draws meet: with attempts = 1 the first variant whose first draw fails is refused
    spec = grid(tmp_path, attempts=1, bound=12)
    first = refused(capsys, tmp_path / "a", spec, "--count", 12, "--no-pdf", "--jobs", 1)
    assert refused(capsys, tmp_path / "b", spec, "--count", 12, "--no-pdf", "--jobs", 2) == first


@pytest.mark.parametrize("args, message", [
    (("--count", 0), "--count: must be from 1 to 100,000"),
    (("--count", 2, "--format", "tex,pdfx"), "--format: unknown format 'pdfx'"),
])
def test_bad_options_are_refused(tmp_path, capsys, args, message):
    assert message in refused(capsys, tmp_path / "out", grid(tmp_path), *args)


def test_a_draw_outside_its_fields_range_is_refused(tmp_path, capsys):
    spec = grid(tmp_path)
    spec.write_text(spec.read_text().replace('"randint(2, 3)"', '"randint(0, 3)"'))
    err = refused(capsys, tmp_path / "out", spec, "--count", 1)
    assert "grid.toml: problem[1].grid.hyperparameter[1].values: must be >= 1, got 0 (the draw 'randint(0, 3)'" in err


@pytest.mark.parametrize("index", ['{"variants": [{"student_id": "s1"}]}', "[]", "{", '{"variants": [1]}'])
def test_a_student_missing_from_an_index_or_a_broken_index_is_one_error(tmp_path, index):
    (tmp_path / "index.json").write_text(index, encoding="utf-8")
    with pytest.raises(SymderivError, match="index.json: "):
        spec_for_student(tmp_path, "s1")
