"""Is an answer equivalent to the reference? Exactly where possible, robustly everywhere.

>>> import sympy as sp
>>> n, k, p, s = sp.symbols("n k p s", integer=True, positive=True)
>>> ref = sp.floor((n + 2*p - k) / s) + 1
>>> equivalent("ceiling((n + 2p - k + 1)/s)", ref).verdict      # equal at every integer point
'correct'
>>> equivalent("floor((n + 2p - k)/s)", ref).reason              # doctest: +ELLIPSIS
'at k=..., n=..., p=..., s=...: expected ..., got ...'
>>> equivalent("N = 3.33", sp.Rational(10, 3)).verdict           # a decimal to the digits given
'correct'

How an answer is compared with its reference (which is trusted: a SymPy object from the
answer key, a number, a list, a tuple or a string):

1. **Read.** Strings go through :func:`symderiv.check.parse.read_answer` (never
   ``eval``/``sympify``), with the reference's symbols passed by name so that ``n`` in
   the answer *is* the key's ``n`` with its assumptions (integer, positive...), and
   with the sheet's ``notation`` so that ``\\hat{y}`` or ``\\frac{\\partial L}{\\partial z_n}``
   name the key's quantities. An ``=`` chain is read side by side: a first side that
   only names the quantity (``L =``, ``N_out =``) is a label; every other side is
   checked, the last is the answer, and a wrong earlier side is reported in ``notes``.
   The quantity's ``unit`` lets ``6000 min`` or ``100 h`` stand for 6000 minutes; a
   scalar may have thousands separators (``6,000``), a shape ``x`` separators.
2. **Shape.** A 1x1 matrix and a scalar are the same thing. Otherwise the shapes must
   match (verdict ``"wrong_shape"``). A tuple (a :class:`~symderiv.model.TensorShape`
   such as an output shape, or a Python tuple) has no orientation: a row and a column
   of its entries are both accepted (``orientation="any"``, the default for tuples).
3. **Numbers** follow the :class:`~symderiv.check.numbers.Tolerance` policy: by
   default a decimal is correct when it agrees with the exact value to the digits
   given, with at least 3 significant figures (``3.33`` for 10/3, ``0.8808`` for
   sigmoid(2)); integers, fractions and exact forms (``sqrt(2)/2``) compare exactly.
4. **Formulas**: first cheap symbolic steps on the difference (``expand``, ``cancel``,
   ``together``; ``simplify`` only for small expressions); if they do not reach 0, the
   two sides are evaluated at seeded random points inside the question's domain
   (:mod:`symderiv.check.sampling`), as STACK's algebraic-equivalence test does; a
   counterexample is reported in the reason.
5. **Matrix expressions** (answers of a symbolic chain rule such as ``dL_da2 z1^T``)
   are read by :func:`symderiv.check.parse.read_matrix_expression` and compared by
   evaluating both sides with random integer matrices in place of every symbol.

Every check has a time budget (``max_seconds``) that holds in any thread
(:mod:`symderiv.check.budget`); an answer that cannot be checked in time gets the
verdict ``"too_large"``, never a hang.
"""
from __future__ import annotations

import itertools
import math
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Literal

import sympy as sp
from sympy.matrices import MatrixBase
from sympy.matrices.exceptions import ShapeError
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.check import budget
from symderiv.check.formulas import has_formula, matches
from symderiv.check.numbers import (
    DEFAULT_RTOL,
    DIGITS,
    DIGITS_RULE,
    Tolerance,
    digits_verdict,
    numeric,
    within,
)
from symderiv.check.parse import (
    Names,
    ParseError,
    Precision,
    Side,
    parse_answer,
    read_answer,
    read_float,
    read_matrix_expression,
    unit_of,
)
from symderiv.check.parse.forms import split_sides
from symderiv.check.parse.limits import MAX_TENSOR_RANK
from symderiv.check.parse.source import SourceText
from symderiv.check.sampling import draw, sample_points, variables
from symderiv.check.shapes import describe_shape, shape_of, tensor_fit
from symderiv.check.show import show
from symderiv.check.verdicts import Verdict
from symderiv.model import TensorShape

Orientation = Literal["strict", "any"]

