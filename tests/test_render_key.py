"""The answer key is strict JSON, whatever the size of its numbers: beyond float64's range a
value is a JSON number with its exponent (``1.0000000000000000e+500``), never ``Infinity``."""
from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest

from symderiv.derive import derive_table
from symderiv.render.key import render_key


def reject(constant: str):
    raise AssertionError(f"not JSON: {constant}")


def strict(text: str) -> dict:
    """The key read as strict JSON, numbers as exact decimals (a float would overflow)."""
    return json.loads(text, parse_constant=reject, parse_float=Decimal)


def gradflow(upstream: float, local: float) -> dict:
    return {"problem": [{"kind": "gradflow", "chain": {"upstream": upstream, "local": [local, local]},
                         "residual": {"upstream": upstream},
                         "depths": {"upstream": upstream, "local": local, "plain": [1, 3], "residual": [2],
                                    "block": 1}}]}


def test_the_homework_key_is_strict_json(homework1):
    assert strict(render_key(homework1))


@pytest.mark.parametrize("upstream,local", [(1e300, 1e50), (-1e300, 1e50), (1e-300, 1e-50)])
def test_values_beyond_float_range_are_json_numbers_near_the_exact_value(upstream, local):
    sheet = derive_table(gradflow(upstream, local))
    key = strict(render_key(sheet))
    for answer_id, entry in key.items():
        if "value" not in entry or not isinstance(entry["value"], Decimal):
            continue
        exact = Fraction(sheet.answer(answer_id).value.p, sheet.answer(answer_id).value.q)
        assert abs(Fraction(entry["value"]) - exact) <= abs(exact) * Fraction(1, 10 ** 16), answer_id
    values = [e["value"] for e in key.values() if isinstance(e.get("value"), Decimal)]
    assert any(abs(v) > Decimal("1.8e308") or 0 < abs(v) < Decimal("1e-308") for v in values), "beyond float64"
