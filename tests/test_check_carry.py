"""symderiv.check.carry: errors carried forward from wrong numbers and from wrong rules.

Carried-forward values come from a naive network (tests/reference_network.py: Python
Fractions, loops) or from the test's own arithmetic, not from symderiv's derivation.
"""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
import sympy as sp
from reference_network import naive_network

from symderiv.check.carry import carry_forward, recompute_steps, recomputer
from symderiv.check.equivalence import canonical, equivalent
from symderiv.kinds import registry
from symderiv.kinds.network.recompute import recompute as recompute_network
from symderiv.kinds.registry import Kind
from symderiv.model import Answer, Problem, Question, Step

ROOT = Path(__file__).resolve().parent.parent


# ---- errors carried forward: the network ---------------------------------------------


def as_sympy(value) -> sp.Basic:
    if not isinstance(value, list):
        return sp.Rational(value)
    rows = value if isinstance(value[0], list) else [[v] for v in value]
    matrix = sp.ImmutableMatrix([[sp.Rational(v) for v in row] for row in rows])
    return matrix[0, 0] if matrix.shape == (1, 1) else matrix


@pytest.fixture(scope="module")
def network_problem(tmp_path_factory) -> Problem:
    import symderiv

    text = (ROOT / "derivations" / "homework1.toml").read_text()
    first = text.split("[[problem]]")[0] + "[[problem]]" + text.split("[[problem]]")[1]
    path = tmp_path_factory.mktemp("spec") / "network.toml"
    path.write_text(first)
    return symderiv.derive_file(path).problems[0]


def numeric_ids(problem: Problem) -> list[str]:
    """Problem 1's numeric answers (1.1 forward values, 1.3 gradients), in sheet order."""
    return [a.id for q in problem.questions for a in q.answers if not a.id.startswith(f"{problem.number}.2.")]


def same(answer_id: str, value: sp.Basic, expected: sp.Basic) -> bool:
    return equivalent(value, expected).equivalent


def test_naive_network_agrees_with_the_key(network_problem: Problem) -> None:
    """The test's own network reproduces the derived numbers (so it can judge the rest)."""
    naive = naive_network()
    ids = numeric_ids(network_problem)
    assert len(ids) == 14
    for a in (a for q in network_problem.questions for a in q.answers if a.id in ids):
        assert equivalent(as_sympy(naive[a.id.split(".", 2)[2]]), a.value).equivalent, a.id


def test_recompute_network_with_pins_matches_the_naive_network(network_problem: Problem) -> None:
    rng = random.Random(2)
    a2 = [v + rng.randint(1, 5) for v in naive_network()["a2"]]
    naive = naive_network({"a2": a2})
    got = recompute_network(network_problem, {"1.1.a2": as_sympy(a2)})
    for answer_id, value in got.items():
        name = answer_id.split(".", 2)[2]
        assert canonical(value) == as_sympy(naive[name]), answer_id


@pytest.mark.parametrize("slipped", ["a1", "a2", "z2", "a3"])
def test_carried_forward_through_the_network(network_problem: Problem, slipped: str) -> None:
    correct = naive_network()
    wrong = [v + 3 for v in correct[slipped]]
    student = naive_network({slipped: wrong})
    order = numeric_ids(network_problem)
    start = order.index(f"1.1.{slipped}")
    submitted = {i: as_sympy(student[i.split(".", 2)[2]]) for i in order[start:]}
    wrong_ids = [i for i in submitted if submitted[i] != as_sympy(correct[i.split(".", 2)[2]])]
    carried = carry_forward(network_problem, submitted, wrong_ids, same)
    assert f"1.1.{slipped}" not in carried
    assert set(carried) == set(wrong_ids) - {f"1.1.{slipped}"}
    assert all(c.consistent and c.sources == (f"1.1.{slipped}",) for c in carried.values())


