"""Spec -> Sheet: run each problem's kind and assemble the sheet."""
from __future__ import annotations

from pathlib import Path

from symderiv.kinds import kinds
from symderiv.model import Sheet
from symderiv.spec import SheetSpec, load_spec


def derive_sheet(spec: SheetSpec) -> Sheet:
    """Derive every problem of a validated spec, numbered from 1 in file order."""
    registry = kinds()
    problems = tuple(registry[p.kind].derive(p.spec, i, p.title) for i, p in enumerate(spec.problems, start=1))
    return Sheet(spec.name, spec.title, problems, spec.source, spec.author)


def derive_file(path: str | Path) -> Sheet:
    """Load, validate and derive the spec file at ``path``."""
    return derive_sheet(load_spec(path))
