"""Tensor answers (rank 3 and 4): read as TOML arrays, nested-list strings and nested
pmatrix LaTeX, compared entry by entry, wrong shapes named, slips diagnosed.

The expected values come from the derived sheet, and every number a test types is
recomputed here with PyTorch autograd on the spec's numbers (never copied from the key).
"""
from __future__ import annotations

import time

import pytest
import sympy as sp
import torch

import symderiv
from symderiv.check.diagnose import diagnose, rotated
from symderiv.check.grade import Grader, parse_submission
from symderiv.check.shapes import describe_shape, shape_of, tensor_fit

X = [[[1, 0, 2, 1, 0], [0, 1, 1, 0, 2], [2, 1, 0, 1, 1], [1, 0, 1, 2, 0], [0, 2, 1, 0, 1]]]
KERNEL = [[[[1, -1], [2, 0]]]]
DENSE = [[1, -1, 0, 2]]
CNN = {"problem": [{
    "kind": "network", "x": X, "y": [3], "loss": "half_squared_error",
    "layer": [{"type": "conv2d", "W": KERNEL, "b": [0], "activation": "relu"},
              {"type": "maxpool", "size": 2}, {"type": "flatten"},
              {"W": DENSE, "b": 0, "activation": "identity"}]}]}


def _torch_cnn() -> dict[str, list]:
    """The CNN's forward values and gradients by PyTorch autograd (float64)."""
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(KERNEL, dtype=torch.float64, requires_grad=True)
    pre = torch.nn.functional.conv2d(x[None], w)[0]              # cross-correlation, as in deep learning
    pooled = torch.nn.functional.max_pool2d(torch.relu(pre)[None], 2)[0]
    out = torch.tensor(DENSE, dtype=torch.float64) @ pooled.reshape(-1, 1)
    loss = 0.5 * (out[0, 0] - 3) ** 2
    loss.backward()
    as_ints = lambda t: t.detach().round().to(torch.int64).tolist()  # noqa: E731 - small integers, exact
    return {"5.1.a1": as_ints(pre), "5.1.z2": as_ints(pooled), "5.3.dL_dW1": as_ints(w.grad),
            "5.3.dL_dx": as_ints(x.grad)}


@pytest.fixture(scope="module")
def cnn():
    sheet = symderiv.derive_table(CNN, name="cnn")
    return Grader(sheet), _torch_cnn()


def _pmatrix(rows: list) -> str:
    body = r"\\".join(" & ".join(map(str, row)) for row in rows)
    return rf"\begin{{pmatrix}}{body}\end{{pmatrix}}"


def _latex(tensor: list, stacked: bool = False) -> str:
    """A rank-3 or rank-4 tensor as a matrix of matrices (a row of channels, one row per filter)."""
    grid = [tensor] if len(_shape(tensor)) == 3 else tensor
    cells = [[_pmatrix(matrix) for matrix in row] for row in grid]
    if stacked:
        cells = [[cell] for row in cells for cell in row]
    return r"\begin{pmatrix}" + r"\\".join(" & ".join(row) for row in cells) + r"\end{pmatrix}"


def _shape(nested: object) -> tuple[int, ...]:
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0]
    return tuple(shape)


def _answer_id(grader: Grader, short: str) -> str:
    return next(i for i in grader.contexts if i.endswith(short))


@pytest.mark.parametrize("short", ["5.1.a1", "5.1.z2", "5.3.dL_dW1", "5.3.dL_dx"])
def test_tensors_in_every_form_grade_correct(cnn, short: str) -> None:
    grader, truth = cnn
    value = truth[short]
    answer_id = _answer_id(grader, short.split(".", 1)[1])
    forms = [value, str(value), _float_nested(value), _latex(value), _latex(value, stacked=True),
             rf"\left[{_latex(value)}\right]"]
    for form in forms:
        result = grader.compare(answer_id, form)
        assert result.verdict == "correct", (form, result.reason)


def _float_nested(value: object) -> object:
    return [_float_nested(v) for v in value] if isinstance(value, list) else float(value)


def test_a_single_channel_may_be_typed_as_its_matrix(cnn) -> None:
    grader, truth = cnn
    assert grader.compare(_answer_id(grader, "1.z2"), str(truth["5.1.z2"][0])).verdict == "correct"
    assert grader.compare(_answer_id(grader, "3.dL_dW1"), str(truth["5.3.dL_dW1"][0][0])).verdict == "correct"


