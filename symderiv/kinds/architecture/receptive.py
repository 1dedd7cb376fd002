"""Receptive fields and jumps of a stack, one axis at a time.

Position i of a windowed layer reads positions i s - p, ..., i s - p + (k - 1) d of its
input; if neighbouring input positions are j input pixels apart (the *jump*) and the
first of them sees input pixels lo .. hi, the layer's first position sees

    lo' = lo - p j,    hi' = hi + (d (k - 1) - p) j,    j' = j s,

so its receptive field r = hi - lo + 1 grows by (k_eff - 1) j: the recurrence the sheet
derives. Pixels are 0-based and may be negative or past the input: those lie in the
padding. A residual add sees what either operand sees (the union of the two windows);
its operands must step through the input alike (equal jumps), or their positions would
not line up.
"""
from __future__ import annotations

from dataclasses import dataclass

from symderiv.kinds.architecture.layers import Layer
from symderiv.kinds.conv.size import Axis


@dataclass(frozen=True)
class Reach:
    """Along one axis: input pixels ``lo .. hi`` seen by a layer's first position, and the jump."""

    lo: int
    hi: int
    jump: int

    @property
    def size(self) -> int:
        """The receptive field r: how many input pixels the window spans."""
        return self.hi - self.lo + 1

    def at(self, position: int) -> tuple[int, int]:
        """The pixels seen by output ``position`` (0-based): the window moved by ``position`` jumps."""
        return self.lo + position * self.jump, self.hi + position * self.jump


#: The input itself: each pixel sees itself, and neighbours are one pixel apart.
PIXEL = Reach(0, 0, 1)


def through(before: Reach, axis: Axis) -> Reach:
    """The reach after a window of ``axis.k`` taps, dilation ``axis.d``, stride ``axis.s``."""
    return Reach(before.lo - axis.before * before.jump, before.hi + (axis.k_eff - 1 - axis.before) * before.jump,
                 before.jump * axis.s)


def union(a: Reach, b: Reach) -> Reach | None:
    """What a sum of two maps sees; None when their jumps differ (positions do not line up)."""
    return Reach(min(a.lo, b.lo), max(a.hi, b.hi), a.jump) if a.jump == b.jump else None


#: Per layer, the reach along height and width; None once the layers are flat (every output
#: then depends on the whole input).
Reaches = tuple[tuple[Reach, Reach] | None, ...]


class ReachError(ValueError):
    """An add whose operands' jumps differ; ``index`` is the add's layer number (from 1)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def reaches(layers: tuple[Layer, ...]) -> Reaches:
    """The reach of every layer's output, in order (index 0 is the stack's input).

    Raises :class:`ReachError` for an add whose operands' jumps differ.
    """
    out: list[tuple[Reach, Reach] | None] = [(PIXEL, PIXEL)]
    for layer in layers:
        out.append(_next(layer, out[-1], out))
    return tuple(out)


def _next(layer: Layer, before: tuple[Reach, Reach] | None, done: list) -> tuple[Reach, Reach] | None:
    if before is None or len(layer.shape) == 1:
        return None
    if layer.axes is not None:
        return through(before[0], layer.axes[0]), through(before[1], layer.axes[1])
    if layer.spec.source is not None:
        other = done[layer.spec.source]
        for a, b in zip(before, other):
            if union(a, b) is None:
                raise ReachError(layer.index, f"its operands step through the input with different jumps "
                                              f"({a.jump} and {b.jump} pixels), so their positions do not line up")
        return union(before[0], other[0]), union(before[1], other[1])  # type: ignore[return-value]
    return before
