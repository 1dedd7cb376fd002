"""LaTeX -> PDF through TeX, shell escape off, in a temporary directory. Placeholder."""
from __future__ import annotations


def compile_pdf(tex: str, name: str) -> bytes | None:
    """The PDF bytes of a LaTeX document, or None where TeX is not installed (placeholder)."""
    return None
