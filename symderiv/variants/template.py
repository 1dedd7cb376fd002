"""A spec with draws, read once: where each draw sits, the named draws, the constraints.

:func:`load_template` reads a spec whose numbers may be draws (see :mod:`.draws`) and
``[variants]`` tables (see :mod:`.constraints`). Each problem becomes a
:class:`ProblemTemplate`: its table with the draws taken out as :class:`Slot` s (named
draws first, then every field holding a draw, in file order), so that one attempt at a
problem is: evaluate the slots, put the values into a copy of the table, and let the
problem's kind parse it as it parses any spec.

Before anything is drawn, every draw is tried at its smallest and its largest value (the
others at a middle value) and the kind parses each result: a draw that can leave its
field's range is an error, whether or not some variant would have drawn that value.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from symderiv.derive import parse_sheet
from symderiv.errors import SpecError
from symderiv.kinds import Kind, lookup
from symderiv.model import Problem
from symderiv.spec import MAX_TEXT, Fields, read_toml, to_rational
from symderiv.variants.constraints import Constraints, read_defaults, read_problem
from symderiv.variants.draws import (
    FUNCTIONS,
    Const,
    DrawError,
    Expr,
    Sampler,
    Support,
    Value,
    read_draw,
    references,
    show,
)
from symderiv.variants.toml_text import toml_value

#: Longest sheet name a spec with draws may have: variant names add up to 25 characters.
MAX_NAME = 39
#: Longest title: a variant's label (up to 67 characters) is appended to it.
MAX_TITLE = MAX_TEXT - 67

_LET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
#: Fields of a problem that are never draws.
_TEXT_FIELDS = ("kind", "title")


@dataclass(frozen=True)
class Slot:
    """A named draw (``name``) or a field holding a draw (``keys`` into the problem's table)."""

    path: str
    text: str
    expr: Expr
    name: str = ""
    keys: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class ProblemTemplate:
    """One problem of the spec: its table (without ``variants``), draws and constraints."""

    source: str
    number: int
    kind: Kind
    table: dict[str, Any]
    slots: tuple[Slot, ...]
    constraints: Constraints

    @property
    def drawn(self) -> bool:
        return any(not slot.name for slot in self.slots)

    @property
    def path(self) -> str:
        return f"problem[{self.number}]"

    def evaluate(self, sampler: Sampler, observe: Callable[[Slot], None] | None = None) -> dict[str, Value]:
        """Every slot's value by path, for one attempt (named draws are drawn once)."""
        env: dict[str, Value] = {}
        values: dict[str, Value] = {}
        for slot in self.slots:
            if observe is not None:
                observe(slot)
            try:
                values[slot.path] = slot.expr.evaluate(env, sampler)
            except DrawError as exc:
                raise SpecError(self.source, slot.path, f"draw {_quoted(slot.text)}: {exc}") from None
            if slot.name:
                env[slot.name] = values[slot.path]
        return values

    def concrete(self, values: dict[str, Value]) -> dict[str, Any]:
        """The problem's table with the drawn values in place of the draws."""
        table = copy.deepcopy(self.table)
        for slot in self.slots:
            if not slot.name:
                _put(table, slot.keys, toml_value(values[slot.path]))
        return table

    def parse(self, table: dict[str, Any]) -> tuple[Any, str]:
        """The kind's spec object and the title, from a concrete table (as ``parse_sheet`` does)."""
        fields = Fields(table, self.source, self.path)
        title = fields.str("title", self.kind.default_title)
        rest = Fields({k: v for k, v in table.items() if k not in _TEXT_FIELDS}, self.source, self.path)
        return self.kind.parse(rest), title

    def derive(self, table: dict[str, Any]) -> Problem:
        spec, title = self.parse(table)
        return self.kind.derive(spec, self.number, title)

    def blame(self, error: SpecError, values: dict[str, Value]) -> SpecError:
        """The kind's error, with the draws that gave the field its value."""
        related = [s for s in self.slots if _related(s.path, error.field)]
        if not related:
            return error
        drawn = "; ".join(f"{s.path} = {show(values[s.path])} from {_quoted(s.text)}" for s in related[:3])
        return SpecError(self.source, error.field, f"{error.problem} (drawn: {drawn})")


@dataclass(frozen=True)
class Template:
    """A spec with draws: the sheet's table, its problems, and the attempts per problem."""

    source: str
    sheet: dict[str, Any]
    name: str
    title: str
    problems: tuple[ProblemTemplate, ...]
    attempts: int
    fixed: dict[int, tuple[dict[str, Any], Problem]] = field(default_factory=dict, compare=False, repr=False)


def load_template(path: str | Path) -> Template:
    """Read a spec with draws; every error is a :class:`SpecError` naming file and field."""
    path = Path(path)
    top = Fields(read_toml(path), str(path))
    top.check_known({"sheet", "problem", "variants"})
    defaults, attempts = read_defaults(top)
    problems = tuple(_problem(fields, number, defaults) for number, fields in enumerate(top.subs("problem"), 1))
    if not any(p.drawn for p in problems):
        raise top.fail("problem", 'no field holds a draw (such as "randint(1, 5)"): every variant would be the same')
    sheet, name, title = _sheet(top, path.stem)
    middle = [probe(problem) for problem in problems]
    parse_sheet(Fields({"sheet": sheet, "problem": middle}, top.source), path.stem)  # the [sheet] table too
    return Template(str(path), sheet, name, title, problems, attempts)


def _sheet(top: Fields, stem: str) -> tuple[dict[str, Any], str, str]:
    head = top.sub("sheet") if top.has("sheet") else Fields({}, top.source, "sheet")
    name = head.str("name", stem)
    if not re.fullmatch(rf"[A-Za-z0-9_-]{{1,{MAX_NAME}}}", name):
        raise head.fail("name", f"must be 1-{MAX_NAME} letters, digits, '-' or '_' (variants add to it "
                                f"to name their files)")
    title = head.str("title", name, max_length=MAX_TITLE)
    return dict(head.table), name, title


def _problem(fields: Fields, number: int, defaults: Constraints) -> ProblemTemplate:
    kind = lookup(fields.str("kind"), fields)
    table = {k: v for k, v in fields.table.items() if k != "variants"}
    own = fields.sub("variants") if fields.has("variants") else None
    lets = _lets(own) if own is not None else ()
    names = frozenset(slot.name for slot in lets)
    slots = lets + tuple(_sites(table, fields, names))
    constraints = read_problem(own, defaults, tuple(kind.variant_checks)) if own is not None else defaults
    template = ProblemTemplate(fields.source, number, kind, table, slots, constraints)
    if own is not None:
        _check_used(template, own)
    return template


def _check_used(template: ProblemTemplate, own: Fields) -> None:
    used = set().union(*(references(slot.expr) for slot in template.slots))
    for slot in template.slots:
        if slot.name and slot.name not in used:
            raise SpecError(template.source, slot.path, "a named draw that no field uses")
    if not template.drawn:
        raise SpecError(template.source, own.path, f"problem {template.number} has no draws, so its variants "
                                                   f"table would never be used")


def _lets(own: Fields) -> tuple[Slot, ...]:
    """The named draws of ``[problem.variants.let]``, in order (each may use the earlier ones)."""
    if not own.has("let"):
        return ()
    table = own.sub("let")
    slots: list[Slot] = []
    for name, raw in table.table.items():
        if not _LET_NAME.match(name) or name in FUNCTIONS:
            raise table.fail(name, "a named draw is called by a letter and up to 31 letters, digits or '_' "
                                   "(not randint, choice or uniform)")
        names = frozenset(slot.name for slot in slots)
        slots.append(Slot(table.where(name), str(raw), _let_expr(table, name, raw, names), name=name))
    return tuple(slots)


def _let_expr(table: Fields, name: str, raw: Any, names: frozenset[str]) -> Expr:
    if isinstance(raw, str):
        expr = _read(raw, names, table.where(name), table.source, strict=True)
        if expr is not None:
            return expr
    number = to_rational(raw, table.fail, name)
    return Const(Fraction(int(number.p), int(number.q)))


def _sites(table: dict[str, Any], fields: Fields, names: frozenset[str]) -> Iterator[Slot]:
    """Every string field of the problem's table that holds a draw, in file order."""
    for keys, path, text in _strings(table, (), fields.path):
        if len(keys) == 1 and keys[0] in _TEXT_FIELDS:
            continue
        expr = _read(text, names, path, fields.source)
        if expr is not None:
            yield Slot(path, text, expr, keys=keys)


def _strings(value: Any, keys: tuple[str | int, ...], path: str) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, keys + (key,), f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, keys + (index,), f"{path}[{index + 1}]")
    elif isinstance(value, str):
        yield keys, path, value


