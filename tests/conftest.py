"""Shared fixtures: the repository root, and working from it (specs use relative paths)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def homework1():
    """The homework 1 sheet, derived once per session."""
    import symderiv

    return symderiv.derive_file(ROOT / "derivations" / "homework1.toml")


def pytest_report_header(config):
    return f"symderiv tests from {ROOT} (cwd {os.getcwd()})"
