"""Build: spec files -> every output file, rendered in memory, then written all at once.

All files of all specs are rendered before the first byte is written, so a bad spec
(or a failing renderer) leaves the output directory exactly as it was; then
:mod:`symderiv.publish` writes them all or none, under a lock, recovering from a build
that was killed half way.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from symderiv.derive import derive_sheet, load_spec
from symderiv.kernels import render_kernels
from symderiv.model import Sheet
from symderiv.publish import Published, os_errors, publish
from symderiv.render.key import render_key
from symderiv.render.latex import render_handout_latex, render_latex
from symderiv.render.markdown import render_handout_markdown, render_markdown
from symderiv.render.pdf import compile_pdf


@dataclass(frozen=True)
class Artifact:
    """One generated file: its name from the sheet's, and how to render it."""

    suffix: str
    render: Callable[[Sheet], str]
    format: str


#: Every text artifact a build can write, in order. ``format`` is what ``--format`` selects.
ARTIFACTS: list[Artifact] = [
    Artifact(".tex", render_latex, "tex"),
    Artifact(".key.json", render_key, "key"),
    Artifact("_kernels.py", render_kernels, "kernels"),
    Artifact(".md", render_markdown, "md"),
    Artifact(".handout.tex", render_handout_latex, "handout"),
    Artifact(".handout.md", render_handout_markdown, "handout"),
]

#: What a plain ``symderiv build`` writes.
DEFAULT_FORMATS = "tex,key,kernels,md,handout"


def default_specs(root: Path = Path("derivations")) -> list[Path]:
    """Every spec under ``derivations/``, sorted, so a bare ``symderiv build`` is deterministic."""
    return sorted(root.glob("*.toml"))


def render_all(specs: list[Path], formats: set[str], pdf: bool = False) -> dict[str, str | bytes]:
    """File name -> content for every spec and selected artifact (no I/O but reading specs).

    With ``pdf``, the LaTeX sheet is also compiled; where TeX is missing the PDF is
    skipped (``compile_pdf`` says so), the other files are still produced.
    """
    files: dict[str, str | bytes] = {}
    for path in specs:
        files |= render_sheet(derive_sheet(load_spec(path)), formats, pdf)
    return files


def render_sheet(sheet: Sheet, formats: set[str], pdf: bool = False) -> dict[str, str | bytes]:
    """File name -> content for one derived sheet: its selected artifacts and, with ``pdf``,
    its PDFs (for ``symderiv build`` and for each variant of ``symderiv variants``)."""
    files: dict[str, str | bytes] = {}
    for artifact in ARTIFACTS:
        if artifact.format in formats:
            files[sheet.name + artifact.suffix] = artifact.render(sheet)
    if pdf:
        files.update(pdfs(sheet, files, "handout" in formats))
    return files


def pdfs(sheet: Sheet, files: dict[str, str | bytes], handout: bool) -> dict[str, bytes]:
    """The PDF of the sheet (rendered if the .tex was not asked for) and, with ``handout``, of
    the handout; none where TeX is missing (``compile_pdf`` says so)."""
    out: dict[str, bytes] = {}
    for stem, make in ((sheet.name, render_latex), (f"{sheet.name}.handout", render_handout_latex))[:1 + handout]:
        tex = files.get(stem + ".tex")
        document = compile_pdf(tex if isinstance(tex, str) else make(sheet), stem)
        if document is None:
            break
        out[stem + ".pdf"] = document
    return out


def stale_files(outdir: Path, files: dict[str, str | bytes]) -> list[str]:
    """Files of an earlier build that would disagree with this one: a PDF beside a sheet
    whose LaTeX changes while no new PDF is made (TeX missing, or ``--no-pdf``)."""
    stale = []
    for name, content in files.items():
        if not name.endswith(".tex"):
            continue
        pdf, old = outdir / (name[:-4] + ".pdf"), outdir / name
        changed = not old.is_file() or old.read_bytes() != _bytes(content)
        if pdf.name not in files and pdf.is_file() and changed:
            stale.append(pdf.name)
    return stale


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def write_outputs(outdir: Path, files: dict[str, str | bytes]) -> Published:
    """Write a build's files into ``outdir`` all or nothing (see :mod:`symderiv.publish`),
    removing a PDF the new sheet makes stale."""
    with os_errors(outdir):
        stale = stale_files(outdir, files) if outdir.is_dir() else []
    return publish(outdir, files, stale)
