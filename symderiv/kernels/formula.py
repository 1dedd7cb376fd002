"""General formulas of a sheet -> vectorized NumPy functions, one per answer.

Any answer whose value still has free symbols is a general formula (``4.3.n_out`` is
``floor((n + 2 p - k)/s) + 1``, ``2.2.formula`` is ``ceiling(log(1 - P)/log(1 - q))``);
it becomes a function of those symbols, each a keyword argument that takes a number or
an array (arrays broadcast together, like NumPy). Defaults are the spec's numbers where
the problem gives one (the formula's own question first, then the others in order); a
symbol given as an indexed family (``P[1], P[2]``) defaults to all its values.

Nothing here knows a problem kind: the answers are all it reads.
"""
from __future__ import annotations

import ast
import builtins
import keyword
import re
from dataclasses import dataclass

import sympy as sp

from symderiv.kernels.emit import literal, literals
from symderiv.kernels.printer import ArrayPrinter, cse_lines, safe_text
from symderiv.model import Answer, Problem, Question


@dataclass(frozen=True)
class Formula:
    """One answer printed as a function: name, arguments (with defaults) and body."""

    name: str
    answer: Answer
    question: Question
    args: tuple[tuple[str, object], ...]   # (argument name, default or None)
    body: tuple[str, ...]


def pyname(symbol: sp.Symbol) -> str:
    """A Python identifier for a symbol's name (``dL/dz_n`` -> ``dL_dz_n``)."""
    name = re.sub(r"\W+", "_", symbol.name).strip("_") or "v"
    if name[0].isdigit():
        name = "v_" + name
    if keyword.iskeyword(name) or name in {"np"} or name in dir(builtins):
        name += "_"
    return name


def prose(text) -> str:
    """Plain text of a ``Prose`` value (SymPy pieces as their string form)."""
    return text if isinstance(text, str) else "".join(str(p) for p in text)


def is_formula(value) -> bool:
    """A value with free (scalar) symbols, and nothing matrix-symbolic in it."""
    if not isinstance(value, (sp.Expr, sp.MatrixBase)) or (isinstance(value, sp.MatrixExpr)
                                                             and not isinstance(value, sp.MatrixBase)):
        return False
    if value.atoms(sp.MatrixSymbol, sp.Indexed):
        return False
    return bool(value.free_symbols)


def default_for(symbol: sp.Symbol, question: Question, problem: Problem):
    """The spec's number(s) for ``symbol``: own question first, then the problem's others."""
    questions = [question] + [q for q in problem.questions if q is not question]
    for q in questions:
        found = _given(symbol, q)
        if found is not None:
            return found
    return None


def _given(symbol: sp.Symbol, q: Question):
    family = []
    for key, value in q.givens:
        if not (isinstance(value, sp.Basic) and value.is_number):
            continue
        if isinstance(key, sp.Symbol) and key.name == symbol.name:
            return value
        if isinstance(key, sp.Indexed) and str(key.base) == symbol.name:
            family.append(value)
    return family or None


def formulas(problem: Problem) -> tuple[list[Formula], list[tuple[str, str]]]:
    """Every formula answer of ``problem`` as a function, and the ones that cannot be
    (answer id, reason): printed into the module, never silently dropped."""
    found = [(q, a) for q in problem.questions for a in q.answers if is_formula(a.value)]
    short = [a.id.split(".")[-1] for _, a in found]
    out, skipped = [], []
    for q, a in found:
        tail = a.id.split(".", 1)[1].replace(".", "_")
        name = f"problem{problem.number}_" + (a.id.split(".")[-1] if short.count(a.id.split(".")[-1]) == 1 else tail)
        try:
            out.append(_formula(name, a, q, problem))
        except (NotImplementedError, ValueError, TypeError) as exc:
            skipped.append((a.id, str(exc).splitlines()[0]))
    return out, skipped


def _formula(name: str, answer: Answer, question: Question, problem: Problem) -> Formula:
    symbols = sorted(answer.value.free_symbols, key=lambda s: s.name)
    names = [pyname(s) for s in symbols]
    if len(set(names)) != len(names):
        raise ValueError(f"two symbols print as the same argument name: {names}")
    renamed = answer.value.xreplace({s: sp.Symbol(n) for s, n in zip(symbols, names)})
    printer = ArrayPrinter()
    exprs = list(renamed) if isinstance(renamed, sp.MatrixBase) else [renamed]
    lines, values = cse_lines(exprs, printer, prefix="_e")
    _check_names(lines + values, set(names))
    if isinstance(renamed, sp.MatrixBase):
        values = [f"_matrix(({', '.join(values)},), {renamed.shape!r})"]
    defaults = [default_for(s, question, problem) for s in symbols]
    body = tuple([f"{', '.join(names)}, = _floats({', '.join(names)})"] + lines + [f"return {values[0]}"])
    return Formula(name, answer, question, tuple(zip(names, defaults)), body)


def _check_names(code: list[str], allowed: set[str]) -> None:
    """Printed code may use only the arguments, its own temporaries and ``np``."""
    for line in code:
        for node in ast.walk(ast.parse(line)):
            if isinstance(node, ast.Name) and node.id not in allowed | {"np", "True", "False"} \
                    and not node.id.startswith("_e"):
                raise ValueError(f"prints as non-NumPy code ({node.id})")


def formula_source(problem: Problem) -> tuple[str, list[tuple[str, str]]]:
    """Source of every formula function of ``problem``, and (name, answer id) of each."""
    found, skipped = formulas(problem)
    parts = [_function(f, problem.number).strip("\n") for f in found]
    if skipped:
        parts.append("\n".join(["# Formula answers without a kernel (their printing needs more than NumPy):"]
                               + [f"#   {aid}: {why}" for aid, why in skipped]))
    return "\n\n\n".join(parts), [(f.name, f.answer.id) for f in found]


def _function(f: Formula, number: int) -> str:
    consts = [f"{_const_name(f, n)} = _const({literals(d)})" for n, d in f.args if isinstance(d, list)]
    sig = ", ".join(n if d is None else f"{n}={_default_code(f, n, d)}" for n, d in f.args)
    note = safe_text(prose(f.answer.text))
    arg_doc = "\n".join(f"        {n}: " + ("required" if d is None else f"default {_default_code(f, n, d, doc=True)}")
                        for n, d in f.args)
    aside = f"\n        ({note.strip('()')})" if note else ""
    doc = (f'    """Answer {f.answer.id} of question {f.question.id} ({safe_text(f.question.title)}), vectorized.\n\n'
           f"        {f.answer.symbol} = {f.answer.value}{aside}\n\n"
           "    Arguments are numbers or arrays, broadcast together (NumPy rules); defaults are\n"
           f"    the spec's numbers where the problem gives them.\n{arg_doc}\n" + '    """')
    body = "\n".join("    " + line for line in f.body)
    head = "\n".join(consts) + ("\n\n\n" if consts else "")
    return f"{head}def {f.name}(*, {sig}):\n{doc}\n{body}\n"


def _const_name(f: Formula, arg: str) -> str:
    return f"_{f.name.upper()}_{arg}"


def _default_code(f: Formula, name: str, default, doc: bool = False) -> str:
    """A default as code: whole numbers as ints, others as float literals, lists by name."""
    if isinstance(default, list):
        return "[" + ", ".join(_number(v) for v in default) + "]" if doc else _const_name(f, name)
    return _number(default)


def _number(value: sp.Basic) -> str:
    """A whole number a float64 holds exactly as an int, anything else as a float literal."""
    return str(int(value)) if value.is_integer and abs(value) < 2**53 else literal(value)
