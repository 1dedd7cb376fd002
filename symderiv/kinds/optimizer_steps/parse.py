"""The ``optimizer_steps`` spec: validated into frozen records, every error naming its field.

Bounds keep a sheet printable: at most :data:`MAX_DIM` parameters (each is a printed
vector entry), :data:`MAX_STEPS` steps (each is a group of printed lines),
:data:`MAX_OPTIMIZERS` optimizers (each is a question) and :data:`MAX_DIGITS` digits in
any number of the spec (each is printed as given), and :data:`MAX_GRADIENT_NODES` nodes in
the objective's gradient (printed at every step with the numbers put in).
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symderiv.algebra import decimal_text, node_count
from symderiv.check.parse import FUNCTIONS, ParseError, parse_answer
from symderiv.kinds.optimizer_steps.methods import FORMS, HYPER, METHODS, Hyper, Method, lam
from symderiv.spec import Fields, to_rational

MAX_DIM = 6
MAX_STEPS = 10
MAX_OPTIMIZERS = 4
MAX_DIGITS = 20
#: Most nodes (symbols, numbers, operations) of the gradient, all partial derivatives together:
#: homework objectives have tens; a deep composition (sin(cos(sin(...)))) thousands, and
#: printing them at every step of every optimizer would take minutes.
MAX_GRADIENT_NODES = 400
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer of the problem: its method and hyperparameter values (symbol -> value);
    ``where`` is its field path, for errors found while running it (a diverging rate)."""

    method: Method
    hyper: tuple[tuple[sp.Symbol, sp.Rational], ...]
    where: str

    def value(self, symbol: sp.Symbol) -> sp.Rational:
        return dict(self.hyper)[symbol]

    @property
    def decay(self) -> bool:
        """Whether weight decay is on (its terms are printed and applied)."""
        return dict(self.hyper).get(lam, 0) != 0


@dataclass(frozen=True)
class Objective:
    """f(w) as read by the safe parser, over the spec's variables (in the order of ``start``)."""

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]


@dataclass(frozen=True)
class StepsSpec:
    """A validated problem: start, the number of steps, the objective or the given gradients,
    the optimizers; ``source`` and ``path`` locate it for errors found while running."""

    start: tuple[sp.Rational, ...]
    steps: int
    objective: Objective | None
    gradients: tuple[tuple[sp.Rational, ...], ...] | None
    optimizers: tuple[OptimizerSpec, ...]
    source: str
    path: str


def parse(f: Fields) -> StepsSpec:
    """Validate the problem: ``start``; ``objective`` with ``variables`` and ``steps``, or
    ``gradients``; one or more ``[[problem.optimizer]]``."""
    f.check_known({"start", "objective", "variables", "steps", "gradients", "optimizer"})
    start = _numbers(f, "start", f.raw("start"))
    if len(start) > MAX_DIM:
        raise f.fail("start", f"at most {MAX_DIM} parameters (each is a printed entry), got {len(start)}")
    objective, gradients, steps = _source(f, len(start))
    optimizers = tuple(parse_optimizer(o) for o in f.subs("optimizer"))
    if len(optimizers) > MAX_OPTIMIZERS:
        raise f.fail("optimizer", f"at most {MAX_OPTIMIZERS} optimizers (each is a question), got {len(optimizers)}")
    return StepsSpec(start, steps, objective, gradients, optimizers, f.source, f.path)


def _source(f: Fields, dim: int) -> tuple[Objective | None, tuple | None, int]:
    """Where the gradients come from: the objective (and ``steps``) or the listed gradients."""
    if f.has("objective") == f.has("gradients"):
        both = f.has("objective")
        raise f.fail("gradients" if both else "objective",
                     "give either objective (with variables and steps) or gradients, not both" if both else
                     "missing: give objective (with variables and steps) or gradients (one list per step)")
    if f.has("gradients"):
        for name in ("variables", "steps"):
            if f.has(name):
                raise f.fail(name, "not used with gradients (the gradients set the steps; there is no objective)")
        gradients = _gradients(f, dim)
        return None, gradients, len(gradients)
    variables = _variables(f, dim)
    return _objective(f, variables), None, f.integer("steps", low=1, high=MAX_STEPS)


def _variables(f: Fields, dim: int) -> tuple[sp.Symbol, ...]:
    raw = f.raw("variables")
    names = raw if isinstance(raw, list) else [raw]
    for i, name in enumerate(names, start=1):
        where = f"variables[{i}]"
        if not isinstance(name, str) or not _NAME.fullmatch(name) or keyword.iskeyword(name):
            raise f.fail(where, f"expected a name (a letter, then up to 15 letters, digits or _), got {name!r}")
        if name in FUNCTIONS or name in ("e", "pi"):
            raise f.fail(where, f"{name!r} is a function or constant of the objective's syntax; choose another name")
        if name in names[:i - 1]:
            raise f.fail(where, f"repeated variable {name!r}")
    if len(names) != dim:
        raise f.fail("variables", f"names {len(names)} variable(s) but start has {dim} entries: one per parameter")
    return tuple(sp.Symbol(name, real=True) for name in names)


