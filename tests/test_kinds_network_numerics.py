"""The numerics policy: exact while small, 40-digit floats past that, and the key says which.

Independent checks: the exact answers of homework 1 stay rationals; the float answers of
deep sigmoid/tanh networks agree with 60-digit central differences of a forward pass
written with mpmath (``tests/reference_network.py``) to 25 digits, so every printed digit
is certain; and the key marks exactly the answers that hold a float as numeric.
"""
from __future__ import annotations

import json
import re

import mpmath
import pytest
import reference_network as ref
import sympy as sp
from test_kinds_network import sheet_of

from symderiv.kinds.network.numerics import EXACT_NODES, Evaluator, settle
from symderiv.render.key import render_key


def deep(act: str, depth: int = 4) -> dict:
    """A 2-3-...-3-1 network with two-decimal weights (as a person writes them)."""
    widths = [2] + [3] * (depth - 1) + [1]
    layers = [{"W": [[f"{(-1) ** (i + j) * (0.37 + 0.11 * (i + 2 * j + l)):.2f}" for j in range(widths[l])]
                     for i in range(widths[l + 1])],
               "b": [f"{0.05 * (i - l):.2f}" for i in range(widths[l + 1])], "activation": act}
              for l in range(depth)]
    return {"x": ["0.50", "-1.25"], "y": "0.30", "loss": "squared_error", "layer": layers}


def test_homework_answers_stay_exact(homework1):
    for answer in homework1.answers():
        if answer.id.startswith("1.") and isinstance(answer.value, sp.Basic):
            assert not answer.value.has(sp.Float), answer.id


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_deep_transcendental_networks_become_floats_that_are_right_to_25_digits(act):
    problem = deep(act)
    solved = sheet_of(problem).problems[0].data
    params = {"x": problem["x"], "y": [problem["y"]]}
    for l, layer in enumerate(problem["layer"], start=1):
        params[f"W{l}"], params[f"b{l}"] = layer["W"], layer["b"]
    expected = ref.mp_gradients(params, [act] * 4, "squared_error")
    assert solved.value("dL_dW1").has(sp.Float)
    with mpmath.workdps(60):
        for name, grads in expected.items():
            got = list(solved.value(f"dL_d{name}"))
            for g, e in zip(got, grads):
                value = mpmath.mpf(str(sp.N(g, 45)))
                assert abs(value - e) <= mpmath.mpf("1e-25") * max(1, abs(e)), (name, g, e)


def test_small_closed_forms_stay_exact_and_large_ones_do_not():
    run = Evaluator()
    a = sp.Symbol("a")
    run.set(a, sp.Rational(3, 8))
    small = run.run(sp.Symbol("s"), 1 / (1 + sp.exp(-a)))
    assert small == 1 / (1 + sp.exp(-sp.Rational(3, 8)))
    terms = [sp.Symbol(f"t{k}") for k in range(12)]
    for t in terms:
        run.set(t, small)
    large = run.run(sp.Symbol("big"), sp.Add(*terms))
    assert isinstance(large, sp.Float) and large == pytest.approx(12 * float(small))
    assert sp.Add(*[small] * 12).count_ops() > 3  # the exact form it avoided


def test_long_rationals_become_floats():
    assert settle(sp.Rational(3, 7)) == sp.Rational(3, 7)
    huge = sp.Rational(1, 3) ** 200
    assert isinstance(settle(huge), sp.Float) and settle(huge) == pytest.approx(float(huge))
    assert EXACT_NODES >= 10


def test_the_key_marks_numeric_answers():
    """Numeric answers carry 40 significant digits in ``exact``; exact ones no decimal point."""
    key = json.loads(render_key(sheet_of(deep("sigmoid", 3))))
    assert key["1.3.dL_dW1"]["numeric"] is True and key["1.1.a1"].get("numeric") is None
    for answer_id, entry in key.items():
        decimals = re.findall(r"-?\d+\.\d+", entry["exact"])
        if entry.get("numeric"):
            assert decimals and all(len(d.lstrip("-0.").replace(".", "")) >= 30 for d in decimals), answer_id
        else:
            assert not decimals, answer_id
