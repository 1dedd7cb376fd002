"""Build: spec files -> every output file, rendered in memory, then written atomically.

All files of all specs are rendered before the first byte is written, so a bad spec
(or a failing renderer) leaves the output directory exactly as it was. Each file is
written to a temporary name in the same directory and renamed into place.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from symderiv.derive import derive_sheet, load_spec
from symderiv.kernels import render_kernels
from symderiv.model import Sheet
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
        sheet = derive_sheet(load_spec(path))
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


def write_atomic(outdir: Path, files: dict[str, bytes | str]) -> list[Path]:
    """Write every file to a temporary name first, then rename them all into place."""
    outdir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=outdir)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            staged.append((name, Path(temporary)))
    except BaseException:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
        raise
    for name, tmp in staged:
        os.chmod(tmp, 0o644)
        os.replace(tmp, outdir / name)
    return [outdir / name for name, _ in staged]
