"""Gradescope: ``autograder.zip``, whose ``run_autograder`` grades a submission with symderiv.

The zip holds, at its root (Gradescope's autograder specification):

* ``setup.sh``: installs symderiv from the bundled source (``symderiv-src/``: the package
  and a ``pyproject.toml``) with pip; it needs Python 3.11 or later (an Ubuntu 24.04
  base image has 3.12);
* ``run_autograder``: a Python script that calls :func:`run_autograder`: it reads the
  student's ``*.toml`` submission from ``/autograder/submission/``, grades it against the
  bundled spec (for a spec with draws: against the student's own variant, drawn from the
  export's seed and the student id of the submission's ``[student]`` table, the variant
  ``symderiv variants --roster`` writes for that student with that seed), and writes
  ``/autograder/results/results.json``: ``score``, ``output``, and one test per answer
  (``name``, ``number``, ``score``, ``max_score``, ``status``, ``output`` (the diagnosis),
  ``visibility``). ``SYMDERIV_AUTOGRADER_ROOT`` replaces ``/autograder`` (for testing);
* the spec, and ``symderiv-export.json`` (the spec's file name and the seed).
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import symderiv
from symderiv.check.batch import Row
from symderiv.check.grade import Grader, SubmissionError, load_submission
from symderiv.check.gradebook import gradescope_results
from symderiv.check.show import printable
from symderiv.errors import SymderivError
from symderiv.export.files import zip_bytes
from symderiv.export.source import ExportError, Source, load_source
from symderiv.variants import VariantKey

CONFIG = "symderiv-export.json"
SOURCE_DIR = "symderiv-src"
#: Every test is shown to the student at once (Gradescope: visible, hidden, after_due_date,
#: after_published).
VISIBILITY = "visible"

SETUP = """#!/usr/bin/env bash
# Installs symderiv for the autograder (written by `symderiv export --to gradescope`).
# symderiv needs Python 3.11 or later: choose a base image that has it (Ubuntu 24.04: 3.12).
set -euo pipefail
cd /autograder/source
python3 -m pip install --break-system-packages ./{src} || python3 -m pip install ./{src}
"""

RUN = '''#!/usr/bin/env python3
"""Gradescope's entry point: grade /autograder/submission/*.toml with symderiv and write
/autograder/results/results.json (SYMDERIV_AUTOGRADER_ROOT replaces /autograder)."""
import os
import sys

from symderiv.export.gradescope import run_autograder

sys.exit(run_autograder(os.environ.get("SYMDERIV_AUTOGRADER_ROOT", "/autograder")))
'''


def export_files(source: Source, seed: int, count: int | None) -> dict[str, bytes]:
    """``autograder.zip``."""
    if count is not None:
        raise ExportError("--count: the Gradescope autograder draws each student's variant from the student id "
                          "(as symderiv variants --roster does); leave --count out")
    files: dict[str, str | bytes] = {"setup.sh": SETUP.format(src=SOURCE_DIR), "run_autograder": RUN,
                                     source.path.name: source.text,
                                     CONFIG: json.dumps({"spec": source.path.name, "seed": seed}, indent=2) + "\n"}
    files |= package_files()
    return {"autograder.zip": zip_bytes(files, executables=("setup.sh", "run_autograder"))}


def package_files() -> dict[str, str | bytes]:
    """symderiv's own source (every ``.py`` and ``py.typed``) and a ``pyproject.toml`` to
    install it from, under :data:`SOURCE_DIR`."""
    package = Path(symderiv.__file__).resolve().parent
    files: dict[str, str | bytes] = {}
    for path in sorted(package.rglob("*")):
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed") and "__pycache__" not in path.parts:
            files[f"{SOURCE_DIR}/symderiv/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    project = package.parent / "pyproject.toml"
    files[f"{SOURCE_DIR}/pyproject.toml"] = project.read_bytes() if project.is_file() else _pyproject()
    return files


def _pyproject() -> str:
    """A minimal ``pyproject.toml`` where symderiv runs from an installed copy (no checkout)."""
    return ('[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "symderiv"\nversion = "{getattr(symderiv, "__version__", "0")}"\n'
            'requires-python = ">=3.11"\n'
            'dependencies = ["sympy>=1.12", "numpy>=1.24", "latexcodec>=2.0", "mpmath>=1.3"]\n\n'
            '[tool.setuptools.packages.find]\ninclude = ["symderiv*"]\n')


# --------------------------------------------------------------------------
# What run_autograder does
# --------------------------------------------------------------------------


def run_autograder(root: str | Path = "/autograder") -> int:
    """Grade the submission under ``root/submission`` and write ``root/results/results.json``."""
    root = Path(root)
    results = _results(root)
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
    return 0


def _results(root: Path) -> dict[str, Any]:
    found = sorted(p for p in (root / "submission").rglob("*.toml") if p.is_file())
    if not found:
        return _failed("No submission found: upload your answers as one .toml file (see the sheet's handout).")
    try:
        config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
        source = load_source(root / "source" / config["spec"])
        submission = load_submission(found[0])
        sheet = source.sheet(config["seed"], _student_key(submission.student, found[0].name)
                             if source.drawn else None)
        report = Grader(sheet).grade(replace(submission, source=found[0].name))
    except (SubmissionError, ExportError) as exc:
        return _failed(f"The submission could not be graded: {exc}")
    except (SymderivError, OSError, ValueError, KeyError) as exc:
        return _failed(f"The autograder is misconfigured (tell your instructor): {exc}")
    results = gradescope_results(Row(found[0].name, report))
    for test in results["tests"]:
        test["visibility"] = VISIBILITY
    if len(found) > 1:
        results["output"] += f"\n(graded {found[0].name}; ignored {', '.join(p.name for p in found[1:])})"
    return results | {"visibility": VISIBILITY, "stdout_visibility": "hidden"}


def _student_key(student: tuple[tuple[str, str], ...], source: str) -> VariantKey:
    """The variant of the submission's ``[student] id``."""
    found = dict(student).get("id", "").strip()
    if not found:
        raise ExportError(f"{source}: student.id: missing: each student has their own numbers, so the "
                          f"submission needs [student] id = \"<your id>\"")
    return VariantKey(student=found)


def _failed(message: str) -> dict[str, Any]:
    return {"score": 0.0, "output": printable(message), "tests": [], "visibility": VISIBILITY,
            "stdout_visibility": "hidden"}
