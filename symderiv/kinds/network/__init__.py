"""Problem kind ``network``: forward pass and backpropagation through a network of layers.

Spec fields (see README, "Spec format")::

    kind = "network"
    x = [2, 1]                  # input: a vector, an image [channel][row][column]
    y = 10                      # target (number or vector)
    loss = "squared_error"      # see symderiv.calculus.LOSSES
    batch = false               # true: x and y list the examples, the loss is their mean
    relu_at_zero = 0            # the convention ReLU'(0); optional
    leaky_slope = 0.01          # for leaky_relu; optional
    [[problem.layer]]           # one per layer, input side first
    type = "dense"              # or conv2d, maxpool, avgpool, flatten, batchnorm, dropout
    W = [[1, 0], [3, 4], [1, 2]]
    b = [0, -2, 5]
    activation = "relu"

The derivation is three questions: the forward pass, the symbolic chain rule for
every intermediate, and its numbers.
"""
from __future__ import annotations

import sympy as sp

from symderiv.kinds.network.kernels import problem_kernels
from symderiv.kinds.network.notation import notation
from symderiv.kinds.network.questions import backward_numbers, backward_symbolic, forward_pass
from symderiv.kinds.network.recompute import recompute
from symderiv.kinds.network.solve import Solved, solve
from symderiv.kinds.network.spec import NetworkSpec, parse
from symderiv.kinds.network.variants import CHECKS as VARIANT_CHECKS
from symderiv.kinds.network.verify import verify_problem
from symderiv.kinds.registry import Kind, register
from symderiv.model import Problem

__all__ = ["KIND", "NetworkSpec", "Solved", "derive", "parse", "solve"]

#: How the introduction names a layer type, for students.
_LAYER_WORDS = {"dense": "dense", "conv2d": "convolution", "maxpool": "max pooling", "avgpool": "average pooling",
                "flatten": "flatten", "batchnorm": "batch normalization", "dropout": "dropout"}


def derive(spec: NetworkSpec, number: int, title: str) -> Problem:
    """The three questions of a network problem, from one solved graph."""
    solved = solve(spec)
    questions = (forward_pass(solved, f"{number}.1"), backward_symbolic(solved, f"{number}.2"),
                 backward_numbers(solved, f"{number}.3"))
    return Problem(number, title, "network", questions, intro=_intro(spec),
                   notation=notation(solved.graph), data=solved)


def _intro(spec: NetworkSpec) -> tuple:
    if all(layer.type == "dense" for layer in spec.layers) and not spec.batch:
        return _dense_intro(spec)
    layers = "; ".join(_describe(layer) for layer in spec.layers)
    batch = f" on a batch of {spec.y_shape[1]} examples (the loss is their mean)" if spec.batch else ""
    return (f"A network of {len(spec.layers)} layers, input side first: {layers}; with the "
            f"{spec.loss.replace('_', ' ')} loss{batch}.",)


def _describe(layer) -> str:
    from symderiv.calculus import ACTIVATIONS

    words = _LAYER_WORDS[layer.type]
    act = ACTIVATIONS.get(layer.activation)
    if layer.activation and layer.activation != "identity":
        words += f" then {act.words if act is not None else layer.activation}"
    return words


def _dense_intro(spec: NetworkSpec) -> tuple:
    from symderiv.calculus import ACTIVATIONS

    widths = " - ".join(str(w) for w in spec.widths)
    acts = ", ".join(ACTIVATIONS[a].words if a in ACTIVATIONS else a for a in spec.activations)
    nc = lambda name: sp.Symbol(name, commutative=False)  # noqa: E731  (keeps factor order)
    rule = sp.Eq(nc("a(l)"), sp.Add(nc("W(l)") * nc("z(l-1)"), nc("b(l)"), evaluate=False), evaluate=False)
    x, last = sp.MatrixSymbol("x", spec.widths[0], 1), sp.MatrixSymbol("y_hat", spec.widths[-1], 1)
    return (f"A dense network of widths {widths} with activations {acts} (input side first) "
            f"and the {spec.loss.replace('_', ' ')} loss. Layer ", sp.Symbol("l"), " computes ", rule,
            " and then applies its activation entry by entry; ", nc("z(0)"), " is the input ", x,
            " and the last layer's output is the prediction ", last, ".")


KIND = register(Kind("network", "Forward pass and backpropagation", parse, derive,
                     doc=__doc__ or "", verify=verify_problem, kernels=problem_kernels, recompute=recompute,
                     variant_checks=VARIANT_CHECKS))
