"""Is an answer equivalent to the reference? Exactly where possible, robustly everywhere.

>>> import sympy as sp
>>> n, k, p, s = sp.symbols("n k p s", integer=True, positive=True)
>>> ref = sp.floor((n + 2*p - k) / s) + 1
>>> equivalent("ceiling((n + 2p - k + 1)/s)", ref).verdict      # equal at every integer point
'correct'
>>> equivalent("floor((n + 2p - k)/s)", ref).reason              # doctest: +ELLIPSIS
'at k=..., n=..., p=..., s=...: expected ..., got ...'

How an answer is compared with its reference (which is trusted: a SymPy object from the
answer key, a number, a list or a string):

1. **Parse.** Strings go through :func:`symderiv.check.parse.parse_answer` (never
   ``eval``/``sympify``), with the reference's symbols passed by name so that ``n`` in
   the answer *is* the key's ``n`` with its assumptions (integer, positive...).
   SymPy answers have their symbols renamed the same way.
2. **Shape.** A 1x1 matrix and a scalar are the same thing. Otherwise the shapes must
   match (verdict ``"wrong_shape"``); with ``orientation="any"`` a row vector and a
   column vector of the same entries are accepted for each other (tuples such as an
   output shape ``34 x 34 x 1``, where orientation means nothing).
3. **Numbers** compare exactly when both are exact (Integer, Rational, or exact algebraic
   values such as ``sqrt(2)/2``), with a tolerance when either is a float or when the
   caller passes ``rtol``/``atol`` (default ``rtol=1e-9`` for floats).
4. **Formulas**: first cheap symbolic steps on the difference (``expand``, ``cancel``,
   ``together``; ``simplify`` only for small expressions); if they do not reach 0, the
   two sides are evaluated at seeded random points, as STACK's algebraic-equivalence
   test does. Points respect the symbols' assumptions (positive integers for
   ``n, k, p, s`` when the key declares them so), so ``floor``, ``ceiling``, ``Max`` and
   ``Piecewise`` forms compare robustly; a counterexample is reported in the reason.
   Points where the reference is undefined or not real are skipped.
5. **Matrix expressions** (answers of a symbolic chain rule such as ``dL_da2*z1.T``)
   are read by :func:`symderiv.check.parse.read_matrix_expression` (names of the
   reference's matrix symbols, ``@``/``*`` products, ``.T`` transposes,
   ``hadamard(A, B)``, ``relu'(a2)`` or ``relu_prime(a2)`` for local-derivative
   symbols) and compared by evaluating both sides with random integer matrices in
   place of every symbol.

Every check has a time budget (``max_seconds``); an answer that cannot be checked in
time gets the verdict ``"too_large"``, never a hang.
"""
from __future__ import annotations

import math
import random
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Literal

import sympy as sp
from sympy.matrices import MatrixBase
from sympy.matrices.exceptions import ShapeError
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.check.parse import ParseError, parse_answer, read_matrix_expression
from symderiv.check.shapes import describe_shape, shape_of
from symderiv.check.verdicts import Verdict

Orientation = Literal["strict", "any"]

MAX_SECONDS = 2.0
"""Wall-clock budget of one comparison, parsing included."""
DEFAULT_SAMPLES = 16
"""Random points a formula must agree at (when simplification does not decide)."""
DEFAULT_RTOL = 1e-9
"""Relative tolerance when a float is involved and the caller gave none."""
SIMPLIFY_OPS = 40
"""``simplify`` runs only on differences with at most this many operations."""
EXPAND_OPS = 300
"""``expand``/``cancel`` run only on differences with at most this many operations..."""
EXPAND_POWER = 12
"""...and no power of a sum above this exponent (``(a+b+c)^1000`` would explode)..."""
EXPAND_TERMS = 5_000
"""...and no more than this many terms once expanded (a product of 150 binomials)."""
DIGITS = 30
"""Working precision (decimal digits) of numeric evaluation."""
MATRIX_TRIALS = 3
"""Random integer matrices per symbol when comparing matrix expressions."""


