"""Drawing one variant by rejection, deterministically from the seed and the variant's key.

For each problem with draws, attempt 0, 1, 2, ... evaluates the problem's draws with the
numbers of :class:`~.stream.Stream` ``(seed, variant, problem, attempt)``, lets the
problem's kind parse and derive the result, and keeps the first attempt whose answers
meet the problem's constraints. Problems are drawn independently (each has its own
draws and constraints), so a rejection redraws one problem, not the sheet. A problem
without draws is the same in every variant and derived once.

This is the API an exporter uses::

    from symderiv.variants import VariantKey, draw_variant, load_template

    template = load_template("examples/homework1_variants.toml")
    variant = draw_variant(template, seed=1, key=VariantKey(index=7))       # or VariantKey(student="s0001")
    variant.sheet           # the derived Sheet (answers, steps) of variant 7
    variant.spec_text       # its spec: an ordinary TOML spec, as `symderiv build` reads it
"""
from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from symderiv.derive import parse_sheet
from symderiv.errors import SpecError, SymderivError
from symderiv.model import Problem, Sheet
from symderiv.spec import Fields
from symderiv.variants.draws import Support
from symderiv.variants.stream import Stream
from symderiv.variants.template import ProblemTemplate, Template
from symderiv.variants.toml_text import dumps

#: Longest part of a file name taken from a student id.
MAX_SLUG = 24


class RefusedError(SymderivError):
    """No draw of a problem met its constraints within the bounded number of attempts."""


@dataclass(frozen=True)
class VariantKey:
    """Which variant: the ``index``-th (1, 2, ...) or the one of the student ``student``.

    The key, not a position in a list, decides the draws: variant 7 is the same whether 10
    or 300 are drawn, and a student's variant does not depend on the roster's order.
    """

    index: int | None = None
    student: str | None = None

    def __post_init__(self) -> None:
        if (self.index is None) == (self.student is None):
            raise ValueError("a variant key is an index or a student id, not both or neither")
        if self.index is not None and self.index < 1:
            raise ValueError("variant indices count from 1")

    @property
    def token(self) -> str:
        """What the random stream is keyed by (a student "7" is not variant 7)."""
        return f"variant:{self.index}" if self.index is not None else f"student:{self.student}"

    @property
    def label(self) -> str:
        """How the variant is named on its sheet: ``variant 7``, or the student id."""
        return f"variant {self.index}" if self.index is not None else str(self.student)

    @property
    def heading(self) -> str:
        """What the variant's spec says it is: ``Variant 7``, ``Variant of student s0001``."""
        return f"Variant {self.index}" if self.index is not None else f"Variant of student {self.student}"

    def stem(self, base: str) -> str:
        """The variant's sheet name, which names its files: ``hw_v007``, ``hw_s0001``."""
        return f"{base}_v{self.index:03d}" if self.index is not None else f"{base}_{slug(str(self.student))}"


def slug(student: str) -> str:
    """A student id as part of a file name: letters, digits, '-' and '_' (others become '-')."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", student)[:MAX_SLUG]


@dataclass(frozen=True)
class Tally:
    """One problem of one variant: how many draws it took, and the rejections by constraint
    (a rejected draw counts once under every constraint it failed)."""

    problem: int
    draws: int
    rejected: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Variant:
    """A drawn variant: its sheet name, spec (as TOML text and as a table), derived sheet,
    and the draws each problem took."""

    key: VariantKey
    name: str
    spec_text: str
    table: dict[str, Any]
    sheet: Sheet
    tallies: tuple[Tally, ...]


@dataclass
class _Random:
    """Picks uniformly at random from the stream, one number per entry."""

    stream: Stream

    def indices(self, support: Support, count: int) -> list[int]:
        return [self.stream.below(support.size) for _ in range(count)]


def draw_variant(template: Template, seed: int, key: VariantKey) -> Variant:
    """The variant ``key`` of ``template`` for ``seed``: the same on every run and machine."""
    tables, problems, tallies = [], [], []
    for problem in template.problems:
        if problem.drawn:
            derived, table, tally = _draw_problem(problem, template.attempts, seed, key)
            tallies.append(tally)
        else:
            table, derived = fixed_problem(template, problem)
        tables.append(table)
        problems.append(derived)
    name = key.stem(template.name)
    table = {"sheet": {**template.sheet, "name": name, "title": f"{template.title} ({key.label})"},
             "problem": tables}
    spec = parse_sheet(Fields(table, f"{name}.toml"), name)
    sheet = Sheet(spec.name, spec.title, tuple(problems), spec.source, spec.author)
    header = f"{key.heading} of {template.source}, seed {seed}, drawn by `symderiv variants`."
    return Variant(key, name, dumps(table, header), table, sheet, tuple(tallies))


def fixed_problem(template: Template, problem: ProblemTemplate) -> tuple[dict[str, Any], Problem]:
    """A problem without draws: its table and derivation, made once per template."""
    if problem.number not in template.fixed:
        table = copy.deepcopy(problem.table)
        template.fixed[problem.number] = (table, problem.derive(table))
    table, derived = template.fixed[problem.number]
    return copy.deepcopy(table), derived


def _draw_problem(problem: ProblemTemplate, attempts: int, seed: int,
                  key: VariantKey) -> tuple[Problem, dict[str, Any], Tally]:
    rejected: Counter[str] = Counter()
    example = ""
    for attempt in range(attempts):
        values = problem.evaluate(_Random(Stream(seed, key.token, problem.number, attempt)))
        table = problem.concrete(values)
        try:
            derived = problem.derive(table)
        except SpecError as exc:
            blamed = problem.blame(exc, values)
            raise SpecError(blamed.source, blamed.field, f"{blamed.problem} ({key.label}, seed {seed})") from None
        failures = problem.constraints.failures(derived)
        if not failures:
            counts = tuple((name, rejected[name]) for name in problem.constraints.names() if rejected[name])
            return derived, table, Tally(problem.number, attempt + 1, counts)
        rejected.update(name for name, _ in failures)
        example = failures[0][1]
    raise _refused(problem, attempts, key, rejected, example)


def _refused(problem: ProblemTemplate, attempts: int, key: VariantKey, rejected: Counter[str],
             example: str) -> RefusedError:
    counts = ", ".join(f"{name} {rejected[name]:,}" for name in problem.constraints.names() if rejected[name])
    return RefusedError(f"{problem.source}: {problem.path}.variants: no draw met the constraints in {attempts:,} "
                        f"attempts ({key.label}); rejections: {counts}; for example {example}. Widen the draws, "
                        f"relax the constraints or raise variants.attempts")
