"""Runtime helpers of every generated kernels module: numpy only, copied in verbatim.

``symderiv.kernels`` pastes the source below the ``# --- runtime ---`` marker into each
``<sheet>_kernels.py`` it writes, so the generated file needs nothing but NumPy. Keeping
the helpers here, as ordinary code, lets them be read, linted and tested like the rest.

The calling convention they implement: every argument is an array whose *trailing*
axes have the quantity's shape (``(2,)`` for a vector of 2, ``(3, 2)`` for a 3x2
matrix, ``()`` for a scalar) and whose *leading* axes are batch axes; the batch axes
of all arguments broadcast like NumPy's. Rows of the flattened batch are processed in
chunks so that temporaries stay in cache.
"""
from __future__ import annotations

import numpy as np

# --- runtime ---


def _const(values):
    """A read-only float64 array: a spec's numbers as a default argument."""
    a = np.array(values, dtype=np.float64)
    a.setflags(write=False)
    return a


def _split(name, value, shape):
    """``value`` as float64, with its batch shape (leading axes) and a check of the rest."""
    a = np.asarray(value, dtype=np.float64)
    k = len(shape)
    lead, tail = a.shape[:max(a.ndim - k, 0)], a.shape[max(a.ndim - k, 0):]
    try:
        ok = np.broadcast_shapes(tail, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"argument {name!r} must end in shape {tuple(shape)} "
                         f"(leading axes are batch axes), got shape {a.shape}")
    return a, lead


def _as_rows(a, lead, batch, shape):
    """``a`` as ``(rows, *shape)``: 1 row when it has no batch axes, else every batch row."""
    if not lead:
        return np.broadcast_to(a, shape).reshape((1,) + tuple(shape))
    rows = int(np.prod(batch, dtype=np.int64))
    return np.broadcast_to(a, tuple(batch) + tuple(shape)).reshape((rows,) + tuple(shape))


def _sum_to(g, shape):
    """``g`` summed over the axes it has beyond ``shape`` or where ``shape`` has 1: the
    gradient of an argument that was broadcast (what autograd does for broadcasting)."""
    extra = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(extra))) if extra > 0 else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _floats(*values):
    """Arguments of a formula kernel as float64 arrays (numbers stay 0-d)."""
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def _matrix(entries, shape):
    """A matrix-valued formula: entries broadcast together, laid out as batch + shape."""
    arrays = np.broadcast_arrays(*(np.asarray(e, dtype=np.float64) for e in entries))
    return np.stack(arrays, axis=-1).reshape(arrays[0].shape + tuple(shape))


def _columns(a, block=None):
    """The entries of a chunk of rows, one 1-D array each: views, or (given ``block``,
    scratch rows of the chunk's length) contiguous copies made by one transposing copy."""
    flat = a.reshape(a.shape[0], -1)
    if block is None or a.shape[0] == 1:
        return list(flat.T)
    np.copyto(block, flat.T)
    return list(block)


def _stack(*columns):
    """Per-entry columns (arrays of rows, or numbers) as one array of rows."""
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=np.float64) for c in columns))
    return np.stack(arrays, axis=-1).reshape((-1, len(columns)))


class _Acc:
    """The sum over one chunk's rows of a gradient (matrix code adds to it by gemm)."""

    def __init__(self, shape, rows):
        self.total = np.zeros(shape)
        self.rows = rows  # a value shared by every row of the chunk counts once per row

    def add(self, value):
        self.total += np.asarray(value).reshape(self.total.shape)


def _put(sink, value):
    """Store one quantity of a chunk: rows into an output view, or their sum."""
    if isinstance(sink, _Acc):
        sink.add(np.broadcast_to(value, (sink.rows,) + value.shape[1:]).sum(axis=0))
    else:
        np.copyto(sink, value)


def _put_outer(sink, g, z):
    """Store ``g z^T`` of every row (``dL/dW = dL/da z^T``), or its sum over rows (a gemm)."""
    if isinstance(sink, _Acc):
        g = np.broadcast_to(g, (sink.rows,) + g.shape[1:])
        if z.shape[0] == 1:
            sink.add(np.outer(g.sum(axis=0), z[0]))
        else:
            sink.add(g.T @ z)
    else:
        np.multiply(g[:, :, None], z[:, None, :], out=sink)


def _matvec(W, v):
    """``W v`` row by row; one matrix product when ``W`` is shared by every row."""
    if W.shape[0] == 1:
        return v @ W[0].T
    return np.einsum("kij,kj->ki", W, v)


def _matvec_t(W, g):
    """``W^T g`` row by row; one matrix product when ``W`` is shared by every row."""
    if W.shape[0] == 1:
        return g @ W[0]
    return np.einsum("kij,ki->kj", W, g)


class _Kernel:
    """A generated network kernel: its quantities, shapes and chunk functions."""

    def __init__(self, inputs, quantities, grads, scalar, matrix, backward_start):
        self.inputs = inputs            # ((name, shape), ...) in argument order
        self.quantities = quantities    # ((name, shape), ...) in derivation order
        self.grads = grads              # {gradient name: input name}
        self.scalar = scalar            # chunk function of the scalar code, or None
        self.matrix = matrix            # chunk function of the matrix code
        self.backward = {name for name, _ in quantities[backward_start:]}

    def choose(self, method):
        """The chunk function to run: ``auto`` is scalar code when it was written (small
        networks, where it is the faster), else matrix code."""
        if method == "auto":
            return self.scalar or self.matrix
        if method == "scalar" and self.scalar is None:
            raise ValueError("this kernel is too large for scalar code; use method='matrix'")
        if method not in ("scalar", "matrix"):
            raise ValueError(f"method must be 'auto', 'scalar' or 'matrix', got {method!r}")
        return self.scalar if method == "scalar" else self.matrix


