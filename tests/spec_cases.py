"""Bad-spec cases shared by the kind tests: one helper, so each case is one line of data."""
from __future__ import annotations

import functools
import json

import pytest

from symderiv.derive import derive_table
from symderiv.errors import SpecError


def cases(bad: list[tuple]) -> dict:
    """``pytest.mark.parametrize`` arguments for (label, problem, field, message) rows."""
    return {"argnames": "problem,field,message", "argvalues": [b[1:] for b in bad], "ids": [b[0] for b in bad]}


def assert_names_the_field(problem: dict, field: str, message: str) -> None:
    """Deriving ``problem`` fails with a SpecError on ``problem[1].<field>`` whose text has ``message``."""
    with pytest.raises(SpecError) as info:
        derive_table({"problem": [problem]}, source="hw.toml")
    assert info.value.field == f"problem[1].{field}", str(info.value)
    assert message in info.value.problem, str(info.value)


def derived_problem(kind: str, spec: dict):
    """The problem of one ``kind`` table, derived once per spec (several tests read the same
    cases, and the random stacks are derived by more than one)."""
    return _derived(kind, json.dumps(spec, sort_keys=True))


@functools.cache
def _derived(kind: str, text: str):
    return derive_table({"problem": [{"kind": kind, **json.loads(text)}]}).problems[0]


def answers_by_name(problem) -> dict:
    """The problem's answers by their name (the id without ``problem.question.``)."""
    return {a.id.split(".", 2)[2]: a.value for q in problem.questions for a in q.answers}
