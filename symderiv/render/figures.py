"""Figures drawn from a derivation's numbers (TikZ / pgfplots). Placeholder: no figures yet."""
from __future__ import annotations

from typing import Callable

PREAMBLE = ""


def render(figure, math: Callable) -> str:
    """LaTeX for one :class:`~symderiv.model.Figure` (none drawn yet)."""
    return ""
