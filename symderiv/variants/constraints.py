"""What a drawn variant must satisfy: the ``[variants]`` tables of a spec.

::

    [variants]                # the sheet's defaults, for every problem with draws
    attempts = 1000           # draws of one problem before symderiv gives up (1 to 100000)
    distinguishable = true    # the default

    [[problem]]
    ...
    [problem.variants]        # this problem's own; a field given here overrides the sheet's
    integral = true           # every numeric answer a whole number
    max_abs = 500             # every entry of every numeric answer at most 500 in size
    max_decimals = 4          # every numeric answer a decimal of at most 4 places
    no_kink = true            # a check of the problem's kind (its ``variant_checks``)

The generic constraints read only a problem's numeric answers, so they hold for every
kind. ``distinguishable`` keeps the grader's diagnoses unambiguous: for every numeric
answer, the answer itself, its negative, ten times it, it plus one and it minus one (and
its transpose, for a square matrix) must differ pairwise (an irrational answer by more
than :data:`SLIP_TOLERANCE`, relative), so a symmetric matrix or a zero gradient, where
"transposed" or "sign flipped" could not be seen, is drawn again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp
from sympy.matrices import MatrixBase

from symderiv.check.carry import numeric_answers
from symderiv.kinds import ability
from symderiv.model import Problem
from symderiv.spec import Fields
from symderiv.variants.draws import decimal_places

#: Two slips of an irrational answer closer than this (relative to the larger) count as
#: the same: a student's 3-significant-figure decimal could be either. Exact answers'
#: slips must differ exactly (students give whole numbers and fractions exactly).
SLIP_TOLERANCE = Fraction(1, 1000)

#: The constraints every kind has, in the order they are checked and reported.
GENERIC = ("distinguishable", "integral", "max_decimals", "max_abs")

#: Draws of one problem before giving up, by default and at most.
DEFAULT_ATTEMPTS = 1000
MAX_ATTEMPTS = 100_000


@dataclass(frozen=True)
class Constraints:
    """The constraints of one problem (``checks``: the kind's checks switched on)."""

    distinguishable: bool = True
    integral: bool = False
    max_decimals: int | None = None
    max_abs: sp.Rational | None = None
    checks: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """The constraints switched on, generic ones first."""
        on = tuple(name for name in GENERIC if getattr(self, name) not in (False, None))
        return on + self.checks

    def failures(self, problem: Problem) -> list[tuple[str, str]]:
        """(constraint, why) for each constraint ``problem`` fails; empty when it passes all."""
        numeric = numeric_answers(problem)
        kind_checks: Mapping[str, Callable[[Problem], str | None]] = ability(problem, "variant_checks") or {}
        found = []
        for name in self.names():
            reason = kind_checks[name](problem) if name in self.checks else _GENERIC[name](self, numeric)
            if reason is not None:
                found.append((name, reason))
        return found


def read_defaults(top: Fields) -> tuple[Constraints, int]:
    """The sheet's ``[variants]`` table: default constraints and the number of attempts."""
    if not top.has("variants"):
        return Constraints(), DEFAULT_ATTEMPTS
    fields = top.sub("variants")
    fields.check_known(set(GENERIC) | {"attempts"})
    attempts = fields.integer("attempts", DEFAULT_ATTEMPTS, low=1, high=MAX_ATTEMPTS)
    return _read(fields, Constraints(), ()), attempts


def read_problem(fields: Fields, defaults: Constraints, kind_checks: tuple[str, ...]) -> Constraints:
    """A problem's ``[problem.variants]`` table over the sheet's defaults (``let`` is read
    by the template)."""
    fields.check_known(set(GENERIC) | set(kind_checks) | {"let"})
    return _read(fields, defaults, kind_checks)


def _read(fields: Fields, base: Constraints, kind_checks: tuple[str, ...]) -> Constraints:
    checks = tuple(name for name in kind_checks if _flag(fields, name, False))
    found = Constraints(_flag(fields, "distinguishable", base.distinguishable),
                        _flag(fields, "integral", base.integral),
                        fields.integer("max_decimals", low=0, high=30) if fields.has("max_decimals")
                        else base.max_decimals,
                        fields.number("max_abs", low=0, open_low=True) if fields.has("max_abs") else base.max_abs,
                        checks)
    _check_consistent(found, fields)
    return found


def _flag(fields: Fields, name: str, default: bool) -> bool:
    value = fields.raw(name, default)
    if not isinstance(value, bool):
        raise fields.fail(name, f"expected true or false, got {value!r}"[:120])
    return value


def _check_consistent(c: Constraints, fields: Fields) -> None:
    """Refuse constraints no variant can meet whatever is drawn: a bound so small that
    every answer must be 0, which ``distinguishable`` refuses (0 is its own negative)."""
    if not c.distinguishable or c.max_abs is None:
        return
    places = 0 if c.integral else c.max_decimals
    if places is None or c.max_abs >= sp.Rational(1, 10**places):
        return
    why = "integral = true" if c.integral else f"max_decimals = {places}"
    raise fields.fail("max_abs" if fields.has("max_abs") else "distinguishable",
                      f"max_abs = {c.max_abs} with {why} leaves only 0 for every answer, and distinguishable "
                      f"refuses 0 (it is its own negative): these constraints contradict each other")


def _entries(value: sp.Basic) -> list[sp.Basic]:
    """A numeric answer's entries: a number's one, a matrix's or a tensor's (row-major)."""
    return list(value) if isinstance(value, (MatrixBase, sp.NDimArray)) else [value]


def _shape(value: sp.Basic) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, (MatrixBase, sp.NDimArray)) else (1, 1)