@dataclass(frozen=True)
class Result:
    """The outcome of one comparison.

    ``verdict`` is one of ``correct``, ``incorrect``, ``unparseable``, ``too_large``,
    ``not_finite``, ``wrong_shape``; ``equivalent`` is ``verdict == "correct"``;
    ``reason`` is a sentence for a person; ``parsed`` is the answer as a SymPy object
    (None when it could not be read) and ``expected`` the reference, normalised the
    same way (1x1 matrices as scalars).
    """

    equivalent: bool
    reason: str
    parsed: sp.Basic | None
    verdict: Verdict
    expected: sp.Basic | None = None

    def __bool__(self) -> bool:
        return self.equivalent


class _OutOfTime(BaseException):
    """The comparison used up its budget (a BaseException, so that no ``except Exception``
    inside SymPy or the parser can swallow it)."""


@dataclass(frozen=True)
class _Options:
    rtol: float | None
    atol: float | None
    samples: int
    seed: int
    deadline: float

    @property
    def explicit_tolerance(self) -> bool:
        return self.rtol is not None or self.atol is not None

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _OutOfTime


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def equivalent(answer: object, reference: object, *, rtol: float | None = None, atol: float | None = None,
               symbols: Mapping[str, sp.Basic] | None = None, samples: int = DEFAULT_SAMPLES, seed: int = 0,
               orientation: Orientation = "strict", max_seconds: float = MAX_SECONDS) -> Result:
    """Compare ``answer`` (untrusted: a string, number, list or SymPy object) with ``reference``.

    ``symbols`` maps extra names to SymPy objects (the reference's own symbols are
    matched by name automatically). ``rtol``/``atol`` switch on tolerant comparison of
    numbers; ``samples`` and ``seed`` control the random-point test; ``orientation="any"``
    accepts a row vector for a column vector and vice versa.
    """
    options = _Options(rtol, atol, max(int(samples), 1), seed, time.monotonic() + max_seconds)
    expected = canonical(as_reference(reference))
    try:
        with _hard_limit(options.deadline):
            if is_matrix_expression(expected):
                return _matrix_expression_result(answer, expected, options, orientation)
            parsed = _parse(answer, expected, symbols, max_seconds)
            return _compare(parsed, expected, options, orientation)
    except ParseError as exc:
        return Result(False, exc.reason, None, exc.verdict, expected)
    except _OutOfTime:
        return Result(False, f"the answer could not be checked within {max_seconds:g} s", None, "too_large", expected)


def canonical(value: sp.Basic) -> sp.Basic:
    """A 1x1 matrix as its entry, any other explicit matrix as an ImmutableMatrix."""
    if isinstance(value, MatrixBase):
        return value[0, 0] if value.shape == (1, 1) else sp.ImmutableMatrix(value)
    return value


def is_matrix_expression(value: object) -> bool:
    """A symbolic matrix expression (``A*B.T``), as opposed to an explicit matrix."""
    return isinstance(value, sp.MatrixExpr) and not isinstance(value, MatrixBase)


def reference_symbols(expected: sp.Basic) -> dict[str, sp.Basic]:
    """Names a student may use for the reference's symbols: ``n`` for ``n``, and ``y_hat``
    for the entry of a 1x1 matrix symbol ``y_hat[0, 0]``."""
    names: dict[str, sp.Basic] = {}
    for atom in sorted(variables(expected), key=sp.default_sort_key):
        if isinstance(atom, MatrixElement):
            if isinstance(atom.parent, sp.MatrixSymbol) and atom.parent.shape == (1, 1):
                names[atom.parent.name] = atom
        else:
            names[atom.name] = atom
    return names


def variables(expr: sp.Basic) -> set[sp.Basic]:
    """The scalar unknowns of an expression: free Symbols and matrix entries ``W[i, j]``."""
    if not isinstance(expr, sp.Basic):
        return set()
    found = {s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    return found | set(expr.atoms(MatrixElement))


def as_reference(reference: object) -> sp.Basic:
    """The trusted reference as a SymPy object (strings and plain values go through the
    parser); raises ParseError when even that fails."""
    if isinstance(reference, (sp.Basic, MatrixBase)):
        return reference
    return parse_answer(reference)


def _parse(answer: object, expected: sp.Basic, symbols: Mapping[str, sp.Basic] | None,
           max_seconds: float) -> sp.Basic:
    names = {**reference_symbols(expected), **dict(symbols or {})}
    if isinstance(answer, str):
        return canonical(parse_answer(answer, symbols=names, max_seconds=max_seconds))
    if is_matrix_expression(answer):
        return answer
    parsed = canonical(parse_answer(answer, max_seconds=max_seconds))
    renames = {s: names[s.name] for s in parsed.free_symbols if isinstance(s, sp.Symbol) and s.name in names}
    return parsed.xreplace(renames) if renames else parsed


@contextmanager
def _hard_limit(deadline: float) -> Iterator[None]:
    """Interrupt a single SymPy call that runs past the deadline (a backstop only).

    Uses SIGALRM, so it works only in the main thread of a Unix process and only when
    nobody else uses the alarm; elsewhere the cooperative checks between steps remain.
    """
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN)
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.001) + 0.25)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------
# Shapes, then entries
# --------------------------------------------------------------------------


