"""Calculus rules as data: one row per operation, read by every derivation that needs one.

* :data:`ACTIVATIONS`: element-wise functions ``f`` with ``f'`` beside them;
* :data:`LOSSES`: losses, with the shortcut some take through the output activation;
* :data:`OPS`: layer operations (dense, conv2d, pooling, flatten, batch norm, dropout,
  softmax and every activation as an operation), each a :class:`~symderiv.calculus.core.Op`
  with forward rule, vector-Jacobian product, shape rule, printed name and array code.

Code that walks a graph of operations looks a row up by name here and never tests which
operation it holds: adding an operation is adding a row.
"""
from __future__ import annotations

from symderiv.calculus.activations import ACTIVATIONS, SOFTMAX, Activation, elementwise, softmax
from symderiv.calculus.core import Call, Config, Name, Op, Printed, Settings, Show, Tensor
from symderiv.calculus.linear import CONV2D, DENSE, out_size
from symderiv.calculus.losses import LOSSES, Fused, Loss, loss_op
from symderiv.calculus.normalization import BN_MEAN, BN_NORM, BN_SCALE, BN_VAR, DROPOUT
from symderiv.calculus.pooling import AVGPOOL, FLATTEN, MAXPOOL

#: Every layer operation by name: the activations' rows, then the vector operations.
OPS: dict[str, Op] = {name: elementwise(act) for name, act in ACTIVATIONS.items()}
OPS |= {op.name: op for op in (SOFTMAX, DENSE, CONV2D, MAXPOOL, AVGPOOL, FLATTEN, BN_MEAN, BN_VAR, BN_NORM,
                              BN_SCALE, DROPOUT)}

__all__ = ["ACTIVATIONS", "LOSSES", "OPS", "Activation", "Call", "Config", "Fused", "Loss", "Name", "Op", "Printed",
           "Settings", "Show", "Tensor", "loss_op", "out_size", "softmax"]
