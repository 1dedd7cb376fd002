"""Rewritten text that remembers where each character stood in the answer as typed.

Both readers rewrite the answer before reading it: Unicode is spelled in ASCII
(``α`` becomes ``alpha``), spaces are folded, ``^`` becomes ``**`` and ``*`` is
put in for juxtaposition (``2p`` becomes ``2*p``).  An error found in the
rewritten text must still point at what the student typed, so every rewrite
goes through :class:`SourceText`, which carries the original offset of each
character along.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceText:
    """``text`` and, for each of its characters and for its end, the offset in the original.

    A character that a rewrite put in stands where the text it replaced began
    (an inserted ``*`` stands where the character after it stood).
    """

    text: str
    origins: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SourceText:
        """The original text itself: every character stands where it is."""
        return cls(text, tuple(range(len(text) + 1)))

    def origin(self, index: int) -> int:
        """The original offset of ``text[index]`` (of the end for ``len(text)`` or beyond)."""
        return self.origins[min(max(index, 0), len(self.text))]

    def slice(self, start: int, end: int) -> SourceText:
        """``text[start:end]``, keeping the offsets (``0 <= start <= end <= len(text)``)."""
        return SourceText(self.text[start:end], self.origins[start:end] + (self.origins[end],))

    def strip(self) -> SourceText:
        """Without leading and trailing white space, as :meth:`str.strip`."""
        start = len(self.text) - len(self.text.lstrip())
        return self.slice(start, max(start, len(self.text.rstrip())))

    def edit(self, spans: Iterable[tuple[int, int, str]]) -> SourceText:
        """Replace ``text[start:end]`` by ``new`` for each ``(start, end, new)``, given in
        order and not overlapping; an empty span (``start == end``) inserts."""
        pieces: list[str] = []
        origins: list[int] = []
        done = 0
        for start, end, new in spans:
            pieces += [self.text[done:start], new]
            origins += [*self.origins[done:start], *[self.origins[start]] * len(new)]
            done = end
        pieces.append(self.text[done:])
        origins += self.origins[done:]
        return SourceText("".join(pieces), tuple(origins))

    def sub(self, pattern: re.Pattern[str], new: str) -> SourceText:
        """Every match of ``pattern`` replaced by the literal ``new``, as :func:`re.sub`."""
        return self.edit((match.start(), match.end(), new) for match in pattern.finditer(self.text))

    def translate(self, spellings: Mapping[str, str]) -> SourceText:
        """Each character found in ``spellings`` replaced by its spelling, as :meth:`str.translate`."""
        return self.edit((index, index + 1, spellings[char])
                         for index, char in enumerate(self.text) if char in spellings)
