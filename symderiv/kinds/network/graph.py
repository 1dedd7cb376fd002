"""The symbolic dense network: named quantities, matrix-level rules, scalar program.

This is the derivation itself, independent of any numbers. Every quantity of the
forward and backward pass is a named ``MatrixSymbol``; its rule refers to earlier
quantities by name, so the work and the expressions grow linearly with depth (the
naive way, differentiating the composed loss, grows about 3.5x per layer).

Two views of the same derivation are kept side by side:

* matrix level, for the sheet: ``dL/dW(l) = dL/da(l) z(l-1)^T`` and so on, shape-checked
  by SymPy's matrix expressions;
* scalar level, for numbers, kernels and verification: a straight-line program of
  assignments ``target = expr`` whose targets are the entries of those same symbols.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.calculus import ACTIVATIONS, LOSSES, SOFTMAX, Settings, softmax, softmax_vjp

MS = sp.MatrixSymbol


@dataclass(frozen=True)
class Quantity:
    """One named quantity of the derivation and how it is obtained.

    ``rule`` is the one-step matrix-level rule in terms of earlier quantities;
    ``factors`` names its chain of local derivatives (outermost first), and
    ``local`` is the local-derivative symbol the rule introduces (``f'(a)``), if any.
    """

    name: str
    symbol: sp.MatrixSymbol
    rule: sp.Basic | None
    factors: tuple[tuple[str, str], ...] = ()
    local: sp.MatrixSymbol | None = None


@dataclass(frozen=True)
class Graph:
    """A dense network as symbols: parameters, forward and backward quantities, program."""

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    settings: Settings
    inputs: tuple[sp.MatrixSymbol, ...]
    forward: tuple[Quantity, ...]
    backward: tuple[Quantity, ...]
    program: tuple[tuple[sp.Basic, sp.Expr], ...]
    loss_expr: sp.Expr

    @property
    def depth(self) -> int:
        return len(self.activations)

    def quantity(self, name: str) -> Quantity:
        for q in self.forward + self.backward:
            if q.name == name:
                return q
        raise KeyError(name)

    def symbol(self, name: str) -> sp.MatrixSymbol:
        """Any named matrix symbol of the graph (inputs included)."""
        for s in self.inputs:
            if s.name == name:
                return s
        return self.quantity(name).symbol


@lru_cache(maxsize=4096)
def grid(m: sp.MatrixSymbol) -> tuple[tuple[sp.Basic, ...], ...]:
    """The entries of a matrix symbol, made once: ``m[i, j]`` validates its index on every
    call, which dominated the derivation's time before this cache."""
    return tuple(tuple(MatrixElement(m, i, j) for j in range(m.cols)) for i in range(m.rows))


def col(m: sp.MatrixSymbol) -> tuple[sp.Basic, ...]:
    """The entries of a column vector symbol."""
    return tuple(row[0] for row in grid(m))


def entries(m: sp.MatrixSymbol) -> list[sp.Basic]:
    """The scalar entries of a matrix symbol, row-major."""
    return [e for row in grid(m) for e in row]


def z_name(l: int, depth: int) -> str:
    """``x`` for layer 0, ``y_hat`` for the output, else ``z<l>``."""
    return "x" if l == 0 else "y_hat" if l == depth else f"z{l}"


def build_graph(widths: tuple[int, ...], activations: tuple[str, ...], loss: str,
                settings: Settings = Settings()) -> Graph:
    """Derive forward pass and backpropagation for any widths ``(n0, n1, ..., nL)``."""
    depth = len(activations)
    x, y = MS("x", widths[0], 1), MS("y", widths[-1], 1)
    W = [None] + [MS(f"W{l}", widths[l], widths[l - 1]) for l in range(1, depth + 1)]
    b = [None] + [MS(f"b{l}", widths[l], 1) for l in range(1, depth + 1)]
    z = [MS(z_name(l, depth), widths[l], 1) for l in range(depth + 1)]
    a = [None] + [MS(f"a{l}", widths[l], 1) for l in range(1, depth + 1)]
    program: list[tuple[sp.Basic, sp.Expr]] = []
    forward: list[Quantity] = []
    for l in range(1, depth + 1):
        forward += _forward_layer(program, W[l], b[l], z[l - 1], a[l], z[l], activations[l - 1], settings)
    loss_expr = LOSSES[loss].f(col(z[depth]), col(y), activations[-1])
    program.append((sp.Symbol("L"), loss_expr))
    backward = _backward(program, W, a, z, activations, loss_expr, settings)
    inputs = (x, y) + tuple(s for l in range(1, depth + 1) for s in (W[l], b[l]))
    return Graph(tuple(widths), tuple(activations), loss, settings, inputs, tuple(forward),
                 tuple(backward), tuple(program), loss_expr)


def _forward_layer(program: list, W, b, z_prev, a, z, act: str, settings: Settings) -> list[Quantity]:
    """``a = W z_prev + b`` and ``z = f(a)``, as rules and as scalar assignments."""
    Wg, zp, bs = grid(W), col(z_prev), col(b)
    program.extend((ai, sp.Add(*[w * zj for w, zj in zip(Wg[i], zp)]) + bs[i]) for i, ai in enumerate(col(a)))
    if act == SOFTMAX:
        values = softmax(col(a))
    else:
        values = [ACTIVATIONS[act].f(ai, settings) for ai in col(a)]
    program.extend(zip(col(z), values))
    shown = MS(f"{act}({a.name})", a.rows, 1)
    return [Quantity(a.name, a, sp.MatAdd(sp.MatMul(W, z_prev), b)),
            Quantity(z.name, z, shown, local=shown)]


def _backward(program: list, W, a, z, activations, loss_expr, settings: Settings) -> list[Quantity]:
    """Backpropagation from dL/dy_hat down to dL/dx, one named quantity at a time."""
    depth = len(activations)
    g = {}
    out = z[depth]
    g["y_hat"] = MS("dL_dy_hat", out.rows, 1)
    rule = sp.ImmutableMatrix([[sp.factor_terms(sp.diff(loss_expr, o))] for o in col(out)])
    program.extend(zip(col(g["y_hat"]), rule))
    qs = [Quantity("dL_dy_hat", g["y_hat"], rule, (("L", "y_hat"),))]
    chain = [("L", "y_hat")]
    gz = _alias(program, qs, f"dL_dz{depth}", g["y_hat"], chain)
    for l in range(depth, 0, -1):
        ga, local = _through_activation(program, gz, a[l], z[l], activations[l - 1], settings)
        chain = chain + [(z_name(l, depth), f"a{l}")]
        qs.append(Quantity(ga.name, ga, _activation_rule(gz, local, activations[l - 1]), tuple(chain), local))
        qs += _parameter_grads(program, ga, z[l - 1], W[l], l, chain)
        gz = MS(f"dL_dz{l - 1}", W[l].cols, 1)
        Wg, gas = grid(W[l]), col(ga)
        program.extend((gzj, sp.Add(*[Wg[i][j] * gai for i, gai in enumerate(gas)])) for j, gzj in enumerate(col(gz)))
        chain = chain + [(f"a{l}", z_name(l - 1, depth))]
        qs.append(Quantity(gz.name, gz, sp.MatMul(sp.Transpose(W[l]), ga), tuple(chain)))
    _alias(program, qs, "dL_dx", gz, chain)
    return qs


def _alias(program: list, qs: list, name: str, source: sp.MatrixSymbol, chain: list) -> sp.MatrixSymbol:
    """A quantity equal to another (``dL/dz(L) = dL/dy_hat``, ``dL/dx = dL/dz(0)``)."""
    target = MS(name, source.rows, 1)
    program.extend(zip(col(target), col(source)))
    qs.append(Quantity(name, target, source, tuple(chain)))
    return target


def _through_activation(program: list, gz, a, z, act: str, settings: Settings):
    """``dL/da`` from ``dL/dz``: element-wise ``f'(a)``, or softmax's Jacobian."""
    ga = MS(f"dL_d{a.name}", a.rows, 1)
    if act == SOFTMAX:
        local = MS(f"J_softmax({a.name})", a.rows, a.rows)
        outs, grads = col(z), col(gz)
        program.extend((gai, softmax_vjp(grads, outs, i)) for i, gai in enumerate(col(ga)))
    else:
        local = MS(f"{act}'({a.name})", a.rows, 1)
        df = ACTIVATIONS[act].df
        program.extend((gai, g * df(ai, zi, settings)) for gai, g, ai, zi in zip(col(ga), col(gz), col(a), col(z)))
    return ga, local


def _activation_rule(gz, local, act: str) -> sp.Basic:
    if act == SOFTMAX:
        return sp.MatMul(sp.Transpose(local), gz)
    return sp.HadamardProduct(gz, local)


def _parameter_grads(program: list, ga, z_prev, W, l: int, chain: list) -> list[Quantity]:
    """``dL/dW(l) = dL/da(l) z(l-1)^T`` and ``dL/db(l) = dL/da(l)``."""
    gW, gb = MS(f"dL_dW{l}", W.rows, W.cols), MS(f"dL_db{l}", W.rows, 1)
    gWg, gas, zp = grid(gW), col(ga), col(z_prev)
    program.extend((gWg[i][j], gai * zj) for i, gai in enumerate(gas) for j, zj in enumerate(zp))
    program.extend(zip(col(gb), gas))
    return [Quantity(gW.name, gW, sp.MatMul(ga, sp.Transpose(z_prev)), tuple(chain + [(f"a{l}", f"W{l}")])),
            Quantity(gb.name, gb, ga, tuple(chain + [(f"a{l}", f"b{l}")]))]


def local_values(graph: Graph, env: dict) -> dict[str, sp.ImmutableMatrix]:
    """Numbers of every local-derivative symbol (``f'(a)``, ``J``), for the sheet."""
    values = {}
    for q in graph.backward:
        if q.local is None:
            continue
        l = int(q.name.removeprefix("dL_da"))
        a, z = graph.symbol(f"a{l}"), graph.symbol(z_name(l, graph.depth))
        act = graph.activations[l - 1]
        if act == SOFTMAX:
            zs = sp.ImmutableMatrix([env[e] for e in entries(z)])
            values[q.local.name] = sp.ImmutableMatrix(sp.diag(*zs) - zs * zs.T)
        else:
            df = ACTIVATIONS[act].df
            values[q.local.name] = sp.ImmutableMatrix(
                [[df(env[ai], env[zi], graph.settings)] for ai, zi in zip(col(a), col(z))])
    return values


def run_program(graph: Graph, values: dict[sp.MatrixSymbol, sp.ImmutableMatrix], pinned: dict | None = None) -> dict:
    """Evaluate the scalar program exactly: an environment from every entry to its value.

    Targets in ``pinned`` keep the given values instead of being computed: what a student's
    wrong intermediate gives downstream (the grader's carry-forward check).
    """
    pinned = pinned or {}
    env: dict = {}
    for sym, mat in values.items():
        env.update(zip(entries(sym), mat))
    for target, expr in graph.program:
        env[target] = pinned[target] if target in pinned else expr.xreplace(env)
    return env


def matrix_value(sym: sp.MatrixSymbol, env: dict) -> sp.ImmutableMatrix:
    """The exact numeric matrix of a quantity after :func:`run_program`."""
    return sp.ImmutableMatrix(sym.rows, sym.cols, [env[e] for e in entries(sym)])
