"""Names from a spec print as themselves: SymPy's reading of suffixes as accents and fonts
(``xhat`` -> \\hat{x}, ``xscr`` -> \\mathscr{x}, undefined in our preamble) is off, for
every suffix SymPy knows; Greek names and trailing digits print as before."""
from __future__ import annotations

import re
import shutil

import pytest
import sympy as sp
from sympy.printing.latex import accepted_latex_functions, modifier_dict

from symderiv.derive import derive_table
from symderiv.render import pdf
from symderiv.render.latex import render_latex
from symderiv.render.printer import SheetPrinter

#: Every suffix SymPy's LaTeX printer treats specially, alone and after a letter.
SUFFIXES = sorted(set(modifier_dict) | set(accepted_latex_functions))
NAMES = SUFFIXES + ["x" + s for s in SUFFIXES] + ["X" + s.upper() for s in SUFFIXES]
NEED_TEX = pytest.mark.skipif(shutil.which("pdflatex") is None, reason=f"TeX not installed: {pdf.INSTALL}")


@pytest.mark.parametrize("name", NAMES)
def test_a_name_prints_as_its_letters(name):
    assert SheetPrinter().doprint(sp.Symbol(name)) == name


@pytest.mark.parametrize("name,latex", [("lambda1", r"\lambda_{1}"), ("rho", r"\rho"), ("Sigma", r"\Sigma"),
                                        ("lamda", r"\lambda"), ("h10", "h_{10}"), ("xhat2", "xhat_{2}"),
                                        ("alphahat", "alphahat"), ("w_1", "w_{1}"), ("a100", "a_{100}")])
def test_greek_names_and_digits_keep_their_print(name, latex):
    assert SheetPrinter().doprint(sp.Symbol(name)) == latex


@pytest.mark.parametrize("name", sorted(accepted_latex_functions))
def test_a_function_of_any_name_is_an_operator_or_a_command_latex_defines(name):
    text = SheetPrinter().doprint(sp.Function(name)(sp.Symbol("x")))
    head = text.split("{", 1)[0]
    assert head in {rf"\{name}" for name in ("arcsin", "arccos", "arctan", "sin", "cos", "tan", "sinh", "cosh",
                                             "tanh", "ln", "log", "sec", "csc", "cot", "coth", "arg")} \
        or text.startswith(rf"\operatorname{{{name}}}"), text


def test_tex_special_characters_in_a_name_are_escaped():
    assert SheetPrinter().doprint(sp.Symbol("a$b%c")) == r"a\$b\%c"


def test_a_name_holding_latex_written_by_a_kind_is_kept():
    assert SheetPrinter().doprint(sp.Symbol("y_{j-1}")) == "y_{j-1}"


def _sheet_of_names(names: list[str]):
    """A search sheet with every name as a hyperparameter (20 to a problem)."""
    problems = [{"kind": "search", "grid": {"epochs_per_combination": 1, "minutes_per_epoch": 1,
                                            "hyperparameter": [{"name": n, "values": 2} for n in names[i:i + 20]]}}
                for i in range(0, len(names), 20)]
    return derive_table({"problem": problems}, name="names")


@NEED_TEX
def test_every_suffix_typesets_as_a_hyperparameter_name():
    """One TeX run over a sheet whose hyperparameters carry every suffix: no undefined command."""
    names = [n for n in NAMES if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,31}", n)]
    tex = render_latex(_sheet_of_names(names))
    assert r"\mathscr" not in tex and r"\hat{x}" not in tex
    assert pdf.compile_pdf(tex, "names") is not None
