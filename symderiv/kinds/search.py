"""Problem kind ``search``: what grid search costs, and how long random search must run.

Spec fields (see README, "Spec format")::

    kind = "search"
    [problem.grid]                   # optional: the grid-search question
    epochs_per_combination = 10      # whole number >= 1
    minutes_per_epoch = 2            # > 0
    [[problem.grid.hyperparameter]]  # one per hyperparameter, in print order
    name = "lambda1"                 # a letter, then letters or digits
    values = 10                      # how many values the grid tries (>= 1)
    [problem.random]                 # optional: the random-search question
    success_rate = 0.05              # chance q that one sampled combination is good, 0 < q < 1
    confidence = [0.95, 0.995]       # targets P, 0 < P < 1: least N with P(>= 1 good) >= P

At least one of ``grid`` and ``random`` must be present; questions are numbered in
that order. Grid search is the rule of product; random search is the least N with
``1 - (1 - q)^N >= P``, derived step by step (each step a stated rule of inequalities,
checked by SymPy's solvers in the tests) and then made exact by integer checks.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import mpmath
import sympy as sp

from symderiv.algebra import decimal_text, substitute
from symderiv.errors import SpecError
from symderiv.kinds.registry import Kind, register
from symderiv.model import Answer, Problem, Question, Step, Table
from symderiv.spec import Fields

#: The largest N the random-search question verifies exactly ((1 - q)^N as a Rational).
MAX_TRIALS = 10**6
#: Most hyperparameters of a grid, and confidences of a random search (each is printed).
MAX_HYPERPARAMETERS = 20
MAX_CONFIDENCES = 20
#: Most digits of the grid's total time C E t (numerator or denominator): it is printed whole.
MAX_GRID_DIGITS = 200

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,31}")

n = sp.IndexedBase("n")                     # n[h]: number of values of hyperparameter h
i, j, k = sp.symbols("i j k", integer=True, positive=True)
C, E, t, E_total, T = sp.symbols("C E t E_total T")
q, P, N = sp.symbols("q P N")
PR_NONE, PR_HIT = sp.Symbol("Pr_none"), sp.Symbol("Pr_hit")


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    count: int

    @property
    def symbol(self) -> sp.Indexed:
        """``n_h``: the number of values the grid tries for this hyperparameter."""
        return n[sp.Symbol(self.name)]


@dataclass(frozen=True)
class GridSpec:
    hyperparameters: tuple[Hyperparameter, ...]
    epochs: int
    minutes: sp.Rational


@dataclass(frozen=True)
class RandomSpec:
    success_rate: sp.Rational
    confidence: tuple[sp.Rational, ...]


@dataclass(frozen=True)
class SearchSpec:
    grid: GridSpec | None
    random: RandomSpec | None


# ---------------------------------------------------------------------------- parsing

def parse(f: Fields) -> SearchSpec:
    """Validate a search spec: counts and epochs whole and positive, probabilities in (0, 1)."""
    f.check_known({"grid", "random"})
    if not (f.has("grid") or f.has("random")):
        raise f.fail("grid", "missing: give [problem.grid], [problem.random] or both")
    grid = _parse_grid(f.sub("grid")) if f.has("grid") else None
    random = _parse_random(f.sub("random")) if f.has("random") else None
    return SearchSpec(grid, random)


def _parse_grid(f: Fields) -> GridSpec:
    f.check_known({"hyperparameter", "epochs_per_combination", "minutes_per_epoch"})
    f.at_most("hyperparameter", MAX_HYPERPARAMETERS, "hyperparameters (each is printed)")
    params = tuple(_parse_hyperparameter(h) for h in f.subs("hyperparameter"))
    names = [h.name for h in params]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise f.fail(f"hyperparameter[{index + 1}].name", f"repeated name {name!r}")
    grid = GridSpec(params, f.integer("epochs_per_combination", low=1),
                    f.number("minutes_per_epoch", low=0, open_low=True))
    total = grid.minutes * grid.epochs * sp.Mul(*(h.count for h in params))
    digits = max(len(str(total.p)), len(str(total.q)))  # below 4,300: at most 22 numbers of 100 digits
    if digits > MAX_GRID_DIGITS:
        raise SpecError(f.source, f.path, f"the total time C E t would have {digits} digits; at most "
                                          f"{MAX_GRID_DIGITS} are printed (fewer values or epochs)")
    return grid


def _parse_hyperparameter(f: Fields) -> Hyperparameter:
    f.check_known({"name", "values"})
    name = f.str("name")
    if not _NAME.fullmatch(name):
        raise f.fail("name", "must be a letter followed by at most 31 letters or digits (e.g. lambda1)")
    return Hyperparameter(name, f.integer("values", low=1))


def _parse_random(f: Fields) -> RandomSpec:
    f.check_known({"success_rate", "confidence"})
    rate = f.number("success_rate", low=0, high=1, open_low=True, open_high=True)
    f.at_most("confidence", MAX_CONFIDENCES, "confidences (each is a worked step)")
    targets = _probabilities(f, "confidence")
    if _estimate(rate, max(targets)) > MAX_TRIALS:
        raise f.fail("success_rate", f"too small for confidence {max(targets)}: more than {MAX_TRIALS} "
                                     "trials would be needed (the sheet verifies N exactly)")
    return RandomSpec(rate, targets)


def _probabilities(f: Fields, name: str) -> tuple[sp.Rational, ...]:
    """A list of distinct probabilities strictly between 0 and 1 (a bare number is a list of one)."""
    def check(value: sp.Rational) -> str | None:
        return None if 0 < value < 1 else f"must be a probability strictly between 0 and 1, got {value}"

    return f.numbers(name, check=check, distinct="value")


# ------------------------------------------------------------------------- grid search

def grid_formulas(params: tuple[Hyperparameter, ...]) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Combinations, epochs and minutes as products of the named symbols (rule of product)."""
    combos = sp.Mul(*[h.symbol for h in params], evaluate=False)
    return combos, sp.Mul(combos, E, evaluate=False), sp.Mul(combos, E, t, evaluate=False)


