"""``symderiv verify``: the self-verification must agree on correct gradients and catch wrong ones."""
from __future__ import annotations

import numpy as np
import pytest
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
