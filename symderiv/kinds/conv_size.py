"""Output size of a convolution, derived from the positions a filter can start at.

Along one spatial axis a filter of size k starting at position t covers t .. t + k - 1;
it must stay inside the padded input of n + 2p positions. Starts are t_j = 1 + j s, so
the count of starts is the number of whole j >= 0 with 1 + j s + k - 1 <= n + 2p::

    N_out = floor((n + 2p - k) / s) + 1

SymPy solves the inequality; every size on the sheet is this formula (generalised to
dilation and unequal padding) evaluated at the spec's numbers, so the sheet, the key
and the convolution of Q4.4 share one source.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import sympy as sp

from symderiv.kinds.network_questions import substitute
from symderiv.model import Answer, Figure, Question, Step


def _whole(name: str, low: int = 1) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True) if low else sp.Symbol(name, integer=True, nonnegative=True)


n, k, s, d, l, c = (_whole(x) for x in "nksdlc")
p, j = _whole("p", 0), _whole("j", 0)
t, t_j, t_last = (_whole(x) for x in ("t", "t_j", "t_last"))
p_a, p_b, P = _whole("p_before", 0), _whole("p_after", 0), _whole("P", 0)
k_eff, j_max, N_OUT, C_OUT = (_whole(x) for x in ("k_eff", "j_max", "N_out", "C_out"))

#: Dilation: the k taps sit d apart, so the window spans d (k - 1) + 1 positions.
K_EFF_RULE = d * (k - 1) + 1

NOTATION = (("N_out", r"N_{\mathrm{out}}"), ("C_out", r"C_{\mathrm{out}}"), ("k_eff", r"k_{\mathrm{eff}}"),
            ("j_max", r"j_{\max}"), ("t_last", r"t_{\mathrm{last}}"), ("p_before", r"p_{\mathrm{before}}"),
            ("p_after", r"p_{\mathrm{after}}"), ("k_eff_H", r"k_{\mathrm{eff},H}"), ("k_eff_W", r"k_{\mathrm{eff},W}"),
            ("output_shape", r"N_{H} \times N_{W} \times C_{\mathrm{out}}"))


@dataclass(frozen=True)
class Derivation:
    """The general derivation's results, each a SymPy object (Q4.3 prints them in order)."""

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
        return int(K_EFF_RULE.subs(self.numbers()))

    @property
    def padded(self) -> int:
        return self.n + self.before + self.after

    @property
    def size(self) -> int:
        """N_out: the general formula at these numbers."""
        return int(derivation().general.subs(self.numbers()).subs(k_eff, self.k_eff))

    @property
    def starts(self) -> tuple[int, ...]:
        """Every start position t_j = 1 + j s (1-based, in the padded input)."""
        return tuple(1 + i * self.s for i in range(self.size))


#: 'Same' padding as PyTorch computes it (stride 1): total, before, after.
SAME_TOTAL, SAME_BEFORE, SAME_AFTER = d * (k - 1), sp.floor(P / 2), P - p_a


def same_padding(axis: Axis) -> Axis:
    """PyTorch's padding='same' (stride 1): a total of d (k - 1), the odd one out after."""
    total = SAME_TOTAL.subs(axis.numbers())
    before = SAME_BEFORE.subs(P, total)
    return replace(axis, before=int(before), after=int(SAME_AFTER.subs({P: total, p_a: before})))


def formula(axis: Axis) -> sp.Expr:
    """The simplest general form covering ``axis``: plain, dilated, or with unequal padding."""
    expr = derivation().general
    if axis.symmetric:
        expr = expr.subs({p_a: p, p_b: p})
    return expr.subs(k_eff, k if axis.d == 1 else K_EFF_RULE)


def padded_length(axis: Axis) -> sp.Expr:
    return n + 2 * p if axis.symmetric else n + p_a + p_b


def window_length(axis: Axis) -> sp.Expr:
    return k if axis.d == 1 else K_EFF_RULE


# --- the general derivation (Q4.3) ---------------------------------------------------------

def full_formula() -> sp.Expr:
    """N_out with dilation and unequal padding written out: the most general per-axis count."""
    return derivation().general.subs(k_eff, K_EFF_RULE)


def _count_steps(der: Derivation) -> list[Step]:
    return [
        Step(("A filter of size ", k, " that starts at position ", t, " covers positions ", t, ", ", t + 1,
              ", ..., ", t + k - 1, " of the padded input, which has ", n + 2 * p, " positions (", p,
              " zeros on each side). It fits when its last position is still inside:"), math=(der.fits,)),
        Step(("The filter starts at position 1 and moves ", s, " positions at a time, so the starts are"),
             t_j, 1 + j * s, note=("for ", j, " = 0, 1, 2, ...")),
        Step(("Put the start ", t_j, " into the condition:"), math=(der.condition, sp.Le(j * s + k, n + 2 * p))),
        Step(("Solve the inequality for ", j, " (SymPy; ", s, " > 0 keeps its direction):"), math=(der.solved,)),
        Step(("The index ", j, " is a whole number, so the largest allowed is the floor of that bound:"),
             j_max, der.largest),
        Step(("The allowed indices are ", j, " = 0, 1, ..., ", j_max, ": one more than ", j_max,
              ". Each start gives one output position, so the output size is"), N_OUT, j_max + 1,
             expanded=der.n_out,
             note=("A start exists at all (", j, " = 0) only when the filter fits: ", sp.Le(k, n + 2 * p), ".")),
        Step(("A filter has size ", k, " × ", k, " × ", c, ": it spans all ", c, " input channels and sums over "
              "them, so it produces one number per position, a single 2-D map. The ", l, " filters give ", l,
              " maps stacked: the output channels are the number of filters, not the input's ", c, "."),
             C_OUT, l),
    ]