def _grid_numbers(spec: GridSpec) -> dict:
    values = {h.symbol: sp.Integer(h.count) for h in spec.hyperparameters}
    return values | {E: sp.Integer(spec.epochs), t: spec.minutes}


def _grid_steps(spec: GridSpec, values: dict) -> tuple[Step, ...]:
    combos, epochs, minutes = grid_formulas(spec.hyperparameters)
    count, total, time = (f.xreplace(values) for f in (combos, epochs, minutes))   # xreplace re-evaluates
    rule = sp.Product(n[i], (i, 1, k))
    return (
        Step(("Every combination picks one value of each hyperparameter. With ", sp.Eq(k, len(spec.hyperparameters)),
              " hyperparameters, the i-th taking one of ", n[i], " values, the rule of product gives the number of "
              "combinations as the product of the counts."), C, rule, combos,
             substituted=substitute(combos, values), value=count),
        Step("Each combination is trained for the same number of epochs.", E_total, C * E, expanded=epochs,
             substituted=sp.Mul(count, values[E], evaluate=False), value=total),
        Step("Each epoch takes the same time.", T, E_total * t, expanded=minutes,
             substituted=sp.Mul(total, values[t], evaluate=False), value=time, note=_duration_note(time)),
    )


def _duration_note(minutes: sp.Rational) -> tuple:
    hours = minutes / 60
    return ("In hours: ", sp.Eq(sp.Symbol("T") / 60, hours, evaluate=False), " h, that is about ",
            (hours / 24).evalf(3), " days of computing.")


def _plural(count: sp.Rational | int, word: str) -> str:
    return word if count == 1 else word + "s"


