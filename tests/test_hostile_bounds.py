"""README's "Bounds you can rely on" cannot drift from the code: each bound's constant, imported
from where it is enforced, is stated in the table row that names it."""
from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest

from symderiv import derive, spec
from symderiv.check import budget, equivalence, grade
from symderiv.check.parse import limits
from symderiv.kinds import conv, gradflow, initialization, optimizers, search
from symderiv.kinds.network.spec import BOUNDS

# the kinds' packages export a function named parse: their parse modules, by name
architecture, attention, optimizer_steps = (import_module(f"symderiv.kinds.{kind}.parse")
                                            for kind in ("architecture", "attention", "optimizer_steps"))

README = Path(__file__).resolve().parent.parent / "README.md"

#: (the start of a row of the table, a bound that row must state)
ROWS = [
    ("spec file", spec.MAX_FILE_BYTES), ("problems per spec", derive.MAX_PROBLEMS), ("spec text", spec.MAX_TEXT),
    ("spec numbers", spec.MAX_NUMBER_DIGITS),
    ("`network` layers", BOUNDS["layers"]), ("`network` batch", BOUNDS["examples"]),
    ("`network` one quantity", BOUNDS["entries"]), ("`network` all layers' outputs", BOUNDS["outputs"]),
    ("`network` dense layer", BOUNDS["width"]), ("`network` image", BOUNDS["side"]),
    ("`network` image", BOUNDS["kernel"]), ("`network` forward pass", BOUNDS["products"]),
    ("`search` hyperparameters", search.MAX_HYPERPARAMETERS), ("`search` hyperparameters", search.MAX_CONFIDENCES),
    ("`search` grid", search.MAX_GRID_DIGITS), ("`search` grid", search.MAX_TRIALS),
    ("`optimizers`", optimizers.MAX_STEP_ROWS), ("`optimizers`", optimizers.MAX_DRAW_ROWS),
    ("`conv` size", conv.MAX_SIZES), ("`conv` size", conv.MAX_SIDE), ("`conv` `[problem.apply]`", conv.MAX_APPLY_SIDE),
    ("`conv` `[problem.apply]`", conv.MAX_WINDOWS), ("`conv` `[problem.apply]`", conv.MAX_PRODUCTS),
    ("`gradflow`", gradflow.MAX_LAYERS), ("`gradflow`", gradflow.MAX_DEPTH), ("`gradflow`", gradflow.MAX_LISTED),
    ("`gradflow`", gradflow.MAX_ILLUSTRATED), ("`gradflow`", gradflow.MAX_DIGITS),
    ("`optimizer_steps`", optimizer_steps.MAX_DIM), ("`optimizer_steps`", optimizer_steps.MAX_STEPS),
    ("`optimizer_steps`", optimizer_steps.MAX_OPTIMIZERS), ("`optimizer_steps`", optimizer_steps.MAX_DIGITS),
    ("`optimizer_steps`", optimizer_steps.MAX_GRADIENT_NODES),
    ("`initialization`", initialization.MAX_WIDTH), ("`initialization`", initialization.MAX_DEPTH),
    ("`initialization`", initialization.MAX_DIGITS),
    ("`architecture`", architecture.MAX_LAYERS), ("`architecture`", architecture.MAX_WIDTH),
    ("`attention`", attention.MAX_TOKENS), ("`attention`", attention.MAX_DIM), ("`attention`", attention.MAX_EMBED),
    ("submission file", grade.MAX_FILE_BYTES), ("an answer", limits.MAX_LENGTH), ("an answer", limits.MAX_DIGITS),
    ("an answer", limits.MAX_EXPONENT), ("an answer", limits.MAX_DEPTH), ("an answer", grade.MAX_ENTRIES),
    ("grading time", equivalence.MAX_SECONDS), ("grading time", budget.GRACE),
]


def bounds_table() -> list[str]:
    """The rows of the table under README's "Bounds you can rely on"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Bounds you can rely on\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")]


def spelled(value: float) -> str:
    """A bound as the README writes it: 1,000,000; 2; 0.5."""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


@pytest.mark.parametrize("label, value", ROWS, ids=[f"{label} {value}" for label, value in ROWS])
def test_readme_states_every_bound_where_it_names_it(label: str, value: float) -> None:
    rows = [row for row in bounds_table() if row.startswith(f"| {label}")]
    number = re.compile(rf"(?<![\d,.]){re.escape(spelled(value))}(?![\d]|[,.]\d)")
    assert rows and any(number.search(row) for row in rows), (label, spelled(value), rows)


def test_every_row_states_a_time_or_says_where_it_adds() -> None:
    """Each kind's first row gives the worst time measured at its bounds."""
    rows = bounds_table()[2:]
    kinds = {row.split("`")[1] for row in rows if row.startswith("| `")}
    for kind in kinds:
        first = next(row for row in rows if row.startswith(f"| `{kind}`"))
        assert re.search(r"\d s\b", first), first
