"""What every exporter reads: a spec (with or without draws), its sheets, its answers' forms.

An exporter takes a spec file. Without draws it is derived once (:func:`load_source`);
with draws (see :mod:`symderiv.variants`) each variant is drawn on demand, from the
export's seed and the variant's number or the student's id, exactly as ``symderiv
variants`` draws it, so the numbers a platform shows are those of the sheets handed out.

Each answer is given to a platform in one of four forms (:func:`answer_form`): a
``number`` (a numeric scalar), a ``matrix`` (a numeric vector or matrix), a ``shape``
(a tensor shape such as ``20 x 20 x 3``) or ``text`` (a formula, or a tensor of rank 3
or more): what the platform's input can hold, and what it can grade by itself.
"""
from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import sympy as sp

from symderiv.check.numbers import Tolerance
from symderiv.check.policy import Policy
from symderiv.check.show import plain
from symderiv.derive import derive_sheet, load_spec
from symderiv.errors import SpecError, SymderivError
from symderiv.kinds import kinds
from symderiv.model import Answer, Problem, Question, Sheet, TensorShape
from symderiv.render.key import numeric
from symderiv.spec import SheetSpec
from symderiv.variants import Template, VariantKey, draw_variant, load_template
from symderiv.variants.batch import MAX_VARIANTS

Form = Literal["number", "matrix", "shape", "text"]


class ExportError(SymderivError):
    """An export cannot be made as asked: the message names the option or the file."""


@dataclass(frozen=True)
class Source:
    """A spec read for export: its text, and either its parsed spec (no draws) or its
    template (draws). Sheets are derived on demand and remembered."""

    path: Path
    text: str
    spec: SheetSpec | None = None
    template: Template | None = None
    _sheets: dict[Any, Sheet] = field(default_factory=dict, compare=False, repr=False)

    @property
    def drawn(self) -> bool:
        return self.template is not None

    @property
    def name(self) -> str:
        return self.template.name if self.template is not None else self.spec.name  # type: ignore[union-attr]

    @property
    def title(self) -> str:
        return self.template.title if self.template is not None else self.spec.title  # type: ignore[union-attr]

    def sheet(self, seed: int = 0, key: VariantKey | None = None) -> Sheet:
        """The sheet without draws, or the variant ``key`` drawn with ``seed``."""
        if self.template is None:
            return self._remember(None, lambda spec: derive_sheet(spec))
        which = key or VariantKey(index=1)
        template = self.template
        return self._remember((seed, which), lambda spec: draw_variant(template, seed, which).sheet)

    def problem(self, number: int, seed: int = 0, key: VariantKey | None = None) -> Sheet:
        """A sheet holding problem ``number`` only (as the whole sheet numbers it), with the
        grading policy narrowed to it: what grading one question needs, derived alone."""
        if self.template is not None:
            return only_problem(self.sheet(seed, key), number)
        return self._remember(("problem", number), lambda spec: only_problem(_derive_one(spec, number), number))

    def _remember(self, token: Any, make: Callable[[SheetSpec], Sheet]) -> Sheet:
        if token not in self._sheets:
            self._sheets[token] = make(self.spec)  # type: ignore[arg-type]
        return self._sheets[token]


def _derive_one(spec: SheetSpec, number: int) -> Sheet:
    """Problem ``number`` of ``spec`` derived alone, numbered as in the whole sheet."""
    p = spec.problems[number - 1]
    derived = replace(kinds()[p.kind].derive(p.spec, number, p.title), digits=p.digits, decimals=p.decimals)
    return Sheet(spec.name, spec.title, (derived,), spec.source, spec.author, spec.digits, spec.paper, spec.grading)


def load_source(path: str | Path) -> Source:
    """Read a spec for export: an ordinary spec, or one with draws; errors name file and field."""
    path = Path(path)
    try:
        return Source(path, path.read_text(encoding="utf-8-sig"), spec=load_spec(path))
    except SpecError as plain_error:
        try:
            template = load_template(path)
        except SpecError as template_error:
            no_draws = template_error.field == "problem" and template_error.problem.startswith("no field holds")
            raise (plain_error if no_draws or template_error.field == plain_error.field else template_error) from None
        return Source(path, path.read_text(encoding="utf-8-sig"), template=template)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "(file)", str(exc)) from None


def only_problem(sheet: Sheet, number: int) -> Sheet:
    """``sheet`` with problem ``number`` only, its policy narrowed to that problem's answers."""
    problems = tuple(p for p in sheet.problems if p.number == number)
    ids = {a.id for p in problems for q in p.questions for a in q.answers}
    policy = sheet.grading
    if isinstance(policy, Policy):
        policy = replace(policy, problems=tuple(o for o in policy.problems if o[0] == number),
                         answers=tuple(o for o in policy.answers if o[0] in ids))
    return replace(sheet, problems=problems, grading=policy)


