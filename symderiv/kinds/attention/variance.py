"""Why the scores are divided by sqrt(d_k): the variance of a dot product, derived.

With the entries of q and k independent, of mean mu and variance sigma^2 (0 and 1 for
the usual argument), one product q_i k_i has mean mu_q mu_k and variance
(sigma_q^2 + mu_q^2)(sigma_k^2 + mu_k^2) - mu_q^2 mu_k^2 (E[XY] = E[X]E[Y] for independent X,
Y, and E[X^2] = Var X + (E X)^2); the d_k products are independent, so their variances add:
Var(q . k) = d_k. Dividing by sqrt(d_k) divides the variance by d_k. The rules of
expectation are stated, not integrated (the tests check them with ``sympy.stats`` and by
Monte Carlo).
"""
from __future__ import annotations

import sympy as sp

from symderiv.kinds.attention.forward import D_K
from symderiv.model import Answer, Figure, Question, Step, Table

I = sp.Symbol("i", integer=True, positive=True)
Q_, K_ = sp.IndexedBase("q"), sp.IndexedBase("k")


class E(sp.Function):
    """The expectation, printed ``E[X]`` (a square is ``E[X]^2``, not SymPy's ``E^2(X)``)."""

    def _latex(self, printer, exp=None):
        text = rf"\mathrm{{E}}\left[{printer._print(self.args[0])}\right]"
        return f"{text}^{{{exp}}}" if exp is not None else text


class VAR(sp.Function):
    """The variance, printed ``Var(X)``."""

    def _latex(self, printer, exp=None):
        text = rf"\operatorname{{Var}}\left({printer._print(self.args[0])}\right)"
        return f"{text}^{{{exp}}}" if exp is not None else text


MU_Q, MU_K = sp.Symbol("mu_q"), sp.Symbol("mu_k")
SIGMA_Q, SIGMA_K = sp.Symbol("sigma_q", positive=True), sp.Symbol("sigma_k", positive=True)
DOT = sp.Symbol("q·k")
X_, Y_, C_, GAP, WEIGHT = sp.symbols("X Y c Delta a")
#: The entries' mean and variance in the argument: zero mean, unit variance.
UNIT = {MU_Q: 0, MU_K: 0, SIGMA_Q: 1, SIGMA_K: 1}
#: Key sizes in the saturation table besides the spec's own.
SIZES = (1, 4, 16, 64, 256, 1024)
SIGMOID_NOTE = "two scores one standard deviation apart"


def term_variance() -> sp.Expr:
    """Var(q_i k_i) = E[q_i^2] E[k_i^2] - (E[q_i] E[k_i])^2, each second moment sigma^2 + mu^2."""
    return (SIGMA_Q**2 + MU_Q**2) * (SIGMA_K**2 + MU_K**2) - (MU_Q * MU_K) ** 2


def dot_variance() -> sp.Expr:
    """The d_k independent products' variances added up, at unit variance and zero mean: d_k."""
    return sp.Sum(term_variance().subs(UNIT), (I, 1, D_K)).doit()


def _steps() -> list[Step]:
    term = Q_[I] * K_[I]
    moments = sp.Mul(E(Q_[I] ** 2), E(K_[I] ** 2)) - (E(Q_[I]) * E(K_[I])) ** 2
    with_symbols = term_variance()
    return [
        Step(("The score of query q and key k is their dot product, a sum of ", D_K, " products:"), DOT,
             sp.Sum(term, (I, 1, D_K))),
        Step(("Take the entries independent, each with mean ", MU_Q, " (", MU_K, ") and variance ", SIGMA_Q**2,
              " (", SIGMA_K**2, "); the usual assumption is mean 0 and variance 1. Independence gives ",
              sp.Eq(E(X_ * Y_), E(X_) * E(Y_)), ", so one product has mean"), E(term), E(Q_[I]) * E(K_[I]),
             MU_Q * MU_K, value=(MU_Q * MU_K).subs(UNIT)),
        Step(("and variance (with ", sp.Eq(E(X_**2), VAR(X_) + E(X_) ** 2), "):"), VAR(term),
             E(term**2) - E(term) ** 2, moments, expanded=with_symbols,
             value=with_symbols.subs(UNIT)),
        Step("The products are independent, so their variances add:", VAR(DOT),
             sp.Sum(VAR(term), (I, 1, D_K)), sp.Sum(with_symbols.subs(UNIT), (I, 1, D_K)), value=dot_variance(),
             note=("A score's typical size is its standard deviation ", sp.sqrt(D_K), ": it grows with the key "
                   "size.")),
        Step(("Scaling a variable by ", C_, " scales its variance by ", C_**2, "; with ",
              sp.Eq(C_, 1 / sp.sqrt(D_K)), ":"), VAR(DOT / sp.sqrt(D_K)),
             VAR(DOT) / D_K, value=dot_variance() / D_K,
             note="The scaled scores have variance 1 whatever the key size."),
    ]


