"""How long a build takes at every kind's documented maximum: the times README's "Bounds you
can rely on" states.

Each spec below puts one problem kind at the limits the README documents, all at once where
they can be (the largest counts, the most digits, the longest lists); the network kind has
several, one per way of reaching its bounds (the widest dense layer, the deepest stack, a
convolution, a batch, an image through a nonlinear layer, softmax), all with 17-digit
weights. Every build runs as a cold subprocess, without and with the PDF, and ``symderiv
key`` too; the table gives wall time, CPU time (this process's children: the number to
compare on a shared machine) and the largest file written.

    python benchmarks/bench_bounds.py                 # writes benchmarks/BOUNDS.md
    python benchmarks/bench_bounds.py --only conv     # one kind, printed only
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The time a key or a build at any documented bound should stay under without the PDF (CPU
#: seconds: on a shared machine wall time grows with the others' load).
TARGET = 20.0


def _matrix(rows: int, cols: int, seed: int) -> str:
    """A rows x cols matrix of mixed entries (integers, decimals, fractions), fixed by seed."""
    forms = ["{}", "{}.5", '"{}/7"', "-{}.25"]
    cells = [forms[(seed + r * cols + c) % 4].format((r * 7 + c * 3 + seed) % 9 + 1) for r in range(rows)
             for c in range(cols)]
    return "[" + ", ".join("[" + ", ".join(cells[r * cols:(r + 1) * cols]) + "]" for r in range(rows)) + "]"


def search() -> str:
    """20 hyperparameters, a 200-digit grid total, 20 confidences of 30-digit fractions, the
    largest needing about 900,000 trials."""
    params = "".join(f'[[problem.grid.hyperparameter]]\nname = "h{i}"\nvalues = 9999999\n' for i in range(20))
    confidences = [f'"{k}{"0" * 26}1/1{"0" * 29}"' for k in range(30, 49)]
    return ('[[problem]]\nkind = "search"\n[problem.grid]\nepochs_per_combination = 9999999999\n'
            f'minutes_per_epoch = "{"7" * 30}/{"3" * 29}"\n{params}[problem.random]\n'
            'success_rate = "767500000000000000000001/100000000000000000000000000000"\n'
            f'confidence = [{", ".join(confidences)}, "999/1000"]\n')


def conv() -> str:
    """20 size questions at 10,000 a side, and a convolution of 400 windows x 12 taps = 4,800
    printed products (the bound is 5,000) with padding."""
    sizes = "".join(f"[[problem.size]]\ninput = [{10000 - 2 * i}, {9000 + i}, 3]\nkernel = [{3 + i % 5}, 3, 3]\n"
                    f"filters = 10000\nstride = [{1 + i % 3}, 2]\npadding = {i % 4}\ndilation = [1, {1 + i % 2}]\n"
                    for i in range(20))
    return (f'[[problem]]\nkind = "conv"\n{sizes}[problem.apply]\ninput = {_matrix(20, 21, 1)}\n'
            f"kernel = {_matrix(3, 4, 2)}\npadding = 1\n")


def gradflow() -> str:
    """A chain of 50 layers, 50 plain and 50 residual depths up to 1,000 (as many digits as the
    500-digit bound allows), an illustration of 8 derivatives at 50 depths."""
    local = ", ".join(["0.9", "-1.1", "0.75", "1.25", "-0.5"] * 10)
    depths = ", ".join(str(k) for k in range(951, 1001))
    return ('[[problem]]\nkind = "gradflow"\n'
            f'[problem.chain]\nupstream = 0.01\nlocal = [{local}]\n[problem.residual]\nupstream = 0.01\n'
            f'[problem.depths]\nupstream = 0.5\nlocal = 0.5\nplain = [{depths}]\nresidual = [{depths}]\nblock = 1\n'
            '[problem.illustration]\nlocal = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]\n'
            f'depths = [{", ".join(str(k) for k in range(1, 1001, 20))}]\n')


def optimizers() -> str:
    """100,000 samples and steps, batches of 100 (steps x batch = 10^7), draws x batch = 10^6."""
    return ('[[problem]]\nkind = "optimizers"\n[problem.demo]\nsamples = 100000\nsteps = 100000\n'
            "batch_size = 100\ndraws = 10000\n")


def optimizer_steps() -> str:
    """6 parameters, 10 steps, 4 optimizers with every state, a gradient of 354 nodes (bound: 400)."""
    objective = ("log(1 + exp(-3*w1*w2*w3)) + sigmoid(w4*w5)*tanh(w5*w6)*sigmoid(w1*w6) + sqrt(1 + w6^2 + w1^2) "
                 "+ w1^4*w2^2/(1+w3^2+w4^2) + exp(-w5^2)*w6")
    optimizers = "".join(f'[[problem.optimizer]]\nmethod = "{m}"\nlr = 0.001234567\n'
                         for m in ("adam", "adamw", "nesterov", "rmsprop"))
    return ('[[problem]]\nkind = "optimizer_steps"\nstart = [0.3125, -0.27, 0.53, 0.41, -0.37, 0.29]\n'
            f'objective = "{objective}"\nvariables = ["w1", "w2", "w3", "w4", "w5", "w6"]\nsteps = 10\n{optimizers}')


def initialization() -> str:
    """A layer of 10^6 inputs and outputs, and a stack of 100 layers of width 10^6."""
    return ('[[problem]]\nkind = "initialization"\nactivation = "tanh"\nfan_in = 999999\nfan_out = 999998\n'
            '[problem.stack]\nwidth = 1000000\ndepth = 100\nweight_variance = "xavier"\n')


def _numbers(count: int, seed: int) -> list[str]:
    """``count`` numbers in [-1, 1] with 17 significant digits, as a careless user pastes them."""
    state = seed
    out = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(repr(state / 2**63 - 1))
    return out


def _nested(shape: tuple[int, ...], seed: int) -> str:
    """A nested TOML list of ``shape`` (row-major) filled by :func:`_numbers`."""
    flat = _numbers(math.prod(shape), seed)
    def build(dims: tuple[int, ...], at: int) -> tuple[str, int]:
        if len(dims) == 1:
            return "[" + ", ".join(flat[at:at + dims[0]]) + "]", at + dims[0]
        parts = []
        for _ in range(dims[0]):
            text, at = build(dims[1:], at)
            parts.append(text)
        return "[" + ", ".join(parts) + "]", at
    return build(shape, 0)[0]


def _dense(widths: list[int], activation: str, last: str = "sigmoid", seed: int = 1) -> str:
    """Dense layers of these widths (input first), every one ``activation`` but the last."""
    layers = "".join(f'[[problem.layer]]\nW = {_nested((m, n), seed + i)}\nb = {_nested((m,), seed + 50 + i)}\n'
                     f'activation = "{last if i == len(widths) - 2 else activation}"\n'
                     for i, (n, m) in enumerate(zip(widths, widths[1:])))
    return layers


def _network(x: str, y: str, layers: str, head: str = "") -> str:
    return f'[[problem]]\nkind = "network"\n{head}x = {x}\ny = {y}\n{layers}'


def network_wide() -> str:
    """Ten sigmoid layers of 20 x 20 weights (the width bound): 4,000 multiply-adds (the bound)."""
    return _network(_nested((20,), 7), _nested((20,), 8), _dense([20] * 11, "sigmoid"))


def network_deep() -> str:
    """16 layers (the bound), tanh then sigmoid, 15 wide: 3,600 multiply-adds."""
    return _network(_nested((15,), 7), _nested((15,), 8), _dense([15] * 17, "tanh"))


def network_softmax() -> str:
    """Nine tanh layers of 20 x 20 and a 20 x 20 softmax layer with cross-entropy on soft
    targets (softmax's full Jacobian): 4,000 multiply-adds."""
    target = "[" + ", ".join(["0.01"] * 19 + ["0.3"]) + "]"
    return _network(_nested((20,), 7), target, _dense([20] * 11, "tanh", last="softmax"),
                    head='loss = "cross_entropy"\n')


def network_conv() -> str:
    """A 7x7 sigmoid convolution on a 1x15x15 image, 3x3 max pooling, a dense layer:
    3,969 + 9 + 9 + 9 multiply-adds."""
    conv = (f'[[problem.layer]]\ntype = "conv2d"\nW = [{_nested((1, 7, 7), 3)}]\nb = [0.25]\nactivation = "sigmoid"\n'
            '[[problem.layer]]\ntype = "maxpool"\nsize = 3\n[[problem.layer]]\ntype = "flatten"\n')
    return _network(_nested((1, 15, 15), 7), "[0.5]", conv + _dense([9, 1], "sigmoid", seed=9))


def network_image() -> str:
    """Two 1x1 tanh filters over a 1x16x16 image (the side bound; 512 entries), 5x5 average
    pooling, flatten, a sigmoid unit: 549 layer outputs (the bound is 1,024), each exact."""
    conv = ('[[problem.layer]]\ntype = "conv2d"\nW = [[[[0.7310585786300049]]], [[[-0.5]]]]\n'
            'b = [0.1, -0.1]\nactivation = "tanh"\n'
            '[[problem.layer]]\ntype = "avgpool"\nsize = 5\nremainder = "drop"\n[[problem.layer]]\ntype = "flatten"\n')
    return _network(_nested((1, 16, 16), 7), "[0.5]", conv + _dense([18, 1], "sigmoid", seed=9))


def network_batch() -> str:
    """A batch of 10 examples (the bound) through a 19 x 20 tanh layer and a sigmoid unit:
    3,990 multiply-adds."""
    x = "[" + ", ".join(_nested((20,), 100 + k) for k in range(10)) + "]"
    y = "[" + ", ".join(_nested((1,), 200 + k) for k in range(10)) + "]"
    return _network(x, y, _dense([20, 19, 1], "tanh"), head="batch = true\n")


SPECS = {"search": search, "conv": conv, "gradflow": gradflow, "optimizers": optimizers,
         "optimizer_steps": optimizer_steps, "initialization": initialization, "network_wide": network_wide,
         "network_deep": network_deep, "network_softmax": network_softmax, "network_conv": network_conv,
         "network_image": network_image, "network_batch": network_batch}


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one cold subprocess; a failing command stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv[2:])}: exit {done.returncode}: {done.stderr.strip()}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(kind: str, tmp: Path) -> dict[str, object]:
    spec = tmp / f"{kind}_max.toml"
    spec.write_text(SPECS[kind](), encoding="utf-8")
    row: dict[str, object] = {"kind": kind, "key": run([sys.executable, "-m", "symderiv", "key", str(spec)], tmp)}
    for label, extra in (("no_pdf", ["--no-pdf"]), ("pdf", [])):
        out = tmp / f"out-{kind}-{label}"
        row[label] = run([sys.executable, "-m", "symderiv", "build", str(spec), "-o", str(out), *extra], tmp)
        row[f"{label}_largest"] = max(p.stat().st_size for p in out.iterdir())
    return row