#: Rows per chunk when the caller does not say: scalar code keeps one scratch row per
#: live value (16k doubles = 128 KiB each), matrix code a (rows, width) block per
#: quantity; both sized so temporaries stay in cache (benchmarks/RESULTS.md).
_CHUNK = {"scalar": 16384, "matrix": 2048}


def _run(kernel, args, outputs=None, reduce=False, chunk=None, method="auto", workers=None, out=None):
    """Evaluate a network kernel over the broadcast batch of ``args``; see the callers."""
    shapes = dict(kernel.quantities)
    wanted = tuple(shapes) if outputs is None else tuple(outputs)
    unknown = [name for name in wanted if name not in shapes]
    if unknown:
        raise ValueError(f"unknown outputs {unknown}; expected some of {list(shapes)}")
    split = {name: _split(name, args[name], shape) for name, shape in kernel.inputs}
    batch = np.broadcast_shapes(*(lead for _, lead in split.values()))
    fn = kernel.choose(method)
    rows = [_as_rows(a, lead, batch, shape) for (name, shape), (a, lead) in zip(kernel.inputs, split.values())]
    n = int(np.prod(batch, dtype=np.int64))
    chunk = max(1, int(chunk or _CHUNK["scalar" if fn is kernel.scalar else "matrix"]))
    summed = tuple(g for g in wanted if reduce and g in kernel.grads and not split[kernel.grads[g]][1])
    results = {g: _output(g, (out or {}).get(g), batch, shapes[g]) for g in wanted if g not in summed}
    spans = [(lo, min(n, lo + chunk)) for lo in range(0, n, chunk)]
    parts = {g: [None] * len(spans) for g in summed}
    backward = any(name in kernel.backward for name in wanted)

    def work(indices):
        scratch = np.empty((getattr(fn, "buffers", 0), min(chunk, max(n, 1))))
        sinks = {g: np.empty((chunk,) + tuple(shapes[g])) for g in summed if fn is not kernel.matrix}
        for k in indices:
            lo, hi = spans[k]
            views = _views(shapes, results, summed, sinks, lo, hi)
            fn(*(a[lo:hi] if a.shape[0] != 1 else a for a in rows), out=views, t=scratch[:, :hi - lo],
               backward=backward)
            for g in summed:
                parts[g][k] = views[g].total if g not in sinks else views[g].sum(axis=0)

    _parallel(work, len(spans), _default_workers() if workers is None and fn is kernel.scalar else workers or 1)
    return _finish(kernel, wanted, results, parts, split, batch, reduce, out or {})


def _views(shapes, results, summed, sinks, lo, hi):
    """What a chunk writes to: rows of each result, a row-sum accumulator (matrix code)
    or scratch rows summed afterwards (scalar code) per summed gradient, else None."""
    views = dict.fromkeys(shapes)
    views.update({name: r[lo:hi] for name, r in results.items()})
    for g in summed:
        views[g] = sinks[g][:hi - lo] if g in sinks else _Acc(shapes[g], hi - lo)
    return views


def _output(name, given, batch, shape):
    """Rows to fill for one output: a fresh array, or the caller's (``out=``) reused."""
    n = int(np.prod(batch, dtype=np.int64))
    if given is None:
        return np.empty((n,) + tuple(shape))
    if (given.shape != tuple(batch) + tuple(shape) or given.dtype != np.float64
            or not given.flags.c_contiguous or not given.flags.writeable):
        raise ValueError(f"out[{name!r}] must be a writable C-contiguous float64 array of shape "
                         f"{tuple(batch) + tuple(shape)}")
    return given.reshape((n,) + tuple(shape))


def _default_workers():
    """Every core this process may use: scalar code is one NumPy pass per operation, which
    releases the GIL, so chunks on two cores take about half the time. (Matrix code keeps
    one worker by default: its matrix products already use BLAS threads.)"""
    import os  # standard library, only when needed

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _parallel(work, count, workers):
    """Run ``work`` over chunk indices: in this thread, or split over worker threads
    (NumPy releases the GIL inside each operation; results do not depend on the split)."""
    workers = max(1, min(int(workers), count))
    if workers == 1:
        work(range(count))
        return
    from concurrent.futures import ThreadPoolExecutor  # standard library, only when asked

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, [range(w, count, workers) for w in range(workers)]))


def _finish(kernel, wanted, results, parts, split, batch, reduce, given):
    """Results in the order asked for, shaped batch + quantity shape (or summed); an
    array the caller gave (``out=``) is returned as itself."""
    shapes = dict(kernel.quantities)
    final = {}
    for name in wanted:
        arg_shape = split[kernel.grads[name]][0].shape if name in kernel.grads else None
        if name in parts:
            total = np.zeros(shapes[name])
            for part in parts[name]:
                total += part  # chunk order: the same sum whatever the threads did
            final[name] = _sum_to(total, arg_shape)
            continue
        value = given[name] if name in given else results[name].reshape(tuple(batch) + tuple(shapes[name]))
        final[name] = _sum_to(value, arg_shape) if reduce and arg_shape is not None else value
    return final
