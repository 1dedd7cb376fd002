"""Self-verification of an architecture problem, by enumeration rather than by formula.

* Output sides: every start position of the window is tried, and those whose every tap
  lies in the padded input are counted.
* Parameters and MACs: the weight tensors' shapes as PyTorch allocates them
  (``(C_out, C_in/g, k_h, k_w)`` and a bias of C_out; ``(F_out, F_in)``), their element
  counts multiplied out; MACs as the weights' size times the output positions.
* Receptive fields: the set of input pixels (padding included) that the centre position
  of each layer reads, composed tap by tap back to the input, against the recurrence.

This is the kind's ``verify`` hook (``symderiv verify SPEC``); the tests check the same
quantities against PyTorch modules, ``FlopCounterMode`` and autograd.
"""
from __future__ import annotations

from math import prod

from symderiv.kinds.architecture.layers import Layer, count
from symderiv.kinds.architecture.parse import ArchitectureSpec
from symderiv.kinds.conv.size import Axis
from symderiv.kinds.registry import Check, Verification
from symderiv.model import Problem

WHAT = "layer results checked by enumerating window positions, weight tensors and receptive pixels"


def starts(axis: Axis) -> int:
    """How many window positions fit, by trying every start (0-based, padded coordinates)."""
    return sum(1 for t in range(0, axis.padded, axis.s) if t + (axis.k - 1) * axis.d < axis.padded)


def weight_shapes(layer: Layer) -> list[tuple[int, ...]]:
    """The trained tensors of a layer, as PyTorch allocates them."""
    spec = layer.spec
    if spec.type == "conv2d":
        kh, kw = spec.window.kernel  # type: ignore[union-attr]
        return [(layer.shape[0], layer.shape_in[0] // spec.groups, kh, kw)] + ([(layer.shape[0],)] if spec.bias else [])
    if spec.type == "linear":
        return [(layer.shape[0], layer.shape_in[0])] + ([(layer.shape[0],)] if spec.bias else [])
    if spec.type.startswith("batchnorm") and spec.affine:
        return [(layer.shape[0],), (layer.shape[0],)]
    return []


def enumerated_macs(layer: Layer, batch: int) -> int:
    """Weight uses: each output position of each example uses every weight of its filter once."""
    if layer.spec.type not in ("conv2d", "linear"):
        return 0
    weights = prod(weight_shapes(layer)[0])
    positions = prod(layer.shape[1:]) if layer.spec.type == "conv2d" else 1
    return batch * weights * positions


def seen(spec: ArchitectureSpec, upto: int, axis: int, positions: frozenset[int]) -> frozenset[int]:
    """Input pixels (0-based; outside 0 .. n-1 is padding) read by ``positions`` of layer ``upto``.

    Walks back tap by tap; a residual add reads the same positions of both its operands.
    """
    for index in range(upto, 0, -1):
        layer = spec.layers[index - 1]
        if layer.axes is not None:
            a = layer.axes[axis]
            positions = frozenset(t * a.s - a.before + u * a.d for t in positions for u in range(a.k))
        elif layer.spec.source is not None:
            return seen(spec, index - 1, axis, positions) | seen(spec, layer.spec.source, axis, positions)
    return positions


def _field_checks(spec: ArchitectureSpec) -> list[Check]:
    checks = []
    for layer in spec.layers:
        reach = spec.reaches[layer.index]
        if reach is None:
            continue
        for axis, side in ((0, "height"), (1, "width")):
            centre = (layer.shape[1 + axis] - 1) // 2
            pixels = seen(spec, layer.index, axis, frozenset({centre}))
            expected = reach[axis].at(centre)
            checks.append(Check(f"layer {layer.index} receptive field ({side})", (min(pixels), max(pixels)) == expected,
                                f"enumerated {min(pixels)}..{max(pixels)}, recurrence {expected[0]}..{expected[1]}"))
    return checks


def _layer_checks(spec: ArchitectureSpec, layer: Layer) -> list[Check]:
    label = f"layer {layer.index}"
    checks = [Check(f"{label} parameters", count(layer.kind.params(layer)) == sum(prod(s) for s in
                                                                                   weight_shapes(layer)),
                    f"formula {count(layer.kind.params(layer))}, tensors {weight_shapes(layer)}"),
              Check(f"{label} MACs", count(layer.kind.macs(layer, spec.batch)) == enumerated_macs(layer, spec.batch),
                    f"formula {count(layer.kind.macs(layer, spec.batch))}, enumerated "
                    f"{enumerated_macs(layer, spec.batch)}")]
    if layer.axes is not None:
        sides = tuple(starts(a) for a in layer.axes)
        checks.append(Check(f"{label} output size", sides == layer.shape[1:], f"enumerated {sides}, "
                                                                             f"formula {layer.shape[1:]}"))
    return checks


def verify(problem: Problem) -> Verification:
    """The kind's ``verify`` hook: every layer's sizes, counts and receptive field, by enumeration."""
    spec: ArchitectureSpec = problem.data
    checks = [c for layer in spec.layers for c in _layer_checks(spec, layer)] + _field_checks(spec)
    return Verification(WHAT, tuple(checks))
