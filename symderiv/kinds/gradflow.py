"""Problem kind ``gradflow``: vanishing gradients in plain chains, and what residual connections change.

Spec fields (see README, "Spec format")::

    kind = "gradflow"
    [problem.chain]            # Q.2: a plain chain x -> z1 -> ... -> zm -> L
    upstream = 0.01            # dL/dzm
    local = [0.005, 0.1]       # dzm/dz(m-1), ..., dz1/dx: outermost first, nonzero
    [problem.residual]         # Q.3, Q.4: the same chain with a skip, y = zm + x
    upstream = 0.01            # dL/dy
    [problem.depths]           # Q.5, Q.6: deep chains, every layer's local derivative equal
    upstream = 0.5             # dL/d(output), nonzero
    local = 0.5                # d, nonzero
    plain = [1, 2, 3, 4, 5, 6] # depths n of plain chains (distinct, >= 1)
    residual = [2, 4, 6]       # depths n of residual networks (multiples of block)
    block = 2                  # m: layers per residual block (at most MAX_DEPTH)
    [problem.illustration]     # optional, Q.1's table: how fast d^k decays
    local = [0.25, 0.5, 0.9]   # default
    depths = [1, 2, 5, 10, 20] # default

Six questions: Q.1 the chain rule as a product of local derivatives (why small ones
starve early layers), Q.2 a plain chain in numbers, Q.3 the chain with a residual
connection, Q.4 their ratio, Q.5 plain chains of growing depth (``g d^n``), Q.6 residual
networks of blocks of ``m`` layers (``g (1 + d^m)^(n/m)``), compared with Q.5.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from symderiv.algebra import decimal_text, substitute
from symderiv.kinds.registry import Kind, register
from symderiv.model import Answer, Figure, Problem, Question, Step, Table
from symderiv.spec import Fields

#: Deepest chain (and largest block): d**n stays an exact fraction the sheet can print, and the
#: depth figure evaluates at most MAX_POINTS depths per series.
MAX_DEPTH = 1000
MAX_POINTS = 200
#: Most layers in the chain of Q.2 to Q.4: each is a printed factor (deep chains are Q.5's job).
MAX_LAYERS = 50
#: Most derivatives in Q.1's table: each adds two columns.
MAX_ILLUSTRATED = 8
#: Most depths in one list: each is a table row and an answer.
MAX_LISTED = 50
#: Most digits in an exact value the depth tables print (numerator or denominator): wider
#: numbers overflow TeX's largest dimension (about 3000 digits) in one table row.
MAX_DIGITS = 500

U = sp.UnevaluatedExpr          # keeps a number as written inside a product (no folding)

j = sp.Symbol("j", integer=True)
i_, m_ = sp.symbols("i m", integer=True, positive=True)
n, m = sp.symbols("n m", integer=True, positive=True)
d, k, x = sp.Symbol("d"), sp.Symbol("k", integer=True, nonnegative=True), sp.Symbol("x")
RATIO = sp.Symbol("r")                  # residual gradient over plain gradient
RES = sp.Symbol("dL/dx|res")            # dL/dx through the residual connection
F_OF_X = sp.Function("F")(x)            # the chain, as one function of its input


# ------------------------------------------------------------------------- spec

@dataclass(frozen=True)
class ChainSpec:
    """A plain chain: ``upstream`` = dL/dz_m, ``local`` = (dz_m/dz_{m-1}, ..., dz_1/dx)."""

    upstream: sp.Rational
    local: tuple[sp.Rational, ...]


@dataclass(frozen=True)
class DepthSpec:
    upstream: sp.Rational
    local: sp.Rational
    plain: tuple[int, ...]
    residual: tuple[int, ...]
    block: int


@dataclass(frozen=True)
class GradflowSpec:
    chain: ChainSpec
    residual_upstream: sp.Rational
    depths: DepthSpec
    illustration_local: tuple[sp.Rational, ...]
    illustration_depths: tuple[int, ...]


def parse(f: Fields) -> GradflowSpec:
    """Validate: nonzero derivatives, whole positive depths, residual depths multiples of the block."""
    f.check_known({"chain", "residual", "depths", "illustration"})
    chain_f, res_f, depth_f = f.sub("chain"), f.sub("residual"), f.sub("depths")
    chain_f.check_known({"upstream", "local"})
    res_f.check_known({"upstream"})
    chain = ChainSpec(_nonzero(chain_f, "upstream"), _nonzero_list(chain_f, "local"))
    if len(chain.local) > MAX_LAYERS:
        raise chain_f.fail("local", f"at most {MAX_LAYERS} layers (each is a printed factor), got {len(chain.local)}")
    ill = f.sub("illustration") if f.has("illustration") else Fields({}, f.source, f.where("illustration"))
    ill.check_known({"local", "depths"})
    shown = _nonzero_list(ill, "local", [0.25, 0.5, 0.9])
    if len(shown) > MAX_ILLUSTRATED:
        raise ill.fail("local", f"at most {MAX_ILLUSTRATED} derivatives (each adds two table columns), "
                                f"got {len(shown)}")
    return GradflowSpec(chain, _nonzero(res_f, "upstream"), _parse_depths(depth_f), shown,
                        _depth_list(ill, "depths", [1, 2, 5, 10, 20]))


def _parse_depths(f: Fields) -> DepthSpec:
    f.check_known({"upstream", "local", "plain", "residual", "block"})
    block = f.integer("block", low=1, high=MAX_DEPTH)
    residual = _depth_list(f, "residual")
    for index, depth in enumerate(residual, start=1):
        if depth % block:
            raise f.fail(f"residual[{index}]", f"depth {depth} is not a multiple of the block size {block}")
    spec = DepthSpec(_nonzero(f, "upstream"), _nonzero(f, "local"), _depth_list(f, "plain"), residual, block)
    for name, depths in (("plain", spec.plain), ("residual", spec.residual)):
        for index, depth in enumerate(depths, start=1):
            digits = max(map(_digits, _printed(spec, depth, name == "residual")))
            if digits > MAX_DIGITS:
                raise f.fail(f"{name}[{index}]", f"at depth {depth} the exact dL/dx has {digits} digits; at most "
                                                 f"{MAX_DIGITS} print, so use a smaller depth or a simpler local")
    return spec


def _digits(value: sp.Rational) -> int:
    return max(len(str(abs(value.p))), len(str(value.q)))


def _printed(spec: DepthSpec, depth: int, residual: bool) -> tuple[sp.Rational, ...]:
    """The exact values a depth's table rows print: plain, and for a residual depth also residual and ratio."""
    values = _depth_values(spec, depth)
    plain = plain_formula().xreplace(values)
    if not residual:
        return (plain,)
    res = residual_formula().xreplace(values)
    return plain, res, res / plain