def _reoriented(parsed: sp.Basic, expected: sp.Basic, orientation: Orientation) -> sp.Basic:
    """With ``orientation="any"``, a vector turned to the reference's orientation."""
    a, e = shape_of(parsed), shape_of(expected)
    if orientation == "any" and a is not None and e is not None and a == e[::-1] and 1 in e:
        return parsed.T
    return parsed


def _compare(parsed: sp.Basic, expected: sp.Basic, options: _Options, orientation: Orientation) -> Result:
    parsed = _reoriented(parsed, expected, orientation)
    if shape_of(parsed) != shape_of(expected):
        reason = f"expected {describe_shape(shape_of(expected))}, got {describe_shape(shape_of(parsed))}"
        return Result(False, reason, parsed, "wrong_shape", expected)
    if shape_of(expected) is None:
        same, reason = _scalars_equal(parsed, expected, options)
    else:
        same, reason = _matrices_equal(parsed, expected, options)
    return Result(same, reason, parsed, "correct" if same else "incorrect", expected)


def entry_label(shape: tuple[int, int], i: int, j: int) -> str:
    """``entry 2`` in a vector, ``entry (2, 1)`` in a matrix (1-based, as on the sheet)."""
    if 1 in shape:
        return f"entry {max(i, j) + 1}"
    return f"entry ({i + 1}, {j + 1})"


def _matrices_equal(parsed: sp.ImmutableMatrix, expected: sp.ImmutableMatrix, options: _Options) -> tuple[bool, str]:
    reasons = []
    for i in range(expected.rows):
        for j in range(expected.cols):
            same, reason = _scalars_equal(parsed[i, j], expected[i, j], options)
            if not same:
                return False, f"{entry_label(expected.shape, i, j)}: {reason}"
            reasons.append(reason)
    how = "exactly" if all(r == "identical" for r in reasons) else "after simplification"
    return True, f"all {len(reasons)} entries agree {how}"


# --------------------------------------------------------------------------
# Scalars: numbers, then formulas
# --------------------------------------------------------------------------


def _scalars_equal(answer: sp.Basic, expected: sp.Basic, options: _Options) -> tuple[bool, str]:
    options.check_time()
    if answer == expected:
        return True, "identical"
    if not variables(answer) and not variables(expected):
        return _numbers_equal(answer, expected, options)
    if not _tolerant(answer, expected, options) and _difference_vanishes(answer - expected, options):
        return True, "the difference simplifies to 0"
    return _sample(answer, expected, options)


def _numbers_equal(answer: sp.Basic, expected: sp.Basic, options: _Options) -> tuple[bool, str]:
    mismatch = f"expected {show(expected)}, got {show(answer)}"
    if _tolerant(answer, expected, options):
        same = _close(_numeric(answer), _numeric(expected), options, tolerant=True)
        return same, "equal within the tolerance" if same else mismatch
    if answer.is_Rational and expected.is_Rational:
        return answer == expected, mismatch
    if _difference_vanishes(answer - expected, options):
        return True, "the difference simplifies to 0"
    same = _close(_numeric(answer), _numeric(expected), options, tolerant=False)
    return same, f"equal to {DIGITS - 8} digits" if same else mismatch


def _tolerant(answer: sp.Basic, expected: sp.Basic, options: _Options) -> bool:
    return options.explicit_tolerance or answer.has(sp.Float) or expected.has(sp.Float)


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


