"""How the derivation scales with depth: symderiv's named intermediates vs naive SymPy.

symderiv derives every gradient of a dense ReLU network with fully symbolic weights
(the scalar program plus the matrix-level rules and their expansions). Naive SymPy
composes the loss as one expression and differentiates it with respect to every
weight. Prints a table of time and operation count against depth. Times are CPU seconds
of this process (``time.process_time``): on a shared machine, waiting for a core is not
the derivation's work.

    python benchmarks/bench_scaling.py            # full table (about a minute)
    python benchmarks/bench_scaling.py --quick    # smoke run
"""
from __future__ import annotations

import argparse
import platform
import time

import sympy as sp

from symderiv.kinds.network.graph import _entries, build_graph, grid
from symderiv.kinds.network.questions import chain_product, expanded_rules
from symderiv.kinds.network.spec import dense_spec


def _derive(depth: int, width: int) -> tuple[float, int]:
    sp.core.cache.clear_cache()  # every run starts cold: no help from an earlier run's cache
    grid.cache_clear()
    _entries.cache_clear()
    spec = dense_spec((width,) * (depth + 1), ("relu",) * depth)
    start = time.process_time()
    graph = build_graph(spec)
    program = graph.program()
    expanded = expanded_rules(graph.backward)
    chains = [chain_product(q) for q in graph.backward]
    seconds = time.process_time() - start
    ops = sum(sp.count_ops(e) for _, e in program) + len(expanded) + len(chains)
    return seconds, ops


def symderiv_derivation(depth: int, width: int, repeats: int = 3) -> tuple[float, int]:
    """Best-of-``repeats`` seconds and the operation count of the full symbolic derivation."""
    runs = [_derive(depth, width) for _ in range(repeats)]
    return min(r[0] for r in runs), runs[0][1]


def naive_derivation(depth: int, width: int, budget: float) -> tuple[float, int] | None:
    """Differentiate the composed loss with respect to every weight; None past the budget."""
    start = time.process_time()
    z = sp.Matrix(sp.MatrixSymbol("x", width, 1))
    weights = []
    for l in range(1, depth + 1):
        W = sp.Matrix(sp.MatrixSymbol(f"W{l}", width, width))
        weights += list(W)
        z = (W * z + sp.Matrix(sp.MatrixSymbol(f"b{l}", width, 1))).applyfunc(lambda v: sp.Max(0, v))
    loss = sum((zi - sp.Symbol(f"y{i}")) ** 2 for i, zi in enumerate(z))
    ops = 0
    for w in weights:
        ops += sp.count_ops(sp.diff(loss, w))
        if time.process_time() - start > budget:
            return None
    return time.process_time() - start, ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(f"# Derivation scaling ({platform.processor() or platform.machine()}, sympy {sp.__version__})\n")
    print("| method | width | depth | CPU seconds | operations |")
    print("|---|---:|---:|---:|---:|")
    times = {}
    for depth in ((2, 4, 8) if args.quick else (2, 4, 8, 16, 32, 64)):
        seconds, ops = symderiv_derivation(depth, 16)
        times[depth] = seconds
        print(f"| symderiv | 16 | {depth} | {seconds:.2f} | {ops} |")
    budget = 5.0 if args.quick else 30.0
    for depth in range(1, 4 if args.quick else 8):
        result = naive_derivation(depth, 3, budget)
        if result is None:
            print(f"| naive SymPy | 3 | {depth} | > {budget:.0f} (stopped) | |")
            break
        print(f"| naive SymPy | 3 | {depth} | {result[0]:.2f} | {result[1]} |")
        seconds, ops = symderiv_derivation(depth, 3)
        print(f"| symderiv | 3 | {depth} | {seconds:.3f} | {ops} |")
    if 64 in times:
        print(f"\nTargets: depth 32 width 16 in {times[32]:.2f} s (< 10 s); "
              f"depth 64 / depth 32 = {times[64] / times[32]:.2f} (< 2).")


if __name__ == "__main__":
    main()
