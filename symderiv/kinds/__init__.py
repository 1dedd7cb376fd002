"""The registry of problem kinds: each kind is a plug-in with a spec parser and ``derive``.

A kind module calls :func:`register` at import; this package imports every module in
it, so the core never names a kind. Adding Problem 6 means adding a module here and a
spec under ``derivations/``: nothing else changes.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

from symderiv.model import Problem


@dataclass(frozen=True)
class Kind:
    """A problem kind: ``parse`` validates its fields, ``derive`` solves it.

    ``derive(spec, number, title)`` returns the :class:`Problem` numbered ``number``
    (answer ids start with it). ``verify(problem)``, where a kind has one, checks the
    derived values against independent methods for ``symderiv verify`` and returns a
    list of checks (each with ``ok``).
    """

    name: str
    default_title: str
    parse: Callable[[Any], Any]
    derive: Callable[[Any, int, str], Problem]
    doc: str = ""
    verify: Callable[[Problem], list] | None = None


_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind to the registry (module import time); names are unique."""
    if kind.name in _REGISTRY:
        raise ValueError(f"problem kind {kind.name!r} registered twice")
    _REGISTRY[kind.name] = kind
    return kind


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def kinds() -> dict[str, Kind]:
    """Every registered kind by name (importing one kind directly must not hide the others)."""
    _load_all()  # idempotent: modules already imported are not run again
    return dict(_REGISTRY)


def lookup(name: str, fields: Any) -> Kind:
    """The kind called ``name``; an unknown name is a spec error on ``fields.kind``."""
    known = kinds()
    if name not in known:
        raise fields.fail("kind", f"unknown problem kind {name!r}; expected one of {', '.join(sorted(known))}")
    return known[name]