def variant_keys(source: Source, count: int | None) -> tuple[VariantKey | None, ...]:
    """The variants an export holds: 1 .. count for a spec with draws, one sheet without."""
    if count is None:
        return (None,)
    if not source.drawn:
        raise ExportError(f"--count: {source.path} has no draws, so every variant would be the same; "
                          f"leave --count out")
    if not 1 <= count <= MAX_VARIANTS:
        raise ExportError(f"--count: must be from 1 to {MAX_VARIANTS:,}, got {count:,}")
    return tuple(VariantKey(index=i) for i in range(1, count + 1))


_WORK: dict[str, Callable[[Any], Any]] = {}


def _run(item: Any) -> Any:
    return _WORK["fn"](item)


def map_variants(work: Callable[[VariantKey | None], Any], keys: Sequence[VariantKey | None], jobs: int = 1) -> list:
    """``work`` of every key, in order, in ``jobs`` forked processes (each variant is drawn
    on its own, so the results are the same for any number of processes). The work is
    handed to the workers by forking, so only the keys and the results are pickled."""
    methods = multiprocessing.get_all_start_methods()
    if jobs <= 1 or len(keys) <= 1 or "fork" not in methods:
        return [work(key) for key in keys]
    _WORK["fn"] = work
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_run, keys, chunksize=max(1, len(keys) // (4 * jobs))))
    finally:
        _WORK.clear()


def questions(sheet: Sheet) -> list[tuple[Problem, Question]]:
    """The questions with answers to give (a question that only explains has nothing to grade)."""
    return [(p, q) for p in sheet.problems for q in p.questions if q.answers]


# --------------------------------------------------------------------------
# Answers: their form, their key value, their tolerance
# --------------------------------------------------------------------------


def answer_form(answer: Answer) -> Form:
    """How a platform takes the answer: see the module docstring."""
    value = numeric(answer.value)
    if isinstance(answer.value, TensorShape):
        return "shape"
    if value is None:
        return "text"
    if not isinstance(value, list):
        return "number"
    return "matrix" if all(isinstance(row, list) and not any(isinstance(x, list) for x in row) for row in value) \
        else "text"


def entries(answer: Answer) -> list[list[sp.Basic]]:
    """A numeric answer's entries as rows (a scalar is one row of one; a shape one row)."""
    value = answer.value
    if isinstance(value, sp.MatrixBase):
        return [list(value.row(i)) for i in range(value.rows)]
    return [[value]]


def as_float(value: sp.Basic) -> float:
    """A key number as the float a platform compares with."""
    return float(sp.N(value, 30))


def key_text(answer: Answer) -> str:
    """The key's answer in the plain answer syntax students type (``[2, 8, 9]``, ``d^n*g``)."""
    return plain(sp.ImmutableMatrix([list(answer.value)]) if isinstance(answer.value, TensorShape) else answer.value)


def tolerance_of(sheet: Sheet, answer: Answer, problem: int) -> Tolerance:
    """The grading policy's tolerance for one answer (the sheet's ``[grading]`` table)."""
    policy = sheet.grading if isinstance(sheet.grading, Policy) else Policy()
    return policy.for_answer(answer.id, problem).tolerance


def absolute_tolerance(tolerance: Tolerance, value: sp.Basic) -> float:
    """An absolute tolerance around ``value`` that stands for the policy (Moodle's numerical
    questions know absolute tolerances only):

    * a whole number is exact (0);
    * ``digits`` (at least ``sig_figs`` figures): half a unit of the last required figure,
      so every decimal that rounds to the value's first ``sig_figs`` figures is accepted;
    * ``exact``: 0 for a terminating decimal, else a float's precision (1e-12 relative);
    * ``rtol``/``atol``: ``max(atol, rtol * |value|)``, as the grader compares.
    """
    number = as_float(value)
    if tolerance.mode == "tolerance":
        return max(tolerance.atol or 0.0, (tolerance.rtol or 0.0) * abs(number))
    if isinstance(value, sp.Integer) or number == 0:
        return 0.0
    if tolerance.mode == "exact":
        return 0.0 if _terminates(value) else 1e-12 * abs(number)
    figures = tolerance.sig_figs
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(number))) - figures + 1)


def _terminates(value: sp.Basic) -> bool:
    if not isinstance(value, sp.Rational):
        return False
    q = Fraction(int(value.p), int(value.q)).denominator
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    return q == 1
