"""Builds: deterministic, atomic, committed output equal to a fresh build, every answer id keyed."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.build import DEFAULT_FORMATS, default_specs, render_all

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT.parent / "shared" / "homework1.md"


@pytest.fixture(scope="module")
def fresh() -> dict:
    return render_all(default_specs(ROOT / "derivations"), set(DEFAULT_FORMATS.split(",")))


def test_same_spec_same_bytes(fresh):
    again = render_all(default_specs(ROOT / "derivations"), set(DEFAULT_FORMATS.split(",")))
    assert again == fresh


def test_committed_output_equals_a_fresh_build(fresh):
    for name, content in fresh.items():
        committed = ROOT / "output" / name
        assert committed.exists(), f"output/{name} is not committed: run symderiv build"
        assert committed.read_text(encoding="utf-8") == content, f"output/{name} differs from a fresh build"


def homework_ids(text: str) -> set[str]:
    """Every answer id the homework names, with its ranges and the Q1.2 list expanded."""
    ids = set(re.findall(r"\b(\d\.\d\.[A-Za-z_]\w*)", text))
    for stem, lo, hi in re.findall(r"(\d\.\d\.\w+_n)(\d+)\s*\.\.\s*\1(\d+)", text):
        ids |= {f"{stem}{n}" for n in range(int(lo), int(hi) + 1)}
    q12 = text[text.index("- Q1.2"):text.index("- Q1.3")]
    ids |= {f"1.2.dL_d{name}{digit}" for name, digit in re.findall(r"dL/d(\w+?)(?:\((\d)\))?[,.\s]", q12)}
    return ids


@pytest.mark.skipif(not HOMEWORK.exists(), reason=f"{HOMEWORK} not found (the shared problem set)")
def test_key_has_every_answer_id_of_the_homework(fresh):
    ids = homework_ids(HOMEWORK.read_text())
    assert len(ids) > 40
    key = json.loads(fresh["homework1.key.json"])
    assert sorted(ids - set(key)) == []


def test_key_command_prints_json():
    out = subprocess.run([sys.executable, "-m", "symderiv", "key", "derivations/homework1.toml"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    key = json.loads(out.stdout)
    assert set(key["1.1.loss"]) >= {"latex", "exact", "value"}
