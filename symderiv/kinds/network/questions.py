"""The three questions of a network problem, built from one solved graph.

Q.1 the forward pass, Q.2 the chain rule for every intermediate (one-step rule, product
of local factors, fully expanded), Q.3 the same rules with the numbers put in. Every
step's rule, text and local symbols come from the graph's records, which come from the
rules table: nothing here knows which operation a node holds.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from symderiv.algebra import node_count, substitute
from symderiv.calculus import OPS
from symderiv.calculus.values import as_tensor
from symderiv.kinds.network.graph import Quantity, entries
from symderiv.model import Answer, Figure, Question, Step

L = sp.Symbol("L")


def _givens(solved) -> tuple:
    return tuple((sym, solved.inputs[sym]) for sym in solved.graph.inputs)


def _node_values(solved, q: Quantity, grad: Quantity | None = None) -> dict[str, Any]:
    """The numbers of a node's arguments, output and (given) upstream gradient, by role."""
    node = solved.graph.nodes[q.node]
    roles = dict(node.args) | {"out": node.output} | ({"grad": grad.name} if grad is not None else {})
    return {role: solved.value(name) for role, name in roles.items()}


def _tensors(solved, values: dict[str, Any]) -> dict[str, np.ndarray]:
    return {role: as_tensor(v, _shape(v)) for role, v in values.items()}


def _shape(v: Any) -> tuple[int, ...]:
    if isinstance(v, sp.MatrixBase):
        return (v.rows,) if v.cols == 1 else v.shape
    return v.shape if isinstance(v, sp.NDimArray) else ()


def _entry_numbers(solved, *names: str) -> dict:
    return {e: solved.env[e] for name in names for e in entries(solved.graph.quantity(name)).flat}


# -- Q.1 ----------------------------------------------------------------------------------------

def _forward_step(solved, q: Quantity, numbers: dict) -> Step:
    node = solved.graph.nodes[q.node]
    show, value = node.op.show, solved.value(q.name)
    substituted = None
    if show.numbers and q.rule is not None:
        applied = show.applied(_node_values(solved, q), node.config)
        substituted = applied if applied is not None else substitute(q.rule, numbers)
    rule = q.shown if q.shown is not None else q.rule
    return Step(q.text, q.symbol, rule, substituted=substituted, value=value, math=q.math)


def _loss_step(solved) -> Step:
    graph = solved.graph
    expr = graph.loss_expr
    return Step(graph.quantity("L").text, L, expr, substituted=substitute(expr, _entry_numbers(solved, "y_hat", "y")),
                value=solved.value("L"))


def kink_notes(solved) -> tuple:
    """Say where a forward value sits on a kink (or a tie), so its gradient is a convention."""
    notes: list = []
    for q in solved.graph.forward:
        node = solved.graph.nodes[q.node]
        values = _tensors(solved, _node_values(solved, q))
        for role, index, message in node.op.kinks(values, values["out"], node.config):
            where = ", ".join(str(i + 1) for i in index)
            notes.append((f"Entry ({where}) of ", solved.graph.symbol(node.output if role == "out" else node.arg(role)),
                          f" {message}"))
    return tuple(notes)


def forward_pass(solved, qid: str) -> Question:
    graph = solved.graph
    numbers = {s: solved.inputs[s] for s in graph.inputs}
    steps = []
    for q in graph.forward:
        if q.name == "L":
            continue
        steps.append(_forward_step(solved, q, numbers))
        numbers[q.symbol] = solved.value(q.name)
    steps.append(_loss_step(solved))
    answers = [Answer(f"{qid}.{q.name}", q.symbol, solved.value(q.name)) for q in graph.forward if q.name != "L"]
    answers.append(Answer(f"{qid}.loss", L, solved.value("L")))
    return Question(qid, "Forward pass", ("Compute every pre-activation and activation, the prediction and the loss.",),
                    _givens(solved), tuple(steps), tuple(answers), kink_notes(solved))


# -- Q.2 ----------------------------------------------------------------------------------------

def chain_product(q: Quantity) -> sp.Basic:
    """``dL/dW(2)`` as the ordered product of its local factors (non-commutative symbols);
    a quantity with several paths to the loss is the sum of one product per path."""
    products = [sp.Mul(*[sp.Symbol(f"d{num}_d{den}", commutative=False) for num, den in path]) for path in q.paths]
    return products[0] if len(products) == 1 else sp.Add(*products)


def expanded_rules(backward: tuple[Quantity, ...]) -> dict[str, sp.Basic]:
    """Each rule with every earlier gradient replaced by its own expansion (shared subtrees)."""
    done: dict[sp.Basic, sp.Basic] = {}
    out = {}
    for q in backward:
        assert q.rule is not None, q.name  # every backward quantity has a rule
        out[q.name] = q.rule.xreplace(done)
        done[q.symbol] = out[q.name]
    return out


_DERIVED = "How this rule follows from the forward rule, entry by entry."

#: A fully expanded rule larger than this (symbols, numbers and operations) is left out: past
#: it the line runs to several widths of the page and teaches nothing the product does not
#: (homework 1's largest has 56; a batch-norm network's over 400).
MAX_EXPANDED_NODES = 80


