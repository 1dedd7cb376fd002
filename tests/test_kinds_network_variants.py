"""The network's variant check ``no_kink``, against pre-activations recomputed by the oracle."""
from __future__ import annotations

from pathlib import Path

import reference_variants as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.derive import derive_file
from symderiv.kinds import kinds
from symderiv.kinds.network.variants import no_kink
from symderiv.variants.toml_text import dumps


def network_spec(x, W1, b1, W2, b2) -> dict:
    layers = [{"W": W1, "b": b1, "activation": "relu"}, {"W": W2, "b": b2, "activation": "relu"}]
    return {"problem": [{"kind": "network", "x": x, "y": 1, "layer": layers}]}


def test_the_network_kind_offers_the_check():
    assert kinds()["network"].variant_checks["no_kink"] is no_kink


def test_homework1_has_no_kink_and_a_zero_pre_activation_is_one(homework1, tmp_path):
    assert no_kink(homework1.problems[0]) is None
    path = tmp_path / "kink.toml"
    path.write_text(dumps(network_spec([2, 1], [[1, 0], [3, 4]], [-2, 1], [[1, 1]], [3])))
    reason = no_kink(derive_file(path).problems[0])
    assert reason is not None and "ReLU(0)" in reason and "z1" in reason


SMALL = st.integers(-2, 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(SMALL, min_size=2, max_size=2), st.lists(st.lists(SMALL, min_size=2, max_size=2), min_size=2,
       max_size=2), st.lists(SMALL, min_size=2, max_size=2), st.lists(SMALL, min_size=2, max_size=2), SMALL)
def test_fuzz_a_kink_is_found_exactly_when_a_relu_pre_activation_is_zero(tmp_path_factory, x, W1, b1, W2, b2):
    path: Path = tmp_path_factory.mktemp("net") / "net.toml"
    path.write_text(dumps(network_spec(x, W1, b1, [W2], [b2])))
    on_kink = any(v == 0 for _, layer in ref.network_preactivations(path, 1) for v in layer)
    assert (no_kink(derive_file(path).problems[0]) is not None) is on_kink
