"""Export a spec to the platforms courses run on: PrairieLearn, Moodle, Gradescope.

>>> export("derivations/homework1.toml", "moodle", "out/")            # doctest: +SKIP
[PosixPath('out/quiz.xml')]

Each platform has its module (:mod:`.prairielearn`, :mod:`.moodle`, :mod:`.gradescope`)
with ``export_files(source, seed, count) -> {path: content}``; everything is rendered in
memory, then written all or nothing (:func:`.files.write_tree`). The same spec and seed
give the same bytes. A spec with draws exports its variants: PrairieLearn draws one per
variant seed (of 1 .. ``count`` if given), Moodle writes one question per variant 1 ..
``count``, Gradescope's autograder draws each student's own from the student id.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from symderiv.export import gradescope, moodle, prairielearn
from symderiv.export.files import write_tree
from symderiv.export.source import ExportError as ExportError
from symderiv.export.source import load_source, variant_keys

#: Platform -> the function that renders its files.
FORMATS: dict[str, Callable[..., dict[str, Any]]] = {
    "prairielearn": prairielearn.export_files,
    "moodle": moodle.export_files,
    "gradescope": gradescope.export_files,
}


def render(spec: str | Path, fmt: str, *, count: int | None = None, seed: int = 0, jobs: int = 1) -> dict[str, Any]:
    """The export's files (relative path -> text or bytes), in memory."""
    if fmt not in FORMATS:
        raise ExportError(f"--to: unknown platform {fmt!r}; expected {', '.join(FORMATS)}")
    source = load_source(spec)
    variant_keys(source, count)  # --count needs draws, and a count in range
    if fmt == "moodle" and source.drawn and count is None:
        raise ExportError(f"--count: {source.path} has draws and Moodle cannot draw: give --count N for "
                          f"one question per variant 1 .. N")
    if fmt == "moodle":
        return moodle.export_files(source, seed, count, jobs)
    return FORMATS[fmt](source, seed, count)


def export(spec: str | Path, fmt: str, out_dir: str | Path, *, count: int | None = None,
           seed: int = 0, jobs: int = 1) -> list[Path]:
    """Export ``spec`` for the platform ``fmt`` into ``out_dir``; returns what was put in place.

    ``count`` draws variants 1 .. count of a spec with draws (an error without draws);
    ``seed`` is the seed every draw derives from (as for ``symderiv variants``); ``jobs``
    processes draw Moodle's variants.
    """
    files = render(spec, fmt, count=count, seed=seed, jobs=jobs)
    units = sorted({"/".join(Path(name).parts[:2]) for name in files}) if fmt == "prairielearn" else ()
    return write_tree(Path(out_dir), files, units)
