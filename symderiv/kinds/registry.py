"""The contract of a problem kind, and the registry every kind adds itself to.

A kind is the unit of change: everything that knows what a problem of this kind *is*
(how its spec reads, how it is derived, how it is checked, which kernels it prints,
how a student's wrong earlier answer propagates) is a field of :class:`Kind`. Generic
code asks the kind for an ability, the way SymPy's printers look up ``_print_<Class>``;
it never tests a kind's name, and never reads ``Problem.data``, which is the kind's own.

This module imports nothing of symderiv but the data model, so a kind module can import
it without importing every other kind (``symderiv.kinds`` loads them all).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symderiv.model import Problem


@dataclass(frozen=True)
class Check:
    """One derived value compared with independent methods (a line of ``symderiv verify``).

    ``detail`` says what each method gave, for the report when they differ.
    """

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    """What a kind's ``verify`` found for one problem: its checks, what they compared
    (``what``: "gradient entries checked against ..."), and caveats for the reader."""

    what: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@dataclass(frozen=True)
class ProblemKernels:
    """One problem's printed kernels: source, public functions (name, one-line summary),
    and shared helper blocks (name, source), written once per module however many
    problems need them."""

    source: str
    functions: tuple[tuple[str, str], ...]
    helpers: tuple[tuple[str, str], ...] = ()


#: ``pinned`` (answer id -> the student's value) -> every numeric answer recomputed by
#: the correct rules, for carried-forward grading.
Recompute = Callable[[Problem, Mapping[str, sp.Basic]], dict[str, sp.Basic]]

#: A condition a drawn variant must meet: ``check(problem)`` says what is wrong, or None.
VariantCheck = Callable[[Problem], "str | None"]


@dataclass(frozen=True)
class Kind:
    """A problem kind: the abilities generic code may ask of it.

    * ``parse(fields)`` validates the kind's spec fields (a :class:`symderiv.spec.Fields`);
    * ``derive(spec, number, title)`` returns the :class:`Problem` numbered ``number``;
    * ``verify(problem)``, where a kind has one, checks the derived values against
      independent methods for ``symderiv verify``;
    * ``kernels(problem)``, where a kind prints its own NumPy kernels (formula answers
      get kernels for every kind, generically);
    * ``recompute(problem, pinned)``, where a kind knows better than re-evaluating its own
      steps (the generic recomputation), for errors carried forward in grading;
    * ``variant_checks``: named conditions a drawn variant of this kind can be asked to
      meet (``no_kink``...), beyond the generic ones on its answers.
    """

    name: str
    default_title: str
    parse: Callable[[Any], Any]
    derive: Callable[[Any, int, str], Problem]
    doc: str = ""
    verify: Callable[[Problem], Verification] | None = None
    kernels: Callable[[Problem], ProblemKernels] | None = None
    recompute: Recompute | None = None
    variant_checks: Mapping[str, VariantCheck] = field(default_factory=dict)


_REGISTRY: dict[str, Kind] = {}


def _origin(kind: Kind) -> str:
    return getattr(kind.derive, "__module__", "") or ""


def register(kind: Kind) -> Kind:
    """Add a kind to the registry (module import time); names are unique.

    Registering again from the same module replaces the entry: a module reloaded by
    Jupyter's autoreload or ``importlib.reload`` runs its ``register`` call twice.
    """
    known = _REGISTRY.get(kind.name)
    if known is not None and _origin(known) != _origin(kind):
        raise ValueError(f"problem kind {kind.name!r} registered twice ({_origin(known)} and {_origin(kind)})")
    _REGISTRY[kind.name] = kind
    return kind


def registered() -> dict[str, Kind]:
    """The kinds registered so far, by name (see :func:`symderiv.kinds.kinds` for all)."""
    return dict(_REGISTRY)


def names() -> Sequence[str]:
    return tuple(_REGISTRY)
