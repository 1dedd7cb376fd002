"""Output size of a convolution, derived from the positions a filter can start at.

Along one spatial axis a filter of size k starting at position t covers t .. t + k - 1;
it must stay inside the padded input of n + 2p positions. Starts are t_j = 1 + j s, so
the count of starts is the number of whole j >= 0 with 1 + j s + k - 1 <= n + 2p::

    N_out = floor((n + 2p - k) / s) + 1

SymPy solves the inequality; every size on the sheet is this formula (generalised to
dilation and unequal padding) evaluated at the spec's numbers, so the sheet, the key
and the convolution question share one source.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import sympy as sp

from symderiv.algebra import substitute
from symderiv.model import Answer, Figure, Question, Step, TensorShape


def _integer(name: str, low: int = 1) -> sp.Symbol:
    """A whole-number symbol: positive, or nonnegative when ``low`` is 0 (paddings, indices)."""
    return sp.Symbol(name, integer=True, positive=True) if low else sp.Symbol(name, integer=True, nonnegative=True)


n, k, s, d, l, c = (_integer(x) for x in "nksdlc")
p, j = _integer("p", 0), _integer("j", 0)
t, t_j, t_last = (_integer(x) for x in ("t", "t_j", "t_last"))
p_a, p_b, P = _integer("p_before", 0), _integer("p_after", 0), _integer("P", 0)
k_eff, j_max, N_OUT, C_OUT = (_integer(x) for x in ("k_eff", "j_max", "N_out", "C_out"))

#: Dilation: the k taps sit d apart, so the window spans d (k - 1) + 1 positions.
K_EFF_RULE = d * (k - 1) + 1

NOTATION = (("N_out", r"N_{\mathrm{out}}"), ("C_out", r"C_{\mathrm{out}}"), ("k_eff", r"k_{\mathrm{eff}}"),
            ("j_max", r"j_{\max}"), ("t_last", r"t_{\mathrm{last}}"), ("p_before", r"p_{\mathrm{before}}"),
            ("p_after", r"p_{\mathrm{after}}"), ("k_eff_H", r"k_{\mathrm{eff},H}"), ("k_eff_W", r"k_{\mathrm{eff},W}"),
            ("output_shape", r"N_{H} \times N_{W} \times C_{\mathrm{out}}"),
            ("output_shape_square", r"N_{\mathrm{out}} \times N_{\mathrm{out}} \times C_{\mathrm{out}}"))


_READING = ("n", "t", "i", "j", "u", "v", "p", "P", "s", "k", "d", "N")
_SIDES = ("before", "top", "left", "after", "bottom", "right")


def _reading_key(term: sp.Basic) -> tuple:
    """Sort key for a sum as a student writes it: n first, then padding (before, after), then k,
    plain numbers and negative terms last."""
    names = sorted(x.name for x in term.free_symbols)
    if not names:
        return (term.could_extract_minus_sign(), 1, 0, 0, "")
    base, _, tail = names[0].partition("_")
    rank = _READING.index(base) if base in _READING else len(_READING)
    side = _SIDES.index(tail) if tail in _SIDES else -1
    return (term.could_extract_minus_sign(), 0, rank, side, names[0])


def tidy(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every sum in reading order (``n + 2p - k``, ``... + 1``), left unevaluated.

    Display only: the value is unchanged (tests check ``simplify(tidy(e) - e) == 0``).
    """
    if not expr.args or isinstance(expr, sp.MatrixBase):
        return expr
    args = [tidy(a) for a in expr.args]
    if isinstance(expr, sp.Add):
        args.sort(key=_reading_key)
    with sp.evaluate(False):
        return expr.func(*args)


@dataclass(frozen=True)
class Derivation:
    """The general derivation's results, each a SymPy object (the general question prints them in order)."""

    fits: sp.Le          # t + k - 1 <= n + 2p
    condition: sp.Le     # 1 + j s + k - 1 <= n + 2p, as written
    solved: sp.Le        # j <= (n + 2p - k)/s, from sp.solve
    largest: sp.Expr     # floor((n + 2p - k)/s)
    n_out: sp.Expr       # floor((n + 2p - k)/s) + 1
    general: sp.Expr     # floor((n + p_before + p_after - k_eff)/s) + 1