def _nonzero(f: Fields, name: str) -> sp.Rational:
    """A derivative that must not be 0: Q.4 divides by the plain chain's gradient."""
    value = f.number(name)
    if value == 0:
        raise f.fail(name, "must be nonzero (a zero derivative leaves no gradient to compare)")
    return value


def _nonzero_list(f: Fields, name: str, default=...) -> tuple[sp.Rational, ...]:
    return f.numbers(name, default, check=lambda v: None if v != 0 else
                     "must be nonzero (a zero derivative leaves no gradient to compare)")


def _depth_list(f: Fields, name: str, default=...) -> tuple[int, ...]:
    """Distinct whole depths 1 .. MAX_DEPTH (a bare number is a list of one)."""
    count = len(f.vector(name, default))
    if count > MAX_LISTED:
        raise f.fail(name, f"at most {MAX_LISTED} depths (each is a table row), got {count}")

    def check(value: sp.Rational) -> str | None:
        if value.is_integer and 1 <= value <= MAX_DEPTH:
            return None
        return f"a depth must be a whole number >= 1 and <= {MAX_DEPTH}, got {value}"

    return tuple(int(v) for v in f.numbers(name, default, check=check, distinct="depth"))


# --------------------------------------------------------------------- notation

def grad(num: str, den: str) -> sp.Symbol:
    """The symbol for ``d num / d den`` (printed as a fraction via the notation table)."""
    return sp.Symbol(f"d{num}/d{den}")