def test_a_slip_on_top_of_a_carried_error(network_problem: Problem) -> None:
    student = naive_network({"a2": [v + 4 for v in naive_network()["a2"]]})
    submitted = {"1.1.a2": as_sympy(student["a2"]), "1.1.y_hat": as_sympy(student["y_hat"]),
                 "1.3.dL_db3": 2 * as_sympy(student["dL_db3"])}
    carried = carry_forward(network_problem, submitted, list(submitted), same)
    assert carried["1.1.y_hat"].consistent
    assert not carried["1.3.dL_db3"].consistent
    assert carried["1.3.dL_db3"].value == as_sympy(student["dL_db3"])


def test_unrelated_wrong_answers_are_not_carried(network_problem: Problem) -> None:
    correct = naive_network()
    submitted = {"1.1.a1": as_sympy([v + 1 for v in correct["a1"]]), "1.1.loss": as_sympy(correct["loss"] + 7)}
    carried = carry_forward(network_problem, submitted, list(submitted), same)
    assert not carried["1.1.loss"].consistent


# ---- errors carried forward: generic, from the sheet's own steps ---------------------

n1, n2, E, t, C, E_total, T, r = sp.symbols("n1 n2 E t C E_total T r")


def two_question_problem(data=None) -> Problem:
    """Grid-search-like steps written as records: C = n1 n2, E_total = C E, T = E_total t,
    and a second question reading E_total as a given: r = E_total / 100."""
    values = {n1: 10, n2: 6, E: 10, t: 2}
    c = values[n1] * values[n2]
    q1 = Question("9.1", "Grid", "", tuple((sym, sp.Integer(v)) for sym, v in values.items()),
                  (Step("", C, n1 * n2, value=sp.Integer(c)), Step("", E_total, C * E, value=sp.Integer(c * 10)),
                   Step("", T, E_total * t, value=sp.Integer(c * 20))),
                  (Answer("9.1.C", C, sp.Integer(c)), Answer("9.1.E", E_total, sp.Integer(c * 10)),
                   Answer("9.1.T", T, sp.Integer(c * 20))))
    q2 = Question("9.2", "Ratio", "", ((E_total, sp.Integer(c * 10)),),
                  (Step("", r, E_total / 100, value=sp.Integer(c) / 10),), (Answer("9.2.r", r, sp.Integer(c) / 10),))
    return Problem(9, "Steps", "no-such-kind", (q1, q2), data=data)


def test_generic_recompute_follows_the_steps() -> None:
    problem = two_question_problem()
    got = recompute_steps(problem, {"9.1.C": sp.Integer(16)})
    assert got == {"9.1.C": 16, "9.1.E": 160, "9.1.T": 320, "9.2.r": sp.Rational(16, 10)}


def test_generic_carry_forward() -> None:
    problem = two_question_problem()
    submitted = {"9.1.C": sp.Integer(16), "9.1.E": sp.Integer(160), "9.1.T": sp.Integer(3200),
                 "9.2.r": sp.Rational(16, 10)}
    carried = carry_forward(problem, submitted, list(submitted), same)
    assert carried["9.1.E"].consistent and carried["9.2.r"].consistent
    assert not carried["9.1.T"].consistent and carried["9.1.T"].value == 320


def test_generic_recompute_is_trusted_only_where_it_reproduces_the_key() -> None:
    problem = two_question_problem()
    q1 = problem.questions[0]
    broken = Step("", E_total, C * E + 1, value=q1.steps[1].value)  # the rule disagrees with its value
    bad = Problem(9, "Steps", "no-such-kind", (Question(q1.id, q1.title, "", q1.givens,
                                                         (q1.steps[0], broken, q1.steps[2]), q1.answers),
                                                problem.questions[1]))
    assert "9.1.C" in recomputer(problem).sources
    assert "9.1.C" not in recomputer(bad).sources