def upper_bound(solution: sp.Basic, var: sp.Symbol) -> sp.Le:
    """The ``var <= bound`` part of what ``sp.solve`` returns for a linear inequality."""
    parts = solution.args if isinstance(solution, sp.And) else (solution,)
    for rel in parts:
        if isinstance(rel, sp.Le) and rel.lhs == var:
            return rel
        if isinstance(rel, sp.Ge) and rel.rhs == var:
            return sp.Le(var, rel.lhs)
    raise ValueError(f"no upper bound on {var} in {solution}")


@cache
def derivation() -> Derivation:
    """Solve the fitting condition for the start index j and count the starts."""
    fits = sp.Le(t + k - 1, n + 2 * p)
    condition = sp.Le(sp.Add(1, j * s, k, -1, evaluate=False), n + 2 * p)
    solved = upper_bound(sp.solve(sp.Le(1 + j * s + k - 1, n + 2 * p), j), j)
    largest = sp.floor(solved.rhs)
    n_out = largest + 1
    general = n_out.subs(k, k_eff).subs(p, (p_a + p_b) / 2)
    return Derivation(fits, condition, solved, largest, n_out, general)


def at(expr: sp.Basic, values: dict) -> sp.Basic:
    """``expr`` evaluated at numbers for every symbol (``xreplace``: far faster than ``subs``)."""
    return expr.xreplace(values)


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a convolution: input size, kernel size, stride, dilation, padding."""

    n: int
    k: int
    s: int = 1
    d: int = 1
    before: int = 0
    after: int = 0

    @property
    def symmetric(self) -> bool:
        return self.before == self.after

    def numbers(self) -> dict[sp.Symbol, sp.Integer]:
        """The axis' values keyed by the general symbols."""
        values = {n: self.n, k: self.k, s: self.s, d: self.d, p_a: self.before, p_b: self.after, p: self.before}
        return {key: sp.Integer(v) for key, v in values.items()}

    @property
    def k_eff(self) -> int:
        return int(at(K_EFF_RULE, self.numbers()))

    @property
    def padded(self) -> int:
        return self.n + self.before + self.after

    @property
    def size(self) -> int:
        """N_out: the general formula at these numbers."""
        return _count(self)

    @property
    def starts(self) -> range:
        """Every start position t_j = 1 + j s (1-based, in the padded input): a range, so a
        large axis costs no memory."""
        return range(1, 1 + self.size * self.s, self.s)


#: 'Same' padding as PyTorch computes it (stride 1): total, before, after.
#: (P/2 is kept as a quotient so that its numbers print as 6/2, not 1/2 * 6.)
SAME_TOTAL, SAME_AFTER = d * (k - 1), P - p_a
SAME_BEFORE = sp.floor(sp.Mul(P, sp.Pow(2, -1, evaluate=False), evaluate=False))


def same_padding(axis: Axis) -> Axis:
    """PyTorch's padding='same' (stride 1): a total of d (k - 1), the odd one out after."""
    total = at(SAME_TOTAL, axis.numbers())
    before = at(SAME_BEFORE, {P: total})
    return replace(axis, before=int(before), after=int(at(SAME_AFTER, {P: total, p_a: before})))


def formula(axis: Axis) -> sp.Expr:
    """The simplest general form covering ``axis``: plain, dilated, or with unequal padding."""
    return _formula(axis.symmetric, axis.d != 1)


@cache
def _formula(symmetric: bool, dilated: bool) -> sp.Expr:
    expr = derivation().general
    if symmetric:
        expr = expr.subs({p_a: p, p_b: p})
    return expr.subs(k_eff, K_EFF_RULE if dilated else k)


@cache
def _count(axis: Axis) -> int:
    """N_out of one axis: the general formula at its numbers."""
    return int(at(derivation().general, axis.numbers() | {k_eff: sp.Integer(axis.k_eff)}))


def padded_length(axis: Axis) -> sp.Expr:
    return n + 2 * p if axis.symmetric else n + p_a + p_b


def window_length(axis: Axis) -> sp.Symbol:
    return k if axis.d == 1 else k_eff


# --- the general derivation (question k+1) ---------------------------------------------------

@cache
def full_formula() -> sp.Expr:
    """N_out with dilation and unequal padding written out: the most general per-axis count."""
    return derivation().general.subs(k_eff, K_EFF_RULE)