def _objective(f: Fields, variables: tuple[sp.Symbol, ...]) -> Objective:
    """f(w) through the safe parser (never eval or sympify); only the variables may appear."""
    text = f.str("objective")
    try:
        expr = parse_answer(text, symbols={str(v): v for v in variables})
    except ParseError as exc:
        raise f.fail("objective", f"cannot be read: {exc.reason}") from None
    if isinstance(expr, sp.MatrixBase):
        raise f.fail("objective", "expected one expression (a number for every w), got a list or matrix")
    unknown = sorted(str(s) for s in expr.free_symbols - set(variables))
    if unknown:
        raise f.fail("objective", f"uses {unknown[0]!r}, which is not one of the variables "
                                  f"({', '.join(map(str, variables))})")
    if expr.has(sp.floor, sp.ceiling):
        raise f.fail("objective", "floor and ceiling have no useful gradient (it is 0 or undefined)")
    nodes = sum(node_count(sp.diff(expr, v)) for v in variables)
    if nodes > MAX_GRADIENT_NODES:
        raise f.fail("objective", f"its gradient has {nodes} nodes (symbols, numbers, operations); at most "
                                  f"{MAX_GRADIENT_NODES}, since it is printed at every step: use a simpler objective")
    return Objective(expr, variables)


def _gradients(f: Fields, dim: int) -> tuple[tuple[sp.Rational, ...], ...]:
    """One gradient per step: a list of ``dim`` numbers (a bare number when ``dim`` is 1)."""
    raw = f.raw("gradients")
    rows = raw if isinstance(raw, list) else [raw]
    if not rows or len(rows) > MAX_STEPS:
        raise f.fail("gradients", f"expected 1 to {MAX_STEPS} gradients (one per step), got {len(rows)}")
    out = []
    for i, row in enumerate(rows, start=1):
        entries = _numbers(f, f"gradients[{i}]", row)
        if len(entries) != dim:
            raise f.fail(f"gradients[{i}]", f"has {len(entries)} entries but start has {dim}: one per parameter")
        out.append(entries)
    return tuple(out)


def _numbers(f: Fields, name: str, raw: Any) -> tuple[sp.Rational, ...]:
    """A list of exact numbers (a bare number is a list of one), each of printable size."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise f.fail(name, "expected a non-empty list of numbers")
    return tuple(_number(f, f"{name}[{i}]" if isinstance(raw, list) else name, item)
                 for i, item in enumerate(items, start=1))


def _number(f: Fields, name: str, raw: Any) -> sp.Rational:
    value = to_rational(raw, f.fail, name)
    digits = max(len(str(abs(value.p))), len(str(value.q)))
    if digits > MAX_DIGITS:
        raise f.fail(name, f"has {digits} digits; at most {MAX_DIGITS} (every number of the spec is printed)")
    return value


def parse_optimizer(f: Fields) -> OptimizerSpec:
    """``method`` (and ``form`` for momentum), then the method's hyperparameters."""
    method = METHODS[f.str("method", choices=METHODS)]
    known = {"method", *method.fields}
    if method.key == "momentum":
        method = FORMS[f.str("form", "pytorch", choices=FORMS)]
        known.add("form")
    for name in f.table:
        if name not in known:
            raise f.fail(name, f"not a setting of {method.key}; expected one of {', '.join(sorted(known))}")
    hyper: list[tuple[sp.Symbol, sp.Rational]] = []
    for name in method.fields:
        hyper += _hyper(f, HYPER[name], method.default(name))
    return OptimizerSpec(method, tuple(hyper), f.path)


def _hyper(f: Fields, h: Hyper, default: object) -> list[tuple[sp.Symbol, sp.Rational]]:
    raw = f.raw(h.field, default)
    if len(h.symbols) == 1:
        return [(h.symbols[0], _bounded(f, h.field, raw, h))]
    if not isinstance(raw, list) or len(raw) != len(h.symbols):
        raise f.fail(h.field, f"expected {len(h.symbols)} numbers, as [{', '.join(map(str, h.symbols))}]")
    return [(symbol, _bounded(f, f"{h.field}[{i}]", item, h)) for i, (symbol, item) in
            enumerate(zip(h.symbols, raw), start=1)]


def _bounded(f: Fields, name: str, raw: Any, h: Hyper) -> sp.Rational:
    value = _number(f, name, raw)
    if value < h.low or (h.open_low and value == h.low):
        raise f.fail(name, f"the {h.meaning} must be {'>' if h.open_low else '>='} {h.low}, got {shown(value)}")
    if h.high is not None and (value > h.high or (h.open_high and value == h.high)):
        raise f.fail(name, f"the {h.meaning} must be {'<' if h.open_high else '<='} {h.high}, got {shown(value)}")
    return value


def shown(value: sp.Rational) -> str:
    """A number as the spec would write it: 1/10 as 0.1, 1/3 as 1/3."""
    return decimal_text(value, max_places=MAX_DIGITS) or str(value)
