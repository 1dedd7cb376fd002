"""Random numbers that depend on nothing but what they are for.

Every number a variant draws is ``SHA-256(seed, variant, problem, attempt, n)`` reduced to
the size of the draw's support, where ``n`` counts the numbers drawn so far in that
attempt. So a variant is the same whichever process draws it, in whatever order, on
whatever Python version (``random.Random`` promises no such thing across versions), and
variant 7 does not depend on how many variants are drawn. The reduction ``digest mod
size`` is uniform up to a bias below ``size / 2**256``: nothing a course could notice.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

#: Versions the stream: a change to how numbers are derived must change this tag.
TAG = "symderiv-variants/1"


@dataclass
class Stream:
    """The numbers of one attempt at one problem of one variant, drawn in order."""

    seed: int
    variant: str
    problem: int
    attempt: int
    drawn: int = field(default=0)

    def below(self, size: int) -> int:
        """The next number, uniform in ``0 .. size - 1``."""
        message = json.dumps([TAG, self.seed, self.variant, self.problem, self.attempt, self.drawn])
        self.drawn += 1
        digest = hashlib.sha256(message.encode("utf-8")).digest()
        return int.from_bytes(digest, "big") % size
