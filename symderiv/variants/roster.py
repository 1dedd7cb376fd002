"""A class roster (CSV) -> one variant key per student.

The roster is a CSV file (UTF-8, a byte-order mark is fine) whose first row names the
columns; the column ``id`` (any case; another with ``--id-column``) holds the student
ids. Other columns (names, emails) are ignored. Every id must be non-empty, printable, at
most :data:`MAX_ID` characters and unique; ids also name the variants' files (other
characters than letters, digits, '-' and '_' become '-'), so two ids that would name the
same files are an error too. Every error names the file and the line.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from symderiv.errors import SpecError
from symderiv.variants.batch import MAX_VARIANTS
from symderiv.variants.drawing import VariantKey, slug

MAX_ID = 64
MAX_BYTES = 10_000_000


def read_roster(path: str | Path, column: str = "id") -> tuple[VariantKey, ...]:
    """One :class:`VariantKey` per student of the roster at ``path``, in file order."""
    source = str(path)
    rows = _rows(Path(path), source)
    if not rows:
        raise SpecError(source, "line 1", f"empty: expected a header row naming an {column!r} column")
    at = _column(rows[0], column, source)
    keys: list[VariantKey] = []
    seen: dict[str, int] = {}
    slugs: dict[str, tuple[str, int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        student = _student(row, at, line, column, source)
        _check_unique(student, line, seen, slugs, source, column)
        keys.append(VariantKey(student=student))
    if not keys:
        raise SpecError(source, "(file)", "no students: the roster has a header row only")
    if len(keys) > MAX_VARIANTS:
        raise SpecError(source, "(file)", f"{len(keys):,} students; at most {MAX_VARIANTS:,}")
    return tuple(keys)


def _rows(path: Path, source: str) -> list[list[str]]:
    try:
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            raise SpecError(source, "(file)", f"larger than {MAX_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
        return list(csv.reader(io.StringIO(text, newline="")))
    except OSError as exc:
        raise SpecError(source, "(file)", exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise SpecError(source, "(file)", "not UTF-8 text") from None
    except csv.Error as exc:
        raise SpecError(source, "(file)", f"not a CSV file: {exc}") from None


def _column(header: list[str], column: str, source: str) -> int:
    names = [cell.strip().lower() for cell in header]
    matches = [i for i, name in enumerate(names) if name == column.lower()]
    if len(matches) != 1:
        found = ", ".join(repr(cell.strip()) for cell in header[:10]) or "none"
        problem = f"two {column!r} columns" if matches else f"no {column!r} column (the columns are {found})"
        raise SpecError(source, "line 1", problem)
    return matches[0]


def _student(row: list[str], at: int, line: int, column: str, source: str) -> str:
    student = row[at].strip() if at < len(row) else ""
    field = f"line {line}, column {column}"
    if not student:
        raise SpecError(source, field, "no student id")
    if len(student) > MAX_ID or not student.isprintable():
        raise SpecError(source, field, f"a student id is at most {MAX_ID} printable characters")
    return student


def _check_unique(student: str, line: int, seen: dict[str, int], slugs: dict[str, tuple[str, int]],
                  source: str, column: str) -> None:
    field = f"line {line}, column {column}"
    if student in seen:
        raise SpecError(source, field, f"{student!r} repeats line {seen[student]}")
    name = slug(student)
    if name in slugs:
        other, first = slugs[name]
        raise SpecError(source, field, f"{student!r} and {other!r} (line {first}) would name the same "
                                       f"files (..._{name})")
    seen[student] = line
    slugs[name] = (student, line)
