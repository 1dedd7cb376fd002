"""The command line: parse arguments, call the API, print, set the exit status.

Errors caused by the user's input (:class:`SymderivError`) print one line on stderr
and exit with status 2; no traceback, nothing written.
"""
from __future__ import annotations

import argparse
import atexit
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from symderiv.errors import SymderivError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    """Register a sub-command handler (its parser is set up in :func:`parser`)."""
    def wrap(fn):
        COMMANDS[name] = fn
        return fn
    return wrap


@command("build")
def _build(args: argparse.Namespace) -> int:
    from symderiv.build import ARTIFACTS, default_specs, render_all, write_outputs

    specs = [Path(s) for s in args.specs] or default_specs()
    if not specs:
        raise SymderivError("derivations/: no spec files (*.toml) to build; name one: symderiv build SPEC")
    formats = set(args.format.split(","))
    unknown = formats - {a.format for a in ARTIFACTS}
    if unknown:
        raise SymderivError(f"--format: unknown format {sorted(unknown)[0]!r}; "
                            f"expected {', '.join(dict.fromkeys(a.format for a in ARTIFACTS))}")
    files = render_all(specs, formats, pdf=not args.no_pdf)
    done = write_outputs(Path(args.output), files)
    for path in done.written:
        print(f"wrote {path}")
    for path in done.removed:
        print(f"removed {path} (stale: its sheet changed and no new PDF was made)")
    return 0


@command("key")
def _key(args: argparse.Namespace) -> int:
    from symderiv.derive import derive_file
    from symderiv.render.key import render_key

    sys.stdout.write(render_key(derive_file(args.spec)))
    return 0


@command("verify")
def _verify(args: argparse.Namespace) -> int:
    from symderiv.derive import derive_file
    from symderiv.verify import verify_sheet

    report = verify_sheet(derive_file(args.spec))
    print(report.text())
    return 0 if report.ok else 1


@command("grade")
def _grade(args: argparse.Namespace) -> int:
    """Grade one submission (a feedback report) or a class (a gradebook), as asked."""
    from symderiv.check.policy import load_policy

    if args.json and args.report != "text":
        raise SymderivError(f"--json and --report {args.report}: choose one output format")
    if args.workers is not None and args.workers < 1:
        raise SymderivError(f"--workers: must be at least 1, got {args.workers}")
    policy = load_policy(args.policy) if args.policy else None
    form = "json" if args.json else args.report
    if args.variants:
        return _grade_variants(policy, form, args)
    spec = args.spec or _only_spec()
    if len(args.submissions) == 1 and not Path(args.submissions[0]).is_dir():
        return _grade_one(Path(args.submissions[0]), spec, policy, form, args)
    return _grade_class(spec, policy, form, args)


def _grade_one(path: Path, spec: Path, policy, form: str, args: argparse.Namespace) -> int:
    from symderiv.check.grade import Grader, load_submission
    from symderiv.check.gradebook import report_row
    from symderiv.check.report import render
    from symderiv.derive import derive_file

    submission = load_submission(path)
    report = Grader(derive_file(spec), policy, spec=str(spec)).grade(submission)
    _write_gradebook([report_row(report)], report.sheet, args)
    _write_out(render(report, form))
    return 0


def _grade_class(spec: Path, policy, form: str, args: argparse.Namespace) -> int:
    from symderiv.check.batch import find_submissions, grade_class
    from symderiv.check.gradebook import render_class

    if form == "tex":
        raise SymderivError("--report tex: a LaTeX feedback sheet is for one submission; for a class use "
                            "text, md or --json")
    if not find_submissions(args.submissions):
        raise SymderivError(f"{', '.join(args.submissions)}: no submissions (*.toml files) found")
    progress = _progress_bar() if sys.stderr.isatty() else None
    sheet, rows = grade_class(args.submissions, spec, policy=policy, workers=args.workers,
                              scheduler=args.scheduler, progress=progress)
    _write_gradebook(rows, sheet, args)
    _write_out(render_class(rows, sheet, str(spec), form))
    failed = sum(1 for row in rows if row.report is None)
    if failed:
        print(f"symderiv: {failed} of {len(rows)} submissions could not be graded (see their rows)", file=sys.stderr)
    return 1 if failed else 0