def _count_steps(der: Derivation) -> list[Step]:
    return [
        Step(("A filter of size ", k, " that starts at position ", t, " covers positions ", t, ", ", tidy(t + 1),
              ", ..., ", tidy(t + k - 1), " of the padded input, which has ", n + 2 * p, " positions (", p,
              " zeros on each side). It fits when its last position is still inside:"), math=(tidy(der.fits),)),
        Step(("The filter starts at position 1 and moves ", s, " positions at a time, so the starts are"),
             t_j, tidy(1 + j * s), note=("for ", j, " = 0, 1, 2, ...")),
        Step(("Put the start ", t_j, " into the condition and simplify:"),
             math=(der.condition, tidy(sp.Le(j * s + k, n + 2 * p)))),
        Step(("Solving the inequality for ", j, " (dividing by ", sp.StrictGreaterThan(s, 0, evaluate=False),
              " keeps its direction) gives"),
             math=(tidy(der.solved),)),
        Step(("The index ", j, " is a whole number, so the largest allowed is the floor of that bound:"),
             j_max, tidy(der.largest)),
        Step(("The allowed indices are ", j, " = 0, 1, ..., ", j_max, ": one more than ", j_max,
              ". Each start gives one output position, so the output size is"), N_OUT, tidy(j_max + 1),
             expanded=tidy(der.n_out),
             note=("A start exists at all (", sp.Eq(j, 0), ") only when the filter fits: ", sp.Le(k, n + 2 * p),
                   ".")),
        Step(("A filter has size ", k, " × ", k, " × ", c, ": it spans all ", c, " input channels and sums over "
              "them, so it produces one number per position, a single 2-D map. The ", l, " filters give ", l,
              " maps stacked: the output channels are the number of filters, not the input's ", c, "."),
             C_OUT, l),
    ]


def _axis_names(axis: str, before: str, after: str) -> dict:
    """The general symbols renamed for one axis: n -> n_H, p_before -> p_top, ..."""
    names = {n: f"n_{axis}", k: f"k_{axis}", s: f"s_{axis}", d: f"d_{axis}", p: f"p_{axis}",
             p_a: f"p_{before}", p_b: f"p_{after}", P: f"P_{axis}", k_eff: f"k_eff_{axis}"}
    return {sym: sp.Symbol(name, integer=True, nonnegative=True) for sym, name in names.items()}


HEIGHT, WIDTH = _axis_names("H", "top", "bottom"), _axis_names("W", "left", "right")
N_H, N_W = sp.Symbol("N_H"), sp.Symbol("N_W")


def _general_steps(der: Derivation) -> list[Step]:
    height = sp.Eq(N_H, tidy(full_formula().xreplace(HEIGHT)))
    width = sp.Eq(N_W, tidy(full_formula().xreplace(WIDTH)))
    return [
        Step(("Dilation ", d, ": the ", k, " taps sit ", d, " positions apart (", t, ", ", tidy(t + d), ", ..., ",
              tidy(t + (k - 1) * d), "), so the window spans"), k_eff, tidy(K_EFF_RULE),
             note=("positions, and ", k_eff, " takes the place of ", k, " in the count.")),
        Step(("Padding with ", p_a, " zeros before and ", p_b, " after (not necessarily equal) makes the padded "
              "input ", tidy(n + p_a + p_b), " long, in place of ", n + 2 * p, ":"), N_OUT, tidy(der.general),
             expanded=tidy(full_formula())),
        Step("Height and width are counted separately, each with its own sizes, stride, dilation and padding:",
             math=(height, width)),
        _same_step(der),
    ]


def _same_step(der: Derivation) -> Step:
    """'Same' padding (stride 1, total P = k_eff - 1) keeps the size: SymPy simplifies the count to n."""
    merged = der.general.subs({p_b: P - p_a})
    written = substitute(tidy(merged), {s: sp.Integer(1)})
    filled = substitute(written, {P: tidy(k_eff - 1)})
    value = sp.simplify(merged.subs({s: 1, P: k_eff - 1}))
    total = sp.Eq(P, sp.Eq(tidy(SAME_TOTAL), tidy(k_eff - 1), evaluate=False), evaluate=False)
    return Step(("'Same' padding, as PyTorch's padding='same' computes it, needs stride ", sp.Eq(s, 1),
                 " and pads a total of ", total, " positions: ", sp.Eq(p_a, SAME_BEFORE), " before and ",
                 sp.Eq(p_b, tidy(SAME_AFTER)), " after (the odd one out goes after). With ",
                 tidy(sp.Eq(p_a + p_b, P)), " the output keeps the input's size:"),
                N_OUT, tidy(der.general), expanded=written, substituted=filled, value=value,
                note=("With a stride ", sp.StrictGreaterThan(s, 1, evaluate=False), " no padding keeps every size, "
                      "so PyTorch rejects 'same' there."))


