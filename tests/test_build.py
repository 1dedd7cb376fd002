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
#: Homework 1 as set to students (the problem statement the spec encodes), kept beside its spec.
HOMEWORK = ROOT / "derivations" / "homework1.md"


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


def test_handout_asks_every_question_and_gives_no_answer_away(fresh):
    """The handout names every answer id once, keeps the givens and shows no derived value:
    no Analysis, no Conclusion, no printed answer matrix and no decimal that only a derivation gives."""
    handout, sheet = fresh["homework1.handout.md"], fresh["homework1.md"]
    key = json.loads(fresh["homework1.key.json"])
    for answer_id, entry in key.items():
        assert handout.count(f"`{answer_id}`") == 1, answer_id
        if "pmatrix" in entry["display"]:
            assert entry["display"] not in handout, answer_id
    assert "**Analysis.**" not in handout and "**Conclusion.**" not in handout
    assert handout.count("**Setup.**") == sheet.count("**Setup.**")
    for derived in ("0.9515", "58.4", "3.333", "0.9765625", "125"):   # bounds, gains, residual gradients
        assert derived in sheet and derived not in handout, derived
    tex = fresh["homework1.handout.tex"]
    assert r"\answerid{1.3.dL\_dW1}" in tex and "Conclusion" not in tex and r"\begin{pmatrix}\qquad" in tex


def test_handout_format_alone_writes_the_handout_only(tmp_path):
    files = render_all([ROOT / "derivations" / "homework1.toml"], {"handout"})
    assert sorted(files) == ["homework1.handout.md", "homework1.handout.tex"]


def test_paper_size_reaches_the_preamble(tmp_path):
    spec = (ROOT / "derivations" / "homework1.toml").read_text().replace(
        '[sheet]\n', '[sheet]\npaper = "a4"\ndigits = 3\n', 1)
    path = tmp_path / "a4.toml"
    path.write_text(spec)
    files = render_all([path], {"tex", "handout"})
    assert r"\usepackage[a4paper,margin=2cm]{geometry}" in files["homework1.tex"]
    assert r"\usepackage[a4paper,margin=2cm]{geometry}" in files["homework1.handout.tex"]
    assert r"\frac{10}{3} \approx 3.33}" in files["homework1.tex"]   # [sheet] digits = 3
