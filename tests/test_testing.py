"""symderiv.testing.assert_equivalent: the pytest helper for autograder tests."""
from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from symderiv.testing import assert_equivalent

ROOT = Path(__file__).resolve().parent.parent


def test_passes_and_returns_the_result() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    assert all(-(-(m + 1) // 2) == m // 2 + 1 for m in range(1, 200))  # the identity, by brute force
    result = assert_equivalent("ceiling((n + 1)/2)", sp.floor(n / 2) + 1)
    assert result.verdict == "correct"
    assert assert_equivalent([[1, 2]], sp.Matrix([[1, 2]])).equivalent


def test_failure_shows_both_sides_and_the_diagnosis() -> None:
    rng = random.Random(4)
    rows = [[rng.randint(1, 50) for _ in range(2)] for _ in range(3)]
    slipped = [row[:] for row in rows]
    slipped[1][0] = -slipped[1][0]
    with pytest.raises(AssertionError) as info:
        assert_equivalent(str(slipped), sp.Matrix(rows), msg="Q1.3 dL/dW1")
    message = str(info.value)
    assert message.startswith("Q1.3 dL/dW1: not equivalent (incorrect): entry (2, 1)")
    assert f"actual:    {slipped}".replace("'", "") in message.replace("'", "")
    assert f"expected:  {rows}" in message
    assert "diagnosis: entry (2, 1): sign flipped" in message


def test_failure_without_a_known_slip_says_so() -> None:
    with pytest.raises(AssertionError, match="diagnosis: none found"):
        assert_equivalent("5", 7)


def test_unparseable_answers_fail_with_their_verdict() -> None:
    with pytest.raises(AssertionError, match=r"not equivalent \(unparseable\)"):
        assert_equivalent("__import__('os')", 1)


def test_options_are_passed_on() -> None:
    assert_equivalent("0.3333", sp.Rational(1, 3), rtol=1e-3)
    with pytest.raises(AssertionError, match="rounded"):
        assert_equivalent("0.33", sp.Rational(1, 3))
    assert_equivalent("[34, 34, 1]", sp.Matrix([[34, 34, 1]]), orientation="any")
    with pytest.raises(AssertionError, match="equals the given c = 3"):
        assert_equivalent("3", 2, givens={"c": sp.Integer(3)})


def test_pytest_shows_the_message_at_the_callers_line(tmp_path: Path) -> None:
    test = tmp_path / "test_autograder.py"
    test.write_text("import sympy as sp\nfrom symderiv.testing import assert_equivalent\n\n"
                    "def test_q():\n    assert_equivalent('[[32, 24, -8], [16, 12, -4]]', "
                    "sp.Matrix([[32, 16], [24, 12], [-8, -4]]))\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 1
    assert "diagnosis: transposed" in run.stdout
    assert "def assert_equivalent" not in run.stdout  # the helper's own frame is hidden
