"""Problem kind ``search``: grid counts by enumeration, random-search trials by exact and Monte Carlo checks."""
from __future__ import annotations

import itertools
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_search import least_n_by_loop, monte_carlo_hit

from symderiv.derive import derive_sheet, parse_sheet
from symderiv.errors import SpecError
from symderiv.kinds.search import id_suffix, least_trials
from symderiv.render.latex import render_latex
from symderiv.spec import Fields

HOMEWORK = {
    "grid": {"epochs_per_combination": 10, "minutes_per_epoch": 2,
             "hyperparameter": [{"name": "lambda1", "values": 10}, {"name": "lambda2", "values": 6},
                                {"name": "rho", "values": 5}]},
    "random": {"success_rate": 0.05, "confidence": [0.95, 0.995]},
}


def sheet_of(*problems: dict):
    """Derive a sheet whose problems are the given search tables, numbered from 1."""
    table = {"problem": [{"kind": "search", **p} for p in problems]}
    return derive_sheet(parse_sheet(Fields(table, "test.toml"), "t"))


def answers(sheet) -> dict:
    return {a.id: a.value for a in sheet.answers()}


# ------------------------------------------------------------------ independent references

# --------------------------------------------------------------------------------- grid search

def grid_problem(counts: list[int], epochs: int, minutes) -> dict:
    return {"grid": {"epochs_per_combination": epochs, "minutes_per_epoch": minutes,
                     "hyperparameter": [{"name": f"h{i}", "values": c} for i, c in enumerate(counts)]}}


GRID_CASES = [([10, 6, 5], 10, 2)] + [
    ([int(c) for c in np.random.default_rng(seed).integers(1, 8, size=1 + seed % 4)], 1 + seed % 5,
     ["1/2", 3, 0.25, "7/3"][seed % 4]) for seed in range(40)]


@pytest.mark.parametrize("counts, epochs, minutes", GRID_CASES)
def test_grid_counts_match_enumeration(counts, epochs, minutes):
    got = answers(sheet_of(grid_problem(counts, epochs, minutes)))
    grid = list(itertools.product(*[range(c) for c in counts]))
    per_epoch = Fraction(str(minutes))
    assert got["1.1.combinations"] == len(grid)
    assert got["1.1.epochs"] == sum(epochs for _ in grid)
    assert got["1.1.minutes"] == sp.Rational(sum(epochs * per_epoch for _ in grid))


def test_grid_steps_go_from_symbols_to_numbers():
    question = sheet_of(HOMEWORK).problems[0].questions[0]
    first, last = question.steps[0], question.steps[-1]
    assert isinstance(first.rule, sp.Product)
    assert first.chain.free_symbols and not first.value.free_symbols
    assert last.expanded.xreplace(dict(question.givens)) == last.value      # the general form gives the number


# ------------------------------------------------------------------------------ random search

RATES = [Fraction(1, k) for k in (2, 3, 5, 7, 10, 20, 33, 50, 100)] + [Fraction(j, 10) for j in range(1, 10)]
TARGETS = [Fraction(1, 2), Fraction(2, 3), Fraction(9, 10), Fraction(19, 20), Fraction(99, 100),
           Fraction(199, 200), Fraction(999, 1000), Fraction(1, 100)]
# (1 - q)^N == 1 - P exactly: the log ratio is a whole number, where a float ceiling can slip.
EXACT = [(1 - r, 1 - r**k) for r in (Fraction(1, 2), Fraction(2, 3), Fraction(9, 10), Fraction(1, 7))
         for k in (1, 2, 3, 7, 20)]


@pytest.mark.parametrize("q, p", [(q, p) for q in RATES for p in TARGETS] + EXACT)
def test_least_trials_is_minimal_exactly(q, p):
    trials = least_trials(sp.Rational(q.numerator, q.denominator), sp.Rational(p.numerator, p.denominator))
    assert 1 - (1 - q) ** trials >= p                     # N trials reach the confidence
    assert 1 - (1 - q) ** (trials - 1) < p                # N - 1 do not
    assert trials == least_n_by_loop(q, p)


@pytest.mark.parametrize("q, p", [(Fraction(1, 5000), Fraction(99, 100)), (Fraction(3, 40000), Fraction(1, 2)),
                                  (Fraction(1, 2), 1 - Fraction(1, 2) ** 4000)])
