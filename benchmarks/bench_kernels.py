"""Benchmark: symderiv's generated NumPy kernels against the tools a user would reach for.

Prints one table (and, on a full run, writes it to benchmarks/RESULTS.md):

1. per-row gradients of homework 1's Problem 1 network over B = 10^6 rows, every input
   and parameter batched: symderiv's kernel, default ``sympy.lambdify(..., cse=True)``,
   hand-written vectorized NumPy backprop, ``torch.func.vmap(torch.func.grad(...))``,
   ``jax.jit(jax.vmap(jax.grad(...)))`` (x64), and a floor (read every input and write
   every output once: a copy into fresh arrays of the outputs' size);
2. a larger network, 64-128-128-10 (ReLU, ReLU, softmax, cross-entropy), over
   B = 10^5 rows with the weights shared by all rows: per-row loss and dL/dx, and the
   weight gradients summed over the batch (per-row weight gradients would take 20 GB);
3. where scalar code stops paying: ns per row of the kernel's scalar and matrix code
   for w-w-w-1 networks (per-row weights, and shared weights);
4. conv2d, N = 32 images of 3x128x128, 16 filters 3x3, float64: symderiv against
   ``torch.nn.functional.conv2d`` and a direct SciPy loop;
5. a small CNN (conv 8 filters 3x3, ReLU, 2x2 max pooling, flatten, dense 1352-10, softmax
   cross-entropy), batch 256 of 1x28x28 images, float64, forward and backward: the network
   kernel (printed from the graph alone: the network is beyond a sheet's size bounds)
   against PyTorch and JAX, loss per image and every weight gradient summed over the batch.

Every column computes the same numbers from the same float64 inputs, and the results
are checked equal (to rounding) before any time is reported. Times are the best of
several interleaved rounds. Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_kernels.py
    python benchmarks/bench_kernels.py --quick      # smoke run: small sizes, nothing written
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JAX_ENABLE_X64", "1")

import symderiv  # noqa: E402
from symderiv.kernels import compile_kernels  # noqa: E402
from symderiv.spec import Fields  # noqa: E402

GRADS_SMALL = ("L", "dL_dx", "dL_dW1", "dL_db1", "dL_dW2", "dL_db2", "dL_dW3", "dL_db3")


# -- timing ---------------------------------------------------------------------------------

@dataclass
class Row:
    label: str
    fn: Callable | None
    best: float = float("inf")
    note: str = ""
    peer: bool = True
    times: list = field(default_factory=list)
    phases: list = field(default_factory=list)


#: Pause before each timed call: thread pools of the previous peer (OpenMP, XLA's Eigen
#: pool) spin for a while after their work and would steal the next column's core.
SETTLE_SECONDS = 0.3


def time_rows(rows: list[Row], rounds: int) -> None:
    """Best of ``rounds`` interleaved runs (one warm-up each): a busy neighbour hurts
    every column alike instead of whichever happened to run at the time."""
    for row in rows:
        if row.fn is not None:
            row.fn()
    start = {id(row): len(row.times) for row in rows}
    for _ in range(rounds):
        for row in rows:
            if row.fn is None:
                continue
            gc.collect()
            time.sleep(SETTLE_SECONDS)
            t0 = time.perf_counter()
            row.fn()
            row.times.append(time.perf_counter() - t0)
            row.best = min(row.best, row.times[-1])
    for row in rows:
        if row.fn is not None:
            row.phases.append(min(row.times[start[id(row)]:]))


def check_same(name: str, ours: dict, theirs: dict, rtol: float = 1e-9) -> None:
    """Every output of a peer equals the kernel's, to rounding, or the benchmark stops."""
    for key, value in ours.items():
        other = np.asarray(theirs[key], dtype=np.float64).reshape(np.shape(value))
        scale = max(1.0, float(np.max(np.abs(value))))
        if not np.allclose(value, other, rtol=rtol, atol=rtol * scale):
            raise SystemExit(f"{name}: {key} differs from the kernel's (max |diff| "
                             f"{np.max(np.abs(value - other)):.3g}); no timings reported")


# -- problem 1: the homework network, everything batched ---------------------------------------