MAX_SECONDS = 2.0
"""Wall-clock budget of one comparison, parsing included."""
DEFAULT_SAMPLES = 16
"""Random points a formula must agree at (when simplification does not decide)."""
SIMPLIFY_OPS = 40
"""``simplify`` runs only on differences with at most this many operations."""
EXPAND_OPS = 300
"""``expand``/``cancel`` run only on differences with at most this many operations..."""
EXPAND_POWER = 12
"""...and no power of a sum above this exponent (``(a+b+c)^1000`` would explode)..."""
EXPAND_TERMS = 5_000
"""...and no more than this many terms once expanded (a product of 150 binomials)."""
MATRIX_TRIALS = 3
"""Random integer matrices per symbol when comparing matrix expressions."""

__all__ = ["DEFAULT_RTOL", "DIGITS", "MAX_SECONDS", "Result", "Settings", "Tolerance", "equivalent", "draw",
           "variables"]


@dataclass(frozen=True)
class Result:
    """The outcome of one comparison.

    ``verdict`` is one of ``correct``, ``incorrect``, ``unparseable``, ``too_large``,
    ``not_finite``, ``wrong_shape``; ``equivalent`` is ``verdict == "correct"``;
    ``reason`` is a sentence for a person; ``parsed`` is the answer as a SymPy object
    (None when it could not be read) and ``expected`` the reference, normalised the
    same way (1x1 matrices as scalars). ``notes`` are remarks that do not change the
    verdict (a wrong earlier side of an ``=`` chain); ``typed`` says how precisely each
    decimal of the answer was typed (value -> :class:`~symderiv.check.parse.Precision`).
    """

    equivalent: bool
    reason: str
    parsed: sp.Basic | None
    verdict: Verdict
    expected: sp.Basic | None = None
    notes: tuple[str, ...] = ()
    typed: tuple[tuple[sp.Rational, Precision], ...] = ()

    def __bool__(self) -> bool:
        return self.equivalent


@dataclass(frozen=True)
class Settings:
    """Everything a comparison needs besides the two values (see :func:`equivalent`)."""

    tolerance: Tolerance = DIGITS_RULE
    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    orientation: Orientation | None = None
    symbols: tuple[tuple[str, sp.Basic], ...] = ()
    notation: tuple[tuple[str, str], ...] = ()
    unit: str | None = None
    givens: tuple[tuple[str, sp.Basic], ...] = ()
    simplify: bool = True
    """Try to show two formulas equal by simplification before sampling them (diagnoses,
    which compare with many candidates, only sample)."""


@dataclass(frozen=True)
class _Run:
    """One comparison in progress: the settings, the deadline, the decimals as typed."""

    settings: Settings
    deadline: float
    decimals: Mapping[sp.Rational, Precision] = field(default_factory=dict)

    def check_time(self) -> None:
        budget.check(self.deadline)

    @property
    def tolerance(self) -> Tolerance:
        return self.settings.tolerance


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def equivalent(answer: object, reference: object, *, rtol: float | None = None, atol: float | None = None,
               tolerance: Tolerance | str | None = None, symbols: Mapping[str, sp.Basic] | None = None,
               samples: int = DEFAULT_SAMPLES, seed: int = 0, orientation: Orientation | None = None,
               notation: Mapping[str, str] | None = None, unit: str | None = None,
               givens: Mapping[str, sp.Basic] | None = None, max_seconds: float = MAX_SECONDS) -> Result:
    """Compare ``answer`` (untrusted: a string, number, list or SymPy object) with ``reference``.

    ``tolerance`` is a :class:`~symderiv.check.numbers.Tolerance` (or ``"digits"``, the
    default, or ``"exact"``); ``rtol``/``atol`` set a fixed tolerance instead.
    ``symbols`` maps extra names to SymPy objects (the reference's own symbols are
    matched by name automatically); ``notation`` maps symbol names to the sheet's LaTeX
    for them; ``unit`` names the quantity's unit (``"minutes"``); ``givens`` maps names
    to the question's values (counterexamples are drawn where those values lie).
    ``samples`` and ``seed`` control the random-point test; ``orientation="any"``
    accepts a row vector for a column vector and vice versa (the default for tuples).
    """
    settings = make_settings(rtol=rtol, atol=atol, tolerance=tolerance, symbols=symbols, samples=samples,
                             seed=seed, orientation=orientation, notation=notation, unit=unit, givens=givens)
    return compare(answer, reference, settings, max_seconds)


