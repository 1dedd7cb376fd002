"""Spec -> Sheet: validate a spec's top level, let each problem's kind parse and derive it.

This is where a spec meets the kind registry: :mod:`symderiv.spec` validates fields
without knowing any kind, each kind parses its own table, and :func:`derive_sheet`
runs each problem's ``derive``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from symderiv.kinds import kinds, lookup
from symderiv.model import Sheet
from symderiv.spec import Fields, ProblemSpec, SheetSpec, read_toml


def load_spec(path: str | Path) -> SheetSpec:
    """Read and validate a TOML spec file; every error is a :class:`SpecError`."""
    path = Path(path)
    return parse_sheet(Fields(read_toml(path), str(path)), path.stem)


def parse_sheet(top: Fields, default_name: str) -> SheetSpec:
    """Validate the top-level table: ``[sheet]`` and ``[[problem]]``."""
    top.check_known({"sheet", "problem", "grading"})
    head = top.sub("sheet") if top.has("sheet") else Fields({}, top.source, "sheet")
    head.check_known({"name", "title", "author"})
    name = head.str("name", default_name)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise head.fail("name", "must be 1-64 letters, digits, '-' or '_' (it names the output files)")
    problems = []
    for fields in top.subs("problem"):
        kind = lookup(fields.str("kind"), fields)
        title = fields.str("title", kind.default_title)
        rest = Fields({k: v for k, v in fields.table.items() if k not in ("kind", "title")},
                      fields.source, fields.path)
        problems.append(ProblemSpec(kind.name, title, kind.parse(rest)))
    return SheetSpec(name, head.str("title", name), head.str("author", ""), tuple(problems), top.source,
                     _grading(top))


def _grading(top: Fields) -> Any:
    """The ``[grading]`` table (points, credit, tolerances), read by the checker."""
    if not top.has("grading"):
        return None
    from symderiv.check.policy import parse_grading

    return parse_grading(top.sub("grading"))


def derive_sheet(spec: SheetSpec) -> Sheet:
    """Derive every problem of a validated spec, numbered from 1 in file order."""
    registry = kinds()
    problems = tuple(registry[p.kind].derive(p.spec, i, p.title) for i, p in enumerate(spec.problems, start=1))
    return Sheet(spec.name, spec.title, problems, spec.source, spec.author, spec.grading)


def derive_file(path: str | Path) -> Sheet:
    """Load, validate and derive the spec file at ``path``."""
    return derive_sheet(load_spec(path))


def derive_table(table: dict[str, Any], source: str = "<spec>", name: str = "sheet") -> Sheet:
    """Validate and derive a spec given as a dict (what ``tomllib`` reads), for notebooks,
    tests and generated specs: ``derive_table({"problem": [{"kind": ..., ...}]})``."""
    return derive_sheet(parse_sheet(Fields(table, source), name))