def table(rows: list[dict[str, object]], baseline: tuple[float, float]) -> str:
    lines = ["| kind at its bounds | key: wall s | CPU s | no PDF: wall s | CPU s | with PDF: wall s | CPU s "
             "| largest file |",
             "|---|---:|---:|---:|---:|---:|---:|---:|",
             f"| (`python -c \"import sympy\"`) | {baseline[0]:.1f} | {baseline[1]:.1f} | | | | | |"]
    for r in rows:
        (kw, kc), (w, c), (pw, pc) = r["key"], r["no_pdf"], r["pdf"]  # type: ignore[misc]
        largest = max(r["no_pdf_largest"], r["pdf_largest"])  # type: ignore[type-var]
        lines.append(f"| `{r['kind']}` | {kw:.1f} | {kc:.1f} | {w:.1f} | {c:.1f} | {pw:.1f} | {pc:.1f} "
                     f"| {largest / 1e6:.2f} MB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SPECS), help="measure one kind and print the row only")
    args = parser.parse_args()
    kinds = [args.only] if args.only else list(SPECS)
    with tempfile.TemporaryDirectory(prefix="symderiv-bounds-") as name:
        tmp = Path(name)
        baseline = run([sys.executable, "-c", "import sympy"], tmp)
        rows = [measure(kind, tmp) for kind in kinds]
    text = table(rows, baseline)
    print(text)
    if args.only:
        return
    slowest = max(r["no_pdf"][0] for r in rows)  # type: ignore[index]
    slowest_cpu = max(max(r["no_pdf"][1], r["key"][1]) for r in rows)  # type: ignore[index]
    report = (f"# Build time at the documented bounds\n\nGenerated by `benchmarks/bench_bounds.py`: one cold "
              "subprocess per command (`symderiv key SPEC`, `symderiv build SPEC --no-pdf`, then with the PDF) of "
              "a spec holding one problem of the kind at its documented maximum (see the script for each spec).\n\n"
              f"{text}\n\nSlowest key or build without the PDF: {slowest_cpu:.1f} CPU s "
              f"({'meets' if slowest_cpu < TARGET else 'misses'} the target of {TARGET:.0f} CPU s); "
              f"slowest build without the PDF: {slowest:.1f} s wall.\n\n"
              f"Machine: {platform.machine()}, nproc = {os.cpu_count()}, Python {platform.python_version()}; load "
              f"average at the end {os.getloadavg()[0]:.2f} (a shared machine: wall times vary with the load, CPU "
              "times less).\n")
    (ROOT / "benchmarks" / "BOUNDS.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
