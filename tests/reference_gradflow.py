"""Independent references for gradient flow through plain and residual chains, used only by tests.

Nothing here imports symderiv: derivatives are carried forward layer by layer in exact
arithmetic, the way forward-mode differentiation computes them.
"""
from __future__ import annotations

from fractions import Fraction


def exact_forward_mode(upstream: Fraction, slope: Fraction, depth: int, block: int | None) -> Fraction:
    """dL/dx of a linear network, by carrying dy/dx forward layer by layer in exact arithmetic."""
    dy = Fraction(1)
    if block is None:
        for _ in range(depth):
            dy = slope * dy
        return upstream * dy
    for _ in range(depth // block):
        dh = dy
        for _ in range(block):
            dh = slope * dh
        dy = dh + dy                                   # the skip adds the block input's derivative
    return upstream * dy