def _per_axis(expr: sp.Expr, axis: str, before: str, after: str) -> sp.Expr:
    """``expr`` with every size named for one axis (n -> n_H, p_before -> p_top, ...)."""
    names = {n: f"n_{axis}", k: f"k_{axis}", s: f"s_{axis}", d: f"d_{axis}", p: f"p_{axis}",
             p_a: f"p_{before}", p_b: f"p_{after}"}
    return expr.xreplace({sym: sp.Symbol(name) for sym, name in names.items()})


def _general_steps(der: Derivation) -> list[Step]:
    height = sp.Eq(sp.Symbol("N_H"), _per_axis(full_formula(), "H", "top", "bottom"))
    width = sp.Eq(sp.Symbol("N_W"), _per_axis(full_formula(), "W", "left", "right"))
    return [
        Step(("Dilation ", d, ": the ", k, " taps sit ", d, " positions apart (", t, ", ", t + d, ", ..., ",
              t + (k - 1) * d, "), so the window spans"), k_eff, K_EFF_RULE,
             note=("positions, and ", k_eff, " takes the place of ", k, " in the count.")),
        Step(("Padding with ", p_a, " zeros before and ", p_b, " after (not necessarily equal) makes the padded "
              "input ", n + p_a + p_b, " long, in place of ", n + 2 * p, ":"), N_OUT, der.general,
             expanded=full_formula()),
        Step("Height and width are counted separately, each with its own sizes, stride, dilation and padding:",
             math=(height, width)),
        _same_step(der),
    ]


def _same_step(der: Derivation) -> Step:
    """'Same' padding (stride 1, total P = k_eff - 1) keeps the size: SymPy simplifies the count to n."""
    merged = der.general.subs({p_b: P - p_a})
    written = substitute(merged, {s: sp.Integer(1)})
    filled = substitute(written, {P: k_eff - 1})
    value = sp.simplify(merged.subs({s: 1, P: k_eff - 1}))
    return Step(("'Same' padding, as PyTorch's padding='same' computes it, needs stride ", sp.Eq(s, 1),
                 " and pads a total of ", sp.Eq(P, sp.Eq(K_EFF_RULE - 1, k_eff - 1, evaluate=False),
                                                 evaluate=False),
                 " positions: ", sp.Eq(p_a, sp.floor(P / 2)), " before and ", sp.Eq(p_b, P - p_a),
                 " after (the odd one out goes after). With ", sp.Eq(p_a + p_b, P), " the output keeps the "
                 "input's size:"), N_OUT, der.general, expanded=written, substituted=filled, value=value,
                note=("With a stride ", s, " > 1 no padding keeps every size, so PyTorch rejects 'same' there."))


def general_question(qid: str) -> Question:
    """Q4.3: the output size from the positions a filter can start at, then its generalisations."""
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


# --- size questions (Q4.1, Q4.2) -----------------------------------------------------------

class Shape(sp.ImmutableDenseMatrix):
    """A tensor shape (height, width, channels) as a 1-row matrix that a printer may write
    ``34 × 34 × 1``; it equals, and hashes like, the plain matrix of the same entries."""

    def __hash__(self) -> int:
        return hash(sp.ImmutableDenseMatrix(self))


@dataclass(frozen=True)
class SizeSpec:
    """One size question: an input of ``channels`` channels, ``filters`` filters, per-axis geometry."""

    height: Axis
    width: Axis
    channels: int
    filters: int
    same: bool = False

    @property
    def shape(self) -> Shape:
        return Shape([[self.height.size, self.width.size, self.filters]])


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
        return expr.xreplace(self.names)


def groups(spec: SizeSpec) -> tuple[Group, ...]:
    """One group for a square problem (plain n, k, p, s), else height and width apart."""
    if spec.height == spec.width:
        return (Group("Height and width (the same numbers for both)", spec.height, N_OUT, {}),)
    return (Group("Height (rows)", spec.height, sp.Symbol("N_H"), _axis_names("H", "top", "bottom")),
            Group("Width (columns)", spec.width, sp.Symbol("N_W"), _axis_names("W", "left", "right")))


