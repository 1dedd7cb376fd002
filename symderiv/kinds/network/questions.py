"""The three questions of a network problem, built from one solved graph.

Q.1 the forward pass, Q.2 the chain rule for every intermediate (one-step rule,
product of local factors, fully expanded), Q.3 the same rules with the numbers put in.
"""
from __future__ import annotations

import sympy as sp

from symderiv.algebra import substitute
from symderiv.calculus import ACTIVATIONS, SOFTMAX
from symderiv.kinds.network.graph import Quantity, entries, local_values, z_name
from symderiv.model import Answer, Figure, Question, Step

L = sp.Symbol("L")


def _givens(solved) -> tuple:
    return tuple((sym, solved.inputs[sym]) for sym in solved.graph.inputs)


def _applied_values(q: Quantity, a_value: sp.ImmutableMatrix, act: str) -> sp.Basic:
    """``f(a)`` with the numbers of ``a`` inside an unevaluated, printed ``f``."""
    f = sp.Function(ACTIVATIONS[act].label if act != SOFTMAX else "softmax")
    if act == SOFTMAX:
        return f(a_value)
    return sp.ImmutableMatrix([[f(v)] for v in a_value])


def _forward_steps(solved) -> list[Step]:
    graph, steps = solved.graph, []
    numbers = {s: solved.value(s.name) for s in graph.inputs}
    for l, (qa, qz) in enumerate(zip(graph.forward[::2], graph.forward[1::2]), start=1):
        act = graph.activations[l - 1]
        steps.append(Step(f"Pre-activation of layer {l}: the affine map of the layer's input.", qa.symbol,
                          qa.rule, substituted=substitute(qa.rule, numbers), value=solved.value(qa.name)))
        numbers[qa.symbol] = solved.value(qa.name)
        steps.append(Step(f"Activation of layer {l} ({act}), applied entry by entry."
                          if act != SOFTMAX else f"Softmax of layer {l}.", qz.symbol, qz.rule,
                          substituted=_applied_values(qz, numbers[qa.symbol], act), value=solved.value(qz.name)))
        numbers[qz.symbol] = solved.value(qz.name)
    return steps


def _loss_step(solved) -> Step:
    graph = solved.graph
    values = {e: solved.env[e] for s in (graph.symbol("y_hat"), graph.symbol("y")) for e in entries(s)}
    return Step(f"The loss ({graph.loss.replace('_', ' ')}).", L, graph.loss_expr,
                substituted=substitute(graph.loss_expr, values), value=solved.env[L])


def kink_notes(solved) -> tuple[str, ...]:
    """Say where a forward value sits exactly on a kink, so its gradient is a convention."""
    notes = []
    for l, act in enumerate(solved.graph.activations, start=1):
        if act in ACTIVATIONS and ACTIVATIONS[act].kinked:
            for i, v in enumerate(solved.value(f"a{l}")):
                if v == 0:
                    notes.append(f"Entry {i + 1} of a({l}) is exactly 0, the kink of {act}: its derivative there "
                                 f"is the convention {act}'(0) = {solved.graph.settings.relu_at_zero} "
                                 f"(setting relu_at_zero); gradients through it depend on that convention.")
    return tuple(notes)


def forward_pass(solved, qid: str) -> Question:
    graph = solved.graph
    steps = _forward_steps(solved) + [_loss_step(solved)]
    answers = [Answer(f"{qid}.{q.name}", q.symbol, solved.value(q.name)) for q in graph.forward if q.name != f"z{graph.depth}"]
    answers.append(Answer(f"{qid}.loss", L, solved.env[L]))
    return Question(qid, "Forward pass", ("Compute every pre-activation and activation, the prediction and the loss.",),
                    _givens(solved), tuple(steps), tuple(answers), kink_notes(solved))


