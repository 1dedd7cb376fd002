"""Self-verification of a network problem: every derived gradient against finite differences.

The derived gradients come from the backward pass (each row's vector-Jacobian product).
They are checked against the forward pass alone, differentiated numerically, two ways:

1. central differences in float64 (step ``1e-6``), the classic gradient check;
2. central differences at 60 significant digits (mpmath, step ``1e-25``): accurate to about
   30 digits, so a derived value (exact, or carried to 40 digits) must agree to 20. Where
   the numbers are huge (a loss of 10^700, inputs of 10^200) the digits grow by their
   magnitude, so that the difference of two losses still keeps 60 digits of the gradient.

Where float64 overflows (a gradient or a loss beyond 1.8e308), the float64 check says
nothing and is left out: such an entry is checked at high precision only, and the report
says so (never a false "DIFFERS").

The forward pass is printed from the graph's program into plain code once and evaluated
for every perturbation at once (one column each), so the check stays fast however many
parameters there are. Where a forward value sits on a kink (ReLU at 0, a tie in a
max-pool window) the derivative is a convention and central differences straddle two
slopes: where the one-sided differences disagree, the derived value must lie between
them (the convention picks one slope, or a mix), and the report says how many did.

This is the network kind's ``verify`` hook (``symderiv verify SPEC`` prints its report);
the tests run it on random networks of every layer type.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from symderiv.calculus.values import as_tensor
from symderiv.kernels.printer import ArrayPrinter
from symderiv.kinds.network.graph import Graph, entries
from symderiv.kinds.registry import Check, Verification
from symderiv.model import Problem

#: Digits and step of the high-precision differences.
DIGITS, STEP = 60, mpmath.mpf("1e-25")


@dataclass(frozen=True)
class GradientCheck:
    """One scalar gradient entry compared with finite differences: central at 60 digits
    (``precise``), one-sided at 60 digits (``left``, ``right``) and central in float64."""

    name: str
    engine: sp.Basic
    precise: Any
    finite_difference: float
    on_kink: bool
    left: Any = None
    right: Any = None
    digits: int = DIGITS

    def _close(self, a: Any, b: Any) -> bool:
        return bool(abs(a - b) <= mpmath.mpf("1e-20") * max(1, abs(b)))

    @property
    def value(self) -> Any:
        with mpmath.workdps(self.digits):
            return mpmath.mpf(str(sp.N(self.engine, self.digits)))

    @property
    def precise_ok(self) -> bool:
        with mpmath.workdps(self.digits):
            return self._close(self.value, self.precise)

    @property
    def float_overflows(self) -> bool:
        """Whether float64 cannot hold this entry or its difference (the float64 check is moot)."""
        return not (math.isfinite(self.finite_difference) and math.isfinite(_float(self.engine)))

    @property
    def fd_ok(self) -> bool:
        if self.float_overflows:
            return True
        e = float(self.engine)
        return abs(e - self.finite_difference) <= 1e-5 * max(1.0, abs(e))

    @property
    def kinked(self) -> bool:
        """Whether this entry's one-sided differences disagree (it sits on a kink)."""
        if not self.on_kink or self.left is None:
            return False
        with mpmath.workdps(self.digits):
            return not self._close(self.left, self.right)

    @property
    def ok(self) -> bool:
        """Smooth: both central differences agree. On a kink: between the one-sided ones."""
        if not self.kinked:
            return self.precise_ok and self.fd_ok
        with mpmath.workdps(self.digits):
            low, high = sorted((self.left, self.right))
            slack = mpmath.mpf("1e-20") * max(1, abs(low), abs(high))
            return bool(low - slack <= self.value <= high + slack)


#: What the checks compare, as the report says it.
WHAT = "gradient entries checked against central differences of the forward pass (60 digits and float64)"


def verify_problem(problem: Problem) -> Verification:
    """The ``verify`` hook of the network kind: every gradient of a derived network problem."""
    found = verify_network(problem.data)
    checks = tuple(Check(c.name, c.ok, f"engine {mpmath.nstr(c.value, 20)}, {c.digits}-digit difference "
                                       f"{mpmath.nstr(c.precise, 20)}, float64 difference {c.finite_difference:.9g}")
                   for c in found)
    return Verification(WHAT, checks, _notes(found))


def _notes(found: list[GradientCheck]) -> tuple[str, ...]:
    """What the report adds: entries on a kink, entries float64 cannot check."""
    kinks = sum(c.kinked for c in found)
    overflows = [c for c in found if c.float_overflows]
    notes = [f"{kinks} sit on a kink, where the derivative is a convention: there the derived value is "
             "checked to lie between the one-sided differences"] if kinks else []
    if overflows:
        notes.append(f"float64 overflows for {len(overflows)}; checked at {overflows[0].digits} digits")
    return tuple(notes)


def _float(value: sp.Basic) -> float:
    """``value`` in float64, infinite where it overflows (never an OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def verify_network(solved) -> list[GradientCheck]:
    """Compare every entry of dL/dx and of every parameter's gradient with the differences."""
    graph = solved.graph
    targets = _targets(solved)
    kinked = _has_kink(solved)
    forward = _forward_function(graph)
    base = {q.name: as_tensor(solved.inputs[q.symbol], q.shape) for q in graph.input_quantities}
    digits = _digits(forward, base)
    precise = _differences(forward, base, targets, _mp_namespace(), STEP, _mp_number, digits)
    with np.errstate(all="ignore"):
        rough = _differences(forward, base, targets, _np_namespace(), 1e-6, float)
    checks = []
    for (name, index, grad), (hp, left, right), (fd, _, _) in zip(targets, precise, rough):
        label = f"dL/d{name}[{','.join(str(i + 1) for i in index)}]"
        checks.append(GradientCheck(label, grad, hp, float(fd), kinked, left, right, digits))
    return checks


