"""Independent, naive references for per-student variants, used only by tests.

Nothing here imports symderiv: the random stream is the formula the README documents,
written out again; answers are read from a variant's written answer key (its ``exact``
strings) and checked against the constraints with explicit loops; a network's
pre-activations are recomputed from its written spec with Fractions.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from fractions import Fraction
from itertools import combinations
from pathlib import Path

TAG = "symderiv-variants/1"


def stream_index(seed: int, token: str, problem: int, attempt: int, n: int, size: int) -> int:
    """The README's formula: SHA-256 of the JSON list, as a big-endian integer, mod size."""
    message = json.dumps([TAG, seed, token, problem, attempt, n])
    return int(hashlib.sha256(message.encode()).hexdigest(), 16) % size


def exact_values(key_path: Path) -> dict[str, object]:
    """Answer id -> Fraction or list of lists of Fractions, for every numeric answer of a key."""
    key = json.loads(key_path.read_text(encoding="utf-8"))
    out = {}
    for answer_id, entry in key.items():
        if entry.get("value") is None:
            continue  # a formula
        quoted = re.sub(r"(-?\d+(?:/\d+)?)", r'"\1"', entry["exact"])
        out[answer_id] = _fractions(json.loads(quoted))
    return out


def _fractions(value):
    if isinstance(value, list):
        return [_fractions(v) for v in value]
    return Fraction(value)


def rows(value) -> list[list[Fraction]]:
    """A scalar as [[v]], a flat list (a shape) as one row, rows as they are."""
    if not isinstance(value, list):
        return [[value]]
    return value if isinstance(value[0], list) else [value]


def entries(value) -> list[Fraction]:
    return [e for row in rows(value) for e in row]


def slips(value) -> list[list[list[Fraction]]]:
    """The answer, its negative, 10 times it, it plus 1, it minus 1, and its transpose if square."""
    a = rows(value)
    images = [a]
    for change in (lambda e: -e, lambda e: 10 * e, lambda e: e + 1, lambda e: e - 1):
        images.append([[change(e) for e in row] for row in a])
    if len(a) == len(a[0]) > 1:
        images.append([[a[j][i] for j in range(len(a))] for i in range(len(a[0]))])
    return images


def distinguishable(value) -> bool:
    return all(p != q for p, q in combinations(slips(value), 2))


def integral(value) -> bool:
    return all(e.denominator == 1 for e in entries(value))


def within(value, bound: Fraction) -> bool:
    return all(abs(e) <= bound for e in entries(value))


def decimals_at_most(value, places: int) -> bool:
    return all((e * 10**places).denominator == 1 for e in entries(value))


def network_preactivations(spec_path: Path, number: int) -> list[tuple[str, list[Fraction]]]:
    """(activation, pre-activation entries) per layer of problem ``number`` of a written spec."""
    problem = tomllib.loads(spec_path.read_text(encoding="utf-8"))["problem"][number - 1]
    z = [Fraction(str(v)) for v in _flat(problem["x"])]
    out = []
    for layer in problem["layer"]:
        W = [[Fraction(str(v)) for v in row] for row in _matrix(layer["W"])]
        b = [Fraction(str(v)) for v in _flat(layer["b"])]
        a = [sum(W[i][j] * z[j] for j in range(len(z))) + b[i] for i in range(len(W))]
        out.append((layer["activation"], a))
        z = [max(v, Fraction(0)) for v in a]  # the layers tested here are ReLU layers
    return out


def _flat(value) -> list:
    return value if isinstance(value, list) else [value]


def _matrix(value) -> list[list]:
    return value if isinstance(value[0], list) else [value]
