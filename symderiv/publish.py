"""Writing a build's files: all of them or none, whatever else happens.

A build renders every file in memory first (:mod:`symderiv.build`); this module puts
them into the output directory so that a reader never sees a mix of old and new files:

1. **Lock.** One build writes into a directory at a time (an advisory ``flock`` on the
   directory itself); a second build waits for the first to finish.
2. **Stage.** Every file is written into a fresh staging directory inside the output
   directory (same file system, so moving is a rename), then a manifest naming the files
   (and the stale files to remove) is written last, atomically: a stage with a manifest
   is complete, one without is not.
3. **Commit.** Each staged file is renamed into place and the stale ones are removed.

A build killed at any point (``kill -9``) leaves at most a staging directory; the next
build into that directory finishes a complete stage (its files are all written) or
discards an incomplete one before doing its own, so the directory always ends up
holding one build's file set. Errors from the file system (a read-only directory, an
output path that is a file, a name too long) are one line naming the path.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from symderiv.errors import SymderivError

STAGE_PREFIX = ".symderiv-stage-"
MANIFEST = "MANIFEST.json"


class OutputError(SymderivError):
    """The output directory cannot be written: the message names the path and why."""


@dataclass(frozen=True)
class Published:
    """What a publish did: the files written and the stale files removed (paths)."""

    written: tuple[Path, ...]
    removed: tuple[Path, ...]


def publish(outdir: Path, files: dict[str, str | bytes], stale: Iterable[str] = ()) -> Published:
    """Write ``files`` (name -> content) into ``outdir`` all or nothing, and remove the
    ``stale`` names (files of an earlier build that would now disagree with the new ones)."""
    with os_errors(outdir):
        outdir.mkdir(parents=True, exist_ok=True)
        with _locked(outdir):
            recover(outdir)
            stage = _stage(outdir, files, [n for n in stale if n not in files])
            return _commit(outdir, stage)


def recover(outdir: Path) -> list[Path]:
    """Finish the complete stages an interrupted build left (manifest written) and discard
    the incomplete ones; returns the stages handled."""
    found = sorted(p for p in outdir.glob(STAGE_PREFIX + "*") if p.is_dir())
    for stage in found:
        if (stage / MANIFEST).is_file():
            _commit(outdir, stage)
        else:
            shutil.rmtree(stage, ignore_errors=True)
    return found


def _stage(outdir: Path, files: dict[str, str | bytes], remove: list[str]) -> Path:
    stage = outdir / f"{STAGE_PREFIX}{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (stage / name).write_bytes(data)
        os.chmod(stage / name, 0o644)
    manifest = json.dumps({"files": list(files), "remove": remove})
    (stage / (MANIFEST + ".tmp")).write_text(manifest, encoding="utf-8")
    os.replace(stage / (MANIFEST + ".tmp"), stage / MANIFEST)  # the stage is complete from here on
    return stage


def _commit(outdir: Path, stage: Path) -> Published:
    """Move a complete stage's files into place (idempotent: a file already moved is skipped)."""
    manifest = json.loads((stage / MANIFEST).read_text(encoding="utf-8"))
    written = []
    for name in manifest["files"]:
        if (stage / name).exists():
            os.replace(stage / name, outdir / name)
        written.append(outdir / name)
    removed = [outdir / n for n in manifest["remove"] if (outdir / n).exists()]
    for path in removed:
        path.unlink()
    shutil.rmtree(stage, ignore_errors=True)
    return Published(tuple(written), tuple(removed))


@contextlib.contextmanager
def _locked(outdir: Path) -> Iterator[None]:
    """Hold the directory's build lock (where the platform has ``flock``)."""
    try:
        import fcntl
    except ImportError:  # not on this platform: builds are not serialised
        yield
        return
    handle = os.open(outdir, os.O_RDONLY)  # the directory itself: no lock file left behind
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


@contextlib.contextmanager
def os_errors(outdir: Path) -> Iterator[None]:
    """File-system failures as one line naming the path (no traceback)."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or outdir
        raise OutputError(f"{where}: cannot write the output: {exc.strerror or exc}") from None