def _difference_vanishes(difference: sp.Basic, options: _Options) -> bool:
    """Cheap steps first, ``simplify`` only for small differences; False means "not shown"."""
    if difference == 0:
        return True
    if not _expandable(difference):
        return False
    for step in _CHEAP_STEPS:
        options.check_time()
        if step(difference) == 0:
            return True
    if sp.count_ops(difference) <= SIMPLIFY_OPS and not difference.has(*_PIECEWISE_LIKE):
        options.check_time()
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


def show(value: sp.Basic) -> str:
    """A short plain-text form of a value for reasons and reports."""
    value = display_form(value)
    if isinstance(value, sp.Float):
        return str(sp.Float(value, 12))
    if isinstance(value, sp.Rational) and max(abs(value.p).bit_length(), value.q.bit_length()) > 100:
        return f"{sp.Float(value, 15)} (approx.)"
    try:
        text = sp.sstr(value)
    except ValueError:  # Python refuses str() of integers over 4300 digits
        return "(a number too long to show)"
    return text if len(text) <= 120 else text[:117] + "..."


# --------------------------------------------------------------------------
# Random points (the STACK-style test)
# --------------------------------------------------------------------------


def draw(variable: sp.Basic, rng: random.Random) -> sp.Rational:
    """A random exact value for one unknown, within its assumptions.

    Integer symbols get integers (1..30 when positive, 0..30 when nonnegative,
    -30..30 otherwise); other symbols get rationals spread over (0, 1), (1, 10) and,
    unless declared positive or nonnegative, the negatives.
    """
    if isinstance(variable, sp.Symbol) and variable.is_integer:
        low = 1 if variable.is_positive else 0 if variable.is_nonnegative else -30
        high = -1 if variable.is_negative else 0 if variable.is_nonpositive else 30
        return sp.Integer(rng.randint(low, high))
    band = rng.randrange(3)
    magnitude = (sp.Rational(rng.randint(1, 999), 1000) if band == 0
                 else sp.Rational(rng.randint(1001, 10_000), 1000))
    if isinstance(variable, sp.Symbol) and (variable.is_positive or variable.is_nonnegative):
        return magnitude
    if isinstance(variable, sp.Symbol) and (variable.is_negative or variable.is_nonpositive):
        return -magnitude
    return -magnitude if band == 2 else magnitude


def _numeric(value: sp.Basic) -> sp.Basic | None:
    """An exact Rational, or a number evaluated to ``DIGITS`` digits; None if undefined."""
    try:
        if value.is_Rational:
            return value
        number = value.evalf(DIGITS)
    except (ArithmeticError, TypeError, ValueError, AttributeError):
        return None
    if not number.is_number or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return number


def _evaluate(expr: sp.Basic, point: dict) -> sp.Basic | None:
    try:
        return _numeric(expr.xreplace(point))
    except (ArithmeticError, TypeError, ValueError, RecursionError):
        return None


def _is_real(number: sp.Basic) -> bool:
    return number.is_Rational or abs(sp.im(number)) <= sp.Float(10) ** (8 - DIGITS) * max(1, abs(number))


def _close(answer: sp.Basic, expected: sp.Basic, options: _Options, *, tolerant: bool) -> bool:
    """Equal numbers: exact for two Rationals, else within the tolerance (or the working precision)."""
    if answer is None or expected is None:
        return False
    if answer.is_Rational and expected.is_Rational and not tolerant:
        return answer == expected
    size = abs(expected)
    if tolerant:
        rtol = options.rtol if options.rtol is not None else (DEFAULT_RTOL if options.atol is None else 0)
        bound = max(options.atol or 0, rtol * size)
    else:
        bound = sp.Float(10) ** (8 - DIGITS) * max(1, size)
    return bool(abs(answer - expected) <= bound)


