"""Many variants at once: drawn across processes, rendered, indexed, in memory.

Each variant is drawn and rendered on its own (its draws depend only on the seed and its
key), so the work splits across processes freely and the files are the same bytes for
any number of workers. Nothing is written here: the caller publishes :attr:`Batch.files`
with :func:`symderiv.build.write_outputs`, all or nothing. If a variant fails (a draw
outside its field's range, constraints that cannot be met), the error reported is that
of the first failing variant in order, whatever order the workers finished in.
"""
from __future__ import annotations

import json
import multiprocessing
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from symderiv.build import ARTIFACTS, render_sheet
from symderiv.cores import usable_cores
from symderiv.errors import SymderivError
from symderiv.variants.drawing import Tally, VariantKey, draw_variant, fixed_problem
from symderiv.variants.template import Template

#: What ``symderiv variants`` writes for each variant besides its spec (and PDF), where
#: the build can make it: the sheet, the handout, the key, the Markdown sheet.
DEFAULT_FORMATS = ("tex", "handout", "key", "md")

#: Most variants one run draws.
MAX_VARIANTS = 100_000

#: The index of a run, beside the variants' files.
INDEX = "index.json"


@dataclass(frozen=True)
class Rendered:
    """One variant's files (name -> content), and which file is which (role -> name)."""

    key: VariantKey
    name: str
    files: dict[str, str | bytes]
    formats: dict[str, str]
    tallies: tuple[Tally, ...]


@dataclass(frozen=True)
class Batch:
    """Every file of a run (the variants' and the index), and what the drawing took."""

    files: dict[str, str | bytes]
    variants: tuple[Rendered, ...]
    totals: tuple[dict[str, Any], ...]


def formats_for(text: str | None) -> set[str]:
    """The formats to write: ``text`` (comma-separated) or, by default, those of
    :data:`DEFAULT_FORMATS` the build knows."""
    known = list(dict.fromkeys(a.format for a in ARTIFACTS))
    if text is None:
        return {f for f in DEFAULT_FORMATS if f in known}
    chosen = {f.strip() for f in text.split(",")}
    unknown = sorted(chosen - set(known))
    if unknown:
        raise SymderivError(f"--format: unknown format {unknown[0]!r}; expected {', '.join(known)}")
    return chosen


def numbered(count: int) -> tuple[VariantKey, ...]:
    """Variants 1 .. count."""
    if not 1 <= count <= MAX_VARIANTS:
        raise SymderivError(f"--count: must be from 1 to {MAX_VARIANTS:,}, got {count:,}")
    return tuple(VariantKey(index=i) for i in range(1, count + 1))


def render_variant(template: Template, seed: int, key: VariantKey, formats: set[str], pdf: bool) -> Rendered:
    """Draw one variant and render its spec, sheet files and (with ``pdf``) PDF."""
    variant = draw_variant(template, seed, key)
    files: dict[str, str | bytes] = {f"{variant.name}.toml": variant.spec_text}
    files |= render_sheet(variant.sheet, formats, pdf)
    which = {_role(variant.name, file): file for file in files}
    return Rendered(key, variant.name, files, which, variant.tallies)


def _role(stem: str, file: str) -> str:
    """What a variant's file is, for the index: ``spec``, or its ending (``tex``,
    ``key.json``, ``handout.pdf``, ``kernels.py``)."""
    ending = file[len(stem):].lstrip("._")
    return "spec" if ending == "toml" else ending


def build_batch(template: Template, seed: int, keys: Sequence[VariantKey], *, formats: set[str], pdf: bool,
                jobs: int = 1, progress: Callable[[int], None] | None = None) -> Batch:
    """Every variant of ``keys``, rendered in ``jobs`` processes, and the index."""
    pdf = pdf and shutil.which("pdflatex") is not None
    for problem in template.problems:  # derived once here, inherited by the workers
        if not problem.drawn:
            fixed_problem(template, problem)
    report = progress or (lambda done: None)
    args = (template, seed, formats, pdf)
    rendered = _serial(args, keys, report) if jobs <= 1 or len(keys) <= 1 else _parallel(args, keys, jobs, report)
    totals = tuple(_totals([t for r in rendered for t in r.tallies]))
    files: dict[str, str | bytes] = {}
    for item in rendered:
        files |= item.files
    files[INDEX] = _index(template, seed, rendered, totals)
    return Batch(files, tuple(rendered), totals)