def make_settings(*, rtol: float | None = None, atol: float | None = None, tolerance: Tolerance | str | None = None,
                  symbols: Mapping[str, sp.Basic] | None = None, samples: int = DEFAULT_SAMPLES, seed: int = 0,
                  orientation: Orientation | None = None, notation: Mapping[str, str] | None = None,
                  unit: str | None = None, givens: Mapping[str, sp.Basic] | None = None) -> Settings:
    """The :class:`Settings` of :func:`equivalent`'s keyword arguments."""
    if rtol is not None or atol is not None:
        tolerance = Tolerance.of(rtol, atol)
    elif isinstance(tolerance, str):
        tolerance = Tolerance(tolerance)  # type: ignore[arg-type]
    return Settings(tolerance or DIGITS_RULE, max(int(samples), 1), seed, orientation, tuple((symbols or {}).items()),
                    tuple((notation or {}).items()), unit, tuple((givens or {}).items()))


def compare(answer: object, reference: object, settings: Settings, max_seconds: float = MAX_SECONDS) -> Result:
    """:func:`equivalent` with its options as :class:`Settings`, within ``max_seconds``."""
    expected = canonical(as_reference(reference))
    orientation = settings.orientation or orientation_of(reference)
    late = partial(_late, expected, max_seconds)
    return budget.within(max_seconds, _compare_answer, answer, expected, orientation, settings, max_seconds,
                         on_timeout=late)


def _late(expected: sp.Basic, max_seconds: float) -> Result:
    return Result(False, f"the answer could not be checked within {max_seconds:g} s", None, "too_large", expected)


def orientation_of(reference: object) -> Orientation:
    """A tuple (an output shape, a Python tuple) has no orientation; vectors and matrices do."""
    return "any" if isinstance(reference, (TensorShape, tuple)) else "strict"


def canonical(value: sp.Basic) -> sp.Basic:
    """A 1x1 matrix as its entry, any other explicit matrix as an ImmutableMatrix."""
    if isinstance(value, MatrixBase):
        return value[0, 0] if value.shape == (1, 1) else sp.ImmutableMatrix(value)
    if isinstance(value, sp.NDimArray) and value.rank() == 2:
        return canonical(value.tomatrix())
    return value


def is_matrix_expression(value: object) -> bool:
    """A symbolic matrix expression (``A*B.T``), as opposed to an explicit matrix."""
    return isinstance(value, sp.MatrixExpr) and not isinstance(value, MatrixBase)


def reference_symbols(expected: sp.Basic) -> dict[str, sp.Basic]:
    """Names a student may use for the reference's symbols: ``n`` for ``n``, ``y_hat``
    for the entry of a 1x1 matrix symbol ``y_hat[0, 0]`` (also spelled so)."""
    names: dict[str, sp.Basic] = {}
    for atom in sorted(variables(expected), key=sp.default_sort_key):
        if isinstance(atom, MatrixElement):
            names.update(dict.fromkeys(_entry_names(atom), atom))
        else:
            names[atom.name] = atom
            for alias in _subscript_aliases(atom.name):
                names.setdefault(alias, atom)
    if "E" not in names and expected.has(sp.E):
        names["E"] = sp.E  # SymPy's spelling of Euler's number, where E names nothing else
    return names


def _subscript_aliases(name: str) -> list[str]:
    """``w_1`` for ``w1`` and ``w1`` for ``w_1``: the sheet prints ``w1`` as ``w_{1}``, and
    students write either (trailing digits are a subscript in both spellings)."""
    match = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    if match is None:
        return []
    return [f"{match.group(1)}_{match.group(2)}", f"{match.group(1)}{match.group(2)}"]


def _entry_names(entry: MatrixElement) -> list[str]:
    """``y[0, 0]`` as SymPy prints it, ``y_1`` (``W_1,2``; ``y_1,2`` also in a row of a
    batch) as the sheet does, and ``y_hat`` for the only entry of a 1x1 matrix."""
    parent, i, j = entry.args
    names = [str(entry)]
    if isinstance(parent, sp.MatrixSymbol):
        if 1 in parent.shape:
            names.append(f"{parent.name}_{max(i, j) + 1}")
        names.append(f"{parent.name}_{i + 1},{j + 1}")  # as the sheet indexes a batch's row: y_{1,2}
        if parent.shape == (1, 1):
            names.append(parent.name)
    return names


