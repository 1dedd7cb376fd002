"""Bad-spec cases shared by the kind tests: one helper, so each case is one line of data."""
from __future__ import annotations

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
