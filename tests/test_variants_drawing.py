"""Drawing one variant: the documented random stream, rejection counts, refusals, draw-time errors."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import reference_variants as ref

from symderiv.derive import derive_file
from symderiv.errors import SpecError
from symderiv.render.key import render_key
from symderiv.variants import VariantKey, draw_variant, load_template
from symderiv.variants.drawing import RefusedError
from symderiv.variants.stream import Stream

#: One search problem whose epochs E are drawn from 1..4; max_abs = 5 keeps only E <= 2
#: (its answers are 2, 2E, 2E), so the oracle can tell which attempts are rejected.
GRID = '''
[variants]
attempts = {attempts}
distinguishable = false

[[problem]]
kind = "search"

[problem.variants]
max_abs = {bound}

[problem.grid]
epochs_per_combination = "choice([1, 2, 3, 4])"
minutes_per_epoch = 1

[[problem.grid.hyperparameter]]
name = "lambda1"
values = 2
'''


def grid(tmp_path: Path, attempts: int = 1000, bound: int = 5) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(GRID.format(attempts=attempts, bound=bound), encoding="utf-8")
    return path


@pytest.mark.parametrize("seed, token, problem, attempt, n, size", [
    (0, "variant:1", 1, 0, 0, 7), (1, "student:s0001", 3, 12, 5, 1000), (2**40, "variant:300", 5, 999, 0, 2)])
def test_the_stream_is_the_documented_formula(seed, token, problem, attempt, n, size):
    stream = Stream(seed, token, problem, attempt)
    drawn = [stream.below(size) for _ in range(n + 1)]
    assert drawn[n] == ref.stream_index(seed, token, problem, attempt, n, size)


def oracle_attempts(seed: int, token: str) -> int:
    """Attempts until E = [1, 2, 3, 4][index] is at most 2 (accepted), by the oracle's stream."""
    attempt = 0
    while [1, 2, 3, 4][ref.stream_index(seed, token, 1, attempt, 0, 4)] > 2:
        attempt += 1
    return attempt + 1


@pytest.mark.parametrize("key", [VariantKey(index=i) for i in range(1, 6)] + [VariantKey(student="s0001")])
def test_rejections_are_counted_as_the_oracle_counts_them(tmp_path, key):
    variant = draw_variant(load_template(grid(tmp_path)), 7, key)
    (tally,) = variant.tallies
    draws = oracle_attempts(7, key.token)
    assert tally.draws == draws
    assert tally.rejected == ((("max_abs", draws - 1),) if draws > 1 else ())
    epochs = tomllib.loads(variant.spec_text)["problem"][0]["grid"]["epochs_per_combination"]
    assert epochs == [1, 2, 3, 4][ref.stream_index(7, key.token, 1, draws - 1, 0, 4)]


def test_a_variant_depends_on_its_key_and_seed_only(tmp_path):
    template = load_template(grid(tmp_path))
    texts = {(seed, i): draw_variant(template, seed, VariantKey(index=i)).spec_text
             for seed in (1, 2) for i in (1, 2, 3)}
    again = load_template(grid(tmp_path))
    assert all(draw_variant(again, s, VariantKey(index=i)).spec_text == text for (s, i), text in texts.items())
    assert draw_variant(template, 1, VariantKey(student="1")).spec_text != texts[(1, 1)].replace("_v001", "_1")


def test_the_spec_text_is_an_ordinary_spec_of_the_same_sheet(tmp_path):
    variant = draw_variant(load_template(grid(tmp_path)), 3, VariantKey(student="ada@example.edu"))
    assert variant.name == "grid_ada-example-edu"
    written = tmp_path / f"{variant.name}.toml"
    written.write_text(variant.spec_text, encoding="utf-8")
    assert render_key(derive_file(written)) == render_key(variant.sheet)
    assert variant.sheet.title == "grid (ada@example.edu)"
    assert "[variants]" not in variant.spec_text and "choice" not in variant.spec_text


def test_constraints_no_draw_can_meet_are_refused_after_the_bounded_attempts(tmp_path):
    template = load_template(grid(tmp_path, attempts=25, bound=1))
    with pytest.raises(RefusedError) as caught:
        draw_variant(template, 1, VariantKey(index=1))
    message = str(caught.value)
    assert message == (f"{tmp_path / 'grid.toml'}: problem[1].variants: no draw met the constraints in 25 attempts "
                       f"(variant 1); rejections: max_abs 25; for example 1.1.combinations = 2 has an entry beyond 1 "
                       f"in size. Widen the draws, relax the constraints or raise variants.attempts")
    assert "\n" not in message


GRADFLOW = '''
[[problem]]
kind = "gradflow"

[problem.variants]
distinguishable = false

[problem.chain]
upstream = 0.01
local = [0.5]

[problem.residual]
upstream = 0.01

[problem.depths]
upstream = 0.5
local = 0.5
plain = ["choice([1, 2, 4, 5])", "choice([2, 3, 6])"]
residual = [2]
block = 2
'''


def test_a_combination_the_kind_refuses_is_an_error_naming_the_draws_and_the_variant(tmp_path):
    # every draw alone is fine at its extremes (so loading succeeds); plain = [2, 2] repeats a depth
    path = tmp_path / "flow.toml"
    path.write_text(GRADFLOW, encoding="utf-8")
    template = load_template(path)
    with pytest.raises(SpecError) as caught:
        for index in range(1, 200):
            draw_variant(template, 0, VariantKey(index=index))
    error = caught.value
    assert error.field == "problem[1].depths.plain[2]" and "repeated depth 2" in error.problem
    assert re.search(r"drawn: problem\[1\]\.depths\.plain\[2\] = 2 from 'choice\(\[2, 3, 6\]\)'\) "
                     r"\(variant \d+, seed 0\)$", error.problem), error.problem