def node(index: int) -> str:
    """Names along a chain: z0 is the input x."""
    return "x" if index == 0 else f"z{index}"


def _node_tex(name: str) -> str:
    match = re.fullmatch(r"([a-zA-Z])(\d+)", name)
    return rf"{match.group(1)}_{{{match.group(2)}}}" if match else name


def _frac_tex(name: str) -> str:
    num, den = name[1:].split("/d", 1)
    return rf"\frac{{\partial {_node_tex(num)}}}{{\partial {_node_tex(den)}}}"


def _at_depth(kind: str, depth: int) -> sp.Symbol:
    return sp.Symbol(f"dL/dx|{kind},n={depth}")


def _at_depth_tex(name: str) -> str:
    match = re.fullmatch(r"dL/dx\|(\w+),n=(\d+)", name)
    assert match is not None, name  # made by _at_depth
    kind, depth = match.groups()
    label = {"plain": "plain", "res": "residual"}[kind]
    return rf"\left.\frac{{\partial L}}{{\partial x}}\right|_{{\text{{{label}}},\, n={depth}}}"


def notation(symbols: set[sp.Symbol]) -> tuple[tuple[str, str], ...]:
    """LaTeX for every derivative symbol the problem prints."""
    table = {"dL/dx|res": r"\left.\frac{\partial L}{\partial x}\right|_{\text{residual}}",
             "g": r"\frac{\partial L}{\partial z_n}"}
    for s in symbols:
        if s.name.startswith("dL/dx|") and s.name != "dL/dx|res":
            table[s.name] = _at_depth_tex(s.name)
        elif s.name.startswith("d") and "/d" in s.name and s.name not in table:
            table[s.name] = _frac_tex(s.name)
    return tuple(sorted(table.items()))


def _decimal_cell(value: sp.Expr) -> sp.Expr | str:
    """A table cell with the decimal of a non-integer value (empty for whole numbers): a
    30-digit float, which the sheet prints exactly when short, else rounded."""
    return "" if value.is_Integer else sp.N(value, 30)


def _ref(qid: str, index: int) -> str:
    """The printed name of a sibling question: ``_ref("5.3", 1)`` is ``"Q5.1"``."""
    return f"Q{qid.rsplit('.', 1)[0]}.{index}"


def eq(lhs: sp.Expr, rhs: sp.Expr) -> sp.Equality:
    """``lhs = rhs`` as written, for print: never decided (deciding costs time, and a decided
    equation would print as True or False)."""
    return sp.Eq(lhs, rhs, evaluate=False)


def _ordered(*factors: sp.Expr) -> sp.Expr:
    """A product kept in the order written (outermost derivative first), as the chain rule reads."""
    return sp.Mul(*factors, evaluate=False)


def _numbers(*factors: sp.Expr) -> sp.Expr:
    """A product of numbers as written: the first kept unevaluated so the printer cannot fold it."""
    return sp.Mul(U(factors[0]), *factors[1:], evaluate=False) if len(factors) > 1 else factors[0]


# ------------------------------------------------------------- Q.1: the chain rule

def _one_layer_step() -> Step:
    return Step("Across one layer the chain rule multiplies the gradient arriving at the layer's output by the "
                "layer's local derivative.", grad("L", "z_j"), _ordered(grad("L", "z_{j+1}"), grad("z_{j+1}", "z_j")))


def _unrolled_step() -> Step:
    """The one-layer rule applied from layer m down to layer i, with a concrete unrolling."""
    local = grad("z_{j+1}", "z_j")           # stands for the j-th layer's factor; j lives in its name
    rule = grad("L", "z_m") * sp.Product(local, (j, i_, m_ - 1))
    example = _ordered(grad("L", node(4)), *[grad(node(s + 1), node(s)) for s in range(3, 0, -1)])
    return Step(("Applied from the last layer m down to layer i, every layer in between contributes its local "
                 "derivative as one more factor. For example, with ", eq(i_, 1), " and ", eq(m_, 4), ":"),
                grad("L", "z_i"), rule, math=(eq(grad("L", node(1)), example),))