@cache
def general_question(qid: str) -> Question:
    """The general question: the output size from the positions a filter can start at, then its generalisations."""
    der = derivation()
    prompt = ("General case: input ", n, " × ", n, " × ", c, ", ", l, " filters of size ", k, " × ", k, " × ", c,
              ", stride ", s, ", padding ", p, ". Derive the output size ", N_OUT, " × ", N_OUT,
              " × (channels) from the positions a filter can start at.")
    answers = (Answer(f"{qid}.n_out", N_OUT, der.n_out),
               Answer(f"{qid}.channels", C_OUT, l, "(the number of filters)"),
               Answer(f"{qid}.n_out_general", N_OUT, full_formula(),
                      "(per axis, with dilation and padding before and after)"))
    return Question(qid, "Output size in general", prompt, (), tuple(_count_steps(der) + _general_steps(der)),
                    answers)


# --- size questions (1 .. k) -------------------------------------------------------------------

@dataclass(frozen=True)
class SizeSpec:
    """One size question: an input of ``channels`` channels, ``filters`` filters, per-axis geometry."""

    height: Axis
    width: Axis
    channels: int
    filters: int
    same: bool = False

    @property
    def shape(self) -> TensorShape:
        return TensorShape([[self.height.size, self.width.size, self.filters]])


