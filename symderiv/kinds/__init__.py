"""The problem kinds: plug-ins that each register a :class:`Kind` (see ``registry``).

A kind module (or package) calls :func:`register` at import; :func:`kinds` imports
every module of this package, so the core never names a kind. Adding Problem 6 means
adding a module here and a spec under ``derivations/``: nothing else changes.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from symderiv.kinds.registry import Check as Check
from symderiv.kinds.registry import Kind as Kind
from symderiv.kinds.registry import ProblemKernels as ProblemKernels
from symderiv.kinds.registry import Verification as Verification
from symderiv.kinds.registry import register as register
from symderiv.kinds.registry import registered
from symderiv.model import Problem

#: Modules of this package that are not kinds.
_NOT_KINDS = frozenset({"registry"})


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_KINDS:
            importlib.import_module(f"{__name__}.{info.name}")


def kinds() -> dict[str, Kind]:
    """Every registered kind by name (importing one kind directly must not hide the others)."""
    _load_all()  # idempotent: modules already imported are not run again
    return registered()


def kind_of(problem: Problem) -> Kind:
    """The kind that derived ``problem``: what generic code asks for a kind's abilities."""
    return kinds()[problem.kind]


def ability(problem: Problem, name: str) -> Any:
    """The kind's hook ``name`` (``verify``, ``kernels``, ``recompute``...) for ``problem``,
    or None: a kind without it, or a problem built by hand under a kind nobody registered."""
    kind = kinds().get(problem.kind)
    return getattr(kind, name) if kind is not None else None


def lookup(name: str, fields: Any) -> Kind:
    """The kind called ``name``; an unknown name is a spec error on ``fields.kind``."""
    known = kinds()
    if name not in known:
        raise fields.fail("kind", f"unknown problem kind {name!r}; expected one of {', '.join(sorted(known))}")
    return known[name]