def power_limit(base: sp.Rational) -> sp.Basic:
    """lim d^k as k -> oo: 0 for |d| < 1, the fixed fact of a geometric sequence.

    Stated, not computed: ``sympy.limit`` runs a Gruntz expansion per column (a tenth of a
    second for the default table) to find it; the tests compare it with ``sympy.limit``.
    Other bases (1, -1, |d| > 1) go to ``sympy.limit``, whose answers the sheet prints as is.
    """
    return sp.S.Zero if abs(base) < 1 else sp.limit(base**k, k, sp.oo)


def _decay_table(spec: GradflowSpec) -> Table:
    """d^k for each illustrated d against the number of layers k, exact and in decimals, and the limit."""
    header = ("layers k",) + tuple(h for v in spec.illustration_local for h in (f"d = {_label(v)}", "decimal"))
    rows = [(sp.Integer(depth),) + tuple(c for v in spec.illustration_local
                                          for c in (sp.Pow(v, depth, evaluate=False), sp.N(v**depth, 30)))
            for depth in spec.illustration_depths]
    limits = tuple(c for v in spec.illustration_local for c in (power_limit(v), ""))
    return Table(header, tuple(rows) + (("k → ∞",) + limits,))


def _label(value: sp.Rational) -> str:
    """A number as the spec would write it: 1/4 -> "0.25" when the decimal ends, else "1/3"."""
    return decimal_text(value, max_places=29) or str(value)


def _bound_step(spec: GradflowSpec) -> Step:
    """If every factor is at most d in size, the gradient is at most d^(m-i) times the upstream one."""
    equal = sp.Product(d, (j, i_, m_ - 1))
    bound = sp.Le(sp.Abs(grad("L", "z_i")), _ordered(sp.Abs(grad("L", "z_m")), equal.doit()))
    return Step(("If every local derivative is at most d in size, the product of the ", m_ - i_,
                 " factors is at most ",
                 eq(equal, equal.doit()), ", so the gradient reaching layer i shrinks geometrically with the "
                 "number of layers ", eq(k, m_ - i_), " above it. The table shows ", d**k, " for a few d:"),
                math=(bound,), table=_decay_table(spec),
                note=("For ", sp.Lt(sp.Abs(d), 1), " the factor tends to 0 exponentially in k: the early layers "
                      "(far from the loss) get almost no gradient, and so do their weights, since ",
                      eq(grad("L", "W_i"), _ordered(grad("L", "z_i"), grad("z_i", "W_i"))),
                      " carries the same factor. They barely learn."))


def explain_question(spec: GradflowSpec, qid: str) -> Question:
    prompt = ("Explain with the chain rule why small local derivatives starve early layers of gradient.",)
    return Question(qid, "Why gradients vanish", prompt, (),
                    (_one_layer_step(), _unrolled_step(), _bound_step(spec)))


# ---------------------------------------------------------- Q.2 to Q.4: one chain

def chain_symbols(layers: int) -> tuple[sp.Symbol, ...]:
    """``dz_m/dz_{m-1}, ..., dz_1/dx``: the local derivatives, outermost first."""
    return tuple(grad(node(s), node(s - 1)) for s in range(layers, 0, -1))


def plain_chain(chain: ChainSpec) -> sp.Rational:
    """dL/dx of the plain chain: the upstream gradient times every local derivative."""
    return sp.Mul(chain.upstream, *chain.local)


def residual_chain(chain: ChainSpec, upstream: sp.Rational) -> sp.Rational:
    """dL/dx with the skip ``y = z_m + x``: the upstream gradient times (product + 1)."""
    return upstream * (sp.Mul(*chain.local) + 1)


def _chain_givens(upstream_symbol: sp.Symbol, upstream: sp.Rational, chain: ChainSpec) -> tuple:
    return ((upstream_symbol, upstream),) + tuple(zip(chain_symbols(len(chain.local)), chain.local, strict=True))