def _grade_variants(policy, form: str, args: argparse.Namespace) -> int:
    """Grade each submission against its student's variant (``--variants DIR``)."""
    from symderiv.check.gradebook import render_class
    from symderiv.check.report import render
    from symderiv.export.students import grade_by_student

    if args.spec:
        raise SymderivError("--spec and --variants: choose one (--variants picks each student's spec)")
    one = len(args.submissions) == 1 and not Path(args.submissions[0]).is_dir()
    if form == "tex" and not one:
        raise SymderivError("--report tex: a LaTeX feedback sheet is for one submission; for a class use "
                            "text, md or --json")
    sheet, rows = grade_by_student(args.submissions, args.variants, policy)
    if not rows:
        raise SymderivError(f"{', '.join(args.submissions)}: no submissions (*.toml files) found")
    if sheet is None or (one and rows[0].report is None):
        raise SymderivError(rows[0].error or "nothing graded")
    _write_gradebook(rows, sheet, args)
    if one and rows[0].report is not None:
        _write_out(render(rows[0].report, form))
        return 0
    _write_out(render_class(rows, sheet, str(args.variants), form))
    failed = sum(1 for row in rows if row.report is None)
    if failed:
        print(f"symderiv: {failed} of {len(rows)} submissions could not be graded (see their rows)", file=sys.stderr)
    return 1 if failed else 0


@command("export")
def _export(args: argparse.Namespace) -> int:
    """Export a spec to PrairieLearn, Moodle or Gradescope (see README, "Export")."""
    from symderiv.export import export
    from symderiv.variants.batch import default_jobs

    for path in export(args.spec, args.to, args.output, count=args.count, seed=args.seed,
                       jobs=args.jobs or default_jobs()):
        print(f"wrote {path}")
    return 0


def _write_gradebook(rows, sheet, args: argparse.Namespace) -> None:
    """The CSV gradebook and the Gradescope results, each written whole or not at all."""
    import json

    from symderiv.check.gradebook import gradescope_results, to_csv

    files: dict[Path, str] = {}
    if args.csv:
        files[Path(args.csv)] = to_csv(rows, sheet)
    if args.gradescope:
        folder = Path(args.gradescope)
        names = _result_names([row.source for row in rows])
        for row, name in zip(rows, names):
            files[folder / name] = json.dumps(gradescope_results(row), indent=2, ensure_ascii=True) + "\n"
    for path, text in files.items():
        _write_file(path, text)


def _result_names(sources: list[str]) -> list[str]:
    """``results.json`` for one submission; ``<name>/results.json`` for each of several."""
    if len(sources) == 1:
        return ["results.json"]
    stems = [Path(source).with_suffix("").as_posix().strip("/").replace("/", "_").lstrip(".") for source in sources]
    seen: dict[str, int] = {}
    names = []
    for stem in stems:
        seen[stem] = seen.get(stem, 0) + 1
        names.append(f"{stem or 'submission'}{'' if seen[stem] == 1 else '_' + str(seen[stem])}/results.json")
    return names


def _write_file(path: Path, text: str) -> None:
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise SymderivError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _write_out(text: str) -> None:
    """Print a report; a terminal that cannot show a character gets an escape instead."""
    encoding = sys.stdout.encoding or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))


def _progress_bar():
    """A progress bar on stderr (shown only on a terminal)."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} submissions")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


@command("variants")
def _variants(args: argparse.Namespace) -> int:
    """Draw variants of a spec with draws; write each one's spec, sheet, key and the index."""
    from symderiv.build import write_outputs
    from symderiv.variants import build_batch, load_template, read_roster
    from symderiv.variants.batch import default_jobs, formats_for, numbered, summary, tex_missing
    from symderiv.variants.progress import Progress

    template = load_template(args.spec)
    keys = read_roster(args.roster, args.id_column) if args.roster else numbered(args.count)
    formats = formats_for(args.format)
    if tex_missing(not args.no_pdf):
        print("symderiv: TeX is not installed, so no PDFs (the .tex files are written)", file=sys.stderr)
    bar = Progress(len(keys), sys.stderr)
    batch = build_batch(template, args.seed, keys, formats=formats, pdf=not args.no_pdf,
                        jobs=args.jobs or default_jobs(), progress=bar.update)
    bar.close()
    done = write_outputs(Path(args.output), batch.files)
    print(f"wrote {len(keys):,} variants ({len(done.written):,} files) to {args.output}, "
          f"index {Path(args.output) / 'index.json'}")
    print("\n".join(summary(batch)))
    return 0


def _only_spec() -> Path:
    """The spec to grade against when ``--spec`` is not given: the one in ``derivations/``."""
    from symderiv.build import default_specs

    found = default_specs()
    if len(found) != 1:
        listed = ", ".join(str(p) for p in found) or "none"
        raise SymderivError(f"--spec: name the problem set to grade against (derivations/ holds {listed})")
    return found[0]