def tex_missing(pdf: bool) -> bool:
    """Were PDFs asked for where TeX is not installed (so none are made)?"""
    return pdf and shutil.which("pdflatex") is None


def _serial(args: tuple, keys: Sequence[VariantKey], report: Callable[[int], None]) -> list[Rendered]:
    out = []
    for key in keys:
        out.append(render_variant(args[0], args[1], key, args[2], args[3]))
        report(len(out))
    return out


_WORKER: dict[str, tuple] = {}


def _start_worker(*args: Any) -> None:
    _WORKER["args"] = args


def _work(position: int, key: VariantKey) -> tuple[int, Rendered | str]:
    """One variant in a worker process; an input error comes back as its message."""
    template, seed, formats, pdf = _WORKER["args"]
    try:
        return position, render_variant(template, seed, key, formats, pdf)
    except SymderivError as exc:
        return position, str(exc)


def _parallel(args: tuple, keys: Sequence[VariantKey], jobs: int, report: Callable[[int], None]) -> list[Rendered]:
    results: dict[int, Rendered] = {}
    errors: dict[int, str] = {}
    pool = ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_start_worker, initargs=args)
    try:
        futures = {pool.submit(_work, i, key): i for i, key in enumerate(keys)}
        for future in as_completed(futures):
            if future.cancelled():
                continue
            position, outcome = future.result()
            if isinstance(outcome, str):
                errors[position] = outcome
                _cancel_after(futures, position)
            else:
                results[position] = outcome
                report(len(results))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if errors:
        raise SymderivError(errors[min(errors)])
    return [results[i] for i in range(len(keys))]


def _cancel_after(futures: dict[Future, int], position: int) -> None:
    """Stop variants after a failed one; those before it still run, so the error
    reported (the first in order) does not depend on which worker was faster."""
    for future, index in futures.items():
        if index > position:
            future.cancel()


def _context() -> Any:
    """Forked workers start at once and inherit the loaded kinds and derived problems."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def default_jobs() -> int:
    """The cores this process may use."""
    return usable_cores()


def _totals(tallies: list[Tally]) -> list[dict[str, Any]]:
    """Draws and rejections per problem, summed over the variants."""
    found: dict[int, dict[str, Any]] = {}
    for tally in tallies:
        entry = found.setdefault(tally.problem, {"problem": tally.problem, "variants": 0, "draws": 0,
                                                 "rejected": 0, "by_constraint": Counter()})
        entry["variants"] += 1
        entry["draws"] += tally.draws
        entry["rejected"] += tally.draws - 1
        entry["by_constraint"].update(dict(tally.rejected))
    return [{**entry, "by_constraint": dict(sorted(entry["by_constraint"].items()))}
            for _, entry in sorted(found.items())]


def _index(template: Template, seed: int, rendered: Sequence[Rendered], totals: tuple[dict[str, Any], ...]) -> str:
    """The run's index: which files belong to which variant or student, and the draws."""
    variants = [({"variant": r.key.index} if r.key.index is not None else {"student_id": r.key.student})
                | {"name": r.name, "files": r.formats} for r in rendered]
    data = {"spec": template.source, "seed": seed, "variants": variants, "draws": list(totals)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def summary(batch: Batch) -> list[str]:
    """What the run drew, one line per problem with draws: the rejections by constraint."""
    lines = []
    for total in batch.totals:
        draws, rejected = total["draws"], total["rejected"]
        causes = ", ".join(f"{name} {count:,}" for name, count in total["by_constraint"].items())
        share = f"{rejected:,} rejected ({rejected / draws:.0%}): {causes}" if rejected else "none rejected"
        lines.append(f"problem {total['problem']}: {draws:,} draws for {total['variants']:,} variants, {share}")
    return lines
