"""The first question of an attention problem: scores, softmax rows and the weighted sum, in numbers."""
from __future__ import annotations

import sympy as sp

from symderiv.kinds.attention.parse import AttentionSpec
from symderiv.kinds.attention.values import Matrix, exps, stored
from symderiv.model import Answer, Figure, Question, Step

U = sp.UnevaluatedExpr
D_K = sp.Symbol("d_k", integer=True, positive=True)
SCALE = sp.Symbol("c", positive=True)
SOFTMAX = sp.Function("softmax")


def ms(name: str, m: Matrix) -> sp.MatrixSymbol:
    """The matrix symbol of a quantity with ``m``'s shape."""
    return sp.MatrixSymbol(name, m.rows, m.cols)


def scale_factor(spec: AttentionSpec) -> sp.Expr:
    """How the sheet writes the scale: ``1/sqrt(d_k)`` by default, else the symbol c."""
    return 1 / sp.sqrt(D_K) if spec.default_scale else SCALE


def product_form(*factors: sp.Basic) -> sp.Basic:
    """Matrices (and a leading scalar) multiplied as written, not evaluated."""
    return sp.MatMul(*factors, evaluate=False)


def projection_steps(spec: AttentionSpec, values: dict) -> list[Step]:
    x = spec.inputs.X
    steps = []
    for name, w in (("Q", spec.inputs.W_Q), ("K", spec.inputs.W_K), ("V", spec.inputs.W_V)):
        rule = sp.MatMul(ms("X", x), ms(f"W_{name}", w))
        steps.append(Step(f"Project every token (a row of X) to its {_role(name)}:", ms(name, values[name]), rule,
                          substituted=product_form(x, w), value=stored(values[name])))
    return steps


def _role(name: str) -> str:
    return {"Q": "query", "K": "key", "V": "value"}[name]


def _first_dot(spec: AttentionSpec, values: dict) -> tuple:
    """Entry (1, 1) written out: the scale times the dot product of query 1 and key 1."""
    q, k = values["Q"].row(0), values["K"].row(0)
    terms = sp.Add(*(sp.Mul(U(a), U(b), evaluate=False) for a, b in zip(q, k)), evaluate=False)
    scale = spec.inputs.scale
    written = sp.Mul(U(scale), terms, evaluate=False) if scale != 1 else terms
    entry = sp.Symbol("S_11")
    chain = sp.Eq(entry, sp.Eq(sp.Mul(scale_factor(spec), sp.Symbol("q_1·k_1"), evaluate=False),
                               sp.Eq(written, stored(values["scores"][0, 0]), evaluate=False), evaluate=False),
                  evaluate=False)
    return ("Each score is a query's dot product with a key, scaled; for example ", chain, ".")


def scores_step(spec: AttentionSpec, values: dict) -> Step:
    q, k = values["Q"], values["K"]
    rule = sp.MatMul(scale_factor(spec), ms("Q", q), ms("K", k).T)
    shown = product_form(spec.inputs.scale, stored(q), stored(k).T)
    scale = ("divided by the square root of the key size" if spec.default_scale else "times the given scale")
    return Step(f"Scores: every query against every key, {scale}:", ms("S", values["scores"]), rule,
                substituted=shown, value=stored(values["scores"]), note=_first_dot(spec, values))


def mask_step(spec: AttentionSpec, values: dict) -> Step | None:
    if not spec.masked:
        return None
    s = values["scores"]
    masked = Matrix(s.rows, s.cols, lambda i, j: s[i, j] if spec.inputs.allowed[i][j] else -sp.oo)
    text = ("The causal mask: query i may attend to keys 1 to i only (never to a later token). " if spec.causal else
            "The mask: each query attends only to the keys the mask allows. ")
    return Step((text + "A masked score is set to ", -sp.oo, ", so its exponential, and its weight, is 0:"),
                ms("S_masked", s), value=stored(masked))


def softmax_step(spec: AttentionSpec, values: dict, i: int) -> Step:
    """Row i: the exponentials of its scores over their sum."""
    s, allowed = values["scores"], spec.inputs.allowed
    shown = [sp.exp(stored(s[i, j]), evaluate=False) if allowed[i][j] else sp.exp(-sp.oo, evaluate=False)
             for j in range(s.cols)]
    total = sp.Add(*[stored(e) for e, ok in zip(exps(s, allowed, i), allowed[i]) if ok], evaluate=False)
    row = Matrix([shown])
    form = product_form(sp.Pow(total, -1, evaluate=False), row)
    name = f"s_{i + 1}" if not spec.masked else f"s~_{i + 1}"
    value = stored(values["weights"].row(i))
    return Step(f"Softmax of row {i + 1}: each exponential over their sum (the weights add up to 1),",
                sp.MatrixSymbol(f"a_{i + 1}", 1, s.cols), SOFTMAX(sp.Symbol(name)), substituted=form, value=value,
                note=decimals(value))


def decimals(value: sp.Basic) -> tuple:
    """``In decimals: ...`` for an exact value that is not rational (e^(1/2)/...); else nothing."""
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    if all(e.is_Rational or isinstance(e, sp.Float) for e in entries):
        return ()
    return ("In decimals: ", value.evalf(4), ".")


def output_step(values: dict) -> Step:
    a, v = values["weights"], values["V"]
    return Step("Output: each row of O is the average of the value rows, weighted by that query's attention "
                "weights:", ms("O", values["output"]), sp.MatMul(ms("A", a), ms("V", v)),
                substituted=product_form(stored(a), stored(v)), value=stored(values["output"]),
                note=decimals(stored(values["output"])))


def weights_figure(spec: AttentionSpec, values: dict) -> Figure:
    """Data for the 'heat_map' drawing: the weights, and which keys each query may see."""
    a = values["weights"]
    rows = tuple(tuple(stored(a[i, j]) for j in range(a.cols)) for i in range(a.rows))
    caption = ("Attention weights: row i shows how query i spreads its attention over the keys"
               + (" (crossed cells are masked)." if spec.masked else "."))
    return Figure("heat_map", caption, (("weights", rows), ("allowed", spec.inputs.allowed), ("rows", "query"),
                                        ("columns", "key")))


def givens(spec: AttentionSpec) -> tuple:
    names = ("X", "W_Q", "W_K", "W_V") if spec.inputs.projected else ("Q", "K", "V")
    out = [(ms(n, getattr(spec.inputs, n)), getattr(spec.inputs, n)) for n in names]
    out.append((D_K, sp.Integer(spec.d_k)))
    if not spec.default_scale:
        out.append((SCALE, spec.inputs.scale))
    return tuple(out)


def forward_question(spec: AttentionSpec, values: dict, qid: str) -> Question:
    steps = projection_steps(spec, values) if spec.inputs.projected else []
    steps.append(scores_step(spec, values))
    steps += [s for s in (mask_step(spec, values),) if s is not None]
    steps += [softmax_step(spec, values, i) for i in range(values["scores"].rows)]
    steps.append(output_step(values))
    names = (("Q", "K", "V") if spec.inputs.projected else ()) + ("scores", "weights", "output")
    symbols = {"scores": "S", "weights": "A", "output": "O"}
    answers = tuple(Answer(f"{qid}.{n}", ms(symbols.get(n, n), values[n]), stored(values[n])) for n in names)
    mask = " with a causal mask" if spec.causal else (" with the given mask" if spec.masked else "")
    prompt = f"Compute scaled dot-product attention{mask}: the scores, the attention weights and the output."
    return Question(qid, "Scaled dot-product attention", prompt, givens(spec), tuple(steps), answers,
                    figures=(weights_figure(spec, values),))
