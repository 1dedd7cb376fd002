"""Problem kind ``network``: forward pass and backpropagation through a dense network.

Spec fields (see README, "Spec format")::

    kind = "network"
    x = [2, 1]                  # input vector
    y = 10                      # target (number or vector)
    loss = "squared_error"      # see symderiv.calculus.LOSSES
    relu_at_zero = 0            # the convention ReLU'(0); optional
    leaky_slope = 0.01          # for leaky_relu; optional
    [[problem.layer]]           # one per layer, input side first
    W = [[1, 0], [3, 4], [1, 2]]
    b = [0, -2, 5]
    activation = "relu"

The derivation is three questions: the forward pass, the symbolic chain rule for
every intermediate, and its numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symderiv.calculus import ACTIVATIONS, LOSSES, SOFTMAX, Settings
from symderiv.kinds.registry import Kind, register
from symderiv.kinds.network.graph import Graph, build_graph, matrix_value, run_program
from symderiv.kinds.network.kernels import problem_kernels
from symderiv.kinds.network.notation import notation
from symderiv.kinds.network.questions import backward_numbers, backward_symbolic, forward_pass
from symderiv.kinds.network.recompute import recompute
from symderiv.kinds.network.verify import verify_problem
from symderiv.model import Problem
from symderiv.spec import Fields


@dataclass(frozen=True)
class Layer:
    W: sp.ImmutableMatrix
    b: sp.ImmutableMatrix
    activation: str


@dataclass(frozen=True)
class NetworkSpec:
    x: sp.ImmutableMatrix
    y: sp.ImmutableMatrix
    layers: tuple[Layer, ...]
    loss: str
    settings: Settings

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.x.rows,) + tuple(layer.W.rows for layer in self.layers)

    @property
    def activations(self) -> tuple[str, ...]:
        return tuple(layer.activation for layer in self.layers)


def parse(f: Fields) -> NetworkSpec:
    """Validate a network spec: shapes chain, names are known, the loss fits the output."""
    f.check_known({"x", "y", "loss", "layer", "relu_at_zero", "leaky_slope"})
    settings = Settings(f.number("relu_at_zero", 0, low=0, high=1),
                        f.number("leaky_slope", "1/100", low=0, high=1, open_high=True))
    x, y = f.vector("x"), f.vector("y")
    layers = tuple(_parse_layer(lf) for lf in f.subs("layer"))
    _check_shapes(f, x, y, layers)
    loss = f.str("loss", "squared_error", choices=LOSSES)
    allowed = LOSSES[loss].outputs
    if allowed is not None and layers[-1].activation not in allowed:
        raise f.fail("loss", f"{loss} needs a {' or '.join(allowed)} output layer, "
                             f"not {layers[-1].activation}")
    if loss == "cross_entropy":
        _check_probabilities(f)
    return NetworkSpec(x, y, layers, loss, settings)


def _check_probabilities(f: Fields) -> None:
    """Cross-entropy targets are probabilities (soft targets need not sum to 1: the
    derivation uses softmax's full Jacobian, not the shortcut ``z - y``)."""
    f.numbers("y", check=lambda v: None if 0 <= v <= 1 else
              f"a cross-entropy target is a probability in [0, 1], got {v}")


def _parse_layer(f: Fields) -> Layer:
    f.check_known({"W", "b", "activation"})
    activation = f.str("activation", choices=set(ACTIVATIONS) | {SOFTMAX})
    return Layer(f.matrix("W"), f.vector("b"), activation)


def _check_shapes(f: Fields, x, y, layers: tuple[Layer, ...]) -> None:
    rows = x.rows
    for i, layer in enumerate(layers, start=1):
        where = f"layer[{i}]"
        if layer.W.cols != rows:
            raise f.fail(f"{where}.W", f"has {layer.W.cols} columns but its input has {rows} entries "
                                       f"(W must be {layer.W.rows}x{rows})")
        if layer.b.rows != layer.W.rows:
            raise f.fail(f"{where}.b", f"has {layer.b.rows} entries but W has {layer.W.rows} rows")
        if layer.activation == SOFTMAX and i != len(layers):
            raise f.fail(f"{where}.activation", "softmax is only allowed on the output layer")
        rows = layer.W.rows
    if y.rows != rows:
        raise f.fail("y", f"has {y.rows} entries but the network outputs {rows}")


def numbers(spec: NetworkSpec, graph: Graph) -> dict:
    """The spec's numbers keyed by the graph's input symbols."""
    values = {graph.symbol("x"): spec.x, graph.symbol("y"): spec.y}
    for l, layer in enumerate(spec.layers, start=1):
        values[graph.symbol(f"W{l}")] = layer.W
        values[graph.symbol(f"b{l}")] = layer.b
    return values


@dataclass(frozen=True)
class Solved:
    """A network spec with its graph and exact values: what kernels and checks reuse."""

    spec: NetworkSpec
    graph: Graph
    inputs: dict
    env: dict

    def value(self, name: str) -> sp.ImmutableMatrix:
        """The exact value of any named quantity (``a2``, ``dL_dW1``, ``x``)."""
        return matrix_value(self.graph.symbol(name), self.env)


def solve(spec: NetworkSpec) -> Solved:
    """Build the symbolic graph and run it on the spec's numbers."""
    graph = build_graph(spec.widths, spec.activations, spec.loss, spec.settings)
    inputs = numbers(spec, graph)
    return Solved(spec, graph, inputs, run_program(graph, inputs))


def derive(spec: NetworkSpec, number: int, title: str) -> Problem:
    """The three questions of a network problem, from one solved graph."""
    solved = solve(spec)
    questions = (forward_pass(solved, f"{number}.1"), backward_symbolic(solved, f"{number}.2"),
                 backward_numbers(solved, f"{number}.3"))
    return Problem(number, title, "network", questions, intro=_intro(spec),
                   notation=notation(solved.graph), data=solved)


def _intro(spec: NetworkSpec) -> tuple:
    widths = " - ".join(str(w) for w in spec.widths)
    acts = ", ".join(spec.activations)
    nc = lambda name: sp.Symbol(name, commutative=False)  # noqa: E731  (keeps factor order)
    rule = sp.Eq(nc("a(l)"), sp.Add(nc("W(l)") * nc("z(l-1)"), nc("b(l)"), evaluate=False), evaluate=False)
    return (f"A dense network of widths {widths} with activations {acts} (input side first) "
            f"and the {spec.loss.replace('_', ' ')} loss. Layer l computes ", rule,
            " and then applies its activation entry by entry; z(0) is the input x and the last z is the prediction.")


KIND = register(Kind("network", "Backpropagation through a dense network", parse, derive,
                     doc=__doc__ or "", verify=verify_problem, kernels=problem_kernels, recompute=recompute))
