"""LaTeX -> PDF through TeX: shell escape off, file access confined, in a temporary directory.

The document's text is escaped already (:mod:`symderiv.render.text`); TeX is locked
down anyway, so a slip there still could not run a program or read a file outside
the build directory:

* ``-no-shell-escape`` and ``shell_escape=f``: no ``\\write18``;
* ``openout_any=p`` / ``openin_any=p`` (paranoid): no writing or reading through
  absolute paths or ``..`` (TeX's own files are found through kpathsea as usual);
* a fresh temporary directory as the working directory, and a time limit.

pdflatex runs again while LaTeX asks for a rerun (at most :data:`MAX_RUNS` times),
so cross-references settle without latexmk and without reading anybody's
``latexmkrc``. ``SOURCE_DATE_EPOCH`` and an empty trailer ID make the PDF bytes
depend on the LaTeX only.

Without TeX there is no PDF: one line on stderr says how to install it, and the build
still writes the .tex and the other files.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from symderiv.errors import SymderivError

#: What installs TeX on Debian/Ubuntu (the packages the sheet needs, nothing more).
INSTALL = "apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures latexmk"

#: Seconds TeX may take for the whole sheet (every run) before it is stopped.
TIME_LIMIT = 120

#: pdflatex runs at most this often waiting for references to settle.
MAX_RUNS = 4

#: The file name inside the temporary directory (the sheet's name never reaches a command line).
JOB = "sheet"


class TexError(SymderivError):
    """TeX could not typeset the sheet: the message holds the first error of its log."""


def tex_env() -> dict[str, str]:
    """The environment for pdflatex: locked-down file access, reproducible dates."""
    env = dict(os.environ)
    env.update(shell_escape="f", openout_any="p", openin_any="p",
               SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")
    return env


def command() -> list[str]:
    """The pdflatex command line (the job name is fixed; see :data:`JOB`)."""
    return ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
            "-file-line-error", f"{JOB}.tex"]


_ERROR = re.compile(r"^(?:\S*?:(\d+): |! )(.*)$")


def first_error(log: str) -> str:
    """The first error of a TeX log, as ``line N: message`` (``file:line: message`` or
    ``! message`` in the log)."""
    for line in log.splitlines():
        match = _ERROR.match(line)
        if match:
            where = f"line {match.group(1)}: " if match.group(1) else ""
            return where + " ".join(match.group(2).split())
    return "no error message in the log"


def run_tex(workdir: Path, name: str, timeout: float) -> None:
    """One pdflatex run in ``workdir``; a failure raises :class:`TexError`."""
    try:
        done = subprocess.run(command(), cwd=workdir, env=tex_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=max(timeout, 0.1), check=False)
    except subprocess.TimeoutExpired:
        raise TexError(f"{name}.tex: TeX did not finish within {TIME_LIMIT} s") from None
    except OSError as exc:
        raise TexError(f"{name}.tex: pdflatex could not be run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        log = workdir / f"{JOB}.log"
        text = log.read_text("latin-1") if log.exists() else done.stdout.decode("latin-1")
        raise TexError(f"{name}.tex: TeX failed: {first_error(text)}")


def typeset(workdir: Path, name: str) -> bytes:
    """Run pdflatex until LaTeX stops asking for a rerun (references settled); the PDF."""
    deadline = time.monotonic() + TIME_LIMIT
    for _ in range(MAX_RUNS):
        run_tex(workdir, name, deadline - time.monotonic())
        log = workdir / f"{JOB}.log"
        if not log.is_file() or "Rerun" not in log.read_text("latin-1"):
            break
    pdf = workdir / f"{JOB}.pdf"
    if not pdf.is_file():
        raise TexError(f"{name}.tex: TeX finished without writing a PDF (is pdflatex a working TeX?)")
    return pdf.read_bytes()


def compile_in(workdir: Path, tex: str, name: str) -> bytes:
    """Typeset ``tex`` inside ``workdir`` (its log stays there as ``sheet.log``); the PDF.

    An empty trailer ID keeps the PDF free of anything but the LaTeX (with
    ``SOURCE_DATE_EPOCH``): the same sheet gives the same bytes.
    """
    (workdir / f"{JOB}.tex").write_text(r"\pdftrailerid{}" + tex, encoding="utf-8")
    return typeset(workdir, name)


def compile_pdf(tex: str, name: str) -> bytes | None:
    """The PDF bytes of a LaTeX document, or None (and one line on stderr) without TeX.

    A TeX failure raises :class:`TexError` naming the first error of the log.
    """
    if shutil.which("pdflatex") is None:
        print(f"symderiv: TeX is not installed, so no {name}.pdf (the .tex is written); "
              f"install it with: {INSTALL}", file=sys.stderr)
        return None
    with work_directory() as tmp:
        return compile_in(tmp, tex, name)


#: TeX's work directories live here, one per run, named after the process that made them.
WORK_ROOT = "symderiv-tex"


@contextlib.contextmanager
def work_directory() -> Iterator[Path]:
    """A fresh directory for one TeX run, removed afterwards. Directories left by runs that
    were killed (their process is gone) are removed first, so none pile up."""
    root = Path(tempfile.gettempdir()) / WORK_ROOT
    root.mkdir(mode=0o700, exist_ok=True)
    _remove_orphans(root)
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _remove_orphans(root: Path) -> None:
    for child in root.iterdir():
        pid = child.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
