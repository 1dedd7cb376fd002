"""Writing a build's files: all or nothing under kill -9, concurrent builds and file-system faults."""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from symderiv.build import stale_files, write_outputs
from symderiv.publish import MANIFEST, STAGE_PREFIX, OutputError, publish, recover

ROOT = Path(__file__).resolve().parent.parent


def files_of(build: str, names=("a.tex", "a.md", "a.key.json")) -> dict[str, str]:
    return {name: f"{build}:{name}" for name in names}


def builds_seen(outdir: Path) -> set[str]:
    """Which builds the visible files come from (one, if the directory is consistent)."""
    return {p.read_text().split(":")[0] for p in outdir.iterdir() if not p.name.startswith(".")}


def test_publish_writes_every_file_and_leaves_no_stage(tmp_path):
    done = publish(tmp_path, files_of("one"))
    assert sorted(p.name for p in done.written) == ["a.key.json", "a.md", "a.tex"]
    assert builds_seen(tmp_path) == {"one"} and not list(tmp_path.glob(STAGE_PREFIX + "*"))


def test_a_complete_stage_left_by_a_killed_build_is_finished(tmp_path):
    publish(tmp_path, files_of("old"))
    stage = tmp_path / f"{STAGE_PREFIX}99999"
    stage.mkdir()
    for name, text in files_of("new").items():
        (stage / name).write_text(text)
    (stage / MANIFEST).write_text(json.dumps({"files": list(files_of("new")), "remove": []}))
    os.replace(stage / "a.tex", tmp_path / "a.tex")          # killed after the first rename
    assert builds_seen(tmp_path) == {"old", "new"}           # the mix a reader must never keep
    recover(tmp_path)
    assert builds_seen(tmp_path) == {"new"} and not stage.exists()


def test_an_incomplete_stage_is_discarded(tmp_path):
    publish(tmp_path, files_of("old"))
    stage = tmp_path / f"{STAGE_PREFIX}99998"
    stage.mkdir()
    (stage / "a.tex").write_text("new:a.tex")                # killed before the manifest
    publish(tmp_path, files_of("next"))
    assert builds_seen(tmp_path) == {"next"} and not stage.exists()


KILLED_BUILD = textwrap.dedent("""
    import os, sys, time
    import symderiv.publish as pub
    real = os.replace
    def slow(src, dst):
        real(src, dst)
        time.sleep(0.2)
    pub.os.replace = slow
    pub.publish(__import__("pathlib").Path(sys.argv[1]), {f"f{i}.txt": f"new:{i}" for i in range(20)})
""")


def test_kill_9_during_the_commit_then_the_next_build_repairs(tmp_path):
    publish(tmp_path, {f"f{i}.txt": f"old:{i}" for i in range(20)})
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(tmp_path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while builds_seen(tmp_path) != {"old", "new"} and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert builds_seen(tmp_path) == {"old", "new"}
    recover(tmp_path)
    assert builds_seen(tmp_path) == {"new"}


CONCURRENT = textwrap.dedent("""
    import sys, pathlib
    from symderiv.publish import publish
    tag = sys.argv[2]
    for _ in range(15):
        publish(pathlib.Path(sys.argv[1]), {f"f{i}.txt": f"{tag}:{i}" for i in range(12)})
""")


def test_two_builds_into_one_directory_never_interleave(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(tmp_path), tag], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}) for tag in ("x", "y")]
    seen = []
    while any(p.poll() is None for p in procs):
        handle = os.open(tmp_path, os.O_RDONLY)        # read as a reader would: under the lock
        fcntl.flock(handle, fcntl.LOCK_SH)
        seen.append(builds_seen(tmp_path))
        os.close(handle)
        time.sleep(0.01)
    assert all(p.returncode == 0 for p in procs)
    assert all(len(s) <= 1 for s in seen) and builds_seen(tmp_path) in ({"x"}, {"y"})


def test_a_stale_pdf_is_removed_when_its_sheet_changes_without_a_new_pdf(tmp_path):
    (tmp_path / "a.tex").write_text("old sheet")
    (tmp_path / "a.pdf").write_bytes(b"%PDF old")
    assert stale_files(tmp_path, {"a.tex": "old sheet"}) == []               # unchanged: PDF still right
    done = write_outputs(tmp_path, {"a.tex": "new sheet"})
    assert [p.name for p in done.removed] == ["a.pdf"] and not (tmp_path / "a.pdf").exists()


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / "file.txt",                      # the output path is a file
    lambda tmp: tmp / "file.txt" / "sub",              # under a file
    lambda tmp: tmp / ("x" * 300),                     # a name too long
])
def test_file_system_faults_are_one_line_naming_the_path(tmp_path, make):
    (tmp_path / "file.txt").write_text("keep")
    target = make(tmp_path)
    with pytest.raises(OutputError, match="cannot write the output"):
        write_outputs(target, files_of("one"))
    assert (tmp_path / "file.txt").read_text() == "keep"
