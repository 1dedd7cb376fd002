"""Reading a run's index: which variant's spec belongs to a student.

``symderiv variants ... --roster`` writes ``index.json`` beside the files; a grader (or an
exporter) finds a student's spec from it, so the submission is graded against the
numbers that student was given.
"""
from __future__ import annotations

import json
from pathlib import Path

from symderiv.errors import SymderivError
from symderiv.variants.batch import INDEX


def spec_for_student(directory: str | Path, student: str) -> Path:
    """The spec file of ``student``'s variant in a directory written by ``symderiv variants``."""
    index = Path(directory) / INDEX
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SymderivError(f"{index}: cannot read the variants' index ({exc})") from None
    entries = data.get("variants") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        spec = entry.get("files", {}).get("spec") if isinstance(entry, dict) else None
        if isinstance(spec, str) and entry.get("student_id") == student:
            return Path(directory) / spec
    raise SymderivError(f"{index}: no variant for student id {student!r}")