def _grid_prompt(spec: GridSpec) -> tuple:
    """The question in words, from the spec: counts, epochs, minutes."""
    pieces: list = []
    for index, h in enumerate(spec.hyperparameters):
        sep = "" if index == 0 else (" and " if index == len(spec.hyperparameters) - 1 else ", ")
        pieces += [f"{sep}{h.count} {_plural(h.count, 'value')} of ", sp.Symbol(h.name)]
    count = len(spec.hyperparameters)
    return (f"Grid search over {count} {_plural(count, 'hyperparameter')}: ", *pieces,
            f". Each combination is trained for {spec.epochs} {_plural(spec.epochs, 'epoch')}; one epoch takes ",
            spec.minutes, f" {_plural(spec.minutes, 'minute')}. How many combinations, how many epochs in all, "
            "how many minutes?")


def grid_question(spec: GridSpec, qid: str) -> Question:
    values = _grid_numbers(spec)
    steps = _grid_steps(spec, values)
    answers = (Answer(f"{qid}.combinations", C, steps[0].value), Answer(f"{qid}.epochs", E_total, steps[1].value),
               Answer(f"{qid}.minutes", T, steps[2].value))
    return Question(qid, "Grid search", _grid_prompt(spec), tuple(values.items()), steps, answers)


# ----------------------------------------------------------------------- random search

@cache  # one fixed formula, read by every confidence's step and the answers: built once
def trials_formula() -> sp.Expr:
    """The least N with ``1 - (1 - q)^N >= P``, in symbols."""
    return sp.ceiling(sp.log(1 - P) / sp.log(1 - q))


def least_trials(rate: sp.Rational, target: sp.Rational) -> int:
    """The least whole N with ``1 - (1 - rate)^N >= target``, decided in exact arithmetic.

    A float log ratio can land on the wrong side of a whole number (the ratio is
    exactly 2 for rate 1/2, target 3/4), so the float is only a first guess, then
    moved by exact comparisons until N reaches the target and N - 1 does not.
    """
    trials = max(_estimate(rate, target), 1)
    while not reaches(rate, target, trials):
        trials += 1
    while trials > 1 and reaches(rate, target, trials - 1):
        trials -= 1
    return trials


def reaches(rate: sp.Rational, target: sp.Rational, trials: int) -> bool:
    """Exactly whether ``trials`` trials reach the target: ``1 - (1 - rate)^trials >= target``."""
    return _miss_sign(rate, target, trials) <= 0


def _miss_sign(rate: sp.Rational, target: sp.Rational, trials: int) -> int:
    """The sign of ``(1 - rate)^trials - (1 - target)``, decided exactly.

    It is the sign of ``N ln(1 - rate) - ln(1 - target)``; at 60 digits that difference
    is known to far better than 1e-40, so a larger one decides, and at 600 digits one
    larger than 1e-580. Anything smaller is a tie, settled with integers: ``a^N d`` against
    ``(d - c) b^N`` where ``1 - rate = a/b`` and ``target = c/d``. A tie needs ``b^N`` to
    divide ``d`` (a number of the spec, at most 100 digits), so these powers stay small.
    """
    miss, (c, d) = 1 - rate, (int(target.p), int(target.q))
    for digits in (60, 600):
        with mpmath.workdps(digits):
            gap = trials * mpmath.log(mpmath.mpf(int(miss.p)) / int(miss.q)) - mpmath.log(mpmath.mpf(d - c) / d)
            if abs(gap) > mpmath.mpf(10) ** (20 - digits):
                return 1 if gap > 0 else -1
    left, right = int(miss.p) ** trials * d, (d - c) * int(miss.q) ** trials
    return (left > right) - (left < right)


def _estimate(rate: sp.Rational, target: sp.Rational) -> int:
    """The ceiling of the log ratio in 60-digit floating point: a first guess only."""
    return int(sp.ceiling((sp.log(1 - target) / sp.log(1 - rate)).evalf(60)))


def id_suffix(p: sp.Rational) -> tuple[str, str]:
    """``(suffix, label)`` for a confidence: 19/20 -> ("95", "0.95"); 2/3 -> ("2_3", "2/3")."""
    text = decimal_text(p, max_places=39)
    if text is None:
        return f"{p.p}_{p.q}", f"{p.p}/{p.q}"
    return text.partition(".")[2], text


