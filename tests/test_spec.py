"""Bad specs: one line naming file and field, exit status 2, no traceback, nothing written."""
from __future__ import annotations

import pytest

from symderiv.cli import main

GOOD = """
[sheet]
name = "t"
[[problem]]
kind = "network"
x = [2, 1]
y = 10
[[problem.layer]]
W = [[1, 0], [3, 4]]
b = [0, -2]
activation = "relu"
[[problem.layer]]
W = [[-2, 3]]
b = 18
activation = "relu"
"""

BAD = [
    ("syntax", GOOD.replace("x = [2, 1]", "x = [2, 1"), "(syntax)"),
    ("unknown kind", GOOD.replace('kind = "network"', 'kind = "netwrok"'), "problem[1].kind"),
    ("unknown activation", GOOD.replace('activation = "relu"', 'activation = "relux"', 1),
     "problem[1].layer[1].activation"),
    ("shape does not chain", GOOD.replace("W = [[-2, 3]]", "W = [[-2, 3, 1]]"), "problem[1].layer[2].W"),
    ("bias length", GOOD.replace("b = [0, -2]", "b = [0, -2, 1]"), "problem[1].layer[1].b"),
    ("non-numeric entry", GOOD.replace("W = [[1, 0], [3, 4]]", 'W = [[1, "a"], [3, 4]]'),
     "problem[1].layer[1].W[1][2]"),
    ("non-finite entry", GOOD.replace("y = 10", "y = inf"), "problem[1].y[1]"),
    ("boolean entry", GOOD.replace("y = 10", "y = true"), "problem[1].y[1]"),
    ("missing field", GOOD.replace("x = [2, 1]\n", ""), "problem[1].x"),
    ("unknown field", GOOD.replace("y = 10", "y = 10\nlos = 'x'"), "problem[1].los"),
    ("ragged matrix", GOOD.replace("W = [[1, 0], [3, 4]]", "W = [[1, 0], [3]]"), "problem[1].layer[1].W"),
    ("target size", GOOD.replace("y = 10", "y = [1, 2]"), "problem[1].y"),
    ("softmax hidden", GOOD.replace('activation = "relu"', 'activation = "softmax"', 1),
     "problem[1].layer[1].activation"),
    ("loss needs softmax", GOOD.replace("y = 10", 'y = 1\nloss = "cross_entropy"'), "problem[1].loss"),
    ("cross-entropy target",
     GOOD.replace('W = [[-2, 3]]\nb = 18\nactivation = "relu"', 'W = [[-2, 3]]\nb = 18\nactivation = "sigmoid"')
     .replace("y = 10", 'y = 2\nloss = "cross_entropy"'), "problem[1].y[1]"),
    ("no problems", '[sheet]\nname = "t"\n', "problem"),
    ("bad sheet name", GOOD.replace('name = "t"', 'name = "../evil"'), "sheet.name"),
    ("nested too deeply", GOOD.replace("x = [2, 1]", "x = " + "[" * 3000 + "]" * 3000), "(syntax)"),
    ("relu convention", GOOD.replace("y = 10", "y = 10\nrelu_at_zero = 2"), "problem[1].relu_at_zero"),
    ("paper size", GOOD.replace('name = "t"', 'name = "t"\npaper = "a5"'), "sheet.paper"),
    ("sheet digits", GOOD.replace('name = "t"', 'name = "t"\ndigits = 0'), "sheet.digits"),
    ("problem digits", GOOD.replace("y = 10", "y = 10\ndigits = 2.5"), "problem[1].digits"),
]


@pytest.mark.parametrize("label,text,field", BAD, ids=[b[0] for b in BAD])
def test_bad_spec_is_one_line_exit_2_nothing_written(tmp_path, capsys, label, text, field):
    spec, out = tmp_path / "bad.toml", tmp_path / "out"
    spec.write_text(text)
    assert main(["build", str(spec), "-o", str(out), "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(spec) in err and field in err, err
    assert not out.exists()


def test_bad_spec_leaves_previous_output_in_place(tmp_path, capsys):
    good, bad, out = tmp_path / "t.toml", tmp_path / "bad.toml", tmp_path / "out"
    good.write_text(GOOD)
    assert main(["build", str(good), "-o", str(out), "--no-pdf"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad.write_text(BAD[3][1])
    assert main(["build", str(good), str(bad), "-o", str(out), "--no-pdf"]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_missing_file_is_reported(tmp_path, capsys):
    assert main(["key", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_decimals_are_exact(tmp_path):
    from symderiv.derive import load_spec

    spec = tmp_path / "d.toml"
    spec.write_text(GOOD.replace("y = 10", 'y = 0.1').replace("b = 18", 'b = "1/3"'))
    network = load_spec(spec).problems[0].spec
    assert network.y[0] * 10 == 1 and network.layers[1].b[0] * 3 == 1


def test_decimals_are_remembered_as_written(tmp_path):
    """A number written as a decimal is that exact Rational, remembered as a decimal (it prints
    as written); fractions and whole numbers stay plain; the problem knows it wrote decimals."""
    import sympy as sp

    from symderiv.derive import load_spec
    from symderiv.model import GivenDecimal
    from symderiv.spec import to_rational

    spec = tmp_path / "d.toml"
    spec.write_text(GOOD.replace("y = 10", 'y = 0.25\ndigits = 6').replace("b = 18", 'b = "1/3"'))
    sheet_spec = load_spec(spec)
    problem = sheet_spec.problems[0]
    assert problem.decimals and problem.digits == 6 and sheet_spec.digits == 4
    y = problem.spec.y[0]
    assert y == sp.Rational(1, 4) and hash(y) == hash(sp.Rational(1, 4))
    read = {text: to_rational(text, ValueError, "p") for text in (0.95, "0.5", "1/2", 2.0)}
    assert isinstance(read[0.95], GivenDecimal) and isinstance(read["0.5"], GivenDecimal)
    assert not isinstance(read["1/2"], GivenDecimal) and read[2.0].is_Integer
    spec.write_text(GOOD)
    assert not load_spec(spec).problems[0].decimals
