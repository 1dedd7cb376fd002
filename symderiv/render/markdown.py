"""Sheet -> Markdown with $...$ / $$...$$ math (GitHub, Jupyter). Placeholder."""
from __future__ import annotations

from symderiv.model import Sheet


def render_markdown(sheet: Sheet) -> str:
    """The sheet as Markdown (not implemented yet)."""
    raise NotImplementedError("Markdown sheets are not implemented yet")