def _sample(answer: sp.Basic, expected: sp.Basic, options: _Options) -> tuple[bool, str]:
    """Evaluate both sides at seeded random points; the first disagreement is the reason."""
    unknowns = sorted(variables(answer) | variables(expected), key=sp.default_sort_key)
    extra = sorted(str(v) for v in variables(answer) - variables(expected))
    prefix = f"the answer uses {', '.join(extra)}, which the expected answer does not; " if extra else ""
    rng, agreed, tolerant = random.Random(options.seed), 0, _tolerant(answer, expected, options)
    conditions = domain_conditions(expected)
    for _ in range(options.samples * 8):
        if agreed >= options.samples:
            break
        options.check_time()
        point = {v: draw(v, rng) for v in unknowns}
        if not _in_domain(conditions, point):
            continue
        e = _evaluate(expected, point)
        if e is None or not _is_real(e):
            continue
        a = _evaluate(answer, point)
        if a is None or not _close(a, e, options, tolerant=tolerant):
            got = "an undefined value" if a is None else show(a)
            return False, f"{prefix}at {_show_point(point)}: expected {show(e)}, got {got}"
        agreed += 1
    if agreed == 0:
        return False, "could not be compared: the expected answer is undefined at every sample point"
    return True, f"agrees at {agreed} random points"


def domain_conditions(expr: sp.Basic) -> tuple[sp.Basic, ...]:
    """Expressions that must be positive for ``expr`` to be a real function: the arguments
    of logarithms and the bases of fractional powers (0 is allowed for a power's base)."""
    logs = [f.args[0] for f in expr.atoms(sp.log)]
    roots = [p.base + sp.Rational(1, 10**12) for p in expr.atoms(sp.Pow)
             if not p.exp.is_integer and variables(p.base)]
    return tuple(logs + roots)


def _in_domain(conditions: tuple[sp.Basic, ...], point: dict) -> bool:
    for condition in conditions:
        value = _evaluate(condition, point)
        if value is None or not _is_real(value) or not sp.re(value) > 0:
            return False
    return True


def _show_point(point: dict) -> str:
    return ", ".join(f"{show(k)}={show(v)}" for k, v in point.items())


# --------------------------------------------------------------------------
# Matrix expressions: comparison at random matrices
# --------------------------------------------------------------------------


def _matrix_expression_result(answer: object, expected: sp.MatrixExpr, options: _Options,
                              orientation: Orientation) -> Result:
    try:
        parsed = answer if is_matrix_expression(answer) else read_matrix_expression(answer, matrix_names(expected))
    except ShapeError as exc:
        return Result(False, f"the shapes in the answer do not fit together: {exc}", None, "wrong_shape", expected)
    except (TypeError, ValueError, AttributeError) as exc:  # SymPy refusing an odd combination
        return Result(False, f"the formula cannot be built ({type(exc).__name__})", None, "unparseable", expected)
    parsed = _reoriented(parsed, expected, orientation)
    if shape_of(parsed) != shape_of(expected):
        reason = f"expected {describe_shape(shape_of(expected))}, got {describe_shape(shape_of(parsed))}"
        return Result(False, reason, parsed, "wrong_shape", expected)
    same, reason = _same_matrix_expression(parsed, expected, options)
    return Result(same, reason, parsed, "correct" if same else "incorrect", expected)


def matrix_names(expected: sp.Basic) -> dict[str, sp.MatrixSymbol]:
    """The matrix symbols of a reference by name: the only names its answer may use."""
    return {s.name: s for s in expected.free_symbols if isinstance(s, sp.MatrixSymbol)}


def _same_matrix_expression(answer: sp.Basic, expected: sp.Basic, options: _Options) -> tuple[bool, str]:
    symbols = sorted(set(matrix_names(answer)) | set(matrix_names(expected)))
    lookup = {**matrix_names(answer), **matrix_names(expected)}
    rng = random.Random(options.seed)
    for _ in range(MATRIX_TRIALS):
        options.check_time()
        values = {lookup[n]: sp.ImmutableMatrix(*lookup[n].shape, lambda i, j: rng.randint(-9, 9)) for n in symbols}
        if explicit(answer, values) != explicit(expected, values):
            return False, f"differs from {sp.sstr(expected)} when random matrices are put in for {', '.join(symbols)}"
    return True, f"agrees for {MATRIX_TRIALS} sets of random matrices"


def explicit(expr: sp.Basic, values: Mapping[sp.Basic, sp.ImmutableMatrix]) -> sp.Basic:
    """The expression with explicit matrices put in for its symbols, evaluated."""
    value = expr.xreplace(dict(values))
    value = value.doit() if isinstance(value, sp.Basic) else value
    return canonical(sp.ImmutableMatrix(value)) if isinstance(value, (MatrixBase, sp.MatrixExpr)) else value
