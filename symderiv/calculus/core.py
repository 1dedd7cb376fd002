"""The shape of a rule: one row per operation, and the records the rows read and return.

A row (:class:`Op`) says everything that is known about one operation, as micrograd
writes each operation's local derivative beside its forward computation and tinygrad
keeps one line per gradient in a table:

* ``forward``: the output's entries from the inputs' entries (SymPy, exact);
* ``vjp``: the vector-Jacobian product, the gradient of every differentiable input given
  the gradient of the output (entries again);
* ``shape``: the output's shape from the inputs' shapes;
* how the sheet prints it (``show``: the general rule, the gradient rules, the words);
* how the kernels compute it on arrays (``array``: a call of a runtime helper, or an
  element-wise SymPy expression to print).

Entries travel as NumPy object arrays of SymPy expressions (:data:`Tensor`), so a rule is
written once for any shape: ``x[c, i, j]`` indexes an image, ``x.reshape(-1)`` flattens
it. Quantities are named by whoever builds the graph; a row sees only its arguments,
under the names it declares (``input``, ``W``, ``b``...).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import sympy as sp

#: Entries of a quantity: a NumPy array (dtype object) of SymPy expressions.
Tensor = np.ndarray


@dataclass(frozen=True)
class Settings:
    """Conventions that change derivative values at non-differentiable points."""

    relu_at_zero: sp.Rational = sp.Integer(0)
    leaky_slope: sp.Rational = sp.Rational(1, 100)


@dataclass(frozen=True)
class Config:
    """A node's hyperparameters: data the rows read, never code.

    ``batch`` says the quantities carry examples: a vector quantity is then a matrix
    with one column per example, an image quantity ``[example][channel][row][column]``.
    """

    settings: Settings = Settings()
    batch: bool = False
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    size: tuple[int, int] = (1, 1)
    eps: sp.Rational = sp.Rational(1, 100000)
    keep: sp.Rational = sp.Integer(1)
    examples: int = 1


@dataclass(frozen=True)
class Name:
    """A symbol a row introduces for printing (``relu'(a2)``), with its LaTeX; ``shape``
    is its array shape when that is not the node output's (softmax's Jacobian)."""

    name: str
    latex: str
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Printed:
    """What a row prints with: the node's quantities as SymPy symbols and as LaTeX, by
    the row's own argument names plus ``out`` (the output), ``grad`` (dL/d out) and
    ``local`` (the symbol of :attr:`Show.local`, when the row has one)."""

    symbols: Mapping[str, sp.Basic]
    latex: Mapping[str, str]
    plain: Mapping[str, str]
    names: Mapping[str, str]
    entries: Mapping[str, Tensor]
    layer: int
    config: Config = Config()

    def __getitem__(self, role: str) -> sp.Basic:
        return self.symbols[role]

    def indexed(self, role: str, mark: str = "") -> sp.IndexedBase:
        """The quantity in index notation (``z_{c,i,j}``): its label prints as the quantity's
        entry LaTeX; ``mark`` names a variant a row declares in :attr:`Show.names`."""
        return sp.IndexedBase(sp.Symbol(f"{self.names[role]}{mark}[]"))


@dataclass(frozen=True)
class Call:
    """Array code as data: ``fn(*args, **options)`` over a chunk of rows, where ``args``
    are argument roles (``input``, ``W``, ``grad``...) and ``fn`` a runtime helper.

    ``sink``, when set, is a helper that stores the result of ``fn``'s arguments straight
    into an output or a row-sum accumulator (``_put_outer`` for ``g z^T``), so a summed
    weight gradient is one matrix product instead of a tensor of outer products.
    """

    fn: str
    args: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()
    sink: str | None = None


#: Element-wise array code: a SymPy expression in the symbols named after the roles.
ArrayRule: TypeAlias = Call | sp.Expr | None


@dataclass(frozen=True)
class Show:
    """How the sheet presents a row.

    ``rule(p)`` is the general forward rule (a matrix-level expression, or ``None`` when
    the row is stated entry by entry in ``forward_math``); ``grad_rule(wrt, p)`` the rule of
    one input's gradient contribution; ``local(p)`` names the local derivative the rules
    introduce (``relu'(a2)``), and ``local_value`` gives its numbers; ``shown(p)`` names the
    printed forward result (``relu(a2)``), ``applied(values)`` is it with the numbers in. ``derivation(wrt, p)``
    are relations shown before a gradient's rule: how it follows from the forward rule.
    ``detail(values)`` is a table for the numbers step (where a max pool sends each
    gradient, from the numbers of ``input``, ``out`` and ``grad`` as arrays). ``names(p)`` are
    further printed names the rules use (a padded input). ``numbers`` says whether putting
    the numbers into the rules prints something readable (else a step shows the result).
    Texts are for students: mathematics, not implementation.
    """

    forward_text: Callable[[int], str]
    grad_text: Callable[[str, Config], str]
    rule: Callable[[Printed], sp.Basic | None]
    grad_rule: Callable[[str, Printed], sp.Basic]
    forward_math: Callable[[Printed], tuple[sp.Basic, ...]] = lambda p: ()
    derivation: Callable[[str, Printed], tuple[sp.Basic, ...]] = lambda wrt, p: ()
    local: Callable[[Printed], Name | None] = lambda p: None
    shown: Callable[[Printed], Name | None] = lambda p: None
    local_value: Callable[[Mapping[str, Any], Config], Any] | None = None
    applied: Callable[[Mapping[str, Any], Config], sp.Basic | None] = lambda values, cfg: None
    detail: Callable[[Mapping[str, Any], Config], Any] = lambda values, cfg: None
    names: Callable[[Printed], tuple[Name, ...]] = lambda p: ()
    numbers: bool = True


@dataclass(frozen=True)
class Op:
    """One operation, as a row of the rules table.

    ``inputs`` are its arguments (``input`` first, then parameters and constants);
    ``grads`` the differentiable ones, in the order the sheet derives them. ``kinks``
    says where the numbers sit on a point where the derivative is a convention (ReLU at 0,
    a tie in a max-pool window): ``(role, entry index, sentence)`` triples. ``float_forward`` is the
    forward rule as floating point should evaluate it (softmax shifted by its maximum),
    when that differs from the exact one.
    """

    name: str
    label: str
    words: str
    inputs: tuple[str, ...]
    grads: tuple[str, ...]
    shape: Callable[[Mapping[str, tuple[int, ...]], Config], tuple[int, ...]]
    forward: Callable[[Mapping[str, Tensor], Config], Tensor]
    vjp: Callable[[Tensor, Mapping[str, Tensor], Tensor, Config], Mapping[str, Tensor]]
    show: Show
    array: Callable[[Config], ArrayRule] = lambda cfg: None
    array_vjp: Callable[[str, Config], ArrayRule] = lambda wrt, cfg: None
    kinks: Callable[[Mapping[str, Tensor], Tensor, Config], tuple[tuple[str, tuple[int, ...], str], ...]] = \
        lambda values, out, cfg: ()
    float_forward: Callable[[Mapping[str, Tensor], Config], Tensor] | None = None


def tensor(shape: tuple[int, ...], fill: Callable[[tuple[int, ...]], sp.Basic]) -> Tensor:
    """An object array of ``shape`` whose entry at ``index`` is ``fill(index)``."""
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = fill(index)
    return out


def vector(items) -> Tensor:
    """A 1-D object array of SymPy entries (never read as nested sequences)."""
    items = list(items)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def entrywise(f: Callable[..., sp.Basic], *arrays: Tensor) -> Tensor:
    """``f`` applied entry by entry to arrays of one shape."""
    return tensor(arrays[0].shape, lambda i: f(*(a[i] for a in arrays)))


def total(terms) -> sp.Basic:
    """A sum of SymPy terms (0 for none)."""
    terms = list(terms)
    return sp.Add(*terms) if terms else sp.Integer(0)


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """A height/width pair from one number or two."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))