def chain_product(q: Quantity) -> sp.Basic:
    """``dL/dW(2)`` as the ordered product of its local factors (non-commutative symbols)."""
    return sp.Mul(*[sp.Symbol(f"d{num}_d{den}", commutative=False) for num, den in q.factors])


def expanded_rules(backward: tuple[Quantity, ...]) -> dict[str, sp.Basic]:
    """Each rule with every earlier gradient replaced by its own expansion (shared subtrees)."""
    done: dict[sp.Basic, sp.Basic] = {}
    out = {}
    for q in backward:
        assert q.rule is not None, q.name  # every backward quantity has a rule
        out[q.name] = q.rule.xreplace(done)
        done[q.symbol] = out[q.name]
    return out


def backward_symbolic(solved, qid: str) -> Question:
    graph = solved.graph
    expanded = expanded_rules(graph.backward)
    steps = tuple(Step(_why(q), q.symbol, q.rule, chain_product(q), expanded[q.name]) for q in graph.backward)
    answers = tuple(Answer(f"{qid}.{q.name}", q.symbol, q.rule) for q in graph.backward)
    prompt = ("Derive, in order, the chain-rule expression of every gradient from dL/dy_hat back to dL/dx: "
              "each is the previous one times a local derivative.",)
    return Question(qid, "Backpropagation, symbolically", prompt, (), steps, answers)


def _why(q: Quantity) -> str:
    name = q.name
    if name == "dL_dy_hat":
        return "Differentiate the loss with respect to the prediction."
    if q.local is not None:
        return "Through the activation: multiply by its local derivative (element-wise for element-wise activations)."
    if name.startswith("dL_dW"):
        return "Weights: the upstream gradient times the transposed layer input (an outer product)."
    if name.startswith("dL_db"):
        return "Biases: the local derivative of a with respect to b is the identity."
    if isinstance(q.rule, sp.MatrixSymbol):
        return "The same quantity under another name (an identity step)."
    return "Back to the layer's input: multiply by the transposed weights."


def backward_numbers(solved, qid: str) -> Question:
    graph = solved.graph
    numbers = {s: solved.value(s.name) for s in graph.inputs}
    numbers |= {q.symbol: solved.value(q.name) for q in graph.forward}
    numbers |= {e: solved.env[e] for s in (graph.symbol("y_hat"), graph.symbol("y")) for e in entries(s)}
    numbers |= {sp.MatrixSymbol(n, *v.shape): v for n, v in local_values(graph, solved.env).items()}
    steps = []
    for q in graph.backward:
        steps.append(Step(_why(q), q.symbol, q.rule, substituted=substitute(q.rule, numbers),
                          value=solved.value(q.name)))
        numbers[q.symbol] = solved.value(q.name)
    wanted = [q for q in graph.backward if q.name[4] in "Wb" or q.name == "dL_dx"]
    answers = tuple(Answer(f"{qid}.{q.name}", q.symbol, solved.value(q.name)) for q in wanted)
    prompt = ("Evaluate every gradient at the given numbers; report dL/dW and dL/db of each layer and dL/dx.",)
    return Question(qid, "Backpropagation, in numbers", prompt, (), tuple(steps), answers, kink_notes(solved),
                    (network_figure(solved),))


def network_figure(solved) -> Figure:
    """The network as a graph: forward values on the nodes, gradients beside them."""
    graph, depth = solved.graph, solved.graph.depth
    column = lambda name: tuple(solved.value(name))  # noqa: E731
    forward = tuple(column(z_name(l, depth)) for l in range(depth + 1))
    preact = tuple(column(f"a{l}") for l in range(1, depth + 1))
    grads = (column("dL_dx"),) + tuple(column(f"dL_dz{l}") for l in range(1, depth + 1))
    data = (("widths", graph.widths), ("activations", graph.activations), ("forward", forward),
            ("preact", preact), ("grads", grads))
    return Figure("layered_graph", "The network: forward values z on the nodes, gradients dL/dz beside them.", data)
