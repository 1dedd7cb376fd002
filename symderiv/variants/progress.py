"""A one-line progress bar for a terminal, silent anywhere else (a pipe, a log file, CI)."""
from __future__ import annotations

import time
from typing import TextIO

WIDTH = 30
#: Seconds between redraws (a redraw per variant would flood a slow terminal).
EVERY = 0.2


class Progress:
    """``update(done)`` redraws ``label [#####-----] done/total  m:ss left`` on ``stream``
    when it is a terminal; ``close()`` ends the line."""

    def __init__(self, total: int, stream: TextIO, label: str = "variants") -> None:
        self.total, self.stream, self.label = total, stream, label
        self.shown = stream.isatty()
        self.started = self.drawn = time.monotonic()
        self.width = 0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.shown or (now - self.drawn < EVERY and done < self.total):
            return
        self.drawn = now
        filled = WIDTH * done // self.total
        left = (now - self.started) / done * (self.total - done) if done else 0.0
        bar = "#" * filled + "-" * (WIDTH - filled)
        line = f"{self.label} [{bar}] {done}/{self.total}  {int(left) // 60}:{int(left) % 60:02d} left"
        self.stream.write("\r" + line.ljust(self.width))  # spaces cover a longer line drawn before
        self.width = len(line)
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
