"""The last question of an architecture problem: every layer's results in one table.

Nothing is computed here: each cell is an answer of an earlier question, read by its id.
"""
from __future__ import annotations

from symderiv.kinds.architecture.parse import ArchitectureSpec
from symderiv.kinds.architecture.questions import label
from symderiv.model import Question, Step, Table

#: Columns: header, and the answer id's stem (question index, name prefix).
COLUMNS = (("output", 1, "shape"), ("parameters", 2, "params"), ("MACs", 3, "macs"), ("memory (bytes)", 4, "memory"),
           ("r", 5, "rf"), ("j", 5, "jump"))


def summary_question(spec: ArchitectureSpec, questions: tuple[Question, ...], qid: str) -> Question:
    """The table of shapes, counts and receptive fields, with the totals in its last row."""
    found = {a.id: a.value for q in questions for a in q.answers}
    prefix = qid.rsplit(".", 1)[0]
    rows = []
    for layer in spec.layers:
        cells = [found.get(f"{prefix}.{q}.{stem}{layer.index}", "") for _, q, stem in COLUMNS]
        rows.append((str(layer.index), label(layer), *cells))
    totals = [found.get(f"{prefix}.{q}.{stem}_total", "") for _, q, stem in COLUMNS]
    rows.append(("", "total", *totals))
    header = ("layer", "name") + tuple(head for head, _, _ in COLUMNS)
    step = Step("Every layer's results, from the questions above (r and j only while the output is a map):",
                table=Table(header, tuple(rows)))
    return Question(qid, "The stack at a glance", "Collect the results in one table.", (), (step,))