def _mp_number(v: sp.Rational) -> Any:
    return mpmath.mpf(v.p) / v.q


def _digits(forward, base: dict) -> int:
    """Working digits for the precise differences: 60, plus the decimal magnitude of the
    loss and of the inputs' products (cancellation in ``L(x+h) - L(x-h)`` and in sums of
    huge terms loses that many), so huge numbers keep 60 digits where it matters."""
    scale = sum(_magnitude(t) for t in base.values())
    with mpmath.workdps(DIGITS):
        columns = {name: _columns(t, 1, _mp_number, object) for name, t in base.items()}
        loss = abs(forward(columns, _mp_namespace())[0])
        size = int(mpmath.ceil(mpmath.log10(loss))) if loss > 1 else 0
    return DIGITS + max(2 * scale, size)


def _magnitude(t: np.ndarray) -> int:
    """Decimal digits of the largest entry of ``t`` above 1 (0 when all are at most 1)."""
    largest = max((abs(sp.Rational(v)) for v in t.flat), default=sp.Integer(0))
    return len(str(int(largest))) if largest > 1 else 0


def _targets(solved) -> list[tuple[str, tuple[int, ...], sp.Basic]]:
    """(input name, entry index, derived gradient entry) for x and every trainable parameter."""
    graph, found = solved.graph, []
    for q in graph.quantities:
        if q.role != "input" and not q.trainable:
            continue
        grad = [g for g in graph.backward if g.of == q.name][-1]
        value = as_tensor(solved.value(grad.name), q.shape)
        found += [(q.name, index, value[index]) for index in np.ndindex(*q.shape)]
    return found


def _has_kink(solved) -> bool:
    """Does some forward value sit where a derivative is a convention?"""
    from symderiv.kinds.network.questions import kink_notes

    return bool(kink_notes(solved))


# -- the forward pass as code ----------------------------------------------------------------------

class _ExactPrinter(ArrayPrinter):
    """Array code in which a rational constant stays a quotient (``_q(1, 3)``), so that the
    60-digit evaluation is not of a float-rounded function."""

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"_q({expr.p}, {expr.q})"

    def _print_Half(self, expr) -> str:
        return "_q(1, 2)"


def _forward_function(graph: Graph) -> Callable[..., Any]:
    """``f(values, namespace)``: the loss from every input's entries (arrays of columns)."""
    names: dict[sp.Basic, str] = {}
    lines = []
    for q in graph.input_quantities:
        for index in np.ndindex(*q.shape):
            names[entries(q)[index]] = f"values[{q.name!r}][{index!r}]"
    printer = _ExactPrinter(names)
    for k, (target, expr) in enumerate(graph.program()):
        lines.append(f"    t{k} = {printer.doprint(expr)}")
        printer.names[target] = f"t{k}"
        if target == sp.Symbol("L"):
            break
    source = "def forward(values):\n" + "\n".join(lines) + f"\n    return t{k}\n"
    return lambda values, namespace: _run(source, values, namespace)


def _run(source: str, values: dict, namespace: dict) -> Any:
    scope = dict(namespace)
    exec(compile(source, "<network forward pass>", "exec"), scope)
    return scope["forward"](values)


class _MpNumpy:
    """``np`` for object arrays of mpmath numbers: element-wise mpmath functions."""

    exp = staticmethod(np.frompyfunc(mpmath.exp, 1, 1))
    log = staticmethod(np.frompyfunc(mpmath.log, 1, 1))
    tanh = staticmethod(np.frompyfunc(mpmath.tanh, 1, 1))
    sqrt = staticmethod(np.frompyfunc(mpmath.sqrt, 1, 1))
    maximum = staticmethod(np.frompyfunc(lambda a, b: a if a >= b else b, 2, 1))
    minimum = staticmethod(np.frompyfunc(lambda a, b: a if a <= b else b, 2, 1))


def _mp_namespace() -> dict:
    return {"np": _MpNumpy, "_q": lambda p, q: mpmath.mpf(p) / q}


def _np_namespace() -> dict:
    return {"np": np, "_q": lambda p, q: p / q}


def _differences(forward, base: dict, targets: list, namespace: dict, step, number, digits: int = DIGITS) -> list:
    """(central, backward, forward) differences of the loss for every target, one column
    per perturbation and a last column unperturbed."""
    count = 2 * len(targets) + 1
    dtype = object if number is not float else float
    with mpmath.workdps(digits):
        columns = {name: _columns(t, count, number, dtype) for name, t in base.items()}
        steps = []
        for k, (name, index, _) in enumerate(targets):
            h = step * max(1, abs(columns[name][index][2 * k]))
            columns[name][index][2 * k] += h
            columns[name][index][2 * k + 1] -= h
            steps.append(h)
        loss = forward(columns, namespace)
        at = loss[-1]
        return [((loss[2 * k] - loss[2 * k + 1]) / (2 * h), (at - loss[2 * k + 1]) / h, (loss[2 * k] - at) / h)
                for k, h in enumerate(steps)]


def _columns(t: np.ndarray, count: int, number, dtype) -> np.ndarray:
    """Every entry of an input as a row of ``count`` copies (one column per perturbation)."""
    out = np.empty(t.shape + (count,), dtype=dtype)
    for index in np.ndindex(*t.shape):
        out[index] = [number(sp.Rational(t[index]))] * count if dtype is object else number(t[index])
    return out
