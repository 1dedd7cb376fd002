"""``symderiv verify``: the self-verification must agree on correct gradients and catch wrong ones."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from test_kinds_network import CASES, random_problem, sheet_of

from symderiv.cli import main
from symderiv.kinds.network.verify import verify_network


@pytest.mark.parametrize("widths,acts,loss", CASES[:5])
def test_self_verification_agrees_on_random_networks(widths, acts, loss):
    problem = random_problem(np.random.default_rng(7), widths, acts, loss)
    checks = verify_network(sheet_of(problem).problems[0].data)
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok]


def test_self_verification_catches_a_wrong_gradient(homework1):
    """The verifier must be able to fail: corrupt one engine value and it must notice."""
    solved = homework1.problems[0].data
    env = dict(solved.env)
    target = solved.graph.symbol("dL_dW1")[0, 0]
    env[target] = env[target] + 1
    corrupted = type(solved)(solved.spec, solved.graph, solved.inputs, env)
    assert sum(not c.ok for c in verify_network(corrupted)) == 1


def test_verify_command_checks_every_parameter_and_exits_zero(capsys, homework1):
    spec = homework1.problems[0].data.spec
    parameters = spec.x.rows + sum(layer.W.size + layer.b.size for layer in spec.layers)
    assert main(["verify", "derivations/homework1.toml"]) == 0
    out = capsys.readouterr().out
    assert f"{parameters} gradient entries" in out and "0 differ" in out


def test_self_verification_catches_a_wrong_convolution_gradient():
    """The same on a convolution network, and on an entry sitting on a max-pool tie."""
    import numpy as np
    from test_kinds_network_layers import image_net
    from test_kinds_network_layers import sheet_of as layers_sheet

    problem = image_net(np.random.default_rng(2))
    problem["x"] = [[[1, 1, 0, 2, 2], [1, 1, 0, 2, 2], [0, 3, 3, 0, 1], [1, 0, 1, 0, 1], [2, 2, 1, 1, 0]]]
    solved = layers_sheet(problem).problems[0].data
    assert all(c.ok for c in verify_network(solved))
    for name in ("dL_dW1", "dL_dx"):
        env = dict(solved.env)
        from symderiv.kinds.network.graph import entries

        target = next(iter(entries(solved.graph.quantity(name)).flat))
        env[target] = env[target] + 1
        corrupted = type(solved)(solved.spec, solved.graph, solved.inputs, env)
        assert sum(not c.ok for c in verify_network(corrupted)) == 1, name


#: A network whose exact values (a loss near 10^700) are far past float64's range.
HUGE = {"x": [1e200, 2], "y": 1,
        "layer": [{"W": [[1e150, 2], [3, 1]], "b": [0, 1], "activation": "relu"},
                  {"W": [[1, 1]], "b": 0, "activation": "identity"}]}


def test_verification_past_float64_checks_at_high_precision():
    """Where float64 overflows only the high-precision differences speak: every entry agrees
    (the digits grow with the magnitude: at 60 digits the difference of two losses near
    10^700 would be noise), and the report says float64 overflowed."""
    from symderiv.kinds.network.verify import verify_problem

    found = verify_problem(sheet_of(HUGE).problems[0])
    assert found.ok and len(found.checks) == 11, [c for c in found.checks if not c.ok]
    assert any("float64 overflows for 11; checked at" in note for note in found.notes), found.notes


def test_verification_past_float64_still_catches_a_wrong_gradient():
    """A relative error of 10^-15 in one huge entry (x[2]'s, about 6 x 10^350) is caught."""
    solved = sheet_of(HUGE).problems[0].data
    env = dict(solved.env)
    target = solved.graph.symbol("dL_dx")[1, 0]
    env[target] = env[target] * (1 + sp.Rational(1, 10**15))
    corrupted = type(solved)(solved.spec, solved.graph, solved.inputs, env)
    assert [c.name for c in verify_network(corrupted) if not c.ok] == ["dL/dx[2]"]
