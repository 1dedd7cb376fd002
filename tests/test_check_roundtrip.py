"""The property the checker must have: the answer key's own strings are graded correct.

For every spec we ship (``derivations/*.toml``) and for generated specs covering every
kind and activation, the key is made at test time (``render.key.key_entries``, so a
change of the sheet's printer is tested as it lands) and each answer's ``latex``,
``exact`` and ``value`` is graded against the sheet, as a student's answer would be.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import symderiv
from symderiv.check.grade import Grader
from symderiv.render.key import key_entries

ROOT = Path(__file__).resolve().parent.parent

GENERATED = {
    "tanh-sigmoid-cross-entropy": {"problem": [{
        "kind": "network", "x": [1, -2], "y": [1, 0], "loss": "cross_entropy",
        "layer": [{"W": [[1, 2], [-1, 0.5]], "b": [0, 1], "activation": "tanh"},
                  {"W": [[1, -1], [2, 1]], "b": [0.5, 0], "activation": "sigmoid"}]}]},
    "leaky-softmax": {"problem": [{
        "kind": "network", "x": [1, 2], "y": [0, 1, 0], "loss": "cross_entropy",
        "layer": [{"W": [[1, 0], [0, 1]], "b": [0, 0], "activation": "leaky_relu"},
                  {"W": [[1, 0], [0, 1], [1, 1]], "b": [0, 0, 0], "activation": "softmax"}]}]},
    "relu-half-squared": {"problem": [{
        "kind": "network", "x": 3, "y": 2, "loss": "half_squared_error",
        "layer": [{"W": [[2], [-1]], "b": [1, 1], "activation": "relu"},
                  {"W": [[1, 1]], "b": 0, "activation": "identity"}]}]},
    "conv-filters-channels": {"problem": [{
        "kind": "conv",
        "size": [{"input": [32, 20, 3], "filters": 8, "kernel": [5, 3], "padding": "same", "dilation": [2, 1]}],
        "apply": {"input": [[[1, 2, 0], [0, 1, 3], [2, 2, 1]], [[0, 1, 1], [1, 0, 2], [1, 1, 0]]],
                  "kernel": [[[[1, 0], [0, 1]], [[1, 1], [0, 0]]], [[[0, 1], [1, 0]], [[1, 0], [0, -1]]]]}}]},
    "search-fractions": {"problem": [{"kind": "search", "random": {"success_rate": "1/3", "confidence": ["2/3", 0.9]},
                                      "grid": {"epochs_per_combination": 3, "minutes_per_epoch": 1.5,
                                               "hyperparameter": [{"name": "eta", "values": 4}]}}]},
    "cnn-two-channels": {"problem": [{
        "kind": "network", "x": [[[1, 0, 2, 1], [0, 1, 1, 0], [2, 1, 0, 1], [1, 0, 1, 2]],
                                 [[0, 1, 0, 2], [1, 0, 2, 1], [0, 2, 1, 0], [1, 1, 0, 1]]],
        "y": [1, 2], "loss": "half_squared_error",
        "layer": [{"type": "conv2d", "b": [0, 1], "activation": "relu",
                   "W": [[[[1, -1], [0, 2]], [[0, 1], [1, 0]]], [[[2, 0], [-1, 1]], [[1, 1], [0, -1]]]]},
                  {"type": "maxpool", "size": 3}, {"type": "flatten"},
                  {"W": [[1, -1], [0, 2]], "b": [0, 1], "activation": "identity"}]}]},
    "batchnorm-dropout-batch": {"problem": [{
        "kind": "network", "batch": True, "x": [[2, 1], [0, 3], [1, 1], [3, 0]], "y": [1, 0, 1, 2],
        "loss": "mean_squared_error",
        "layer": [{"W": [[1, 1], [2, -1]], "b": [1, 0], "activation": "relu"},
                  {"type": "batchnorm", "gamma": [2, 1], "beta": [1, 0]},
                  {"type": "dropout", "mask": [[1, 1], [0, 1], [1, 0], [1, 1]], "keep": 0.75},
                  {"W": [[1, -2]], "b": 0, "activation": "identity"}]}]},
    "gradflow-negative": {"problem": [{
        "kind": "gradflow", "chain": {"upstream": 0.3, "local": [0.9, -0.5, 0.25]}, "residual": {"upstream": 0.3},
        "depths": {"upstream": 1, "local": 0.9, "plain": [1, 3], "residual": [2], "block": 2}}]},
}

#: Key strings known not to grade as correct (keep it empty, and say why for any entry).
KNOWN: set[tuple[str, str, str]] = set()


def _sheets() -> list[tuple[str, object]]:
    shipped = [(path.name, path) for path in sorted((ROOT / "derivations").glob("*.toml"))]
    return shipped + sorted(GENERATED.items())


def _derived(name: str, source, request: pytest.FixtureRequest):
    if isinstance(source, Path) and source.resolve() == (ROOT / "derivations" / "homework1.toml").resolve():
        return request.getfixturevalue("homework1")  # derived once per session (conftest)
    return symderiv.derive_file(source) if isinstance(source, Path) else symderiv.derive_table(source, name=name)


@pytest.mark.parametrize("name, source", _sheets(), ids=[n for n, _ in _sheets()])
def test_every_key_string_grades_as_correct(name: str, source, request: pytest.FixtureRequest) -> None:
    sheet = _derived(name, source, request)
    key, grader = key_entries(sheet), Grader(sheet)
    failures = {}
    for answer in sheet.answers():
        for form in ("latex", "exact", "value"):
            if form in key[answer.id]:
                result = grader.compare(answer.id, key[answer.id][form])
                if not result.equivalent:
                    failures[(name, answer.id, form)] = f"{key[answer.id][form]!r}: {result.verdict}, {result.reason}"
    unexpected = {k: v for k, v in failures.items() if k not in KNOWN}
    assert not unexpected, unexpected
    fixed = {k for k in KNOWN if k[0] == name} - set(failures)
    assert not fixed, f"now graded correct, remove from KNOWN: {fixed}"


def test_the_key_says_which_answers_are_tuples(homework1) -> None:
    """An autograder reading only the key JSON gets the grader's semantics for shapes."""
    from symderiv.check import equivalent

    key = key_entries(homework1)
    tuples = {i for i, entry in key.items() if entry.get("tuple")}
    assert tuples == {"4.1.output_shape", "4.2.output_shape"}
    for answer_id in tuples:
        value = key[answer_id]["value"]
        for written in (" x ".join(map(str, value)), str(value), [value]):
            assert equivalent(written, tuple(value)).verdict == "correct"
        assert equivalent(str(value), value).verdict == "correct"     # a flat list: a column, as written