def _sigmoid(gap: sp.Expr) -> sp.Expr:
    """The larger weight of a two-way softmax whose scores differ by ``gap``: 1/(1 + e^(-gap))."""
    return 1 / (1 + sp.exp(-gap))


def _slope(gap: sp.Expr) -> sp.Expr:
    return _sigmoid(gap) * (1 - _sigmoid(gap))


def _table(d_k: int) -> Table:
    scaled = _slope(sp.Integer(1)).evalf(4)
    rows = tuple((sp.Integer(size), sp.sqrt(size), _sigmoid(sp.sqrt(size)).evalf(4), _slope(sp.sqrt(size)).evalf(4),
                  scaled) for size in sorted(set(SIZES) | {d_k}))
    return Table(("key size", "std of the score", "larger weight", "its slope", "slope when scaled"), rows)


def _figure(d_k: int) -> Figure:
    """The slope against log2 of the key size (whole steps for the sizes shown)."""
    sizes = [size for size in sorted(set(SIZES) | {d_k}) if sp.log(size, 2).is_integer]
    raw = tuple((int(sp.log(size, 2)), _slope(sp.sqrt(size)).evalf(6)) for size in sizes)
    scaled = tuple((int(sp.log(size, 2)), _slope(sp.Integer(1)).evalf(6)) for size in sizes)
    return Figure("line_plot", f"The softmax's slope a(1 - a) for {SIGMOID_NOTE}, against the key size (log2 of "
                               "it on the axis: 10 is 1024).",
                  (("xlabel", "log2 of the key size"), ("ylabel", "softmax slope"), ("logy", True),
                   ("series", (("scores unscaled", raw), ("scores divided by the root of the key size", scaled)))))


def variance_question(d_k: int, qid: str) -> Question:
    """The variance argument, then what it means for the softmax at a few key sizes."""
    steps = _steps()
    steps.append(Step((f"Why it matters: for {SIGMOID_NOTE} (a gap ", GAP, ") the softmax gives the larger one the "
                       "weight ", sp.Eq(WEIGHT, _sigmoid(GAP)), " and changes it at the rate ", WEIGHT * (1 - WEIGHT),
                       ". Unscaled, the gap grows like ", sp.sqrt(D_K), ": the weights saturate to 0 and 1 and the "
                       "gradient through the softmax vanishes. Scaled, the gap stays 1:"), table=_table(d_k)))
    answers = (Answer(f"{qid}.variance", VAR(DOT), dot_variance(), "(zero-mean, unit-variance entries)"),
               Answer(f"{qid}.scaled_variance", VAR(DOT / sp.sqrt(D_K)), sp.Integer(1)),
               Answer(f"{qid}.std", sp.Symbol("sigma_qk"), sp.sqrt(d_k), ("(at ", sp.Eq(D_K, d_k), ")")))
    prompt = ("Why divide the scores by the square root of the key size ", sp.Eq(D_K, d_k), "? Derive the variance "
              "of the dot product of a query and a key with independent zero-mean, unit-variance entries.")
    return Question(qid, "Why the scores are scaled", prompt, ((D_K, sp.Integer(d_k)),), tuple(steps), answers,
                    figures=(_figure(d_k),))