def as_reference(reference: object) -> sp.Basic:
    """The trusted reference as a SymPy object (strings and plain values go through the
    parser; a tuple is a row); raises ParseError when even that fails."""
    if isinstance(reference, (sp.Basic, MatrixBase)):
        return reference
    if isinstance(reference, tuple):
        return sp.ImmutableMatrix([[parse_answer(item) for item in reference]])
    return parse_answer(reference)


# --------------------------------------------------------------------------
# Reading the answer: sides, labels, notes
# --------------------------------------------------------------------------


def _compare_answer(answer: object, expected: sp.Basic, orientation: Orientation, settings: Settings,
                    max_seconds: float) -> Result:
    run = _Run(settings, time.monotonic() + max_seconds)
    try:
        if has_formula(expected):
            return _formula_result(answer, expected, run)
        if is_matrix_expression(expected):
            return _matrix_expression_result(answer, expected, run, orientation)
        sides = _value_sides(_read(answer, expected, settings, orientation, max_seconds), expected)
        last = sides[-1]
        if last.error is not None:
            return Result(False, last.error.reason, None, last.error.verdict, expected)
        assert last.value is not None
        result = _compare(canonical(last.value), expected, replace(run, decimals=last.decimals), orientation)
        notes = tuple(_side_note(side, expected, run, orientation) for side in sides[:-1])
        return replace(result, notes=tuple(n for n in notes if n), typed=tuple(last.decimals.items()))
    except ParseError as exc:
        return Result(False, exc.reason, None, exc.verdict, expected)


def expectation(expected: sp.Basic, orientation: Orientation) -> Literal["any", "scalar", "shape"]:
    """What the reader should expect: a scalar, a tuple (shape), or anything."""
    shape = shape_of(expected)
    if shape is None:
        return "scalar"
    return "shape" if orientation == "any" and 1 in shape else "any"


def max_rank(expected: sp.Basic) -> int:
    """How deep an answer's lists may nest: a matrix's 2, or the expected tensor's rank
    (at most :data:`~symderiv.check.parse.limits.MAX_TENSOR_RANK`)."""
    return min(max(2, len(shape_of(expected) or ())), MAX_TENSOR_RANK)


def _read(answer: object, expected: sp.Basic, settings: Settings, orientation: Orientation,
          max_seconds: float) -> list[Side]:
    names = {**reference_symbols(expected), **dict(settings.symbols)}
    rank = max_rank(expected)
    if isinstance(answer, float):
        return [read_float(answer)]  # a float is the decimal it prints as, with that many digits
    if isinstance(answer, str):
        reading = read_answer(answer, symbols=names, names=notation_names(settings.notation, tuple(sorted(names))),
                              expect=expectation(expected, orientation), unit=unit_of(settings.unit),
                              sigmoid="sigma" not in names, max_seconds=max_seconds, max_rank=rank)
        return list(reading.sides)
    if isinstance(answer, (list, tuple)):
        return [_read_list(answer, names, max_seconds, rank)]
    side = read_answer(answer, max_seconds=max_seconds, max_rank=rank).answer
    if side.value is None:
        return [side]
    renames = {s: names[s.name] for s in side.value.free_symbols if isinstance(s, sp.Symbol) and s.name in names}
    return [replace(side, value=side.value.xreplace(renames)) if renames else side]


def _read_list(items: Sequence[object], names: Mapping[str, sp.Basic], max_seconds: float, rank: int) -> Side:
    """A list answer whose entries may be strings or floats: each read as a decimal or
    formula (one budget for all), the decimals' precision kept."""
    decimals: dict[sp.Rational, Precision] = {}

    def entry(item: object) -> object:
        if isinstance(item, (list, tuple)):
            return [entry(x) for x in item]
        if not isinstance(item, (str, float)):
            return item
        side = (read_float(item) if isinstance(item, float)
                else read_answer(item, symbols=names, expect="scalar", max_seconds=max_seconds).answer)
        if side.error is not None:
            raise side.error
        decimals.update(side.decimals)
        return side.value

    side = read_answer([entry(item) for item in items], max_seconds=max_seconds, max_rank=rank).answer
    return replace(side, decimals=decimals)