def _inequality_steps() -> tuple[Step, ...]:
    """From the requirement ``1 - (1-q)^N >= P`` to ``N >= ln(1-P)/ln(1-q)``, one rule per step.

    Each move is a stated rule (the tests check every one with SymPy's solvers: the sign of
    ``ln(1 - q)`` by ``solveset``, the division by ``solve``); solving at build time cost a
    third of the build, since ``solveset`` simplifies through ``sympy.physics``.
    """
    none = sp.Product(1 - q, (j, 1, N))
    need = sp.Ge(1 - none.doit(), P)
    shift = (1 - q)**N - P                              # add to both sides
    isolated = sp.Le(need.rhs + shift, need.lhs + shift)
    logged = sp.Le(sp.expand_log(sp.log(isolated.lhs), force=True), sp.log(isolated.rhs))
    inside = sp.Contains(1 - q, sp.Interval.open(0, 1))
    return (
        Step(("The trials are independent and each one misses with probability ", 1 - q, ", so all ", N,
              " miss with the product of ", N, " such probabilities."), PR_NONE, none, value=none.doit()),
        Step("At least one good combination is the complement of none.", PR_HIT, 1 - PR_NONE,
             expanded=1 - none.doit()),
        Step(("Require the confidence and move the power to one side (add ", shift, " to both sides)."),
             math=(need, isolated)),
        Step(("Both sides are positive (", sp.Contains(q, sp.Interval.open(0, 1)), " and ",
              sp.Contains(P, sp.Interval.open(0, 1)), "), so taking logarithms, an increasing function, keeps "
              "the direction of the inequality; the power comes down as a factor."), math=(logged,)),
        Step(("The sign of the factor: for every success rate ", sp.Contains(q, sp.Interval.open(0, 1)), " the "
              "number ", 1 - q, " lies between 0 and 1, and the logarithm of a number between 0 and 1 is "
              "negative."), math=(inside, sp.log(1 - q) < 0)),
        Step(("Dividing both sides by the negative number ", sp.log(1 - q), " flips the inequality."),
             math=(divide_by_factor(logged),)),
        Step((N, " counts trials, so it is a whole number: the least one is the ceiling of the bound."),
             N, trials_formula()),
    )


def divide_by_factor(logged: sp.Le) -> sp.Ge:
    """``N c <= b`` with ``c = ln(1 - q) < 0``, divided by ``c``: ``N >= b / c``."""
    return sp.Ge(N, logged.rhs / logged.lhs.coeff(N))


def _hit(rate: sp.Rational, trials: int) -> sp.Expr:
    """``1 - (1 - q)^N`` with the numbers in, kept as a power (the exact rational is huge)."""
    return 1 - sp.Pow(1 - rate, trials, evaluate=False)


def hit_decimal(rate: sp.Rational, trials: int) -> sp.Float:
    """``1 - (1 - q)^N`` to 30 significant digits, from ``-expm1(N log1p(-q))`` at 80 digits:
    the exact power would have up to N times the digits of q (a million trials of a
    30-digit q: 30 million digits, minutes of work), and this form loses no digits when
    the chance is tiny."""
    with mpmath.workdps(80):
        value = -mpmath.expm1(trials * mpmath.log1p(-mpmath.mpf(int(rate.p)) / int(rate.q)))
    return sp.Float(value, 30)


def _minimality_table(rate: sp.Rational, target: sp.Rational, trials: int) -> Table:
    """N - 1 and N trials: the chance of a good combination, exact (as a power) and in decimals."""
    rows = tuple((sp.Integer(count), _hit(rate, count), hit_decimal(rate, count),
                  "yes" if reaches(rate, target, count) else "no") for count in (trials - 1, trials))
    return Table(("N", "P(at least one good)", "decimal", f"reaches P = {id_suffix(target)[1]}?"), rows)


