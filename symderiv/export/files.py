"""Writing an export: a tree of files, all or nothing, and zip archives with the same bytes every time.

:func:`write_tree` stages every file in a temporary directory inside the output
directory (the same file system), then renames each top-level entry of the export into
place (an earlier export's entry of the same name is moved aside first and removed
after), so a reader sees the old export or the new one, never a half-written one; a
failure removes the stage and writes nothing. Errors from the file system are one line
naming the path (:func:`symderiv.publish.os_errors`).

:func:`zip_bytes` makes a zip archive whose bytes depend only on the files: entries in
sorted order, every timestamp 1980-01-01, fixed permissions (executables 0755).
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from symderiv.publish import os_errors

STAGE_PREFIX = ".symderiv-export-"
#: The earliest timestamp a zip entry can hold: every entry gets it.
EPOCH = (1980, 1, 1, 0, 0, 0)


def write_tree(outdir: Path, files: dict[str, str | bytes], units: Iterable[str] = ()) -> list[Path]:
    """Write ``files`` (relative path -> content) under ``outdir``; returns the entries put in
    place. ``units`` are the entries replaced whole (default: the top-level ones); a
    PrairieLearn export replaces ``questions/<sheet>``, not the course's other questions."""
    with os_errors(outdir):
        outdir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=outdir))
        try:
            for name, content in files.items():
                path = stage / "new" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
            tops = sorted(set(units) or {Path(name).parts[0] for name in files})
            return [_swap(outdir, stage, top) for top in tops]
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _swap(outdir: Path, stage: Path, top: str) -> Path:
    """Move the staged ``top`` into place; a previous ``top`` is moved aside into the stage."""
    target = outdir / top
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target.rename(stage / f"old-{len(list(stage.iterdir()))}")
    os.replace(stage / "new" / top, target)
    return target


def zip_bytes(files: dict[str, str | bytes], executables: Iterable[str] = ()) -> bytes:
    """A deterministic zip of ``files`` (sorted entries, fixed timestamps and modes)."""
    run = set(executables)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((0o100755 if name in run else 0o100644) & 0xFFFF) << 16
            info.create_system = 3  # Unix, so the modes are read
            content = files[name]
            archive.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()
