"""Questions that count: parameters, multiply-accumulates and activation memory, layer by layer.

Each states its rule once per layer type present (the general formula, an answer of its
own, so it gets a kernel), then works every layer and adds them up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import sympy as sp

from symderiv.kinds.architecture.layers import (
    BATCH,
    BYTES,
    C_OUT,
    CH,
    ELEMENTS,
    F_IN,
    F_OUT,
    H_OUT,
    KH,
    KW,
    W_OUT,
    Layer,
    Worked,
    count,
    memory_formula,
    product,
    total,
)
from symderiv.kinds.architecture.parse import ArchitectureSpec
from symderiv.kinds.architecture.questions import PER_GROUP, name, sym, total_step, worked
from symderiv.model import Answer, Question, Step

#: The general formula of each weight layer type, with every option on (groups, bias).
GENERAL_PARAMS = {
    "conv2d": (total(product(C_OUT, PER_GROUP, KH, KW), C_OUT),
               ("A conv2d layer has ", C_OUT, " filters; each spans the ", PER_GROUP, " input channels of its group "
                "with a ", KH, " × ", KW, " kernel, and has one bias (drop the last term without bias):")),
    "linear": (total(product(F_OUT, F_IN), F_OUT),
               ("A linear layer has an ", F_OUT, " × ", F_IN, " weight matrix and one bias per output:")),
    "batchnorm2d": (product(sp.Integer(2), CH),
                    ("A batch-norm layer learns a scale and a shift per channel (its running mean and variance are "
                     "statistics, not trained parameters):")),
}
GENERAL_PARAMS["batchnorm1d"] = GENERAL_PARAMS["batchnorm2d"]

GENERAL_MACS = {
    "conv2d": (product(BATCH, C_OUT, H_OUT, W_OUT, PER_GROUP, KH, KW),
               ("Each of the ", product(BATCH, C_OUT, H_OUT, W_OUT), " outputs of a conv2d layer (", BATCH,
                " examples) is a sum of ", product(PER_GROUP, KH, KW), " products: one multiply-accumulate each:")),
    "linear": (product(BATCH, F_OUT, F_IN),
               ("Each of the ", product(BATCH, F_OUT), " outputs of a linear layer is a sum of ", F_IN,
                " products:")),
}


def _rules(spec: ArchitectureSpec, table: dict, qid: str, prefix: str, lhs: sp.Symbol) -> tuple[list, list]:
    """One step and one formula answer per layer type present that has a rule."""
    seen = list(dict.fromkeys(layer.spec.type for layer in spec.layers if layer.spec.type in table))
    steps = [Step(table[kind][1], lhs, table[kind][0]) for kind in seen]
    answers = [Answer(f"{qid}.{prefix}_{kind}", lhs, table[kind][0], f"(general formula, {kind})") for kind in seen]
    return steps, answers


def _layer_text(layer: Layer) -> str:
    return f"{name(layer)}:"


def _count_question(spec: ArchitectureSpec, qid: str, prefix: str, letter: str, find: Callable[[Layer], Worked],
                    none: str, text: Callable[[Layer], str] = _layer_text) -> tuple[list[Step], list[Answer], int]:
    """One worked step per layer and the total; answers per layer (``<prefix><l>``) and in total."""
    steps, numbers = [], []
    for layer in spec.layers:
        lhs, found = sym(f"{letter}_{layer.index}"), find(layer)
        steps.append(Step(f"{name(layer)}: {none}", lhs, value=sp.Integer(0)) if found is None
                     else worked(text(layer), lhs, *found))
        numbers.append((lhs, count(found)))
    whole = sum(v for _, v in numbers)
    steps.append(total_step("Add them up:", sym(letter), numbers))
    answers = [Answer(f"{qid}.{prefix}{layer.index}", lhs, sp.Integer(v))
               for layer, (lhs, v) in zip(spec.layers, numbers)]
    answers.append(Answer(f"{qid}.{prefix}_total", sym(letter), sp.Integer(whole)))
    return steps, answers, whole


def params_question(spec: ArchitectureSpec, qid: str) -> Question:
    rules, general = _rules(spec, GENERAL_PARAMS, qid, "params", sym("P"))
    steps, answers, _ = _count_question(spec, qid, "params", "P", lambda layer: layer.kind.params(layer),
                                        "no weights.")
    prompt = "How many trained parameters (weights and biases) does each layer have, and the whole stack?"
    return Question(qid, "Parameters", prompt, (), tuple(rules + steps), tuple(general + answers))


def macs_question(spec: ArchitectureSpec, qid: str) -> Question:
    rules, general = _rules(spec, GENERAL_MACS, qid, "macs", sym("M"))
    steps, answers, whole = _count_question(spec, qid, "macs", "M", lambda layer: layer.kind.macs(layer, spec.batch),
                                            "no weights to multiply.")
    flops = sp.Mul(2, sym("M"), evaluate=False)
    steps[-1] = replace(steps[-1], note=("Frameworks often count floating-point operations (FLOPs) instead: a "
                                         "multiply and an add per MAC, ", sp.Eq(flops, 2 * whole), "."))
    batch = "" if spec.batch == 1 else f" for a batch of {spec.batch}"
    prompt = (f"How many multiply-accumulates (MACs) does one forward pass{batch} take, layer by layer? Count one "
              "MAC per weight use; bias additions, and the element-wise work of pooling, normalisation, activation "
              "and residual layers, are not counted (frameworks do not count them as MACs either).")
    return Question(qid, "Multiply-accumulates", prompt, _batch_givens(spec), tuple(rules + steps),
                    tuple(general + answers))


def _batch_givens(spec: ArchitectureSpec) -> tuple:
    return ((BATCH, sp.Integer(spec.batch)),) if spec.batch != 1 else ()


def _entries(layer: Layer) -> str:
    if len(layer.shape) == 1:
        return f"{name(layer)}: {layer.elements} entries,"
    return f"{name(layer)}: {' × '.join(str(v) for v in layer.shape)} = {layer.elements} entries,"


def memory_question(spec: ArchitectureSpec, qid: str) -> Question:
    rule = Step(("A layer's output has ", ELEMENTS, " entries per example (the product of its shape), each stored "
                 "in ", BYTES, " bytes; the forward pass keeps it for the backward pass:"), sym("A"),
                product(*((BATCH,) if spec.batch != 1 else ()), ELEMENTS, BYTES))
    steps, answers, whole = _count_question(spec, qid, "memory", "A",
                                            lambda layer: memory_formula(layer, spec.batch, spec.bytes), "",
                                            _entries)
    steps[-1] = replace(steps[-1], note=("That is ",) + human(whole) + (_input_note(spec),))
    answers[-1] = replace(answers[-1], text="(bytes)")
    givens = _batch_givens(spec) + ((BYTES, sp.Integer(spec.bytes)),)
    prompt = (f"How much memory, in bytes, do the layers' outputs take, stored as {spec.dtype} ({spec.bytes} bytes "
              "per entry)" + ("" if spec.batch == 1 else f", for a batch of {spec.batch}") + "?")
    return Question(qid, "Activation memory", prompt, givens, tuple([rule] + steps), tuple(answers))


#: Binary units: name and the power of two it stands for.
UNITS = (("KiB", 10), ("MiB", 20), ("GiB", 30))


def human(size: int) -> tuple:
    """A byte count in the largest binary unit it fills: ``48 KiB (1 KiB = 2^10 bytes).``"""
    fitting = [(unit, power) for unit, power in UNITS if size >= 2**power]
    if not fitting:
        return (sp.Integer(size), " bytes.")
    unit, power = fitting[-1]
    value = sp.Rational(size, 2**power)
    shown = value if value.is_integer else sp.Float(value, 4)
    return (shown, f" {unit} (1 {unit} = ", sp.Pow(2, power, evaluate=False), " bytes).")


def _input_note(spec: ArchitectureSpec) -> str:
    entries = spec.batch * spec.input[0] * spec.input[1] * spec.input[2]
    return f" The input itself takes {entries * spec.bytes} bytes more."