def _axis_names(axis: str, before: str, after: str) -> dict:
    names = {n: f"n_{axis}", k: f"k_{axis}", s: f"s_{axis}", d: f"d_{axis}", p: f"p_{axis}",
             p_a: f"p_{before}", p_b: f"p_{after}", P: f"P_{axis}", k_eff: f"k_eff_{axis}"}
    return {sym: sp.Symbol(name, integer=True, nonnegative=True) for sym, name in names.items()}


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


def _worked(g: Group, text, lhs: sp.Basic, rule: sp.Expr, note="") -> Step:
    """A step ``lhs = rule = rule with numbers = value`` in the group's names."""
    named = g.name(rule)
    values = _numbers(g)
    return Step(text, g.sym(lhs), named, substituted=substitute(named, values),
                value=named.subs(values), note=note)


def _same_steps(g: Group) -> list[Step]:
    total = SAME_TOTAL.subs(d, 1) if g.axis.d == 1 else SAME_TOTAL
    return [_worked(g, "'Same' padding (PyTorch, stride 1): the total padding is the window span minus one,",
                    P, total),
            _worked(g, "of which the smaller half goes before,", p_a, SAME_BEFORE),
            _worked(g, "and the rest after:", p_b, SAME_AFTER)]


def _check_step(g: Group, size: sp.Symbol) -> Step:
    """The last start's window ends inside the padded input and one more stride would not."""
    axis, values = g.axis, _numbers(g) | {size: sp.Integer(g.axis.size)}
    last = sp.Integer(axis.starts[-1])
    window, padded = g.name(window_length(axis)), g.name(padded_length(axis))
    fits = substitute(sp.Le(t_last + window - 1, padded), values | {t_last: last})
    beyond = substitute(sp.Gt(t_last + g.sym(s) + window - 1, padded), values | {t_last: last})
    step = _worked(g, ("Check: the last start is at ", t_last, ", its window ends inside the padded input, and "
                       "one more stride would not fit:"), t_last, 1 + (size - 1) * s)
    return replace(step, substituted=substitute(step.rule, values), value=last, math=(fits, beyond))


def axis_steps(g: Group, same: bool, general_qid: str) -> list[Step]:
    """Padding (if 'same'), effective kernel (if dilated), the count by the formula of Q4.3, a check."""
    steps = _same_steps(g) if same else []
    if g.axis.d != 1:
        steps.append(_worked(g, "Dilation spreads the kernel: its effective size is", k_eff, K_EFF_RULE))
    steps.append(_worked(g, (f"{g.label}: the count of filter positions, by the formula of Q{general_qid},"),
                         g.result, formula(g.axis)))
    return steps + [_check_step(g, g.result)]


def _channel_step(spec: SizeSpec) -> Step:
    return Step((f"Channels: each filter is as deep as the input ({spec.channels} channels) and sums over all of "
                 f"them, giving one 2-D map; the {spec.filters} filter(s) give one output channel each, so the "
                 "output channels are the number of filters:"), C_OUT, l, value=sp.Integer(spec.filters))


def grid_figure(spec: SizeSpec) -> Figure:
    """Data for the 'conv_grid' drawing: the start positions along the height."""
    a = spec.height
    caption = (f"Starts of a {a.k_eff}-tall window along a padded height of {a.padded} "
               f"({a.before} + {a.n} + {a.after}), stride {a.s}: {a.size} positions.")
    return Figure("conv_grid", caption, (("n", a.n), ("p", a.before), ("k", a.k), ("s", a.s), ("starts", a.starts),
                                         ("p_after", a.after), ("d", a.d), ("k_eff", a.k_eff)))


def _prompt(spec: SizeSpec) -> str:
    a, b = spec.height, spec.width
    padding = "'same'" if spec.same else (f"{a.before}" if a == b and a.symmetric else
                                          f"{a.before}/{a.after} (top/bottom), {b.before}/{b.after} (left/right)")
    stride = f"{a.s}" if a.s == b.s else f"{a.s} x {b.s}"
    dilation = "" if a.d == b.d == 1 else f", dilation {a.d}" if a.d == b.d else f", dilation {a.d} x {b.d}"
    return (f"Input {a.n} × {b.n} × {spec.channels}, {spec.filters} filter(s) of size {a.k} × {b.k} × "
            f"{spec.channels}, padding {padding}, stride {stride}{dilation}: the output size.")


def size_question(spec: SizeSpec, qid: str, general_qid: str) -> Question:
    """Q4.1 / Q4.2: the general count of Q4.3 at the spec's numbers, per axis, and the channels."""
    gs = groups(spec)
    givens = [gv for g in gs for gv in group_givens(g, spec.same)]
    givens += [(c, sp.Integer(spec.channels)), (l, sp.Integer(spec.filters))]
    steps = [st for g in gs for st in axis_steps(g, spec.same, general_qid)] + [_channel_step(spec)]
    answer = Answer(f"{qid}.output_shape", sp.Symbol("output_shape"), spec.shape, "(height × width × channels)")
    return Question(qid, "Output size", (_prompt(spec),), tuple(givens), tuple(steps), (answer,),
                    figures=(grid_figure(spec),))