def _approx(entry: sp.Basic) -> Fraction | None:
    """An entry as a Fraction: exact for a rational, 30 digits for an irrational, None if not real."""
    if entry.is_Rational:
        return Fraction(int(entry.p), int(entry.q))
    value = sp.N(entry, 30)
    return Fraction(str(value)) if value.is_real and value.is_finite else None


def _shown(value: sp.Basic) -> str:
    text = sp.sstr(value.tolist() if isinstance(value, (MatrixBase, sp.NDimArray)) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _integral(c: Constraints, numeric: dict[str, sp.Basic]) -> str | None:
    for answer_id, value in numeric.items():
        if not all(entry.is_Integer for entry in _entries(value)):
            return f"{answer_id} = {_shown(value)} is not whole"
    return None


def _max_decimals(c: Constraints, numeric: dict[str, sp.Basic]) -> str | None:
    for answer_id, value in numeric.items():
        for entry in _entries(value):
            places = decimal_places(Fraction(int(entry.p), int(entry.q))) if entry.is_Rational else None
            if places is None or places > (c.max_decimals or 0):
                return f"{answer_id} = {_shown(value)} is not a decimal of at most {c.max_decimals} places"
    return None


def _max_abs(c: Constraints, numeric: dict[str, sp.Basic]) -> str | None:
    limit = Fraction(int(c.max_abs.p), int(c.max_abs.q)) if c.max_abs is not None else None
    for answer_id, value in numeric.items():
        for entry in _entries(value):
            size = _approx(entry)
            if size is None or limit is None or abs(size) > limit:
                return f"{answer_id} = {_shown(value)} has an entry beyond {c.max_abs} in size"
    return None


@dataclass(frozen=True)
class _Image:
    """An answer or a slip of it, as (rows, cols) and row-major Fractions."""

    name: str
    shape: tuple[int, ...]
    entries: tuple[Fraction, ...]


def slips(value: sp.Basic) -> list[_Image] | None:
    """The answer and each slip the grader diagnoses from it (None: an entry is not real)."""
    shape = _shape(value)
    entries = [_approx(entry) for entry in _entries(value)]
    if any(entry is None for entry in entries):
        return None
    a = tuple(e for e in entries if e is not None)
    images = [_Image("the answer", shape, a), _Image("its negative", shape, tuple(-e for e in a)),
              _Image("ten times it", shape, tuple(10 * e for e in a)),
              _Image("it plus 1", shape, tuple(e + 1 for e in a)), _Image("it minus 1", shape, tuple(e - 1 for e in a))]
    if len(shape) == 2 and shape[0] == shape[1] > 1:
        n = shape[0]
        images.append(_Image("its transpose", shape, tuple(a[j * n + i] for i in range(n) for j in range(n))))
    return images


def _confusable(p: _Image, q: _Image, exact: bool) -> bool:
    """Equal (an exact answer), or within :data:`SLIP_TOLERANCE` (an irrational one)."""
    if p.shape != q.shape:
        return False
    if exact:
        return p.entries == q.entries
    largest = max(abs(e) for e in p.entries + q.entries)
    return max(abs(x - y) for x, y in zip(p.entries, q.entries)) <= SLIP_TOLERANCE * largest


def _pairs(images: list[_Image]) -> Iterator[tuple[_Image, _Image]]:
    for i, p in enumerate(images):
        for q in images[i + 1:]:
            yield p, q


def _distinguishable(c: Constraints, numeric: dict[str, sp.Basic]) -> str | None:
    for answer_id, value in numeric.items():
        images = slips(value)
        if images is None:
            return f"{answer_id} = {_shown(value)} is not a real number"
        exact = all(entry.is_Rational for entry in _entries(value))
        for p, q in _pairs(images):
            if _confusable(p, q, exact):
                return f"{answer_id} = {_shown(value)}: {p.name} and {q.name} cannot be told apart"
    return None


_GENERIC: dict[str, Callable[[Constraints, dict[str, Any]], str | None]] = {
    "distinguishable": _distinguishable, "integral": _integral, "max_decimals": _max_decimals, "max_abs": _max_abs,
}