def _path(layers: int) -> tuple:
    """``x → z_1 → ... → z_m → L`` as prose: the names typeset as in the steps."""
    names = [x] + [sp.Symbol(f"z_{s}") for s in range(1, layers + 1)] + [sp.Symbol("L")]
    out: list = []
    for name in names:
        out += [name, " → "]
    return tuple(out[:-1])


def chain_question(chain: ChainSpec, qid: str) -> Question:
    layers = len(chain.local)
    top, local = grad("L", node(layers)), chain_symbols(layers)
    value = plain_chain(chain)
    step = Step((f"The chain rule of {_ref(qid, 1)} from the last layer ", eq(m_, layers), " down to the input ",
                 eq(sp.Symbol("z_0"), x), ": one factor per layer."), grad("L", "x"), _ordered(top, *local),
                substituted=_numbers(chain.upstream, *chain.local), value=value)
    prompt = ("A plain chain ", *_path(layers), ", with the gradient at the output and the local derivatives "
              "below: compute ", grad("L", "x"), ".")
    return Question(qid, "A plain chain", prompt, _chain_givens(top, chain.upstream, chain), (step,),
                    (Answer(f"{qid}.dL_dx", grad("L", "x"), value),))


def _residual_derivative(layers: int) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``d/dx (F(x) + x)``, ``F'(x) + 1`` and, with F the chain, the product of local derivatives + 1.

    SymPy differentiates the composition ``z_m(...z_1(x)) + x`` of undefined functions;
    each derivative of an inner function is then named by its local-derivative symbol,
    and the product is shown outermost factor first, as the chain rule reads.
    """
    F, inner, names = sp.Function("F"), x, {}
    for s in range(1, layers + 1):
        layer = sp.Function(f"z_{s}")
        names[sp.Derivative(layer(inner), inner)] = grad(node(s), node(s - 1))
        inner = layer(inner)
    chained = sp.diff(inner + x, x).xreplace(names)
    local = chain_symbols(layers)
    shown = chained.xreplace({sp.Mul(*local): _ordered(*local)}) if layers > 1 else chained
    return sp.Derivative(F(x) + x, x), sp.diff(F(x) + x, x), shown


def residual_question(chain: ChainSpec, upstream: sp.Rational, qid: str) -> Question:
    layers = len(chain.local)
    rule, general, chained = _residual_derivative(layers)
    local = dict(zip(chain_symbols(layers), chain.local, strict=True))
    dy_dx = chained.xreplace(local)
    value = upstream * dy_dx
    with sp.evaluate(False):
        put_in = chained.xreplace(local)
    steps = (
        Step(("The skip connection adds the input to the chain's output: ", eq(sp.Symbol("y"), F_OF_X + x),
              f" with F the chain of {_ref(qid, 2)}. The derivative of the sum is the sum of the derivatives, and "
              "the chain rule takes the composition inside F apart; each inner derivative is a local "
              "derivative."), grad("y", "x"), rule, general, chained, substituted=put_in, value=dy_dx),
        Step("The chain rule from the loss through y.", RES, _ordered(grad("L", "y"), grad("y", "x")),
             expanded=_ordered(grad("L", "y"), chained), substituted=_numbers(upstream, put_in), value=value,
             note=("The 1 is the skip path: whatever the layers' derivatives, ", grad("L", "y"),
                   " reaches x undiminished.",)),
    )
    prompt = ("The same chain with a residual connection ", eq(sp.Symbol("y"), sp.Symbol(f"z_{layers}") + x),
              ", the loss now read from y, with the gradient below and the same local derivatives: compute ",
              grad("L", "x"), ".")
    return Question(qid, "The chain with a residual connection", prompt,
                    _chain_givens(grad("L", "y"), upstream, chain), steps, (Answer(f"{qid}.dL_dx", RES, value),))


def ratio_question(chain: ChainSpec, upstream: sp.Rational, qid: str) -> Question:
    """Residual over plain, in general and in numbers; the comparison sentence comes from the numbers."""
    layers = len(chain.local)
    product = _ordered(*chain_symbols(layers)) if layers > 1 else chain_symbols(1)[0]
    top = grad("L", node(layers))
    general = _ordered(grad("L", "y"), product + 1) / _ordered(top, product)
    values = dict(zip(chain_symbols(layers), chain.local, strict=True))
    values |= {grad("L", "y"): upstream, top: chain.upstream}
    ratio = general.xreplace(values)
    simpler = sp.expand(general.xreplace({grad("L", "y"): top})) if upstream == chain.upstream else None
    step = Step(_ratio_text(qid, simpler is not None), RATIO, RES / grad("L", "x"), general, simpler, value=ratio,
                note=_comparison(ratio, "The"))
    givens = ((grad("L", "x"), plain_chain(chain)), (RES, residual_chain(chain, upstream)))
    return Question(qid, "Plain against residual", ("Compare the two gradients: which is larger, and by what factor?",),
                    givens, (step,), (Answer(f"{qid}.ratio", RATIO, ratio),))


def _ratio_text(qid: str, same: bool) -> str:
    text = f"Divide the residual gradient of {_ref(qid, 3)} by the plain one of {_ref(qid, 2)}."
    return text + (" The two upstream gradients are equal, so they cancel: the ratio is 1 plus one over the product "
                   "of the local derivatives, large exactly when that product is small." if same else "")


def _comparison(ratio: sp.Rational, opening: str) -> tuple:
    """Which gradient is larger in size, and by what factor, worded from the computed ratio."""
    size = abs(ratio)
    if size == 1:
        return (f"{opening} two gradients have the same size. ",)
    larger, smaller = ("residual", "plain") if size > 1 else ("plain", "residual")
    return (f"{opening} {larger} gradient is larger in size than the {smaller} one, by a factor of ",
            size if size > 1 else 1 / size, ". ")


# ---------------------------------------------------- Q.5 and Q.6: depth

B = sp.Symbol("B", integer=True, positive=True)     # the number of residual blocks, n/m
G = sp.Symbol("g")                                    # dL/dz_n, the gradient at the output


def plain_formula() -> sp.Expr:
    """``g d^n``: the chain rule with n equal factors d, multiplied out by SymPy."""
    return G * sp.Product(d, (j, 1, n)).doit()


def residual_formula(blocks: sp.Expr = n / m) -> sp.Expr:
    """``g (1 + d^m)^(n/m)``: n/m blocks, each with local derivative ``dF/dy + 1 = d^m + 1``."""
    block = sp.Product(d, (k, 1, m)).doit() + 1
    return G * sp.Product(block, (j, 1, blocks)).doit()


def _depth_values(spec: DepthSpec, depth: int) -> dict:
    return {G: spec.upstream, d: spec.local, n: sp.Integer(depth), m: sp.Integer(spec.block),
            B: sp.Integer(depth // spec.block)}


def _depth_rows(formula: sp.Expr, shown: sp.Expr, spec: DepthSpec, depths: tuple[int, ...]) -> tuple:
    """Per depth: n, the formula ``shown`` with the numbers in, the exact value, its decimal."""
    rows = []
    for depth in depths:
        values = _depth_values(spec, depth)
        value = formula.xreplace(values)
        rows.append((sp.Integer(depth), substitute(shown, values, keep_numbers=True), value, _decimal_cell(value)))
    return tuple(rows)


def _depth_givens(spec: DepthSpec, block: bool) -> tuple:
    givens = ((G, spec.upstream), (d, spec.local))
    return givens + (((m, sp.Integer(spec.block)),) if block else ())


def _listing(depths: tuple[int, ...]) -> str:
    return ", ".join(map(str, depths))


def plain_depth_question(spec: DepthSpec, qid: str) -> Question:
    general = G * sp.Product(grad("z_j", "z_{j-1}"), (j, 1, n))
    rows = _depth_rows(plain_formula(), plain_formula(), spec, spec.plain)
    steps = (Step(f"The chain rule of {_ref(qid, 1)} across n layers, every local derivative equal to d: "
                  "the n equal factors multiply to a power.", grad("L", "x"), general, G * sp.Product(d, (j, 1, n)),
                  plain_formula()),
             Step("Put in the numbers for each depth.", table=Table(("n", "numbers in", "dL/dx", "decimal"), rows)))
    answers = (Answer(f"{qid}.formula", grad("L", "x"), plain_formula()),) + tuple(
        Answer(f"{qid}.dL_dx_n{depth}", _at_depth("plain", depth), row[2])
        for depth, row in zip(spec.plain, rows, strict=True))
    prompt = (f"A plain chain of n layers, n = {_listing(spec.plain)}, each layer's local derivative d and the "
              "gradient at the output as below: compute dL/dx for each n.",)
    return Question(qid, "Plain chains of growing depth", prompt, _depth_givens(spec, False), steps, answers)


def _block_step(spec: DepthSpec, qid: str) -> Step:
    """A block's local derivative: SymPy differentiates ``F_j(y) + y``; F_j is a plain chain of m layers."""
    y_prev, F = sp.Symbol("y_{j-1}"), sp.Function("F_j")
    general = sp.diff(F(y_prev) + y_prev, y_prev)
    inner = sp.Product(d, (k, 1, m)).doit()                 # the plain-chain product with m layers
    expanded = general.xreplace({sp.Derivative(F(y_prev), y_prev): inner})
    values = {d: spec.local, m: sp.Integer(spec.block)}
    return Step(("A block computes ", eq(sp.Symbol("y_j"), F(y_prev) + y_prev), ", with ", sp.Symbol("F_j"),
                 " a plain chain of m layers, whose derivative is ", eq(sp.Derivative(F(y_prev), y_prev), inner),
                 f" as in {_ref(qid, 5)}. Differentiating the block, by the sum rule:"), grad("y_j", "y_{j-1}"),
                sp.Derivative(F(y_prev) + y_prev, y_prev), general, expanded,
                substitute(expanded, values, keep_numbers=True), expanded.xreplace(values))