@lru_cache(maxsize=128)
def notation_names(notation: tuple[tuple[str, str], ...], allowed: tuple[str, ...]) -> Names | None:
    """The sheet's spellings of the reference's symbols (only names a reader can mark)."""
    spelled = {name: [latex] for name, latex in notation
               if name in allowed and name.isascii() and name.isidentifier() and name[0] != "_"}
    return Names.of(spelled) if spelled else None


def _value_sides(sides: list[Side], expected: sp.Basic) -> list[Side]:
    """The sides to check: a first side that only names the quantity is a label."""
    if len(sides) > 1 and _is_label(sides[0], expected):
        return sides[1:]
    return sides


def _is_label(side: Side, expected: sp.Basic) -> bool:
    """``L`` in ``L = 4``, ``N_out`` in ``N_out = floor(...)``, ``dL/dW3`` in ``dL/dW3 = [...]``:
    a side that cannot be read as a value, or that uses names the reference does not."""
    if side.error is not None:
        return True
    return side.value is not None and bool(variables(side.value) - variables(expected))


def _side_note(side: Side, expected: sp.Basic, run: _Run, orientation: Orientation) -> str:
    """A remark on an earlier side of an ``=`` chain that is not equal to the reference."""
    if side.error is not None:
        return f"the side {side.text!r} could not be read: {side.error.reason}"
    assert side.value is not None
    result = _compare(canonical(side.value), expected, replace(run, decimals=side.decimals), orientation)
    if result.equivalent:
        return ""
    return f"the side {side.text!r} is not equal to the answer ({result.reason})"


# --------------------------------------------------------------------------
# Shapes, then entries
# --------------------------------------------------------------------------


def reoriented(parsed: sp.Basic, expected: sp.Basic, orientation: Orientation) -> sp.Basic:
    """With ``orientation="any"``, a vector turned to the reference's orientation."""
    a, e = shape_of(parsed), shape_of(expected)
    if orientation == "any" and a is not None and e is not None and a == e[::-1] and 1 in e and len(e) == 2:
        return parsed.T
    if a is not None and e is not None and tensor_fit(a, e) is not None:
        return as_tensor(parsed).reshape(*e)  # the expected tensor, written with its axes of 1 or its blocks
    return parsed


def as_tensor(value: sp.Basic) -> sp.ImmutableDenseNDimArray:
    """A matrix or tensor as an N-d array (entries in row-major order)."""
    return sp.ImmutableDenseNDimArray(value)


def _compare(parsed: sp.Basic, expected: sp.Basic, run: _Run, orientation: Orientation) -> Result:
    parsed = reoriented(parsed, expected, orientation)
    if shape_of(parsed) != shape_of(expected):
        reason = f"expected {describe_shape(shape_of(expected))}, got {describe_shape(shape_of(parsed))}"
        return Result(False, reason, parsed, "wrong_shape", expected)
    if shape_of(expected) is None:
        same, reason = _scalars_equal(parsed, expected, run)
    else:
        same, reason = _arrays_equal(parsed, expected, run)
    return Result(same, reason, parsed, "correct" if same else "incorrect", expected)


def entry_label(shape: tuple[int, int], i: int, j: int) -> str:
    """``entry 2`` in a vector, ``entry (2, 1)`` in a matrix (1-based, as on the sheet)."""
    if 1 in shape:
        return f"entry {max(i, j) + 1}"
    return f"entry ({i + 1}, {j + 1})"


def index_label(shape: tuple[int, ...], index: tuple[int, ...]) -> str:
    """``entry 2`` in a vector, ``entry (2, 1)`` in a matrix, ``entry (1, 2, 3)`` in a tensor."""
    return entry_label(shape, *index) if len(shape) == 2 else f"entry ({', '.join(str(i + 1) for i in index)})"