def _read(text: str, names: frozenset[str], path: str, source: str, strict: bool = False) -> Expr | None:
    try:
        return read_draw(text, names, strict=strict)
    except DrawError as exc:
        raise SpecError(source, path, f"draw {_quoted(text)}: {exc}") from None


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _put(table: Any, keys: tuple[str | int, ...], value: Any) -> None:
    for key in keys[:-1]:
        table = table[key]
    table[keys[-1]] = value


def _related(path: str, field: str) -> bool:
    """Is one path the other or inside it (``W`` and ``W[1][2]``; ``x`` and ``x[1]``)?"""
    shorter, longer = sorted((path, field), key=len)
    return longer.startswith(shorter) and longer[len(shorter):len(shorter) + 1] in ("", ".", "[")


class _Probe:
    """Picks a middle value for every draw but one (the ``target``-th), which it sets to its
    lowest or highest value; records which slot each draw belongs to."""

    def __init__(self, target: int = -1, highest: bool = False) -> None:
        self.target, self.highest = target, highest
        self.slot: Slot | None = None
        self.owners: list[Slot | None] = []

    def observe(self, slot: Slot) -> None:
        self.slot = slot

    def indices(self, support: Support, count: int) -> list[int]:
        self.owners.append(self.slot)
        if len(self.owners) - 1 != self.target:
            return [support.middle()] * count
        return [support.highest() if self.highest else support.lowest()] * count


def probe(problem: ProblemTemplate) -> dict[str, Any]:
    """Parse the problem with every draw at a middle value, then with each draw in turn at
    its lowest and highest: a spec error there is that draw's error. The problem's table
    with every draw at a middle value."""
    base = _Probe()
    middle = _parse_probe(problem, base)
    for target in range(len(base.owners)):
        for highest in (False, True):
            _parse_probe(problem, _Probe(target, highest))
    return middle


def _parse_probe(problem: ProblemTemplate, sampler: _Probe) -> dict[str, Any]:
    values = problem.evaluate(sampler, sampler.observe)
    table = problem.concrete(values)
    try:
        problem.parse(table)
    except SpecError as exc:
        slot = sampler.owners[sampler.target] if sampler.target >= 0 else None
        if slot is None:
            raise problem.blame(exc, values) from None
        raise SpecError(exc.source, exc.field, f"{exc.problem} (the draw {_quoted(slot.text)} at {slot.path} "
                                               f"can give {show(values[slot.path])})") from None
    return table