def _across_blocks_step() -> Step:
    blocks = G * sp.Product(grad("y_j", "y_{j-1}"), (j, 1, n / m))
    same = G * sp.Product(sp.Product(d, (k, 1, m)).doit() + 1, (j, 1, n / m))
    return Step("The blocks are chained like layers: n/m blocks, each with the same local derivative: "
                "the equal factors multiply to a power.", RES, blocks, same, residual_formula())


def _comparison_table(spec: DepthSpec) -> tuple[Table, tuple]:
    """Plain against residual at each residual depth, with a sentence about the deepest one."""
    rows: list[tuple] = []
    for depth in spec.residual:
        values = _depth_values(spec, depth)
        plain, res = plain_formula().xreplace(values), residual_formula().xreplace(values)
        rows.append((sp.Integer(depth), plain, res, res / plain, _decimal_cell(res / plain)))
    deepest = max(rows, key=lambda r: r[0])
    note = _comparison(deepest[3], f"At the greatest depth, n = {deepest[0]}, the")
    header: tuple[str, ...] = ("n", "plain", "residual", "residual / plain", "decimal")
    if all(row[-1] == "" for row in rows):                   # whole-number ratios: no decimal column
        header, rows = header[:-1], [row[:-1] for row in rows]
    return Table(header, tuple(rows)), note