@dataclass(frozen=True)
class Group:
    """Axes sharing all their numbers are solved once: ``names`` renames the general symbols."""

    label: str
    axis: Axis
    result: sp.Symbol
    names: dict

    def sym(self, general: sp.Symbol) -> sp.Symbol:
        return self.names.get(general, general)

    def name(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` in this group's names (a pure renaming: nothing to evaluate)."""
        with sp.evaluate(False):
            return expr.xreplace(self.names)


def groups(height: Axis, width: Axis) -> tuple[Group, ...]:
    """One group when both axes share every number (plain n, k, p, s), else height and width apart."""
    if height == width:
        return (Group("Height and width (the same numbers for both)", height, N_OUT, {}),)
    return (Group("Height (rows)", height, N_H, HEIGHT), Group("Width (columns)", width, N_W, WIDTH))


def group_givens(g: Group, same: bool) -> list[tuple[sp.Basic, sp.Basic]]:
    """The group's numbers as (symbol, value): padding only when given, dilation only when used."""
    values = g.axis.numbers()
    wanted = [n, k, s] + ([d] if g.axis.d != 1 else [])
    if not same:
        wanted += [p] if g.axis.symmetric else [p_a, p_b]
    return [(g.sym(x), values[x]) for x in wanted]


def _numbers(g: Group) -> dict:
    """Named symbols -> numbers, for substituting into a group's formulas."""
    values = g.axis.numbers() | {k_eff: sp.Integer(g.axis.k_eff), P: sp.Integer(g.axis.before + g.axis.after)}
    return {g.sym(x): v for x, v in values.items()}


def _worked(g: Group, text, lhs: sp.Basic, rule: sp.Expr, extra: dict | None = None) -> Step:
    """A step ``lhs = rule = rule with numbers = value`` in the group's names."""
    named = tidy(g.name(rule))
    values = _numbers(g) | (extra or {})
    return Step(text, g.sym(lhs), named, substituted=substitute(named, values), value=at(named, values))


def _same_steps(g: Group) -> list[Step]:
    total = SAME_TOTAL.subs(d, 1) if g.axis.d == 1 else SAME_TOTAL
    return [_worked(g, "'Same' padding (PyTorch, stride 1): the total padding is the window span minus one,",
                    P, total),
            _worked(g, "of which the smaller half goes before,", p_a, SAME_BEFORE),
            _worked(g, "and the rest after:", p_b, SAME_AFTER)]


def _check_step(g: Group) -> Step:
    """The last start's window ends inside the padded input, and one more stride would not."""
    size = {g.result: sp.Integer(g.axis.size)}
    step = _worked(g, ("Check: the starts are 1, 1 + ", g.sym(s), ", 1 + 2", g.sym(s), ", ...; the last one still "
                       "fits, and one more stride would run past the padded input:"),
                   t_last, 1 + (g.result - 1) * s, size)
    window, padded = g.name(window_length(g.axis)), g.name(padded_length(g.axis))
    fits = tidy(sp.Le(t_last + window - 1, padded, evaluate=False))
    beyond = tidy(sp.Gt(t_last + g.sym(s) + window - 1, padded, evaluate=False))
    values = _numbers(g) | {t_last: step.value}
    return replace(step, math=(fits, substitute(fits, values), beyond, substitute(beyond, values)))


def axis_steps(g: Group, same: bool, general_qid: str, check: bool = True) -> list[Step]:
    """Padding (if 'same'), effective kernel (if dilated), the count by the general formula, a check."""
    steps = _same_steps(g) if same else []
    if g.axis.d != 1:
        steps.append(_worked(g, "Dilation spreads the kernel: its effective size is", k_eff, K_EFF_RULE))
    steps.append(_worked(g, (f"{g.label}: the count of filter positions, by the formula of Q{general_qid},"),
                         g.result, formula(g.axis)))
    return steps + ([_check_step(g)] if check else [])


def plural(count: int, word: str) -> str:
    """``1 filter``, ``2 filters``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _channel_step(spec: SizeSpec) -> Step:
    return Step((f"Channels: each filter is as deep as the input ({plural(spec.channels, 'channel')}) and sums "
                 "over all of them, so it gives one 2-D map: one output channel per filter, whatever the input's "
                 "channel count. The output channels are the number of filters:"), C_OUT, l,
                value=sp.Integer(spec.filters))


def grid_figure(spec: SizeSpec) -> Figure:
    """Data for the 'padded_grid' drawing: the start positions along the height."""
    a = spec.height
    caption = (f"Starts of a {a.k_eff}-tall window along a padded height of {a.padded} "
               f"({a.before} + {a.n} + {a.after}), stride {a.s}: {a.size} positions.")
    return Figure("padded_grid", caption, (("n", a.n), ("p", a.before), ("k", a.k), ("s", a.s), ("starts", a.starts),
                                         ("p_after", a.after), ("d", a.d), ("k_eff", a.k_eff)))


def both(height: int, width: int) -> str:
    """``3`` when both axes agree, else ``3 (height), 2 (width)``."""
    return f"{height}" if height == width else f"{height} (height), {width} (width)"


def geometry_text(a: Axis, b: Axis, same: bool) -> str:
    """Padding, stride and dilation of a height/width pair, in words."""
    if same:
        padding = "'same'"
    elif a.symmetric and b.symmetric:
        padding = both(a.before, b.before)
    else:
        padding = f"{a.before} top, {a.after} bottom, {b.before} left, {b.after} right"
    dilation = "" if a.d == b.d == 1 else f", dilation {both(a.d, b.d)}"
    return f"padding {padding}, stride {both(a.s, b.s)}{dilation}"


def _prompt(spec: SizeSpec) -> str:
    a, b = spec.height, spec.width
    return (f"Input {a.n} × {b.n} × {spec.channels}, {plural(spec.filters, 'filter')} of size {a.k} × {b.k} × "
            f"{spec.channels}, {geometry_text(a, b, spec.same)}: the output size.")


def size_question(spec: SizeSpec, qid: str, general_qid: str) -> Question:
    """A size question: the general count at the spec's numbers, per axis, and the channels."""
    gs = groups(spec.height, spec.width)
    givens = [gv for g in gs for gv in group_givens(g, spec.same)]
    givens += [(c, sp.Integer(spec.channels)), (l, sp.Integer(spec.filters))]
    steps = [st for g in gs for st in axis_steps(g, spec.same, general_qid)] + [_channel_step(spec)]
    name = "output_shape_square" if len(gs) == 1 else "output_shape"
    answer = Answer(f"{qid}.output_shape", sp.Symbol(name), spec.shape, "(height × width × channels)")
    return Question(qid, "Output size", (_prompt(spec),), tuple(givens), tuple(steps), (answer,),
                    figures=(grid_figure(spec),))
