"""Spec -> Sheet: validate a spec's top level, let each problem's kind parse and derive it.

This is where a spec meets the kind registry: :mod:`symderiv.spec` validates fields
without knowing any kind, each kind parses its own table, and :func:`derive_sheet`
runs each problem's ``derive``.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from symderiv.kinds import kinds, lookup
from symderiv.model import Sheet
from symderiv.spec import Fields, ProblemSpec, SheetSpec, read_toml, writes_decimals

#: Significant digits a rounded number may show (``[sheet] digits``, a problem's ``digits``).
DIGITS = (1, 15)

#: Paper sizes of the typeset sheet (``[sheet] paper``).
PAPERS = ("letter", "a4")

#: Most problems in one spec: each kind bounds its own work, so this bounds a build's
#: (README, "Bounds you can rely on").
MAX_PROBLEMS = 20


def load_spec(path: str | Path) -> SheetSpec:
    """Read and validate a TOML spec file; every error is a :class:`SpecError`."""
    path = Path(path)
    return parse_sheet(Fields(read_toml(path), str(path)), path.stem)


def parse_sheet(top: Fields, default_name: str) -> SheetSpec:
    """Validate the top-level table: ``[sheet]`` and ``[[problem]]``."""
    top.check_known({"sheet", "problem", "grading"})
    head = top.sub("sheet") if top.has("sheet") else Fields({}, top.source, "sheet")
    head.check_known({"name", "title", "author", "digits", "paper"})
    name = head.str("name", default_name)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        taken = "" if head.has("name") else f"; none is given, so the file's name {name!r} is used: set [sheet] name"
        raise head.fail("name", f"must be 1-64 letters, digits, '-' or '_' (it names the output files){taken}")
    top.at_most("problem", MAX_PROBLEMS, "problems in one spec (split the problem set into several specs)")
    problems = tuple(parse_problem(fields) for fields in top.subs("problem"))
    return SheetSpec(name, head.str("title", name), head.str("author", ""), problems, top.source,
                     head.integer("digits", 4, low=DIGITS[0], high=DIGITS[1]),
                     head.str("paper", "letter", choices=PAPERS), _grading(top))


def parse_problem(fields: Fields) -> ProblemSpec:
    """One ``[[problem]]``: the generic fields (``kind``, ``title``, ``digits``), then the kind's own."""
    kind = lookup(fields.str("kind"), fields)
    title = fields.str("title", kind.default_title)
    digits = fields.integer("digits", low=DIGITS[0], high=DIGITS[1]) if fields.has("digits") else None
    own = {k: v for k, v in fields.table.items() if k not in ("kind", "title", "digits")}
    spec = kind.parse(Fields(own, fields.source, fields.path))
    return ProblemSpec(kind.name, title, spec, digits, writes_decimals(own))


def _grading(top: Fields) -> Any:
    """The ``[grading]`` table (points, credit, tolerances), read by the checker."""
    if not top.has("grading"):
        return None
    from symderiv.check.policy import parse_grading

    return parse_grading(top.sub("grading"))


def derive_sheet(spec: SheetSpec) -> Sheet:
    """Derive every problem of a validated spec, numbered from 1 in file order, with the
    number policy's settings (digits, decimals) the spec gave."""
    registry = kinds()
    problems = tuple(replace(registry[p.kind].derive(p.spec, i, p.title), digits=p.digits, decimals=p.decimals)
                     for i, p in enumerate(spec.problems, start=1))
    return Sheet(spec.name, spec.title, problems, spec.source, spec.author, spec.digits, spec.paper, spec.grading)


def derive_file(path: str | Path) -> Sheet:
    """Load, validate and derive the spec file at ``path``."""
    return derive_sheet(load_spec(path))


def derive_table(table: dict[str, Any], source: str = "<spec>", name: str = "sheet") -> Sheet:
    """Validate and derive a spec given as a dict (what ``tomllib`` reads), for notebooks,
    tests and generated specs: ``derive_table({"problem": [{"kind": ..., ...}]})``."""
    return derive_sheet(parse_sheet(Fields(table, source), name))