def _trend(spec: DepthSpec) -> tuple:
    """Per layer the plain gradient is multiplied by d, per block the residual one by 1 + d^m."""
    block = 1 + spec.local**spec.block
    word = lambda f: "grows" if abs(f) > 1 else ("keeps its size" if abs(f) == 1 else "shrinks")  # noqa: E731
    return ("Each plain layer multiplies the gradient by ", eq(d, spec.local), ", each residual block by ",
            eq(1 + d**m, block), f": with depth the plain gradient {word(spec.local)} and the residual one "
            f"{word(block)}.")


def spread(depths: range, most: int = MAX_POINTS) -> list[int]:
    """At most ``most`` evenly spaced entries of ``depths``, the first and last always among them."""
    if len(depths) <= most:
        return list(depths)
    return sorted({depths[round(i * (len(depths) - 1) / (most - 1))] for i in range(most)})


def depth_figure(spec: DepthSpec) -> Figure:
    """dL/dx against depth: plain at every depth, residual at every multiple of the block size
    (deep ones: at most MAX_POINTS evenly spaced depths per series)."""
    top = max(spec.plain + spec.residual)
    plain = tuple((depth, plain_formula().xreplace(_depth_values(spec, depth))) for depth in spread(range(1, top + 1)))
    res = tuple((depth, residual_formula().xreplace(_depth_values(spec, depth)))
                for depth in spread(range(spec.block, top + 1, spec.block)))
    caption = (f"dL/dx against depth n: plain chains (local derivative {_label(spec.local)} per layer) and residual "
               f"networks (blocks of {spec.block} layers), gradient {_label(spec.upstream)} at the output.")
    logy = all(value > 0 for _, value in plain + res)        # a log axis only when every value is positive
    return Figure("line_plot", caption, (("xlabel", "depth n"), ("ylabel", "dL/dx"), ("logy", logy),
                                         ("series", (("plain", plain), ("residual", res)))))


