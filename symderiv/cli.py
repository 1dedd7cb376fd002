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
    """Grade one submission against a spec and print the report in the chosen format."""
    from symderiv.check.grade import grade_submission, load_submission
    from symderiv.check.report import render
    from symderiv.derive import derive_file

    if args.json and args.report != "text":
        raise SymderivError(f"--json and --report {args.report}: choose one output format")
    spec = args.spec or _only_spec()
    submission = load_submission(args.submission)
    report = grade_submission(derive_file(spec), submission, spec=str(spec))
    sys.stdout.write(render(report, "json" if args.json else args.report))
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
    g = sub.add_parser("grade", help="grade a submission against a spec's answers")
    g.add_argument("submission", help="TOML file mapping answer ids to answers")
    g.add_argument("--spec", default=None,
                   help="the problem set's spec file (default: the only spec in derivations/, if there is one)")
    g.add_argument("--json", action="store_true", help="print the report as JSON")
    g.add_argument("--report", choices=["text", "md", "tex"], default="text", help="feedback sheet format")
    return p


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
