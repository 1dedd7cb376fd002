"""Errors the user can act on.

Every error raised for bad input is a :class:`SymderivError`; the CLI prints its
message as one line and exits with status 2. Messages name the file and the field,
so that the user never has to read a traceback to find what to fix.
"""
from __future__ import annotations


class SymderivError(Exception):
    """Base class of every error caused by the user's input."""


class SpecError(SymderivError):
    """A problem spec is malformed: the message names the file and the field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source, self.field, self.problem = source, field, problem
        super().__init__(f"{source}: {field}: {problem}")


class AnswerError(SymderivError):
    """An answer or submission cannot be read: the message names where and why."""