def residual_depth_question(spec: DepthSpec, qid: str) -> Question:
    rows = _depth_rows(residual_formula(), residual_formula(B), spec, spec.residual)
    rows = tuple((row[0], sp.Integer(int(row[0]) // spec.block)) + row[1:] for row in rows)
    table, note = _comparison_table(spec)
    steps = (_block_step(spec, qid), _across_blocks_step(),
             Step(("Put in the numbers for each depth, with ", eq(B, n / m), " blocks."),
                  table=Table(("n", "blocks B", "numbers in", "dL/dx", "decimal"), rows)),
             Step(f"Compare with the plain chains of {_ref(qid, 5)} at the same depths.", table=table,
                  note=note + _trend(spec)))
    answers = (Answer(f"{qid}.formula", RES, residual_formula()),) + tuple(
        Answer(f"{qid}.dL_dx_n{depth}", _at_depth("res", depth), row[3])
        for depth, row in zip(spec.residual, rows, strict=True))
    prompt = (f"A residual network of n layers, n = {_listing(spec.residual)}, grouped into blocks of "
              f"{spec.block} layers, ", eq(sp.Symbol("y_j"), sp.Function("F_j")(sp.Symbol("y_{j-1}")) +
                                           sp.Symbol("y_{j-1}")),
              f", with the local derivative and output gradient of {_ref(qid, 5)}: compute dL/dx for each n, and "
              "compare.")
    return Question(qid, "Residual networks of growing depth", prompt, _depth_givens(spec, True), steps, answers,
                    figures=(depth_figure(spec),))


# ----------------------------------------------------------------------- derive

def _symbols(questions: tuple[Question, ...]) -> set[sp.Symbol]:
    """Every symbol anything in the questions prints: what the notation table must cover."""
    found: set[sp.Symbol] = set()

    def visit(obj) -> None:
        if isinstance(obj, sp.Basic):
            found.update(obj.atoms(sp.Symbol))
        elif isinstance(obj, (tuple, list)):
            for item in obj:
                visit(item)
        elif isinstance(obj, (Step, Answer, Table, Question)):
            visit(tuple(getattr(obj, name) for name in obj.__dataclass_fields__))

    visit(questions)
    return found


def derive(spec: GradflowSpec, number: int, title: str) -> Problem:
    """Six questions: why gradients vanish, one chain plain and residual, then depth."""
    q = lambda index: f"{number}.{index}"  # noqa: E731
    questions = (explain_question(spec, q(1)), chain_question(spec.chain, q(2)),
                 residual_question(spec.chain, spec.residual_upstream, q(3)),
                 ratio_question(spec.chain, spec.residual_upstream, q(4)),
                 plain_depth_question(spec.depths, q(5)), residual_depth_question(spec.depths, q(6)))
    intro = ("Backpropagation multiplies local derivatives layer by layer. This problem follows that product "
             "through a plain chain and through residual connections, which add the input of a block to its output.")
    return Problem(number, title, "gradflow", questions, intro=intro, notation=notation(_symbols(questions)))


KIND = register(Kind("gradflow", "Vanishing gradients and residual connections", parse, derive,
                     doc=__doc__ or ""))