def _bound_text(rate: sp.Rational, target: sp.Rational, trials: int) -> tuple:
    """Say whether the bound is a whole number (then N equals it) or lies strictly below N."""
    with sp.evaluate(False):
        ratio = sp.log(1 - target) / sp.log(1 - rate)
    if _miss_sign(rate, target, trials) == 0:
        return ("The bound ", ratio, f" is exactly the whole number {trials}: ", sp.Eq(
            sp.Pow(1 - rate, trials, evaluate=False), 1 - target, evaluate=False),
            " holds with equality, so N is the bound itself.")
    return ("The bound is ", ratio, ", about ", sp.N(ratio, 30), ", not a whole number, so N is the next whole "
            "number above it.")


def _trials_step(rate: sp.Rational, target: sp.Rational, symbol: sp.Symbol, trials: int) -> Step:
    with sp.evaluate(False):
        substituted = trials_formula().xreplace({q: rate, P: target})
    return Step((f"Confidence P = {id_suffix(target)[1]}. ",) + _bound_text(rate, target, trials), symbol,
                trials_formula(), substituted=substituted, value=sp.Integer(trials),
                table=_minimality_table(rate, target, trials),
                note=f"Exact check: {trials} trials reach the confidence and {trials - 1} do not, so {trials} "
                     "is the least number.")


def trials_symbol(target: sp.Rational) -> sp.Symbol:
    return sp.Symbol(f"N_P={id_suffix(target)[1]}")


def _confidence_givens(targets: tuple[sp.Rational, ...]) -> tuple:
    """``P = 19/20``, or ``P_1 = ..., P_2 = ...`` when several confidences are asked for."""
    if len(targets) == 1:
        return ((P, targets[0]),)
    return tuple((sp.IndexedBase(P)[index], p) for index, p in enumerate(targets, start=1))


def random_question(spec: RandomSpec, qid: str) -> Question:
    rate = spec.success_rate
    counts = {p: least_trials(rate, p) for p in spec.confidence}
    steps = _inequality_steps() + tuple(_trials_step(rate, p, trials_symbol(p), counts[p]) for p in spec.confidence)
    answers = (Answer(f"{qid}.formula", N, trials_formula()),) + tuple(
        Answer(f"{qid}.trials_{id_suffix(p)[0]}", trials_symbol(p), sp.Integer(counts[p])) for p in spec.confidence)
    prompt = ("Random search: each sampled combination is good with probability ", sp.Eq(q, rate),
              ", independently. Find the least number of trials ", N, " for which the probability of at least one "
              "good combination is at least ", P, ", in general and for P = ",
              ", ".join(id_suffix(p)[1] for p in spec.confidence), ".")
    givens = ((q, rate),) + _confidence_givens(spec.confidence)
    return Question(qid, "Random search", prompt, givens, steps, answers)


# ------------------------------------------------------------------------------ derive

def notation(spec: SearchSpec) -> tuple[tuple[str, str], ...]:
    """LaTeX for the names SymPy would print badly."""
    table = {"E_total": r"E_{\mathrm{total}}", "Pr_none": r"\Pr(\text{no good combination in } N \text{ trials})",
             "Pr_hit": r"\Pr(\text{at least one good combination in } N \text{ trials})"}
    for p in spec.random.confidence if spec.random else ():
        table[trials_symbol(p).name] = rf"N_{{P = {id_suffix(p)[1]}}}"
    return tuple(sorted(table.items()))


def derive(spec: SearchSpec, number: int, title: str) -> Problem:
    """Grid search first, then random search, numbered in that order."""
    made: list[Callable[[str], Question]] = []
    if spec.grid is not None:
        made.append(partial(grid_question, spec.grid))
    if spec.random is not None:
        made.append(partial(random_question, spec.random))
    questions = tuple(make(f"{number}.{index}") for index, make in enumerate(made, start=1))
    intro = ("Two ways to search hyperparameters: a grid tries every combination of the listed values; "
             "random search samples combinations until one is good.")
    return Problem(number, title, "search", questions, intro=intro, notation=notation(spec))


KIND = register(Kind("search", "The cost of hyperparameter search", parse, derive, doc=__doc__ or ""))