def parser() -> argparse.ArgumentParser:
    from symderiv.build import DEFAULT_FORMATS

    p = argparse.ArgumentParser(prog="symderiv", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write sheets, keys and kernels for spec files")
    b.add_argument("specs", nargs="*", help="spec files (default: every derivations/*.toml)")
    b.add_argument("-o", "--output", default="output", help="output directory (default: output)")
    b.add_argument("--format", default=DEFAULT_FORMATS,
                   help=f"comma-separated list of tex,key,kernels,md,handout (default: {DEFAULT_FORMATS})")
    b.add_argument("--no-pdf", action="store_true", help="do not compile the LaTeX sheet to PDF")
    k = sub.add_parser("key", help="print a spec's answer key as JSON")
    k.add_argument("spec")
    v = sub.add_parser("verify", help="check every derived gradient against independent methods")
    v.add_argument("spec")
    g = sub.add_parser("grade", help="grade a submission, or a class, against a spec's answers")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION_OR_DIR",
                   help="TOML files mapping answer ids to answers, or directories of them")
    g.add_argument("--spec", default=None,
                   help="the problem set's spec file (default: the only spec in derivations/, if there is one)")
    g.add_argument("--json", action="store_true", help="print the report as JSON")
    g.add_argument("--report", choices=["text", "md", "tex"], default="text", help="report format")
    g.add_argument("--csv", metavar="FILE", help="write a CSV gradebook (one row per submission)")
    g.add_argument("--gradescope", metavar="DIR", help="write Gradescope's results.json per submission")
    g.add_argument("--workers", type=int, default=None,
                   help="processes grading a class (default: one per core; 1 grades here)")
    g.add_argument("--scheduler", metavar="ADDRESS", help="grade on a Dask distributed cluster at ADDRESS")
    g.add_argument("--policy", metavar="FILE", help="a TOML file with a [grading] table (instead of the spec's)")
    g.add_argument("--variants", metavar="DIR", help="grade each submission against its student's variant in DIR "
                                                     "(written by symderiv variants --roster), by [student] id")
    _variants_parser(sub)
    _export_parser(sub)
    return p


def _variants_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("variants", help="draw per-student variants of a spec with draws")
    v.add_argument("spec", help="a spec whose numbers may be draws, with [variants] constraints")
    which = v.add_mutually_exclusive_group(required=True)
    which.add_argument("--count", type=int, help="draw variants 1 .. N")
    which.add_argument("--roster", help="a CSV file with an id column: one variant per student id")
    v.add_argument("--id-column", default="id", help="the roster's column of student ids (default: id)")
    v.add_argument("--seed", type=int, default=0, help="the seed every draw derives from (default: 0)")
    v.add_argument("-o", "--output", required=True, help="output directory")
    v.add_argument("--format", default=None, help="comma-separated artifacts (default: tex,handout,key,md "
                                                  "where available); every variant's spec is always written")
    v.add_argument("--no-pdf", action="store_true", help="do not compile the sheets to PDF")
    v.add_argument("--jobs", type=int, default=0, help="worker processes (default: one per core)")


def _export_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="export a spec to PrairieLearn, Moodle or Gradescope")
    e.add_argument("spec", help="a spec file (with or without draws)")
    e.add_argument("--to", required=True, metavar="PLATFORM", help="prairielearn, moodle or gradescope")
    e.add_argument("-o", "--output", required=True, help="output directory")
    e.add_argument("--count", type=int, default=None, help="variants 1 .. N of a spec with draws")
    e.add_argument("--seed", type=int, default=0, help="the seed every draw derives from (default: 0)")
    e.add_argument("--jobs", type=int, default=0, help="processes drawing Moodle's variants (default: one per core)")


def terminal_safe(text: str) -> str:
    """``text`` with control characters spelled out (``\\x1b``), so that nothing from a spec
    or a file name can move the cursor, clear the screen or forge a line of output."""
    return "".join(ch if ch.isprintable() or ch == "\n" else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def _tolerant_streams() -> None:
    """Characters the terminal's encoding lacks print as escapes instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    # SymPy's caches hold large object graphs; freezing them at exit spares the interpreter
    # a last garbage-collection walk over them (0.2-0.4 s of every command).
    atexit.register(gc.freeze)
    _tolerant_streams()
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SymderivError as exc:
        print(f"symderiv: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