def test_least_trials_for_large_n(q, p):
    """Thousands of trials: N and N - 1 checked in exact rational arithmetic."""
    trials = least_trials(sp.Rational(q.numerator, q.denominator), sp.Rational(p.numerator, p.denominator))
    assert trials > 1000
    assert 1 - (1 - q) ** trials >= p > 1 - (1 - q) ** (trials - 1)


@pytest.mark.parametrize("offset", [-5, -1, 1, 4])
def test_least_trials_corrects_a_wrong_float_guess(monkeypatch, offset):
    """The float estimate is only a start: exact comparisons move it to the true least N."""
    import symderiv.kinds.search as search

    true_estimate = search._estimate
    monkeypatch.setattr(search, "_estimate", lambda q, p: max(true_estimate(q, p) + offset, 1))
    cases = [(Fraction(1, 20), Fraction(19, 20)), (Fraction(1, 2), Fraction(3, 4)), (Fraction(1, 3), Fraction(1, 2))]
    for q, p in cases:
        assert least_trials(sp.Rational(q.numerator, q.denominator),
                            sp.Rational(p.numerator, p.denominator)) == least_n_by_loop(q, p)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 199), st.integers(2, 200), st.integers(1, 999), st.integers(2, 1000))
def test_least_trials_on_generated_rationals(a, b, c, e):
    q, p = Fraction(min(a, b - 1), b), Fraction(min(c, e - 1), e)
    trials = least_trials(sp.Rational(q.numerator, q.denominator), sp.Rational(p.numerator, p.denominator))
    assert 1 - (1 - q) ** trials >= p > 1 - (1 - q) ** (trials - 1)


@pytest.mark.parametrize("q, p, seed", [(0.05, 0.95, 1), (0.05, 0.995, 2), (0.2, 0.9, 3), (0.01, 0.5, 4),
                                        (0.3, 0.99, 5), (0.5, 0.75, 6)])
def test_trials_against_monte_carlo(q, p, seed):
    got = answers(sheet_of({"random": {"success_rate": q, "confidence": [p]}}))
    trials = got[f"1.1.trials_{id_suffix(sp.Rational(str(p)))[0]}"]
    rng = np.random.default_rng(seed)
    hit, se = monte_carlo_hit(q, int(trials), rng, 200_000)
    assert hit >= p - 3 * se                              # N is enough...
    miss, se = monte_carlo_hit(q, int(trials) - 1, rng, 200_000)
    assert miss <= p + 3 * se                             # ...and N - 1 is not more than enough


def test_homework_answer_ids_and_formula():
    got = answers(sheet_of(HOMEWORK))
    assert {"1.2.formula", "1.2.trials_95", "1.2.trials_995"} <= set(got)
    formula = got["1.2.formula"]
    P, q = sp.Symbol("P"), sp.Symbol("q")
    assert formula.free_symbols == {P, q}
    for rate, target in [(Fraction(1, 20), Fraction(19, 20)), (Fraction(1, 20), Fraction(199, 200)),
                         (Fraction(3, 10), Fraction(9, 10)), (Fraction(1, 7), Fraction(1, 2))]:
        value = formula.subs({P: sp.Rational(target.numerator, target.denominator),
                              q: sp.Rational(rate.numerator, rate.denominator)})
        assert int(value) == least_n_by_loop(rate, target)
    for key, target in (("1.2.trials_95", Fraction(19, 20)), ("1.2.trials_995", Fraction(199, 200))):
        assert got[key] == least_n_by_loop(Fraction(1, 20), target)


def test_inequality_steps_flip_at_the_negative_log():
    steps = sheet_of(HOMEWORK).problems[0].questions[1].steps
    sign, divided = steps[4].math[-1], steps[5].math[0]
    N, P, q = sp.symbols("N P q")
    # the stated sign: SymPy's solveset finds log(1 - q) < 0 on the whole interval (0, 1)
    assert sign == (sp.log(1 - q) < 0)
    assert sp.solveset(sign, q, sp.Interval.open(0, 1)) == sp.Interval.open(0, 1)
    # the stated division: SymPy's solver of linear inequalities, with the factor negative, agrees
    c, b, n = sp.Symbol("c", negative=True), sp.Symbol("b", real=True), sp.Symbol("N", real=True)
    solved = sp.solve(sp.Le(n * c, b), n).canonical
    assert solved.xreplace({c: sp.log(1 - q), b: sp.log(1 - P), n: N}) == divided
    assert divided == sp.Ge(N, sp.log(1 - P) / sp.log(1 - q))
    for trials, holds in ((59, True), (58, False)):     # the derived bound agrees with the exact check
        assert bool(divided.subs({N: trials, P: sp.Rational(19, 20), q: sp.Rational(1, 20)})) is holds