def tensor_indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every index of an array of this shape, in row-major order."""
    return list(itertools.product(*(range(n) for n in shape)))


def _arrays_equal(parsed: sp.Basic, expected: sp.Basic, run: _Run) -> tuple[bool, str]:
    """Entry by entry (a matrix or a tensor of the same shape); the first wrong one is the reason."""
    reasons = []
    for index in tensor_indices(expected.shape):
        same, reason = _scalars_equal(parsed[index], expected[index], run)
        if not same:
            return False, f"{index_label(expected.shape, index)}: {reason}"
        reasons.append(reason)
    how = "exactly" if all(r == "identical" for r in reasons) else "after simplification"
    return True, f"all {len(reasons)} entries agree {how}"


# --------------------------------------------------------------------------
# Scalars: numbers, then formulas
# --------------------------------------------------------------------------


def _scalars_equal(answer: sp.Basic, expected: sp.Basic, run: _Run) -> tuple[bool, str]:
    run.check_time()
    if answer == expected:
        return True, "identical"
    if not variables(answer) and not variables(expected):
        return _numbers_equal(answer, expected, run)
    if run.settings.simplify and not _tolerant(answer, expected, run) and _difference_vanishes(answer - expected, run):
        return True, "the difference simplifies to 0"
    return _sample(answer, expected, run)


def _numbers_equal(answer: sp.Basic, expected: sp.Basic, run: _Run) -> tuple[bool, str]:
    mismatch = f"expected {show(expected)}, got {show(answer)}"
    tolerance = run.tolerance
    if tolerance.mode == "tolerance":
        same = within(answer, expected, tolerance)
        return same, "equal within the tolerance" if same else mismatch
    precision = run.decimals.get(abs(answer)) if answer.is_Rational else None
    if tolerance.mode == "digits" and precision is not None:
        verdict = digits_verdict(answer, expected, precision, tolerance)
        if verdict is not None:
            return verdict
    if answer.has(sp.Float) or expected.has(sp.Float):
        same = within(answer, expected, Tolerance.of(DEFAULT_RTOL))
        return same, "equal within the tolerance" if same else mismatch
    if answer.is_Rational and expected.is_Rational:
        return False, mismatch
    if _difference_vanishes(answer - expected, run):
        return True, "the difference simplifies to 0"
    same = _close(numeric(answer), numeric(expected))
    return same, f"equal to {DIGITS - 8} digits" if same else mismatch


def _tolerant(answer: sp.Basic, expected: sp.Basic, run: _Run) -> bool:
    return run.tolerance.mode == "tolerance" or answer.has(sp.Float) or expected.has(sp.Float)


def _close(answer: sp.Basic | None, expected: sp.Basic | None) -> bool:
    """Equal to the working precision (two exact Rationals: exactly)."""
    if answer is None or expected is None:
        return False
    if answer.is_Rational and expected.is_Rational:
        return answer == expected
    return bool(abs(answer - expected) <= sp.Float(10) ** (8 - DIGITS) * max(1, abs(expected)))


def _expandable(expr: sp.Basic) -> bool:
    """Small enough for ``expand``/``cancel`` without an explosion of terms."""
    if sp.count_ops(expr) > EXPAND_OPS:
        return False
    if any(p.base.is_Add and p.exp.is_Integer and abs(p.exp) > EXPAND_POWER for p in expr.atoms(sp.Pow)):
        return False
    return expanded_terms(expr) <= EXPAND_TERMS


def expanded_terms(expr: sp.Basic) -> float:
    """An upper estimate of the number of terms ``expand(expr)`` would produce."""
    if expr.is_Add:
        return sum(expanded_terms(a) for a in expr.args)
    if expr.is_Mul:
        return math.prod(expanded_terms(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return expanded_terms(expr.base) ** min(int(expr.exp), 64)
    return 1.0


#: Functions simplify() handles slowly and the random-point test handles well.
_PIECEWISE_LIKE = (sp.floor, sp.ceiling, sp.Max, sp.Min, sp.Piecewise, sp.Abs, sp.sign, sp.Heaviside)
_CHEAP_STEPS = (sp.expand, sp.cancel, lambda d: sp.cancel(sp.together(d)))


def _difference_vanishes(difference: sp.Basic, run: _Run) -> bool:
    """Cheap steps first, ``simplify`` only for small differences; False means "not shown"."""
    if difference == 0:
        return True
    if not _expandable(difference):
        return False
    for step in _CHEAP_STEPS:
        run.check_time()
        if step(difference) == 0:
            return True
    if sp.count_ops(difference) <= SIMPLIFY_OPS and not difference.has(*_PIECEWISE_LIKE):
        run.check_time()
        return sp.simplify(difference) == 0
    return False


def display_form(value: sp.Basic) -> sp.Basic:
    """``value`` with entries of 1x1 matrix symbols shown by the symbol's name (``y_hat``,
    not ``y_hat[0, 0]``): how a student writes them."""
    if not isinstance(value, sp.Basic):
        return value
    names = {e: sp.Symbol(e.parent.name) for e in value.atoms(MatrixElement)
             if isinstance(e.parent, sp.MatrixSymbol) and e.parent.shape == (1, 1)}
    return value.xreplace(names) if names else value


# --------------------------------------------------------------------------
# Random points (the STACK-style test)
# --------------------------------------------------------------------------


def _sample(answer: sp.Basic, expected: sp.Basic, run: _Run) -> tuple[bool, str]:
    """Evaluate both sides at seeded random points; the first disagreement is the reason."""
    extra = sorted(show(v) for v in variables(answer) - variables(expected))
    prefix = f"the answer uses {', '.join(extra)}, which the expected answer does not; " if extra else ""
    settings, tolerant, agreed = run.settings, _tolerant(answer, expected, run), 0
    for point in sample_points(answer, expected, samples=settings.samples, seed=settings.seed,
                               givens=dict(settings.givens), check=run.check_time):
        if point.answer is None or not _point_close(point.answer, point.expected, run, tolerant):
            got = "an undefined value" if point.answer is None else show(point.answer)
            return False, f"{prefix}at {_show_point(point.values)}: expected {show(point.expected)}, got {got}"
        agreed += 1
    if agreed == 0:
        return False, "could not be compared: the expected answer is undefined at every sample point"
    return True, f"agrees at {agreed} random points"


def _point_close(answer: sp.Basic, expected: sp.Basic, run: _Run, tolerant: bool) -> bool:
    if tolerant:
        tolerance = run.tolerance if run.tolerance.mode == "tolerance" else Tolerance.of(DEFAULT_RTOL)
        return within(answer, expected, tolerance)
    return _close(answer, expected)


def _show_point(point: Mapping[sp.Basic, sp.Basic]) -> str:
    return ", ".join(f"{show(display_form(k))}={_decimal(v)}" for k, v in point.items())


def _decimal(value: sp.Basic) -> str:
    """A sample value as a person writes it: ``0.562`` rather than ``281/500``."""
    if value.is_Rational and not value.is_Integer and 1000 % value.q == 0:
        return str(sp.Float(value, 4)).rstrip("0")
    return show(value)


# --------------------------------------------------------------------------
# Matrix expressions: comparison at random matrices
# --------------------------------------------------------------------------


def _matrix_expression_result(answer: object, expected: sp.MatrixExpr, run: _Run,
                              orientation: Orientation) -> Result:
    sides = _matrix_sides(answer, expected, dict(run.settings.notation))
    if len(sides) > 1 and isinstance(sides[0][1], Exception):
        sides = sides[1:]  # a label: dL_dW2 = ...
    results = [_matrix_side_result(value, expected, run, orientation) for _, value in sides]
    notes = tuple(f"the side {text!r} is not equal to the answer ({r.reason})"
                  for (text, _), r in zip(sides[:-1], results[:-1]) if not r.equivalent)
    return replace(results[-1], notes=notes)


def _matrix_sides(answer: object, expected: sp.MatrixExpr,
                  notation: Mapping[str, str]) -> list[tuple[str, sp.Basic | Exception]]:
    if is_matrix_expression(answer) or not isinstance(answer, str):
        return [("", answer if is_matrix_expression(answer) else _read_matrix(answer, expected, notation))]
    return [(side.text.strip(), _read_matrix(side.text, expected, notation))
            for side in split_sides(SourceText.of(answer))]


def _read_matrix(text: object, expected: sp.MatrixExpr, notation: Mapping[str, str]) -> sp.Basic | Exception:
    try:
        return read_matrix_expression(text, matrix_names(expected), notation)
    except (ParseError, ShapeError) as exc:
        return exc
    except (TypeError, ValueError, AttributeError) as exc:  # SymPy refusing an odd combination
        return ParseError("unparseable", f"the formula cannot be built ({type(exc).__name__})")


def _matrix_side_result(value: sp.Basic | Exception, expected: sp.MatrixExpr, run: _Run,
                        orientation: Orientation) -> Result:
    if isinstance(value, ShapeError):
        return Result(False, f"the shapes in the answer do not fit together: {value}", None, "wrong_shape", expected)
    if isinstance(value, ParseError):
        return Result(False, value.reason, None, value.verdict, expected)
    if isinstance(value, Exception):
        return Result(False, f"the formula cannot be built ({type(value).__name__})", None, "unparseable", expected)
    parsed = reoriented(value, expected, orientation)
    if shape_of(parsed) != shape_of(expected):
        reason = f"expected {describe_shape(shape_of(expected))}, got {describe_shape(shape_of(parsed))}"
        return Result(False, reason, parsed, "wrong_shape", expected)
    same, reason = _same_matrix_expression(parsed, expected, run)
    return Result(same, reason, parsed, "correct" if same else "incorrect", expected)


def matrix_names(expected: sp.Basic) -> dict[str, sp.MatrixSymbol]:
    """The matrix symbols of a reference by name: the only names its answer may use."""
    return {s.name: s for s in expected.free_symbols if isinstance(s, sp.MatrixSymbol)}


def _same_matrix_expression(answer: sp.Basic, expected: sp.Basic, run: _Run) -> tuple[bool, str]:
    symbols = sorted(set(matrix_names(answer)) | set(matrix_names(expected)))
    lookup = {**matrix_names(answer), **matrix_names(expected)}
    rng = random.Random(run.settings.seed)
    for _ in range(MATRIX_TRIALS):
        run.check_time()
        values = {lookup[n]: sp.ImmutableMatrix(*lookup[n].shape, lambda i, j: rng.randint(-9, 9)) for n in symbols}
        if explicit(answer, values) != explicit(expected, values):
            return False, f"differs from {show(expected)} when random matrices are put in for {', '.join(symbols)}"
    return True, f"agrees for {MATRIX_TRIALS} sets of random matrices"


# --------------------------------------------------------------------------
# Layer rules: the same operators, operands equivalent
# --------------------------------------------------------------------------


def _formula_result(answer: object, expected: sp.Basic, run: _Run) -> Result:
    """A rule printed by a template (``x \\star dL_da1``), compared by :mod:`.formulas`."""
    if not isinstance(answer, str):
        return Result(False, "this answer is a layer rule; give it as a string", None, "unparseable", expected)
    text = split_sides(SourceText.of(answer))[-1].text
    if matches(text, expected, partial(_same_operand, run=run)):
        return Result(True, "the same rule: the same operators, with equivalent operands", expected, "correct",
                      expected)
    return Result(False, "not the expected rule: a layer rule is compared by its operators as the sheet writes "
                         "them and by its operands (an equivalent rule written another way is not recognised)",
                  None, "incorrect", expected)


def _same_operand(text: str, operand: sp.Basic, run: _Run) -> bool:
    """Whether one slot of a rule holds the operand: a number read and compared, a quantity or
    a matrix formula read over the operand's names (a tensor's name stands for a 1x1 matrix)."""
    run.check_time()
    if isinstance(operand, sp.Basic) and operand.is_number:
        try:
            return _scalars_equal(canonical(parse_answer(text)), operand, run)[0]
        except ParseError:
            return False
    stand_ins = {s: sp.MatrixSymbol(s.name, 1, 1) for s in operand.free_symbols if type(s) is sp.Symbol}
    operand = operand.xreplace(stand_ins) if stand_ins else operand
    value = _read_matrix(text, operand, dict(run.settings.notation))
    if isinstance(value, Exception) or shape_of(value) != shape_of(operand):
        return False
    return _same_matrix_expression(value, operand, run)[0]


def explicit(expr: sp.Basic, values: Mapping[sp.Basic, sp.ImmutableMatrix]) -> sp.Basic:
    """The expression with explicit matrices put in for its symbols, evaluated."""
    value = expr.xreplace(dict(values))
    value = value.doit() if isinstance(value, sp.Basic) else value
    return canonical(sp.ImmutableMatrix(value)) if isinstance(value, (MatrixBase, sp.MatrixExpr)) else value
