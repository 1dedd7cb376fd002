"""MathJax 3 as the oracle for Markdown math: every formula of a ``.md`` typeset by the real
renderer (the npm package ``mathjax-full`` under node, TeX input with ``base`` and ``ams``,
as GitHub renders Markdown math). Independent of symderiv: it reads Markdown text only.

``mathjax-full`` is looked for in ``$SYMDERIV_NODE_CACHE/node_modules`` (default
``~/.cache/symderiv-node``), where ``.ci/run`` installs it with
``npm install --prefix ~/.cache/symderiv-node mathjax-full@3``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("mathjax_check.js")

_DISPLAY = re.compile(r"^[ \t]*\$\$\n(.*?)\n[ \t]*\$\$[ \t]*$", re.S | re.M)
_INLINE = re.compile(r"(?<!\\)\$((?:[^$\\\n]|\\.)+?)(?<!\\)\$")


def node_modules() -> Path:
    cache = os.environ.get("SYMDERIV_NODE_CACHE") or str(Path.home() / ".cache" / "symderiv-node")
    return Path(cache) / "node_modules"


def missing() -> str | None:
    """Why MathJax cannot run here (None: it can)."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (node_modules() / "mathjax-full").is_dir():
        return (f"mathjax-full is not installed in {node_modules().parent} "
                f"(npm install --prefix {node_modules().parent} mathjax-full@3; .ci/run does it)")
    return None


def formulas(markdown: str) -> list[tuple[str, bool]]:
    """Every formula of a Markdown text: ``$$`` blocks (display) and ``$...$`` spans (inline)."""
    blocks = [(m.group(1), True) for m in _DISPLAY.finditer(markdown)]
    rest = _DISPLAY.sub("", markdown)
    return blocks + [(m.group(1), False) for m in _INLINE.finditer(rest)]


def typeset_errors(items: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """``(formula, MathJax's error)`` for every formula that does not typeset."""
    payload = json.dumps([{"tex": tex, "display": display} for tex, display in items])
    env = dict(os.environ, NODE_PATH=str(node_modules()))
    done = subprocess.run(["node", str(SCRIPT)], input=payload, capture_output=True, text=True,
                          env=env, timeout=300, check=True)
    return [(items[e["index"]][0], e["error"]) for e in json.loads(done.stdout)]
