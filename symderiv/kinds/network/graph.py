"""The symbolic network: named quantities, the nodes that make them, and backpropagation.

This is the derivation itself, read from the rules table (:data:`symderiv.calculus.OPS`):
the graph is a list of nodes, each one row applied to named quantities, and nothing here
knows which operation a node holds. Every quantity of the forward and backward pass is a
named symbol whose rule refers to earlier quantities by name, so the work and the
expressions grow linearly with depth (the naive way, differentiating the composed loss,
grows about 3.5x per layer).

Backpropagation is generic reverse mode: nodes are visited from the loss back, each
sends one vector-Jacobian product per differentiable input, and a quantity's gradient
is complete when every node that reads it has sent its part. One part is a plain chain
rule step; several (batch normalization's input reaches the loss through the mean, the
variance and the normalized values) are added.

Two views of the same derivation are kept side by side:

* matrix level, for the sheet: each quantity's rule as the row prints it;
* scalar level, for numbers, kernels and verification: a straight-line program of
  assignments ``target = expr`` whose targets are the entries of those same symbols
  (:meth:`Graph.program`, built on demand from the records).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.calculus import LOSSES, OPS, Config, Op, Printed, loss_op
from symderiv.calculus.core import Tensor
from symderiv.calculus.printing import formula, shaped
from symderiv.calculus.values import as_tensor
from symderiv.kinds.network.notation import Written, alias_written, gradient_name, written
from symderiv.kinds.network.spec import NetworkSpec
from symderiv.model import Prose

#: How a layer type becomes nodes: (operation, {argument: source}, output role). A source
#: is ``in`` (the layer's input), a role made earlier in the layer, or a parameter or
#: constant of the layer; ``@activation`` is the layer's activation.
LAYER_NODES: dict[str, tuple[tuple[str, dict[str, str], str], ...]] = {
    "dense": (("dense", {"input": "in", "W": "W", "b": "b"}, "pre"), ("@activation", {"input": "pre"}, "out")),
    "conv2d": (("conv2d", {"input": "in", "W": "W", "b": "b"}, "pre"), ("@activation", {"input": "pre"}, "out")),
    "maxpool": (("maxpool", {"input": "in"}, "out"),),
    "avgpool": (("avgpool", {"input": "in"}, "out"),),
    "flatten": (("flatten", {"input": "in"}, "out"),),
    "dropout": (("dropout", {"input": "in", "mask": "mask"}, "out"),),
    "batchnorm": (("bn_mean", {"input": "in"}, "mean"), ("bn_var", {"input": "in", "mean": "mean"}, "var"),
                  ("bn_norm", {"input": "in", "mean": "mean", "var": "var"}, "xhat"),
                  ("bn_scale", {"input": "xhat", "gamma": "gamma", "beta": "beta"}, "out")),
}


@dataclass(frozen=True)
class Quantity:
    """One named quantity: its symbol, shape, layer and role (data, not read from its name),
    how it is printed, and how it is obtained.

    ``rule`` is the one-step rule in terms of earlier quantities; ``paths`` its chains of
    local derivatives (outermost first, one chain per path to the loss); ``local`` the
    local-derivative symbol the rule introduces, if any; ``parts`` the (node, argument)
    pairs whose vector-Jacobian products add up to a gradient, ``source`` the quantity an
    alias repeats, ``fused`` the node whose output activation and the loss are differentiated
    together.
    """

    name: str
    symbol: sp.Basic
    shape: tuple[int, ...]
    layer: int
    role: str
    written: Written
    rule: sp.Basic | None = None
    paths: tuple[tuple[tuple[str, str], ...], ...] = ()
    local: sp.Basic | None = None
    text: Prose = ""
    math: tuple[sp.Basic, ...] = ()
    derivation: tuple[sp.Basic, ...] = ()
    derivation_text: Prose = ""
    node: int | None = None
    parts: tuple[tuple[int, str], ...] = ()
    source: str | None = None
    fused: int | None = None
    of: str | None = None
    shown: sp.Basic | None = None
    trainable: bool = False

    @property
    def latex(self) -> str:
        return self.written.latex

    @property
    def factors(self) -> tuple[tuple[str, str], ...]:
        """The single chain of a one-path gradient (what a dense network's steps print)."""
        return self.paths[0] if len(self.paths) == 1 else ()


@dataclass(frozen=True)
class Node:
    """One row of the rules table applied: its arguments (argument -> quantity name), its
    output quantity, layer and hyperparameters."""

    op: Op
    args: tuple[tuple[str, str], ...]
    output: str
    layer: int
    config: Config

    def arg(self, role: str) -> str | None:
        return dict(self.args).get(role)


@dataclass(frozen=True)
class Graph:
    """A network as symbols: inputs, nodes, forward and backward quantities."""

    spec: NetworkSpec
    quantities: tuple[Quantity, ...]
    nodes: tuple[Node, ...]
    inputs: tuple[sp.Basic, ...]
    forward: tuple[Quantity, ...]
    backward: tuple[Quantity, ...]
    notes: tuple[Prose, ...] = ()
    extra_names: tuple[tuple[str, str], ...] = field(default=())

    @property
    def depth(self) -> int:
        return len(self.spec.layers)

    @property
    def widths(self) -> tuple[int, ...]:
        return self.spec.widths

    @property
    def activations(self) -> tuple[str, ...]:
        return self.spec.activations

    @property
    def loss(self) -> str:
        return self.spec.loss

    @property
    def settings(self):
        return self.spec.settings

    @cached_property
    def by_name(self) -> dict[str, Quantity]:
        return {q.name: q for q in self.quantities}

    @cached_property
    def by_symbol(self) -> dict[sp.Basic, Quantity]:
        return {q.symbol: q for q in self.quantities}

    @cached_property
    def input_quantities(self) -> tuple[Quantity, ...]:
        """The inputs (x, y, every layer's parameters and constants) as quantities."""
        return tuple(self.by_symbol[s] for s in self.inputs)

    def quantity(self, name: str) -> Quantity:
        return self.by_name[name]

    def symbol(self, name: str) -> sp.Basic:
        """Any named symbol of the graph (inputs included)."""
        return self.by_name[name].symbol

    @cached_property
    def loss_expr(self) -> sp.Expr:
        loss = self.nodes[-1]
        return loss.op.forward(self.arg_entries(loss), loss.config)[()]

    def arg_entries(self, node: Node) -> dict[str, Tensor]:
        return {role: entries(self.by_name[name]) for role, name in node.args}

    def program(self, floating: bool = False) -> tuple[tuple[sp.Basic, sp.Expr], ...]:
        """The scalar program: every entry of every derived quantity, in derivation order.
        ``floating`` takes each row's floating-point form where it has one (softmax shifted
        by its maximum), for kernels."""
        return self._float_program if floating else self._exact_program

    @cached_property
    def _exact_program(self) -> tuple[tuple[sp.Basic, sp.Expr], ...]:
        return tuple(a for q in self.forward + self.backward for a in self.assignments(q))

    @cached_property
    def _float_program(self) -> tuple[tuple[sp.Basic, sp.Expr], ...]:
        return tuple(a for q in self.forward + self.backward for a in self.assignments(q, floating=True))

    def assignments(self, q: Quantity, floating: bool = False) -> list[tuple[sp.Basic, sp.Expr]]:
        """The program's lines of one quantity (made on demand: a kernel of a large network
        needs those of a few quantities only)."""
        if q.node is not None:
            node = self.nodes[q.node]
            rule = node.op.float_forward if floating and node.op.float_forward is not None else node.op.forward
            values = np.asarray(rule(self.arg_entries(node), node.config), dtype=object)
            return list(zip(entries(q).flat, values.flat))
        return list(zip(entries(q).flat, _gradient_entries(self, q, self._vjps).flat))

    @cached_property
    def _vjps(self) -> dict[int, dict]:
        """Each node's vector-Jacobian products, made once."""
        return {}


# -- entries -------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def grid(m: sp.MatrixSymbol) -> tuple[tuple[sp.Basic, ...], ...]:
    """The entries of a matrix symbol, made once: ``m[i, j]`` validates its index on every
    call, which dominated the derivation's time before this cache."""
    return tuple(tuple(MatrixElement(m, i, j) for j in range(m.cols)) for i in range(m.rows))


def entries(q: Quantity) -> Tensor:
    """The scalar entries of a quantity, as an array of its shape: matrix entries for
    vectors and matrices, indexed entries (``z_{1,2,3}``, 1-based) for images and kernels."""
    return _entries(q.symbol, q.shape, q.name)


@lru_cache(maxsize=4096)
def _entries(symbol: sp.Basic, shape: tuple[int, ...], name: str) -> Tensor:
    out = np.empty(shape, dtype=object)
    if not shape:
        out[()] = symbol
    elif len(shape) <= 2:
        cells = grid(symbol)
        for index in np.ndindex(*shape):
            out[index] = cells[index[0]][index[1] if len(shape) == 2 else 0]
    else:
        base = sp.IndexedBase(sp.Symbol(f"{name}[]"))
        for index in np.ndindex(*shape):
            out[index] = sp.Indexed(base, *(i + 1 for i in index))
    out.setflags(write=False)
    return out


def make_symbol(name: str, shape: tuple[int, ...]) -> sp.Basic:
    """A vector or matrix as a MatrixSymbol (rules are shape-checked matrix expressions);
    a number as a Symbol; a tensor of rank 3 or 4 as a non-commutative Symbol."""
    if not shape:
        return sp.Symbol(name)
    if len(shape) <= 2:
        return sp.MatrixSymbol(name, shape[0], shape[1] if len(shape) == 2 else 1)
    return sp.Symbol(name, commutative=False)


# -- building ---------------------------------------------------------------------------------------

@dataclass
class _Builder:
    spec: NetworkSpec
    quantities: dict[str, Quantity] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    notes: list[Prose] = field(default_factory=list)

    def add(self, name: str, shape: tuple[int, ...], layer: int, role: str, spelled: Written | None = None,
            **fields: Any) -> Quantity:
        final = name == "y_hat"
        spelled = spelled or written(role, layer, shape, final)
        q = Quantity(name, make_symbol(name, shape), shape, layer, role, spelled, **fields)
        self.quantities[name] = q
        return q

    def replace(self, q: Quantity) -> None:
        self.quantities[q.name] = q


def build_graph(spec: NetworkSpec) -> Graph:
    """Forward pass and backpropagation for a network spec (shapes, layers, loss)."""
    b = _Builder(spec)
    inputs = _inputs(b)
    last = "x"
    for l, layer in enumerate(spec.layers, start=1):
        last = _layer(b, l, layer, last)
    _loss(b, last)
    forward = [q for q in b.quantities.values() if q.node is not None]
    backward = _backward(b)
    return Graph(spec, tuple(b.quantities.values()), tuple(b.nodes), tuple(q.symbol for q in inputs),
                 tuple(forward), tuple(backward), tuple(b.notes), tuple(sorted(b.extra.items())))


def _inputs(b: _Builder) -> list[Quantity]:
    spec = b.spec
    found = [b.add("x", spec.x_shape, 0, "input"), b.add("y", spec.y_shape, len(spec.layers), "target")]
    for l, layer in enumerate(spec.layers, start=1):
        found += [b.add(f"{key}{l}", value.shape, l, key, trainable=True) for key, value in layer.params]
        found += [b.add(f"{key}{l}", value.shape, l, key) for key, value in layer.constants]
    return found


def _layer(b: _Builder, l: int, layer, last: str) -> str:
    """The nodes of one layer; returns the name of its output."""
    made = {"in": last} | {key: f"{key}{l}" for key, _ in layer.params + layer.constants}
    final = l == len(b.spec.layers)
    for op_name, sources, role in LAYER_NODES[layer.type]:
        op = OPS[layer.activation if op_name == "@activation" else op_name]
        args = tuple((arg, made[src]) for arg, src in sources.items() if src in made)
        name = "y_hat" if role == "out" and final else f"{_PREFIX[role]}{l}"
        made[role] = name
        _node(b, Node(op, args, name, l, layer.config), role)
    return made["out"]


_PREFIX = {"pre": "a", "out": "z", "mean": "mu", "var": "var", "xhat": "xhat"}


def _node(b: _Builder, node: Node, role: str) -> None:
    """A node's output quantity: its rule, text and printed symbols from the row."""
    shapes = {arg: b.quantities[name].shape for arg, name in node.args}
    shape = node.op.shape(shapes, node.config)
    b.nodes.append(node)
    q = b.add(node.output, shape, node.layer, role, node=len(b.nodes) - 1)
    p = printed(b.quantities, node)
    shown, local = node.op.show.shown(p), node.op.show.local(p)
    shown_symbol = _named(b, shown.name, shown.latex, shape) if shown is not None else None
    local_symbol = _named(b, local.name, local.latex, local.shape or shape) if local is not None else None
    b.replace(Quantity(**{**q.__dict__, "shown": shown_symbol, "local": local_symbol}))
    p = printed(b.quantities, node)
    for extra in node.op.show.names(p):
        b.extra[extra.name] = extra.latex
    b.replace(Quantity(**{**b.quantities[q.name].__dict__, "rule": shaped(node.op.show.rule(p), q.symbol),
                          "text": node.op.show.forward_text(node.layer), "math": node.op.show.forward_math(p)}))


def _named(b: _Builder, name: str, latex: str, shape: tuple[int, ...]) -> sp.Basic:
    b.extra[name] = latex
    return make_symbol(name, shape)


def printed(quantities: dict[str, Quantity], node: Node, grad: str | None = None) -> Printed:
    """What a node's row prints with: its arguments, output (``out``), the gradient of the
    output (``grad``) and the output's printed symbols (``shown``, ``local``)."""
    roles = {arg: quantities[name] for arg, name in node.args} | {"out": quantities[node.output]}
    if grad is not None:
        roles["grad"] = quantities[grad]
    out = roles["out"]
    symbols = {r: q.symbol for r, q in roles.items()}
    symbols |= {k: v for k, v in (("shown", out.shown), ("local", out.local)) if v is not None}
    return Printed(symbols, {r: q.latex for r, q in roles.items()}, {r: q.written.plain for r, q in roles.items()},
                   {r: q.name for r, q in roles.items()}, {r: entries(q) for r, q in roles.items()}, node.layer,
                   node.config)


def _loss(b: _Builder, last: str) -> None:
    spec = b.spec
    final = spec.layers[-1]
    op = loss_op(LOSSES[spec.loss], final.activation or final.type)
    node = Node(op, (("input", last), ("y", "y")), "L", len(spec.layers), final.config)
    b.nodes.append(node)
    q = b.add("L", (), len(spec.layers), "loss", node=len(b.nodes) - 1)
    b.replace(Quantity(**{**q.__dict__, "rule": None, "text": op.show.forward_text(node.layer)}))


# -- backpropagation ---------------------------------------------------------------------------------

def _readers(b: _Builder) -> dict[str, list[tuple[int, str]]]:
    """For each quantity, the (node, argument) pairs that differentiate through it."""
    found: dict[str, list[tuple[int, str]]] = {}
    for k, node in enumerate(b.nodes):
        for role in node.op.grads:
            name = node.arg(role)
            if name is not None:
                found.setdefault(name, []).append((k, role))
    return found


def _backward(b: _Builder) -> list[Quantity]:
    """Reverse mode over the nodes: a quantity's gradient is emitted once every node that
    reads it has sent its vector-Jacobian product."""
    readers: dict[str, list[tuple[int, str]]] = _readers(b)
    sent: dict[str, list[tuple[int, str]]] = {}
    grads: dict[str, Quantity] = {"L": None}  # type: ignore[dict-item]
    order: list[Quantity] = []
    fused = _fusion(b)
    for k in range(len(b.nodes) - 1, -1, -1):
        node = b.nodes[k]
        for role in node.op.grads:
            name = node.arg(role)
            if name is None or name in grads:
                continue
            sent.setdefault(name, []).append((k, role))
            if len(sent[name]) == len(readers[name]):
                order += _emit(b, name, tuple(sent[name]), grads, fused)
    order += _alias(b, grads, "x", "dL_dx")
    return order


@dataclass(frozen=True)
class _Part:
    """What one reading node contributes to a gradient: its rule, text, derivation, paths."""

    rule: sp.Basic
    text: Prose
    derivation: tuple[sp.Basic, ...]
    derivation_text: Prose
    paths: tuple[tuple[tuple[str, str], ...], ...]


def _part(b: _Builder, k: int, role: str, name: str, grads: dict, fused: int | None) -> _Part:
    """Node ``k``'s vector-Jacobian product for argument ``role`` (the quantity ``name``)."""
    node, like = b.nodes[k], b.quantities[name].symbol
    upstream = grads[node.output]
    p = printed(b.quantities, node, upstream.name if upstream is not None else None)
    base = upstream.paths if upstream is not None else ((),)
    paths = tuple(path + ((node.output, name),) for path in base)
    if k == fused:
        rule = LOSSES[b.spec.loss].fused[node.op.name]
        return _Part(shaped(_fused_rule(b), like), _math_text(b, rule.text), _fused_derivation(b, node, p),
                     _math_text(b, rule.derivation_text), paths)
    show = node.op.show
    return _Part(shaped(show.grad_rule(role, p), like), show.grad_text(role, node.config),
                 tuple(show.derivation(role, p)), "", paths)


def _emit(b: _Builder, name: str, parts: tuple[tuple[int, str], ...], grads: dict, fused: int | None) -> list[Quantity]:
    """The gradient of quantity ``name``: the sum of the parts of the nodes that read it."""
    q = b.quantities[name]
    by_loss = parts == ((len(b.nodes) - 1, "input"),)
    gname, spelled = gradient_name(q, by_loss)
    made = [_part(b, k, role, name, grads, fused) for k, role in parts]
    one = len(parts) == 1 and parts[0][0] != fused
    local = b.quantities[b.nodes[parts[0][0]].output].local if one else None
    g = b.add(gname, q.shape, q.layer, "grad", spelled, of=name, rule=shaped(_sum([m.rule for m in made]), q.symbol),
              paths=tuple(path for m in made for path in m.paths), local=local,
              text=made[0].text if len(made) == 1 else _paths_text(b, parts),
              derivation=tuple(r for m in made for r in m.derivation),
              derivation_text=next((m.derivation_text for m in made if m.derivation_text), ""),
              parts=parts, fused=fused if any(k == fused for k, _ in parts) else None)
    grads[name] = g
    if by_loss and q.written.zname:
        return [g] + _alias(b, grads, name, "dL_d" + q.written.zname)
    return [g]


def _alias(b: _Builder, grads: dict, of: str, name: str) -> list[Quantity]:
    """The same gradient under another name (``dL/dz(L) = dL/dy_hat``, ``dL/dx = dL/dz(0)``)."""
    source = grads.get(of)
    if source is None or source.name == name:
        return []
    q = b.quantities[of]
    g = b.add(name, q.shape, q.layer, "grad", alias_written(q, name), of=of, rule=source.symbol, paths=source.paths,
              source=source.name, text="The same quantity under another name (an identity step).")
    grads[of] = g
    return [g]


def _sum(rules: list[sp.Basic]) -> sp.Basic:
    if len(rules) == 1:
        return rules[0]
    if all(isinstance(r, sp.MatrixExpr) for r in rules):
        return sp.MatAdd(*rules)
    return formula(" + ".join(f"{{{i}}}" for i in range(len(rules))), " + ".join(f"{{{i}}}" for i in range(len(rules))),
                   *rules)


def _paths_text(b: _Builder, parts: tuple[tuple[int, str], ...]) -> str:
    through = [b.nodes[k].op.words for k, _ in parts]
    return (f"This quantity reaches the loss along {len(parts)} paths (through the {', the '.join(through)}); "
            "by the chain rule its gradient is the sum of one term per path.")


# -- softmax or sigmoid and cross-entropy, differentiated together -------------------------------------

def _fusion(b: _Builder) -> int | None:
    """The output node when the loss has a shortcut through it that the targets allow."""
    loss, out = LOSSES[b.spec.loss], len(b.nodes) - 2
    rule = loss.fused.get(b.nodes[out].op.name) if out >= 0 else None
    if rule is None:
        return None
    why_not = rule.applies(as_tensor(b.spec.y, b.spec.y_shape))
    if why_not is not None:
        b.notes.append(_math_text(b, why_not))
        return None
    return out


def _math_text(b: _Builder, text: str) -> Prose:
    """A sentence with ``{y_hat}`` and ``{y}`` put in as math (the prediction and target)."""
    pieces: list = []
    for i, part in enumerate(text.replace("{y_hat}", "\0y_hat\0").replace("{y}", "\0y\0").split("\0")):
        pieces.append(b.quantities[part].symbol if i % 2 else part)
    return tuple(p for p in pieces if p != "")


def _examples(b: _Builder) -> int:
    return b.spec.y_shape[1] if b.spec.batch else 1


def _fused_rule(b: _Builder) -> sp.Basic:
    """``y_hat - y`` (over the batch size): a SymPy matrix expression where prediction and target
    are matrices, so the grader can evaluate it like any other rule; a formula for tensors."""
    yh, y = b.quantities["y_hat"].symbol, b.quantities["y"].symbol
    n = _examples(b)
    if isinstance(yh, sp.MatrixSymbol) and isinstance(y, sp.MatrixSymbol):
        difference = sp.MatAdd(yh, sp.MatMul(sp.S.NegativeOne, y))
        return difference if n == 1 else sp.MatMul(sp.Rational(1, n), difference)
    if n == 1:
        return formula("{0} - {1}", "{0} - {1}", yh, y)
    return formula(r"\frac{{1}}{{{2}}} \left({0} - {1}\right)", "1/{2} ({0} - {1})", yh, y, sp.Integer(n))


def _fused_derivation(b: _Builder, node: Node, p: Printed) -> tuple[sp.Basic, ...]:
    """The shortcut derived for the first entry (of the first example)."""
    first = (lambda t: list(t)) if p.entries["input"].ndim == 1 else (lambda t: list(t[:, 0]))
    yh, y = entries(b.quantities["y_hat"]), entries(b.quantities["y"])
    return LOSSES[b.spec.loss].fused[node.op.name].derivation(first(p.entries["input"]), first(yh), first(y))


def fused_entries(graph: Graph) -> dict:
    """Scalar rules of the shortcut: ``dL/da_i = (yhat_i - y_i) / B``."""
    yh, y = entries(graph.quantity("y_hat")), entries(graph.quantity("y"))
    n = graph.spec.y_shape[1] if graph.spec.batch else 1
    return {index: (yh[index] - y[index]) / n for index in np.ndindex(*yh.shape)}


# -- the scalar program ------------------------------------------------------------------------------

def _gradient_entries(graph: Graph, g: Quantity, cache: dict[int, dict]) -> Tensor:
    if g.source is not None:
        return entries(graph.quantity(g.source))
    if g.fused is not None:
        found = fused_entries(graph)
        out = np.empty(g.shape, dtype=object)
        for index in np.ndindex(*g.shape):
            out[index] = found[index]
        return out
    total: Tensor | None = None
    for k, role in g.parts:
        if k not in cache:
            node = graph.nodes[k]
            upstream = _upstream(graph, node)
            cache[k] = dict(node.op.vjp(upstream, graph.arg_entries(node), entries(graph.quantity(node.output)),
                                        node.config))
        part = cache[k][role]
        total = part if total is None else _add(total, part)
    assert total is not None, g.name  # a gradient has at least one part
    return total


def _upstream(graph: Graph, node: Node) -> Tensor:
    """Entries of the gradient of a node's output (the loss's own is 1)."""
    if node.output == "L":
        return np.array(sp.Integer(1), dtype=object)
    latest = [g for g in graph.backward if g.of == node.output]
    return entries(latest[-1])


def _add(u: Tensor, v: Tensor) -> Tensor:
    out = np.empty(u.shape, dtype=object)
    for index in np.ndindex(*u.shape):
        out[index] = u[index] + v[index]
    return out