def test_a_kinds_own_recompute_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up kind whose rule is E = 10 C + 1 (the steps say 10 C): its hook decides."""
    def recompute(problem: Problem, pinned: dict) -> dict:
        c = pinned.get("9.1.C", sp.Integer(60))
        return {"9.1.C": c, "9.1.E": 10 * c + 1, "9.1.T": 20 * c, "9.2.r": c / 10}

    kind = Kind("made-up", "Made up", lambda f: f, lambda s, n, t: two_question_problem(), recompute=recompute)
    monkeypatch.setitem(registry._REGISTRY, kind.name, kind)
    problem = replace(two_question_problem(), kind=kind.name)
    submitted = {"9.1.C": sp.Integer(61), "9.1.E": sp.Integer(611), "9.1.T": sp.Integer(1220)}
    carried = carry_forward(problem, submitted, list(submitted), same)
    assert carried["9.1.E"].consistent and carried["9.1.T"].consistent
    generic = carry_forward(two_question_problem(), submitted, list(submitted), same)
    assert not generic["9.1.E"].consistent and generic["9.1.E"].value == 610


# ---- errors carried from wrong rules (symbolic answers) into the numbers ---------------


def _by_hand_network(problem: Problem) -> dict:
    return {k: as_sympy(v) for k, v in naive_network().items()}


def test_a_doubled_rule_is_carried_into_every_gradient(network_problem: Problem) -> None:
    """dL/dy_hat doubled: by linearity every gradient doubles (the naive network, times two)."""
    from symderiv.check.carry import predict_from_rules
    from symderiv.check.equivalence import as_reference

    yh, y = sp.MatrixSymbol("y_hat", 1, 1), sp.MatrixSymbol("y", 1, 1)
    wrong = 4 * (yh[0, 0] - y[0, 0])
    predicted = predict_from_rules(network_problem, {"1.2.dL_dy_hat": wrong})
    naive = _by_hand_network(network_problem)
    for answer_id in ("1.3.dL_dW3", "1.3.dL_db3", "1.3.dL_dW2", "1.3.dL_db2", "1.3.dL_dW1", "1.3.dL_db1", "1.3.dL_dx"):
        value, sources = predicted[answer_id]
        assert canonical(value) == canonical(2 * as_reference(naive[answer_id.rsplit(".", 1)[1]])), answer_id
        assert sources == ("1.2.dL_dy_hat",)
    assert "1.1.loss" not in predicted


def test_a_transposed_rule_gives_a_transposed_number(network_problem: Problem) -> None:
    from symderiv.check.carry import predict_from_rules

    da1, x = sp.MatrixSymbol("dL_da1", 3, 1), sp.MatrixSymbol("x", 2, 1)
    predicted = predict_from_rules(network_problem, {"1.2.dL_dW1": x * da1.T})
    naive = _by_hand_network(network_problem)
    assert predicted["1.3.dL_dW1"][0] == naive["dL_dW1"].T
    assert set(predicted) == {"1.3.dL_dW1"}


def test_a_wrong_formula_is_carried_into_its_instances(homework1) -> None:
    """2.2: floor instead of ceiling; the trials follow from the student's formula."""
    import math

    from symderiv.check.carry import predict_from_rules

    problem = next(p for p in homework1.problems if p.number == 2)
    P, q = sp.symbols("P q")
    predicted = predict_from_rules(problem, {"2.2.formula": sp.floor(sp.log(1 - P) / sp.log(1 - q))})
    for answer_id, confidence in (("2.2.trials_95", 0.95), ("2.2.trials_995", 0.995)):
        by_hand = math.floor(math.log(1 - confidence) / math.log(1 - 0.05))
        assert predicted[answer_id] == (by_hand, ("2.2.formula",))


def test_grading_marks_numbers_from_a_wrong_rule_as_carried(network_spec_sheet) -> None:
    import tomllib

    from symderiv.check.grade import grade_submission, parse_submission

    naive = _by_hand_network(network_spec_sheet.problems[0])
    doubled = 2 * naive["dL_db3"]
    text = f'[answers]\n"1.2.dL_dy_hat" = "4(y_hat - y)"\n"1.3.dL_db3" = {doubled}\n'
    graded = {g.id: g for g in grade_submission(network_spec_sheet, parse_submission(tomllib.loads(text))).answers}
    assert graded["1.3.dL_db3"].verdict == "carried_forward"
    assert "1.2.dL_dy_hat" in graded["1.3.dL_db3"].diagnoses[0].message
    assert graded["1.2.dL_dy_hat"].verdict == "incorrect"


@pytest.fixture(scope="module")
def network_spec_sheet(network_problem: Problem):
    from symderiv.model import Sheet

    return Sheet("network", "Network", (network_problem,))