@pytest.mark.parametrize("p, suffix", [("0.95", "95"), ("0.995", "995"), ("0.5", "5"), ("0.05", "05"),
                                       ("2/3", "2_3"), ("0.999", "999")])
def test_id_suffix_from_decimal_digits(p, suffix):
    assert id_suffix(sp.Rational(p))[0] == suffix
    got = answers(sheet_of({"random": {"success_rate": 0.1, "confidence": [p]}}))
    assert f"1.1.trials_{suffix}" in got


def test_random_alone_is_question_one():
    got = answers(sheet_of({"random": {"success_rate": "1/4", "confidence": 0.9}}))
    assert got["1.1.trials_9"] == least_n_by_loop(Fraction(1, 4), Fraction(9, 10))


# ------------------------------------------------------------------------------- bad input

BAD = [
    ({"random": {"success_rate": 0, "confidence": [0.9]}}, "random.success_rate"),
    ({"random": {"success_rate": 1, "confidence": [0.9]}}, "random.success_rate"),
    ({"random": {"success_rate": 1.5, "confidence": [0.9]}}, "random.success_rate"),
    ({"random": {"success_rate": -0.1, "confidence": [0.9]}}, "random.success_rate"),
    ({"random": {"success_rate": "1/10000000", "confidence": [0.9]}}, "random.success_rate"),
    ({"random": {"success_rate": 0.1, "confidence": [0.9, 1.0]}}, "random.confidence[2]"),
    ({"random": {"success_rate": 0.1, "confidence": [0]}}, "random.confidence[1]"),
    ({"random": {"success_rate": 0.1, "confidence": [0.9, "9/10"]}}, "random.confidence[2]"),
    ({"random": {"success_rate": 0.1, "confidence": []}}, "random.confidence"),
    ({"random": {"success_rate": 0.1}}, "random.confidence"),
    ({"random": {"confidence": [0.9]}}, "random.success_rate"),
    (grid_problem([10, 0], 10, 2), "grid.hyperparameter[2].values"),
    (grid_problem([10, 2.5], 10, 2), "grid.hyperparameter[2].values"),
    (grid_problem([-3], 10, 2), "grid.hyperparameter[1].values"),
    (grid_problem([10], 0, 2), "grid.epochs_per_combination"),
    (grid_problem([10], 1.5, 2), "grid.epochs_per_combination"),
    (grid_problem([10], 10, -2), "grid.minutes_per_epoch"),
    (grid_problem([10], 10, 0), "grid.minutes_per_epoch"),
    ({"grid": {"epochs_per_combination": 1, "minutes_per_epoch": 1,
               "hyperparameter": [{"name": "a", "values": 2}, {"name": "a", "values": 3}]}},
     "grid.hyperparameter[2].name"),
    ({"grid": {"epochs_per_combination": 1, "minutes_per_epoch": 1,
               "hyperparameter": [{"name": "\\input{x}", "values": 2}]}}, "grid.hyperparameter[1].name"),
    ({"grid": {"epochs_per_combination": 1, "minutes_per_epoch": 1, "hyperparameter": []}}, "grid.hyperparameter"),
    ({}, "grid"),
    ({"random": {"success_rate": 0.1, "confidence": 0.9, "seed": 1}}, "random.seed"),
]


@pytest.mark.parametrize("problem, field", BAD)
def test_bad_input_names_the_field(problem, field):
    with pytest.raises(SpecError) as err:
        sheet_of(problem)
    assert f"problem[1].{field}" in str(err.value)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_sheet_typesets(tmp_path):
    """Both questions, including the exact-integer bound, compile without a LaTeX error."""
    sheet = sheet_of(HOMEWORK, {"random": {"success_rate": 0.5, "confidence": [0.75, "2/3"]}})
    (tmp_path / "s.tex").write_text(render_latex(sheet), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "s.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