def _symbolic_step(q: Quantity, expanded: sp.Basic) -> Step:
    """One gradient: its one-step rule, its product of local factors, and its full expansion
    when that stays readable."""
    size = node_count(expanded)
    if size <= MAX_EXPANDED_NODES:
        return Step(q.text, q.symbol, q.rule, chain_product(q), expanded)
    note = (f"Written out in full, with every earlier gradient put in, this rule has {size} terms and symbols: "
            "too long to show.")
    return Step(q.text, q.symbol, q.rule, chain_product(q), note=note)


def backward_symbolic(solved, qid: str) -> Question:
    graph = solved.graph
    expanded = expanded_rules(graph.backward)
    steps: list[Step] = []
    shown: set = set()
    for q in graph.backward:
        new = tuple(r for r in q.derivation if r not in shown)
        shown.update(new)
        if new:
            steps.append(Step(q.derivation_text or _DERIVED, math=new))
        steps.append(_symbolic_step(q, expanded[q.name]))
    answers = tuple(Answer(f"{qid}.{q.name}", q.symbol, q.rule) for q in graph.backward)
    prompt = ("Derive, in order, the chain-rule expression of every gradient from ", graph.backward[0].symbol,
              " back to ", graph.quantity("dL_dx").symbol, ": each is the previous one times a local derivative.")
    return Question(qid, "Backpropagation, symbolically", prompt, (), tuple(steps), answers, graph.notes)


# -- Q.3 ----------------------------------------------------------------------------------------

def _local_numbers(solved) -> dict:
    """Numbers of every local-derivative symbol (``f'(a)``, a Jacobian), for the sheet."""
    out = {}
    for q in solved.graph.forward:
        node = solved.graph.nodes[q.node] if q.node is not None else None
        if q.local is None or node is None or node.op.show.local_value is None:
            continue
        value = node.op.show.local_value(_node_values(solved, q), node.config)
        if value is not None:
            out[q.local] = value
    return out


def _backward_step(solved, q: Quantity, numbers: dict) -> Step:
    graph, value = solved.graph, solved.value(q.name)
    readable = q.source is not None or q.fused is not None or all(graph.nodes[k].op.show.numbers for k, _ in q.parts)
    substituted = substitute(q.rule, numbers) if readable else None
    table = None
    if len(q.parts) == 1 and q.fused is None:
        k = q.parts[0][0]
        node = graph.nodes[k]
        out = graph.quantity(node.output)
        upstream = [g for g in graph.backward if g.of == node.output]
        if upstream:
            table = node.op.show.detail(_tensors(solved, _node_values(solved, out, upstream[-1])), node.config)
    return Step(q.text, q.symbol, q.rule, substituted=substituted, value=value, table=table)


def backward_numbers(solved, qid: str) -> Question:
    graph = solved.graph
    numbers = {s: solved.inputs[s] for s in graph.inputs}
    numbers |= {q.symbol: solved.value(q.name) for q in graph.forward if q.name != "L"}
    numbers |= _entry_numbers(solved, "y_hat", "y") | _local_numbers(solved)
    steps = []
    for q in graph.backward:
        steps.append(_backward_step(solved, q, numbers))
        numbers[q.symbol] = solved.value(q.name)
    wanted = [q for q in graph.backward if (q.of is not None and graph.quantity(q.of).trainable and q.source is None)
              or q.name == "dL_dx"]
    answers = tuple(Answer(f"{qid}.{q.name}", q.symbol, solved.value(q.name)) for q in wanted)
    prompt = ("Evaluate every gradient at the given numbers; report the gradient of every parameter and ",
              graph.quantity("dL_dx").symbol, ".")
    figure = network_figure(solved)
    notes = kink_notes(solved) + (() if figure is not None else (_NO_FIGURE,))
    return Question(qid, "Backpropagation, in numbers", prompt, (), tuple(steps), answers, notes,
                    (figure,) if figure is not None else ())


_NO_FIGURE = "No network diagram is drawn: it shows dense layers on one example only."


def network_figure(solved) -> Figure | None:
    """The network as a graph: forward values on the nodes, gradients beside them (dense
    layers on one example; None otherwise)."""
    spec, graph = solved.spec, solved.graph
    if spec.batch or any(layer.type != "dense" for layer in spec.layers):
        return None
    column = lambda q: tuple(solved.value(q.name))  # noqa: E731
    outputs = [graph.quantity("x")] + [_by_role(graph, "out", l) for l in range(1, graph.depth + 1)]
    preact = tuple(column(_by_role(graph, "pre", l)) for l in range(1, graph.depth + 1))
    grads = tuple(column([g for g in graph.backward if g.of == q.name][-1]) for q in outputs)
    words = tuple(OPS[act].words for act in graph.activations)
    data = (("widths", graph.widths), ("activations", words), ("forward", tuple(column(q) for q in outputs)),
            ("preact", preact), ("grads", grads))
    return Figure("layered_graph", "The network: the forward values on the nodes, beside each the gradient of the "
                                   "loss with respect to it.", data)


def _by_role(graph, role: str, layer: int) -> Quantity:
    return next(q for q in graph.forward if q.role == role and q.layer == layer)