def small_inputs(b: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = {"x": (2,), "y": (1,), "W1": (3, 2), "b1": (3,), "W2": (2, 3), "b2": (2,), "W3": (1, 2), "b3": (1,)}
    return {k: rng.standard_normal((b,) + s) for k, s in shapes.items()}


def hand_numpy(p: dict) -> dict:
    """Backprop written by hand, vectorized over the batch (the usual NumPy idiom)."""
    a1 = np.einsum("bij,bj->bi", p["W1"], p["x"]) + p["b1"]
    z1 = np.maximum(a1, 0)
    a2 = np.einsum("bij,bj->bi", p["W2"], z1) + p["b2"]
    z2 = np.maximum(a2, 0)
    a3 = np.einsum("bij,bj->bi", p["W3"], z2) + p["b3"]
    yh = np.maximum(a3, 0)
    g3 = 2 * (yh - p["y"]) * (a3 > 0)
    g2 = np.einsum("bij,bi->bj", p["W3"], g3) * (a2 > 0)
    g1 = np.einsum("bij,bi->bj", p["W2"], g2) * (a1 > 0)
    return {"L": ((yh - p["y"]) ** 2).sum(-1), "dL_dx": np.einsum("bij,bi->bj", p["W1"], g1),
            "dL_dW1": g1[:, :, None] * p["x"][:, None, :], "dL_db1": g1,
            "dL_dW2": g2[:, :, None] * z1[:, None, :], "dL_db2": g2,
            "dL_dW3": g3[:, :, None] * z2[:, None, :], "dL_db3": g3}


def lambdified(solved):
    """Default ``sympy.lambdify(..., cse=True)`` of the closed-form loss and gradients."""
    graph = solved.graph
    env: dict = {}
    for target, expr in graph.program():
        env[target] = expr.xreplace(env)
    entries = [s[i, j] for s in graph.inputs for i in range(s.rows) for j in range(s.cols)]
    names = {e: sp.Symbol(f"{e.parent.name}_{e.i}_{e.j}") for e in entries}
    outs = {}
    for name in GRADS_SMALL:
        sym = graph.symbol(name) if name != "L" else None  # a MatrixSymbol: the homework is all vectors
        cells = [sp.Symbol("L")] if sym is None else [sym[i, j] for i in range(sym.rows) for j in range(sym.cols)]
        outs[name] = [env[c].xreplace(names) for c in cells]
    flat = [e for name in GRADS_SMALL for e in outs[name]]
    f = sp.lambdify([names[e] for e in entries], flat, cse=True)

    def run(p: dict) -> dict:
        cols = [p[e.parent.name].reshape(len(p["x"]), -1)[:, e.i * e.parent.cols + e.j] for e in entries]
        values, out, k = f(*cols), {}, 0
        for name in GRADS_SMALL:
            n = len(outs[name])
            out[name] = np.stack(np.broadcast_arrays(*values[k:k + n]), axis=-1)
            k += n
        return out
    return run


def torch_small(p: dict):
    import torch
    from torch.func import grad_and_value, vmap

    def loss(x, y, W1, b1, W2, b2, W3, b3):
        z1 = torch.relu(W1 @ x + b1)
        z2 = torch.relu(W2 @ z1 + b2)
        return ((torch.relu(W3 @ z2 + b3) - y) ** 2).sum()

    names = ("x", "W1", "b1", "W2", "b2", "W3", "b3")
    f = vmap(grad_and_value(loss, argnums=(0, 2, 3, 4, 5, 6, 7)))
    t = {k: torch.from_numpy(v) for k, v in p.items()}

    def run() -> dict:
        grads, value = f(t["x"], t["y"], t["W1"], t["b1"], t["W2"], t["b2"], t["W3"], t["b3"])
        return {"L": value, **{f"dL_d{k}": g for k, g in zip(names, grads)}}
    return run


def jax_small(p: dict):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(x, y, W1, b1, W2, b2, W3, b3):
        z1 = jnp.maximum(W1 @ x + b1, 0)
        z2 = jnp.maximum(W2 @ z1 + b2, 0)
        return jnp.sum((jnp.maximum(W3 @ z2 + b3, 0) - y) ** 2)

    names = ("x", "W1", "b1", "W2", "b2", "W3", "b3")
    f = jax.jit(jax.vmap(jax.value_and_grad(loss, argnums=(0, 2, 3, 4, 5, 6, 7))))
    j = {k: jnp.asarray(v) for k, v in p.items()}

    def run() -> dict:
        value, grads = f(j["x"], j["y"], j["W1"], j["b1"], j["W2"], j["b2"], j["W3"], j["b3"])
        jax.block_until_ready(grads)
        return {"L": value, **{f"dL_d{k}": g for k, g in zip(names, grads)}}
    return run


def floor_copy(inputs: dict, outputs: dict) -> Callable:
    """Read every input byte once and write every output byte once: the inputs copied
    into one fresh array of the outputs' total size (a remainder of either side is
    read by a sum, or written by a fill)."""
    sources = [v.reshape(-1) for v in inputs.values()]
    total = sum(np.size(v) for v in outputs.values())

    def run() -> np.ndarray:
        dst, pos = np.empty(total), 0
        for v in sources:
            n = min(v.size, total - pos)
            np.copyto(dst[pos:pos + n], v[:n])
            if n < v.size:
                v[n:].sum()
            pos += n
        dst[pos:].fill(0.0)
        return dst
    return run


def peak_memory(fn: Callable) -> int:
    """Peak bytes allocated during ``fn()`` (NumPy reports its buffers to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def nbytes(arrays) -> int:
    return sum(np.asarray(a).nbytes for a in arrays)


def bench_small(b: int, rounds: int, table: list, targets: list) -> Callable[[], None]:
    """Time Problem 1's columns now; the returned function times them again (call it at
    the end of the run: this machine drifts, and the targets use each column's best of
    both phases) and adds the targets."""
    sheet = symderiv.derive_file(ROOT / "derivations" / "homework1.toml")
    problem = next(p for p in sheet.problems if p.kind == "network")
    kernel = compile_kernels(sheet)[f"problem{problem.number}_gradients"]
    p = small_inputs(b)
    ours = kernel(**p, outputs=GRADS_SMALL)
    lam, hand, tch, jx = lambdified(problem.data), hand_numpy, torch_small(p), jax_small(p)
    check_same("lambdify", ours, lam(p))
    check_same("hand NumPy", ours, hand(p))
    check_same("torch", ours, {k: v.numpy() for k, v in tch().items()})
    check_same("jax", ours, {k: np.asarray(v) for k, v in jx().items()})
    rows = [Row("symderiv kernel, scalar code (workers=1)", lambda: kernel(**p, outputs=GRADS_SMALL, workers=1),
                peer=False),
            Row("symderiv kernel, scalar code (default workers: every core)", lambda: kernel(**p, outputs=GRADS_SMALL),
                peer=False),
            Row("symderiv kernel, workers=1, out= reusing the outputs",
                lambda: kernel(**p, outputs=GRADS_SMALL, out=ours, workers=1),
                peer=False, note="no fresh memory: not comparable to the floor"),
            Row("sympy.lambdify(cse=True)", lambda: lam(p)),
            Row("hand-written NumPy", lambda: hand(p)),
            Row("torch.func vmap(grad)", tch),
            Row("jax.jit(vmap(grad)), x64", jx),
            Row("floor: read inputs + write outputs once", floor_copy(p, ours), peer=False)]
    time_rows(rows, rounds)
    title = f"Problem 1 network (2-3-2-1, ReLU, squared error), B = {b:,} rows, all inputs batched"
    table.append((title, rows))

    def finish() -> None:
        time_rows(rows, rounds)
        for r in rows:
            r.note = (r.note + "; " if r.note else "") + "best per phase: " + \
                " / ".join(f"{t * 1e3:,.1f}" for t in r.phases) + " ms"
        _small_targets(sheet, problem, kernel, p, ours, rows, targets)
    return finish


def _small_targets(sheet, problem, kernel, p, ours, rows, targets) -> None:
    io = nbytes(p.values()) + nbytes(ours.values())
    peak = peak_memory(lambda: kernel(**p, outputs=GRADS_SMALL))
    k1, k2, jax_row, fl = rows[0], rows[1], rows[6], rows[7]
    calls = _ufunc_calls(sheet, problem.number)
    targets[:0] = [("P1 kernel / JAX (workers=1)", k1.best / jax_row.best, 0.6),
                ("P1 kernel / JAX (default workers)", k2.best / jax_row.best, 0.6),
                ("P1 kernel / floor (workers=1)", k1.best / fl.best, 3.0),
                ("P1 kernel / floor (default workers)", k2.best / fl.best, 1.3),
                (f"P1 kernel peak memory / (inputs + outputs) = {peak / 2**20:.0f} MiB / {io / 2**20:.0f} MiB",
                 peak / io, 1.5)]
    if k1.best / jax_row.best > 0.6:
        NOTES.append(
            f"P1 kernel against JAX: the kernel is {k1.best / fl.best:.1f}x the floor, so what is left "
            f"is compute, and there NumPy makes one pass over the chunk per scalar operation (up to {calls} NumPy "
            "calls "
            "per chunk of rows, each reading and writing scratch rows), where XLA compiles the whole per-row "
            "computation into one fused loop that keeps every intermediate in registers. Chunking keeps those "
            "passes in cache, but cannot fuse them: this is as close as NumPy gets (smaller chunks pay more "
            "call overhead than they save, see the chunk notes in symderiv/kernels/runtime.py).")


NOTES: list[str] = []


def _ufunc_calls(sheet, number: int) -> int:
    """NumPy calls per chunk in the generated scalar code (counted in the source)."""
    from symderiv.kernels import render_kernels

    source = render_kernels(sheet)
    body = source[source.index(f"def _problem{number}_scalar"):source.index(f"_problem{number}_scalar.buffers")]
    return sum(1 for line in body.splitlines() if "np." in line or "_columns(" in line)


# -- a larger network: 64-128-128-10, weights shared by the batch --------------------------------

def large_problem(widths: tuple[int, ...], acts: tuple[str, ...], loss: str, number: int = 1):
    """A network problem built from a spec (small whole weights keep the exact solve quick)."""
    from symderiv.kinds.network import parse, solve
    from symderiv.model import Problem

    rng = np.random.default_rng(1)
    layers = [{"W": rng.integers(-2, 3, (widths[i + 1], widths[i])).tolist(),
               "b": rng.integers(-2, 3, widths[i + 1]).tolist(), "activation": a} for i, a in enumerate(acts)]
    y = [0] * widths[-1]
    y[0] = 1
    spec = parse(Fields({"x": [1] * widths[0], "y": y, "loss": loss, "layer": layers}, "bench"))
    return Problem(number, "bench", "network", (), data=solve(spec))


def kernel_of(problem):
    from symderiv.model import Sheet

    return compile_kernels(Sheet("bench", "bench", (problem,)))[f"problem{problem.number}_gradients"]


def large_inputs(widths, b: int, seed: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    p = {"x": rng.standard_normal((b, widths[0])), "y": np.eye(widths[-1])[rng.integers(0, widths[-1], b)]}
    for l in range(1, len(widths)):
        p[f"W{l}"] = rng.standard_normal((widths[l], widths[l - 1])) / np.sqrt(widths[l - 1])
        p[f"b{l}"] = 0.1 * rng.standard_normal(widths[l])
    return p


def hand_large(p: dict, depth: int) -> dict:
    """Matrix backprop by hand: one gemm per layer and direction (shared weights)."""
    zs, acts = [p["x"]], []
    for l in range(1, depth + 1):
        a = zs[-1] @ p[f"W{l}"].T + p[f"b{l}"]
        acts.append(a)
        if l < depth:
            zs.append(np.maximum(a, 0))
    e = np.exp(acts[-1] - acts[-1].max(axis=1, keepdims=True))
    yh = e / e.sum(axis=1, keepdims=True)
    out = {"L": -(p["y"] * np.log(yh)).sum(axis=1)}
    g = yh * p["y"].sum(axis=1, keepdims=True) - p["y"]
    for l in range(depth, 0, -1):
        out[f"dL_dW{l}"], out[f"dL_db{l}"] = g.T @ zs[l - 1], g.sum(axis=0)
        g = g @ p[f"W{l}"]
        if l > 1:
            g = g * (acts[l - 2] > 0)
    out["dL_dx"] = g
    return out


def _names(depth: int) -> list[str]:
    return [n for l in range(1, depth + 1) for n in (f"W{l}", f"b{l}")]


def torch_large(p: dict, depth: int):
    import torch
    from torch.func import vjp, vmap

    def loss(params, x, y):
        z = x
        for l in range(1, depth + 1):
            a = params[f"W{l}"] @ z + params[f"b{l}"]
            z = torch.relu(a) if l < depth else torch.softmax(a, dim=0)
        return -(y * torch.log(z)).sum()

    per_row = vmap(loss, in_dims=(None, 0, 0))
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    params = {k: t[k] for k in _names(depth)}

    def run() -> dict:
        value, back = vjp(lambda q, x: per_row(q, x, t["y"]), params, t["x"])
        gp, gx = back(torch.ones_like(value))
        return {"L": value, "dL_dx": gx, **{f"dL_d{k}": v for k, v in gp.items()}}
    return run


def jax_large(p: dict, depth: int):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(params, x, y):
        z = x
        for l in range(1, depth + 1):
            a = params[f"W{l}"] @ z + params[f"b{l}"]
            z = jnp.maximum(a, 0) if l < depth else jax.nn.softmax(a)
        return -jnp.sum(y * jnp.log(z))

    per_row = jax.vmap(loss, in_axes=(None, 0, 0))

    @jax.jit
    def f(params, x, y):
        value, back = jax.vjp(lambda q, xx: per_row(q, xx, y), params, x)
        gp, gx = back(jnp.ones_like(value))
        return value, gp, gx

    j = {k: jnp.asarray(v) for k, v in p.items()}
    params = {k: j[k] for k in _names(depth)}

    def run() -> dict:
        value, gp, gx = jax.block_until_ready(f(params, j["x"], j["y"]))
        return {"L": value, "dL_dx": gx, **{f"dL_d{k}": v for k, v in gp.items()}}
    return run


def bench_large(b: int, rounds: int, table: list, targets: list) -> None:
    widths, acts = (64, 128, 128, 10), ("relu", "relu", "softmax")
    depth = len(acts)
    kernel = kernel_of(large_problem(widths, acts, "cross_entropy"))
    p = large_inputs(widths, b)
    wanted = ["L", "dL_dx"] + [f"dL_d{n}" for n in _names(depth)]
    ours = kernel(**p, outputs=wanted, reduce=True)
    tch, jx = torch_large(p, depth), jax_large(p, depth)
    check_same("hand NumPy (large)", ours, hand_large(p, depth))
    check_same("torch (large)", ours, {k: v.numpy() for k, v in tch().items()})
    check_same("jax (large)", ours, {k: np.asarray(v) for k, v in jx().items()})
    rows = [Row("symderiv kernel, matrix code (default: workers=1)", lambda: kernel(**p, outputs=wanted, reduce=True),
                peer=False),
            Row("symderiv kernel, matrix code (workers=2)",
                lambda: kernel(**p, outputs=wanted, reduce=True, workers=2), peer=False),
            Row("sympy.lambdify(cse=True)", None,
                note="not run: the closed-form gradients of 25,856 weights are far too large to expand"),
            Row("hand-written NumPy (gemm backprop)", lambda: hand_large(p, depth)),
            Row("torch.func vmap + vjp", tch),
            Row("jax.jit(vmap + vjp), x64", jx),
            Row("floor: read inputs + write outputs once", floor_copy(p, ours), peer=False)]
    time_rows(rows, rounds)
    title = (f"Network 64-128-128-10 (ReLU, ReLU, softmax, cross-entropy), B = {b:,} rows, weights shared: "
             "per-row L and dL/dx, weight gradients summed over the batch")
    table.append((title, rows))
    best_peer = min(r.best for r in rows if r.peer and r.fn is not None)
    targets.append(("Large network kernel / fastest peer (workers=1)", rows[0].best / best_peer, None))


def bench_crossover(rows_budget: int, rounds: int, table: list) -> None:
    """ns per row of scalar and matrix code for w-w-w-1 networks: where scalar code stops paying."""
    import symderiv.kinds.network.kernels as kn

    lines = ["| network | weights | weights per row | B | scalar code | matrix code | faster |",
             "|---|---:|---|---:|---:|---:|---|"]
    saved, kn.SCALAR_MAX_PARAMETERS = kn.SCALAR_MAX_PARAMETERS, 10**9
    try:
        for w in (2, 3, 4, 6, 8, 12, 16):
            kernel = kernel_of(large_problem((w, w, w, 1), ("relu", "relu", "identity"), "squared_error"))
            for shared in (False, True):
                b, p = _crossover_inputs(w, shared, rows_budget)
                check_same(f"crossover w={w}", kernel(**p, method="scalar"), kernel(**p, method="matrix"))
                rows = [Row("scalar", lambda k=kernel, q=p: k(**q, method="scalar")),
                        Row("matrix", lambda k=kernel, q=p: k(**q, method="matrix"))]
                time_rows(rows, rounds)
                ns = [r.best / b * 1e9 for r in rows]
                lines.append(f"| {w}-{w}-{w}-1 | {2 * w * w + w} | {'shared' if shared else 'per row'} | {b:,} | "
                             f"{ns[0]:,.0f} ns | {ns[1]:,.0f} ns | {'scalar' if ns[0] < ns[1] else 'matrix'} |")
    finally:
        kn.SCALAR_MAX_PARAMETERS = saved
    table.append(("Crossover: scalar against matrix code, per row (every output, w-w-w-1 networks)", lines))


def _crossover_inputs(w: int, shared: bool, rows_budget: int) -> tuple[int, dict]:
    """Random rows for a w-w-w-1 network; per-row weights keep the total size bounded."""
    b = max(2_000, rows_budget // (1 if shared else 2 * w * w))
    p = large_inputs((w, w, w, 1), b)
    p["y"] = np.random.default_rng(5).standard_normal((b, 1))
    if not shared:
        rng = np.random.default_rng(3)
        p.update({k: v + 0.1 * rng.standard_normal((b,) + v.shape) for k, v in p.items() if k[0] in "Wb"})
    return b, p


# -- conv2d ---------------------------------------------------------------------------------------

def scipy_conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Direct SciPy: one scipy.signal.correlate per image, filter and channel."""
    from scipy.signal import correlate

    n, c = x.shape[:2]
    f, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    out = np.zeros((n, f, x.shape[2] - kh + 1, x.shape[3] - kw + 1))
    for i in range(n):
        for j in range(f):
            for k in range(c):
                out[i, j] += correlate(x[i, k], w[j, k], mode="valid")
    return out


