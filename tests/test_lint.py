"""The tree stays clean under the project's own linters: ruff (style, imports, likely bugs)
and mypy (types), both configured in pyproject.toml, as CI runs them through this test.

Each is skipped, with the reason, where it is not installed (``pip install -e '.[test]'``
installs both), so the test command stays the one command a newcomer runs.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
                               "HOME": str(tmp_path), "MYPY_CACHE_DIR": str(tmp_path / "mypy")})


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' installs it)")
    return found


def test_ruff_finds_nothing(tmp_path):
    done = _run([_tool("ruff"), "check", "--no-cache", "."], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing(tmp_path):
    done = _run([_tool("mypy"), "--cache-dir", str(tmp_path / "mypy")], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
