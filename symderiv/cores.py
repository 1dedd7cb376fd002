"""How many cores this process may use: the default number of worker processes for grading
a class, drawing variants and exporting them (the kernels module counts its own, since it
runs without symderiv)."""
from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1
