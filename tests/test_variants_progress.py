"""The progress bar: drawn on a terminal only, each redraw covering the last."""
from __future__ import annotations

import io

from symderiv.variants.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_that_ends_its_line():
    stream = Terminal()
    bar = Progress(4, stream)
    bar.update(4)
    bar.close()
    assert stream.getvalue() == "\rvariants [" + "#" * 30 + "] 4/4  0:00 left\n"


def test_a_shorter_line_is_padded_over_the_longer_one_before():
    stream = Terminal()
    bar = Progress(10, stream)
    bar.width = 60
    bar.update(10)
    assert stream.getvalue().endswith(" " * (60 - len("variants [" + "#" * 30 + "] 10/10  0:00 left")))


def test_a_pipe_or_a_log_file_gets_nothing():
    stream = io.StringIO()
    bar = Progress(3, stream)
    for done in (1, 2, 3):
        bar.update(done)
    bar.close()
    assert stream.getvalue() == ""
