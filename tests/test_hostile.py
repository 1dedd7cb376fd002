"""The hostile and careless corpus: every case gets a clear answer, no traceback, no hang,
and a failed command leaves every file as it was.

Each :class:`Case` is a command line run through ``symderiv.cli.main`` in process, with
the files it needs; it states the exit status, a pattern the one-line message must
match, and a generous bound on its time (a hang detector, not a benchmark). Add a row
for every new way of breaking the tool.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from symderiv import cli

SEARCH = """[[problem]]
kind = "search"
[problem.grid]
epochs_per_combination = {epochs}
minutes_per_epoch = 1
[[problem.grid.hyperparameter]]
name = "{name}"
values = 2
"""


def search_spec(epochs: str = "2", name: str = "a", head: str = "") -> str:
    return head + SEARCH.format(epochs=epochs, name=name)


@dataclass(frozen=True)
class Case:
    """A command and the files it reads; what it must answer."""

    name: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    status: int = 2
    message: str = ""
    seconds: float = 30.0
    output: Callable[[Path], Path] | None = None


def spec_case(name: str, text: str | bytes, message: str, status: int = 2, command: str = "build") -> Case:
    argv = ("build", "spec.toml", "-o", "out", "--no-pdf") if command == "build" else (command, "spec.toml")
    return Case(name, argv, {"spec.toml": text}, status, message)


CASES = [
    spec_case("integer over 4,300 digits", search_spec("9" * 5000),
              r"epochs_per_combination: line \d+: .*5,000 digits"),
    spec_case("hex integer over 4,300 digits", search_spec("0x" + "f" * 4000), r"epochs_per_combination.*digits"),
    spec_case("integer of 200 digits", search_spec("9" * 200),
              r"problem\[1\]\.grid\.epochs_per_combination: .*200 digits"),
    spec_case("huge integer, key command", search_spec("9" * 5000), r"digits", command="key"),
    spec_case("byte-order mark", b"\xef\xbb\xbf" + search_spec().encode(), "", status=0),
    spec_case("title of 300 characters", search_spec(head=f'[sheet]\ntitle = "{"x" * 300}"\n'), r"sheet\.title: 300"),
    spec_case("spec over a megabyte", search_spec(head=f'# {"x" * 1_100_000}\n'), r"larger than 1,000,000 bytes"),
    spec_case("name with control characters", search_spec(head='[sheet]\nname = "x\\u001b[2J"\n'), r"sheet\.name"),
    spec_case("not UTF-8", b"\xff\xfe title", r"not UTF-8"),
    spec_case("invalid TOML", "[[problem]\n", r"invalid TOML"),
    spec_case("nested 3,000 deep", "x = " + "[" * 3000 + "]" * 3000 + "\n", r"problem|nested|invalid"),
    spec_case("unknown kind", '[[problem]]\nkind = "nope"\n', r"problem\[1\]\.kind: unknown problem kind"),
    spec_case("NaN number", search_spec("nan"), r"epochs_per_combination: expected a finite number"),
    Case("missing spec file", ("build", "missing.toml", "-o", "out"), {}, 2, r"missing\.toml: \(file\)"),
    Case("output path is a file", ("build", "spec.toml", "-o", "plain.txt", "--no-pdf"),
         {"spec.toml": search_spec(), "plain.txt": "keep"}, 2, r"plain\.txt: cannot write the output"),
    Case("output path under a file", ("build", "spec.toml", "-o", "plain.txt/sub", "--no-pdf"),
         {"spec.toml": search_spec(), "plain.txt": "keep"}, 2, r"cannot write the output: Not a directory"),
    Case("output name too long", ("build", "spec.toml", "-o", "x" * 300, "--no-pdf"),
         {"spec.toml": search_spec()}, 2, r"File name too long"),
]


def _write(tmp: Path, files: dict[str, str | bytes]) -> dict[Path, bytes]:
    """Write the case's files and a sentinel output directory; their bytes, to compare after."""
    (tmp / "out").mkdir()
    (tmp / "out" / "spec.tex").write_text("an earlier build")
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (tmp / name).write_bytes(data)
    return {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus(case: Case, tmp_path, monkeypatch, capsys):
    before = _write(tmp_path, case.files)
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    status = cli.main(list(case.argv))
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert status == case.status, err
    assert elapsed < case.seconds
    if case.status == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert re.search(case.message, err), err
        assert "Traceback" not in err and all(ch.isprintable() for ch in err.strip())
        after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".")}
        assert after == before, "a failed command changed files"
