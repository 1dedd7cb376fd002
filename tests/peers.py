"""The peer the cross-checks compare against (PyTorch), and the mark that skips a test
without it, saying how to install it."""
from __future__ import annotations

import pytest

try:
    import torch
except ImportError:
    torch = None

HAVE_TORCH = torch is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch not installed: pip install -e '.[peers]'")