def bench_conv(n: int, rounds: int, table: list, targets: list) -> None:
    import torch

    sheet = symderiv.derive_file(ROOT / "derivations" / "homework1.toml")
    conv = next((f for name, f in compile_kernels(sheet).items() if name.endswith("_conv2d")), None)
    if conv is None:  # the sheet has no convolution problem yet: the same kernel, standalone
        from symderiv.model import Problem, Sheet

        conv = compile_kernels(Sheet("conv", "conv", (Problem(4, "conv", "conv", ()),)))["problem4_conv2d"]
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((n, 3, 128, 128)), rng.standard_normal((16, 3, 3, 3))
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    ours = conv(x, w, stride=1, padding=0, dilation=1)
    check_same("torch conv2d", {"y": ours}, {"y": torch.nn.functional.conv2d(tx, tw).numpy()})
    check_same("scipy conv", {"y": ours}, {"y": scipy_conv(x, w)})
    rows = [Row("symderiv conv2d kernel", lambda: conv(x, w, stride=1, padding=0, dilation=1), peer=False),
            Row("torch.nn.functional.conv2d", lambda: torch.nn.functional.conv2d(tx, tw)),
            Row("scipy.signal.correlate loop", lambda: scipy_conv(x, w))]
    time_rows(rows[:2], rounds)
    time_rows(rows[2:], max(1, rounds // 3))
    table.append((f"conv2d: N = {n} images 3x128x128, 16 filters 3x3, stride 1, no padding", rows))
    targets.append(("conv2d kernel / torch", rows[0].best / rows[1].best, 1.0))


# -- a small CNN, forward and backward ----------------------------------------------------------------

CNN_GRADS = ("L", "dL_dW1", "dL_db1", "dL_dW4", "dL_db4")


def cnn_kernel(filters: int = 8, side: int = 28, classes: int = 10):
    """The kernel of conv-ReLU-maxpool-flatten-dense-softmax CE, printed from its graph
    (numbers in the spec are placeholders: the benchmark passes its own)."""
    from symderiv.kernels import runtime_source
    from symderiv.kinds.network.graph import build_graph
    from symderiv.kinds.network.kernels import graph_source
    from symderiv.kinds.network.spec import parse, relaxed_bounds

    pooled = (side - 2) // 2
    table = {"x": [[[0] * side] * side], "y": [1] + [0] * (classes - 1), "loss": "cross_entropy",
             "layer": [{"type": "conv2d", "W": [[[[0] * 3] * 3]] * filters, "b": [0] * filters, "activation": "relu"},
                       {"type": "maxpool", "size": 2}, {"type": "flatten"},
                       {"W": [[0] * (filters * pooled * pooled)] * classes, "b": [0] * classes,
                        "activation": "softmax"}]}
    with relaxed_bounds(entries=10**6, side=64, products=10**8, outputs=10**8):
        graph = build_graph(parse(Fields(table, "bench")))
    namespace: dict = {"__name__": "cnn_kernel"}
    exec(compile("import numpy as np\n" + runtime_source() + "\n" + graph_source(graph), "<cnn>", "exec"), namespace)
    return namespace["problem1_gradients"]


def cnn_inputs(b: int, filters: int = 8, side: int = 28, classes: int = 10, seed: int = 6) -> dict:
    rng = np.random.default_rng(seed)
    pooled = (side - 2) // 2
    return {"x": rng.standard_normal((b, 1, side, side)), "y": np.eye(classes)[rng.integers(0, classes, b)],
            "W1": rng.standard_normal((filters, 1, 3, 3)) / 3, "b1": 0.1 * rng.standard_normal(filters),
            "W4": rng.standard_normal((classes, filters * pooled * pooled)) / np.sqrt(filters * pooled * pooled),
            "b4": 0.1 * rng.standard_normal(classes)}


def torch_cnn(p: dict):
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(v) for k, v in p.items()}
    params = {k: t[k].clone().requires_grad_(True) for k in ("W1", "b1", "W4", "b4")}

    def run() -> dict:
        for v in params.values():
            v.grad = None
        z = F.max_pool2d(torch.relu(F.conv2d(t["x"], params["W1"], params["b1"])), 2)
        logits = z.reshape(z.shape[0], -1) @ params["W4"].T + params["b4"]
        per = -(t["y"] * torch.log_softmax(logits, dim=1)).sum(dim=1)
        per.sum().backward()
        return {"L": per.detach(), **{f"dL_d{k}": v.grad for k, v in params.items()}}
    return run


def jax_cnn(p: dict):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def per_image(params, x, y):
        a = jax.lax.conv_general_dilated(x, params["W1"], (1, 1), "VALID") + params["b1"][None, :, None, None]
        z = jax.lax.reduce_window(jnp.maximum(a, 0), -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        logits = z.reshape(z.shape[0], -1) @ params["W4"].T + params["b4"]
        return -(y * jax.nn.log_softmax(logits, axis=1)).sum(axis=1)

    @jax.jit
    def f(params, x, y):
        (total, per), grads = jax.value_and_grad(lambda q: (per_image(q, x, y).sum(), per_image(q, x, y)),
                                                 has_aux=True)(params)
        return per, grads

    j = {k: jnp.asarray(v) for k, v in p.items()}
    params = {k: j[k] for k in ("W1", "b1", "W4", "b4")}

    def run() -> dict:
        per, grads = jax.block_until_ready(f(params, j["x"], j["y"]))
        return {"L": per, **{f"dL_d{k}": v for k, v in grads.items()}}
    return run


def bench_cnn(b: int, rounds: int, table: list, targets: list) -> None:
    kernel = cnn_kernel()
    p = cnn_inputs(b)
    ours = kernel(**p, outputs=CNN_GRADS, reduce=True)
    tch, jx = torch_cnn(p), jax_cnn(p)
    check_same("torch (cnn)", ours, {k: v.numpy() for k, v in tch().items()})
    check_same("jax (cnn)", ours, {k: np.asarray(v) for k, v in jx().items()})
    rows = [Row("symderiv network kernel, matrix code (default)", lambda: kernel(**p, outputs=CNN_GRADS, reduce=True),
                peer=False),
            Row("torch (conv2d, max_pool2d, autograd)", tch),
            Row("jax.jit(value_and_grad), x64", jx)]
    time_rows(rows, rounds)
    title = (f"Small CNN (conv 8x3x3, ReLU, 2x2 max pool, flatten, dense 1352-10, softmax cross-entropy), "
             f"batch {b} of 1x28x28, float64, forward + backward: per-image loss, weight gradients summed")
    table.append((title, rows))
    targets.append(("CNN kernel / torch", rows[0].best / rows[1].best, 1.0))
    targets.append(("CNN kernel / JAX", rows[0].best / rows[2].best, None))


# -- report ---------------------------------------------------------------------------------------

def machine() -> list[str]:
    import scipy
    import torch

    try:
        import jax
        jax_version = jax.__version__
    except ImportError:
        jax_version = "not installed"
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    load = os.getloadavg()
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS") if k in os.environ}
    return [f"- CPU: {model} ({simd}), nproc = {os.cpu_count()}",
            f"- Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
            f"SymPy {sp.__version__}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"JAX {jax_version}",
            f"- BLAS environment: {blas or 'none of OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, OMP_NUM_THREADS set'}",
            f"- load average at the end of the run: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min): "
            "the machine is shared, so times are best of interleaved rounds"]


def format_table(table: list, targets: list, info: list[str], seconds: float) -> str:
    lines = ["# Kernel benchmarks", "", "Generated by `benchmarks/bench_kernels.py` (one run; every column checked "
             "equal to the kernel's results before timing; time = best of interleaved rounds).", "",
             "## Machine", "", *info, f"- whole run: {seconds:.0f} s", ""]
    for title, rows in table:
        if rows and isinstance(rows[0], str):  # a table already laid out
            lines += [f"## {title}", "", *rows, ""]
            continue
        peers = [r.best for r in rows if r.peer and r.fn is not None]
        fastest = min(peers) if peers else None
        lines += [f"## {title}", "", "| method | time | x fastest peer | note |", "|---|---:|---:|---|"]
        for r in rows:
            t = "n/a" if r.fn is None else f"{r.best * 1e3:,.1f} ms"
            ratio = "" if r.fn is None or fastest is None else f"{r.best / fastest:.2f}"
            lines.append(f"| {r.label} | {t} | {ratio} | {r.note} |")
        lines.append("")
    lines += ["## How to read this", "",
              "- Every tool runs with its defaults: PyTorch's intra-op threads, XLA's CPU client, NumPy's",
              "  OpenBLAS threads (matrix code and hand-written NumPy use them). `workers` is the kernel's",
              "  own option: chunks shared by that many threads (default: every core for scalar code,",
              "  one for matrix code, whose BLAS is threaded already).",
              "- floor: every input byte read once and every output byte written once (a copy into a fresh",
              "  array of the outputs' size): no method that returns fresh arrays can beat it.",
              "- The machine is a shared 2-vCPU VM: other jobs ran during the run, so single rounds vary a",
              "  lot (a multi-threaded BLAS call occasionally stalls when one core is taken). Each time is",
              "  the best of several interleaved rounds; ratios within one table are the meaningful part.",
              ""]
    lines += ["## Targets", "", "| measure | value | target | met |", "|---|---:|---:|---|"]
    for name, value, target in targets:
        met = "" if target is None else ("yes" if value <= target else f"**no**: {value / target - 1:.0%} over")
        lines.append(f"| {name} | {value:.2f} | {'' if target is None else f'<= {target}'} | {met} |")
    if NOTES:
        lines += ["", "## Why a target is missed", ""] + [f"- {note}" for note in NOTES]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds, RESULTS.md untouched")
    parser.add_argument("--only", default="small,large,crossover,conv,cnn",
                        help="comma-separated sections to run (a partial run leaves RESULTS.md untouched)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    start = time.perf_counter()
    table: list = []
    targets: list = []
    quick = args.quick
    finish_small = None
    if "small" in only:
        finish_small = bench_small(20_000 if quick else 1_000_000, 2 if quick else 7, table, targets)
    if "large" in only:
        bench_large(2_000 if quick else 100_000, 2 if quick else 7, table, targets)
    if "crossover" in only:
        bench_crossover(20_000 if quick else 200_000, 1 if quick else 3, table)
    if "conv" in only:
        bench_conv(2 if quick else 32, 1 if quick else 7, table, targets)
    if "cnn" in only:
        bench_cnn(256, 2 if quick else 9, table, targets)
    if finish_small is not None:
        finish_small()
    text = format_table(table, targets, machine(), time.perf_counter() - start)
    print(text)
    if not quick and only == {"small", "large", "crossover", "conv", "cnn"}:
        (ROOT / "benchmarks" / "RESULTS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
