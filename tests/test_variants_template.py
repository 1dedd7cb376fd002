"""Reading a spec with draws: where draws sit, named draws, and every error naming file and field."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from symderiv.errors import SpecError
from symderiv.variants import load_template
from symderiv.variants.constraints import Constraints

GRID = '''
[[problem]]
kind = "search"
{variants}
[problem.grid]
epochs_per_combination = {epochs}
minutes_per_epoch = {minutes}

[[problem.grid.hyperparameter]]
name = "lambda1"
values = {values}
'''


def spec(tmp_path: Path, text: str, name: str = "hw.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def grid(tmp_path: Path, epochs: str = '"randint(1, 4)"', minutes: str = "2", values: str = "3",
         variants: str = "", top: str = "") -> Path:
    return spec(tmp_path, top + GRID.format(epochs=epochs, minutes=minutes, values=values, variants=variants))


def refused(path: Path, field: str, message: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_template(path)
    assert caught.value.source == str(path)
    assert caught.value.field == field, str(caught.value)
    assert re.search(message, caught.value.problem), str(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


def test_draw_sites_named_draws_and_constraints_are_found(tmp_path):
    path = grid(tmp_path, epochs='"2*n"', values='"choice([2, 3])"',
                variants='[problem.variants]\nmax_abs = 100\nlet = { n = "randint(1, 4)" }')
    template = load_template(path)
    (problem,) = template.problems
    assert [(s.path, s.name) for s in problem.slots] == [
        ("problem[1].variants.let.n", "n"), ("problem[1].grid.epochs_per_combination", ""),
        ("problem[1].grid.hyperparameter[1].values", "")]
    assert problem.constraints == Constraints(distinguishable=True, max_abs=100)
    assert template.name == "hw" and template.attempts == 1000


def test_problem_tables_override_the_sheets_defaults(tmp_path):
    path = grid(tmp_path, variants="[problem.variants]\nintegral = true\ndistinguishable = false",
                top="[variants]\nattempts = 7\nmax_abs = 50\nmax_decimals = 2\n")
    template = load_template(path)
    assert template.attempts == 7
    assert template.problems[0].constraints == Constraints(False, True, 2, 50)


def test_problems_without_draws_are_kept_as_they_are(tmp_path):
    path = spec(tmp_path, GRID.format(epochs='"randint(1, 3)"', minutes=2, values=3, variants="")
                + GRID.format(epochs=10, minutes=2, values=3, variants=""))
    first, second = load_template(path).problems
    assert first.drawn and not second.drawn


@pytest.mark.parametrize("kwargs, field, message", [
    ({"epochs": '"randint(1, 3"'}, "problem[1].grid.epochs_per_combination", "not a valid draw"),
    ({"epochs": '"randint(3, 1)"'}, "problem[1].grid.epochs_per_combination", "above the high end"),
    ({"values": '"__import__(\'os\')"'}, "problem[1].grid.hyperparameter[1].values", "unknown function"),
    ({"epochs": '"n + 1"', "variants": '[problem.variants.let]\nm = "randint(1, 2)"'},
     "problem[1].variants.let.m", "no field uses"),
    ({"epochs": '"randint(1, 3) + m"'}, "problem[1].grid.epochs_per_combination", "unknown name 'm'"),
    ({"variants": '[problem.variants.let]\nrandint = "randint(1, 2)"'}, "problem[1].variants.let.randint",
     "a named draw is called"),
    ({"variants": '[problem.variants.let]\nn = "m + 1"\nm = "randint(1, 2)"'}, "problem[1].variants.let.n",
     "unknown name 'm'"),
    ({"variants": '[problem.variants.let]\nn = "relu"'}, "problem[1].variants.let.n", "unknown name 'relu'"),
    ({"variants": '[problem.variants.let]\nn = "1 +"'}, "problem[1].variants.let.n", "not a valid draw"),
    ({"variants": '[problem.variants.let]\nn = true'}, "problem[1].variants.let.n", "expected a number"),
    ({"variants": "[problem.variants]\nintegrall = true"}, "problem[1].variants.integrall", "unknown field"),
    ({"variants": "[problem.variants]\nno_kink = true"}, "problem[1].variants.no_kink", "unknown field"),
    ({"variants": "[problem.variants]\nintegral = 1"}, "problem[1].variants.integral", "true or false"),
    ({"variants": "[problem.variants]\nmax_abs = 0"}, "problem[1].variants.max_abs", "must be >"),
    ({"variants": "[problem.variants]\nmax_decimals = -1"}, "problem[1].variants.max_decimals", "must be >="),
    ({"variants": "[problem.variants]\nmax_abs = 0.5\nintegral = true"}, "problem[1].variants.max_abs",
     "contradict each other"),
    ({"variants": "[problem.variants]\nmax_abs = 0.001\nmax_decimals = 2"}, "problem[1].variants.max_abs",
     "leaves only 0"),
    ({"top": "[variants]\nattempts = 0\n"}, "variants.attempts", "must be >= 1"),
    ({"top": "[variants]\nattempts = 1000001\n"}, "variants.attempts", "must be <= 100000"),
    ({"top": "[variants]\nno_kink = true\n"}, "variants.no_kink", "unknown field"),
    ({"top": "[variantz]\n"}, "variantz", "unknown field"),
    ({"epochs": "5"}, "problem", "no field holds a draw"),
])
def test_bad_specs_are_refused_naming_file_and_field(tmp_path, kwargs, field, message):
    refused(grid(tmp_path, **kwargs), field, message)


def test_a_variants_table_on_a_problem_without_draws_is_an_error(tmp_path):
    path = spec(tmp_path, GRID.format(epochs='"randint(1, 3)"', minutes=2, values=3, variants="")
                + GRID.format(epochs=10, minutes=2, values=3, variants="[problem.variants]\nmax_abs = 5"))
    refused(path, "problem[2].variants", "has no draws")


@pytest.mark.parametrize("kwargs, field, message", [
    # a draw that can leave its field's range is refused whatever the seed would have drawn
    ({"epochs": '"randint(0, 3)"'}, "problem[1].grid.epochs_per_combination",
     r"must be >= 1, got 0 \(the draw 'randint\(0, 3\)' at problem\[1\]\.grid\.epochs_per_combination can give 0\)"),
    ({"minutes": '"uniform(-0.5, 2, step=0.5)"'}, "problem[1].grid.minutes_per_epoch", "can give -0.5"),
    ({"values": '"choice([2, 0.5, 3])"'}, "problem[1].grid.hyperparameter[1].values", "can give 0.5"),
    ({"epochs": '"n - 3"', "variants": '[problem.variants.let]\nn = "randint(3, 9)"'},
     "problem[1].grid.epochs_per_combination", "the draw 'randint.3, 9.' at problem.1..variants.let.n can give 3"),
    ({"epochs": '"6 // n"', "variants": '[problem.variants.let]\nn = "randint(0, 2)"'},
     "problem[1].grid.epochs_per_combination", "division by zero"),
    ({"epochs": '"randint(1, 3, shape=[2])"'}, "problem[1].grid.epochs_per_combination", "expected a number"),
])
def test_draws_outside_their_fields_range_are_refused_before_drawing(tmp_path, kwargs, field, message):
    refused(grid(tmp_path, **kwargs), field, message)


def test_a_fixed_field_error_is_the_kinds_own(tmp_path):
    path = spec(tmp_path, GRID.format(epochs='"randint(1, 3)"', minutes=2, values=3, variants="")
                .replace('name = "lambda1"', 'name = "1bad"'))
    error = refused(path, "problem[1].grid.hyperparameter[1].name", "must be a letter")
    assert "draw" not in error.problem


@pytest.mark.parametrize("sheet, field, message", [
    ('[sheet]\nname = "' + "x" * 40 + '"\n', "sheet.name", "1-39 letters"),
    ('[sheet]\ntitle = "' + "t" * 134 + '"\n', "sheet.title", "at most 133"),
    ('[sheet]\nnam = "x"\n', "sheet.nam", "unknown field"),
])
def test_sheet_fields_leave_room_for_the_variant_label(tmp_path, sheet, field, message):
    refused(grid(tmp_path, top=sheet), field, message)