def test_a_wrong_entry_is_named_by_its_index(cnn) -> None:
    grader, truth = cnn
    wrong = [[[v + (1 if (i, j) == (1, 2) else 0) for j, v in enumerate(row)] for i, row in enumerate(channel)]
             for channel in truth["5.3.dL_dx"]]
    result = grader.compare(_answer_id(grader, "3.dL_dx"), str(wrong))
    assert result.verdict == "incorrect"
    assert result.reason.startswith("entry (1, 2, 3):")


def test_a_wrong_shape_names_both_shapes(cnn) -> None:
    grader, truth = cnn
    result = grader.compare(_answer_id(grader, "1.z2"), str([[row + [0] for row in truth["5.1.z2"][0]]]))
    assert result.verdict == "wrong_shape"
    assert result.reason == "expected a 1x2x2 tensor, got a 1x2x3 tensor"


def test_slips_in_a_tensor_are_diagnosed(cnn) -> None:
    grader, truth = cnn
    kernel_grad = truth["5.3.dL_dW1"]
    flipped = [[[row[::-1] for row in matrix[::-1]] for matrix in f] for f in kernel_grad]
    negated = [[[[-v for v in row] for row in m] for m in f] for f in kernel_grad]
    tenfold = [[[[10 * v for v in row] for row in m] for m in f] for f in kernel_grad]
    answer_id = _answer_id(grader, "3.dL_dW1")
    report = grader.grade(parse_submission({"answers": {answer_id: flipped}}))
    kinds = {g.id: [d.kind for d in g.diagnoses] for g in report.answers}
    assert kinds[answer_id] == ["flipped"]
    for slip, kind in ((negated, "sign"), (tenfold, "power_of_ten")):
        expected = grader.contexts[answer_id].expected
        assert [d.kind for d in diagnose(str(slip), expected)] == [kind]


def test_rotated_turns_every_matrix_by_half_a_turn() -> None:
    tensor = sp.ImmutableDenseNDimArray(list(range(8)), (2, 2, 2))
    assert rotated(tensor).tolist() == [[[3, 2], [1, 0]], [[7, 6], [5, 4]]]


def test_a_symmetric_kernel_is_not_called_flipped() -> None:
    symmetric = sp.ImmutableDenseNDimArray([[[1, 2], [2, 1]]])
    assert [d.kind for d in diagnose("[[[1, 2], [2, 2]]]", symmetric)] != ["flipped"]


def test_hostile_nesting_and_sizes_stay_bounded(cnn) -> None:
    grader, truth = cnn
    answer_id = _answer_id(grader, "3.dL_dW1")
    deep = [[[[[0, 10], [25, 5]]]]]
    started = time.process_time()
    assert grader.compare(answer_id, deep).verdict == "unparseable"
    assert grader.compare(answer_id, str(deep)).verdict == "unparseable"
    assert grader.compare(answer_id, [[[[0] * 1000] * 1000]]).verdict == "too_large"   # 10^6 entries
    assert grader.compare(answer_id, str([[[[0] * 1000] * 1000]])).verdict == "too_large"
    assert time.process_time() - started < 10  # a hang detector, not a timing
    # a matrix answer keeps the matrix bound: three deep is refused where a matrix is expected
    assert grader.compare(_answer_id(grader, "3.dL_dW4"), [[[15, 15, 15, 20]]]).verdict == "unparseable"
    assert grader.compare(_answer_id(grader, "3.dL_dW4"), "[[[15, 15, 15, 20]]]").verdict == "unparseable"


def test_ragged_tensors_are_refused(cnn) -> None:
    grader, _ = cnn
    answer_id = _answer_id(grader, "1.z2")
    for ragged in ("[[[3, 3], [3]]]", "[[[3, 3], 3]]", [[[3, 3], [3]]]):
        assert grader.compare(answer_id, ragged).verdict == "unparseable"


def test_shapes_are_described_and_fitted() -> None:
    assert describe_shape((1, 4, 4)) == "a 1x4x4 tensor"
    assert describe_shape((2, 3)) == "a 2x3 matrix"
    assert shape_of(sp.ImmutableDenseNDimArray([[[1]]])) == (1, 1, 1)
    assert tensor_fit((4, 4), (1, 4, 4)) == (1, 4, 4)            # a single channel typed as its matrix
    assert tensor_fit((1, 2, 3, 3), (2, 3, 3)) == (2, 3, 3)      # the sheet's row of channels
    assert tensor_fit((4, 1, 2, 2), (2, 2, 2, 2)) == (2, 2, 2, 2)  # the sheet's stacked blocks
    assert tensor_fit((2, 2, 4), (2, 4, 2)) is None              # the same count, another layout
    assert tensor_fit((3, 1), (1, 3)) is None                    # vectors keep their orientation
