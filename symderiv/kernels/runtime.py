"""Runtime helpers of every generated kernels module: NumPy and the standard library only, copied in verbatim.

``symderiv.kernels`` pastes the source below the ``# --- runtime ---`` marker into each
``<sheet>_kernels.py`` it writes, so the generated file needs nothing but NumPy (and the
standard library: ``os``, ``concurrent.futures``, imported where used). Keeping
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


def _stack(*columns, shape=None):
    """Per-entry columns (arrays of rows, or numbers) as one array of rows, each row of
    ``shape`` (default: a vector of the columns), entries in C order."""
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=np.float64) for c in columns))
    return np.stack(arrays, axis=-1).reshape((-1,) + (tuple(shape) if shape else (len(columns),)))


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


#: Below this many multiply-adds a matrix product runs as NumPy's own loop (einsum), not
#: as BLAS: a threaded BLAS call costs more to start than such a product (and stalls when a
#: core is busy: measured 16 ms against 1 ms for a 256x10 by 10x1352 product on a loaded
#: 2-core machine), while NumPy's loop is as fast as one BLAS thread at this size.
SMALL_PRODUCT = 1 << 22


def _mm(a, b):
    """``a @ b`` (matrices, or stacks of them): NumPy's loop for small products, BLAS else."""
    work = a.shape[-2] * a.shape[-1] * b.shape[-1] * int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2])))
    if work < SMALL_PRODUCT:
        return np.einsum("...ij,...jk->...ik", a, b)
    return np.matmul(a, b)


def _put_outer(sink, g, z):
    """Store ``g z^T`` of every row (``dL/dW = dL/da z^T``; for a batch of columns the product
    adds up the examples), or its sum over rows (one gemm)."""
    if g.ndim == 3:  # a batch of columns per row: (rows, m, B) and (rows, n, B)
        if isinstance(sink, _Acc):
            g, z = np.broadcast_to(g, (sink.rows,) + g.shape[1:]), np.broadcast_to(z, (sink.rows,) + z.shape[1:])
            sink.add(np.einsum("rmb,rnb->mn", g, z))
        else:
            np.matmul(g, np.swapaxes(z, 1, 2), out=sink)
        return
    if isinstance(sink, _Acc):
        g = np.broadcast_to(g, (sink.rows,) + g.shape[1:])
        if z.shape[0] == 1:
            sink.add(np.outer(g.sum(axis=0), z[0]))
        else:
            sink.add(_mm(g.T, z))
    else:
        np.multiply(g[:, :, None], z[:, None, :], out=sink)


def _outer(g, z):
    """``g z^T`` of every row (summed over the examples of a batch of columns)."""
    if g.ndim == 3:
        return np.matmul(g, np.swapaxes(z, 1, 2))
    return g[:, :, None] * z[:, None, :]


def _matvec(W, v):
    """``W v`` row by row (``v`` a vector, or a matrix with one column per example); one
    matrix product when ``W`` is shared by every row."""
    if v.ndim == 3:
        return _mm(W[0], v) if W.shape[0] == 1 else _mm(W, v)
    if W.shape[0] == 1:
        return _mm(v, W[0].T)
    return np.einsum("kij,kj->ki", W, v)


def _matvec_t(W, g):
    """``W^T g`` row by row; one matrix product when ``W`` is shared by every row."""
    if g.ndim == 3:
        return _mm(W[0].T, g) if W.shape[0] == 1 else _mm(np.swapaxes(W, 1, 2), g)
    if W.shape[0] == 1:
        return _mm(g, W[0])
    return np.einsum("kij,ki->kj", W, g)


def _affine(W, v, b):
    """``W v + b`` row by row (``b`` added to every column of a batch)."""
    return _matvec(W, v) + (b[:, :, None] if v.ndim == 3 else b)


def _sum_examples(g):
    """A batch of columns added up over its examples (the last axis)."""
    return g.sum(axis=-1)


def _softmax(a):
    """Softmax of every row's vector (each column of a batch), shifted by its maximum so
    that no ``exp`` overflows."""
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_vjp(g, z):
    """``J^T g`` of softmax: ``z (g - sum_k g_k z_k)``, per vector."""
    return z * (g - (g * z).sum(axis=1, keepdims=True))


def _images(x):
    """A chunk of images (``(rows, C, H, W)``, or a batch ``(rows, B, C, H, W)``) as one stack
    ``(rows * B, C, H, W)``, and the leading shape to restore."""
    return x.reshape((-1,) + x.shape[-3:]), x.shape[:-3]


def _taps(kh, kw, stride, dilation, Ho, Wo):
    """For every kernel tap, the strided slices of the padded input it reads."""
    for p in range(kh):
        for q in range(kw):
            r0, c0 = p * dilation[0], q * dilation[1]
            yield p, q, (slice(r0, r0 + (Ho - 1) * stride[0] + 1, stride[0]),
                         slice(c0, c0 + (Wo - 1) * stride[1] + 1, stride[1]))


#: The last im2col, ``(input array, options, columns)``: a convolution's weight gradient reads
#: the very windows its forward pass made, from the same input array in the same chunk.
#: Cleared before every chunk (so a later call never sees an array whose values changed).
_RECENT = [None]


def _window_columns(x, kh, kw, stride, padding, dilation):
    """im2col of a chunk of images ``x``: ``(N, C*kh*kw, Ho*Wo)``, every window of the
    zero-padded stack as a column (made once per input array and options in a chunk)."""
    key = (kh, kw, tuple(stride), tuple(padding), tuple(dilation))
    last = _RECENT[0]
    if last is not None and last[0] is x and last[1] == key:
        return last[2]
    made = _im2col(_images(x)[0], kh, kw, stride, padding, dilation)
    _RECENT[0] = (x, key, made)
    return made


def _im2col(x, kh, kw, stride, padding, dilation):
    """Every window of the zero-padded stack ``x`` ``(N, C, H, W)`` as a column."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2)) if any(padding) else x
    Ho = (H + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    Wo = (W + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cols = np.empty((N, C, kh, kw, Ho, Wo))
    for p, q, (rows, columns) in _taps(kh, kw, stride, dilation, Ho, Wo):
        cols[:, :, p, q] = xp[:, :, rows, columns]
    return cols.reshape(N, C * kh * kw, Ho * Wo), Ho, Wo


def _filters_times(W, cols, transpose=False):
    """Filters as a matrix times columns, per row of the chunk: ``W`` is ``(rows or 1, F, C,
    kh, kw)``, ``cols`` ``(rows or 1, n, K, P)``; the result is ``(rows, n, F, P)`` (or
    ``(rows, n, K, P)`` for ``W^T`` times ``(rows, n, F, P)``). One gemm when ``W`` is shared."""
    mat = W.reshape(W.shape[0], 1, W.shape[1], -1)
    if transpose:
        mat = np.swapaxes(mat, 2, 3)
    if W.shape[0] == 1:
        return np.matmul(mat[0, 0], cols)
    return np.matmul(mat, cols)


def _conv2d(x, W, b, stride, padding, dilation):
    """``W \\star x + b`` (a cross-correlation, as frameworks compute it) of every image:
    each window as a column (im2col), times the filters as a matrix (one gemm)."""
    lead = x.shape[:-3]
    F, kh, kw = W.shape[1], W.shape[3], W.shape[4]
    cols, Ho, Wo = _window_columns(x, kh, kw, stride, padding, dilation)
    out = _filters_times(W, cols.reshape((x.shape[0], -1) + cols.shape[1:]))
    out = out.reshape(out.shape[:1] + lead[1:] + (F, Ho, Wo))
    if b is not None:
        out += b.reshape(b.shape[:1] + (1,) * (len(lead) - 1) + (F, 1, 1))
    return out


def _conv2d_grad_w(x, g, W, stride, padding, dilation):
    """``dL/dW``: every window of the input times ``dL/da`` at its output, added up
    (a correlation of the input with the gradient), per row of the chunk."""
    lead = x.shape[:-3]
    F, kh, kw = W.shape[1], W.shape[3], W.shape[4]
    cols, Ho, Wo = _window_columns(x, kh, kw, stride, padding, dilation)
    rows = max(x.shape[0], g.shape[0])
    per_row = int(np.prod(lead[1:], dtype=np.int64))
    cols = np.broadcast_to(cols.reshape((x.shape[0], -1) + cols.shape[1:]), (rows, per_row) + cols.shape[1:])
    grads = np.broadcast_to(g, (rows,) + g.shape[1:]).reshape(rows, -1, F, Ho * Wo)
    n = grads.shape[1]
    if n == 1:
        return np.matmul(grads[:, 0], np.swapaxes(cols[:, 0], 1, 2)).reshape((rows,) + W.shape[1:])
    grads = np.swapaxes(grads, 1, 2).reshape(rows, F, -1)
    cols = np.swapaxes(cols, 1, 2).reshape(rows, cols.shape[2], -1)
    return np.matmul(grads, np.swapaxes(cols, 1, 2)).reshape((rows,) + W.shape[1:])


def _conv2d_grad_b(g):
    """``dL/db``: each filter's gradient added up over its outputs (and a batch's examples)."""
    return g.sum(axis=(1, 3, 4) if g.ndim == 5 else (2, 3))


def _conv2d_grad_x(g, W, x, stride, padding, dilation):
    """``dL/dx``: the weights times ``dL/da`` put back on every window (col2im), then the
    padding cut off: a full convolution with the flipped kernel."""
    F, C, kh, kw = W.shape[1:]
    H, Wd = x.shape[-2:]
    Ho, Wo = g.shape[-2:]
    per = g.reshape(g.shape[:1] + (-1, F, Ho * Wo))
    cols = _filters_times(W, per, transpose=True)
    rows = cols.shape[0]
    cols = cols.reshape((-1, C, kh, kw, Ho, Wo))
    xp = np.zeros((cols.shape[0], C, H + 2 * padding[0], Wd + 2 * padding[1]))
    for p, q, (r, c) in _taps(kh, kw, stride, dilation, Ho, Wo):
        xp[:, :, r, c] += cols[:, :, p, q]
    return xp[:, :, padding[0]:padding[0] + H, padding[1]:padding[1] + Wd].reshape((rows,) + g.shape[1:-3] + (C, H, Wd))


def _pool_slices(x, size, stride):
    Ho, Wo = (x.shape[-2] - size[0]) // stride[0] + 1, (x.shape[-1] - size[1]) // stride[1] + 1
    for _, _, (rows, columns) in _taps(size[0], size[1], stride, (1, 1), Ho, Wo):
        yield (Ellipsis, rows, columns)


def _maxpool(x, size, stride):
    """The largest entry of every window, channel by channel."""
    cuts = list(_pool_slices(x, size, stride))
    if len(cuts) == 1:
        return x[cuts[0]].copy()
    out = np.maximum(x[cuts[0]], x[cuts[1]])
    for cut in cuts[2:]:
        np.maximum(out, x[cut], out=out)
    return out


def _maxpool_grad(x, top, g, size, stride):
    """Each window's gradient to its first maximum in reading order (row by row), as PyTorch;
    ``top`` is the pooled output (each window's maximum)."""
    shape = np.broadcast_shapes(x.shape[:1], g.shape[:1]) + x.shape[1:]
    apart = stride[0] >= size[0] and stride[1] >= size[1]  # windows do not overlap: each cell in one
    tiled = apart and tuple(stride) == tuple(size) and not (x.shape[-2] % size[0] or x.shape[-1] % size[1])
    dx = np.empty(shape) if tiled else np.zeros(shape)  # every cell in exactly one window: all written
    taken = np.zeros(np.broadcast_shapes(top.shape, g.shape), dtype=bool)
    hit = np.empty_like(taken)
    for cut in _pool_slices(x, size, stride):
        np.equal(x[cut], top, out=hit)
        np.greater(hit, taken, out=hit)  # a maximum, and no earlier entry of the window was one
        taken |= hit
        if apart:
            np.multiply(g, hit, out=dx[cut])
        else:
            dx[cut] += g * hit
    return dx


def _avgpool(x, size, stride):
    """The mean of every window, channel by channel."""
    return sum(x[cut] for cut in _pool_slices(x, size, stride)) / (size[0] * size[1])


def _avgpool_grad(x, g, size, stride):
    """Each window's gradient shared equally by its entries."""
    dx = np.zeros(np.broadcast_shapes(x.shape[:1], g.shape[:1]) + x.shape[1:])
    for cut in _pool_slices(x, size, stride):
        dx[cut] += g / (size[0] * size[1])
    return dx


def _flatten(x, batch):
    """Every image read channel by channel, row by row (a batch: one column per example)."""
    if batch:
        return np.swapaxes(x.reshape(x.shape[:2] + (-1,)), 1, 2)
    return x.reshape(x.shape[0], -1)


def _unflatten(g, x, batch):
    """The gradient of a flatten put back in the input's shape."""
    if batch:
        return np.swapaxes(g, 1, 2).reshape(g.shape[:1] + x.shape[1:])
    return g.reshape(g.shape[:1] + x.shape[1:])


def _bn_axes(x):
    """Batch norm per feature: (feature axis, axes added up) of a chunk of a batch of
    columns ``(rows, n, B)`` or of images ``(rows, B, C, H, W)``."""
    return (1, (2,)) if x.ndim == 3 else (2, (1, 3, 4))


def _bn_expand(v, x):
    """Per-feature values ``(rows, F)`` shaped to broadcast against ``x``."""
    axis, _ = _bn_axes(x)
    shape = [v.shape[0]] + [1] * (x.ndim - 1)
    shape[axis] = v.shape[1]
    return v.reshape(shape)


def _bn_count(x):
    _, axes = _bn_axes(x)
    return int(np.prod([x.shape[a] for a in axes]))


def _bn_mean(x):
    return x.mean(axis=_bn_axes(x)[1])


def _bn_mean_grad(g, x):
    return np.broadcast_to(_bn_expand(g, x), np.broadcast_shapes(g.shape[:1], x.shape[:1]) + x.shape[1:]) / _bn_count(x)


def _bn_var(x, mu):
    return ((x - _bn_expand(mu, x)) ** 2).mean(axis=_bn_axes(x)[1])


def _bn_var_grad_x(g, x, mu):
    return _bn_expand(g, x) * 2 * (x - _bn_expand(mu, x)) / _bn_count(x)


def _bn_var_grad_mean(g, x, mu):
    return g * (-2 / _bn_count(x)) * (x - _bn_expand(mu, x)).sum(axis=_bn_axes(x)[1])


def _bn_norm(x, mu, var, eps):
    return (x - _bn_expand(mu, x)) / np.sqrt(_bn_expand(var, x) + eps)


def _bn_norm_grad_x(g, x, mu, var, eps):
    return g / np.sqrt(_bn_expand(var, x) + eps)


def _bn_norm_grad_mean(g, x, mu, var, eps):
    return -g.sum(axis=_bn_axes(x)[1]) / np.sqrt(var + eps)


def _bn_norm_grad_var(g, x, mu, var, eps):
    total = (g * (x - _bn_expand(mu, x))).sum(axis=_bn_axes(x)[1])
    return -0.5 * total * (var + eps) ** -1.5


def _bn_scale(xh, gamma, beta):
    return _bn_expand(gamma, xh) * xh + _bn_expand(beta, xh)


def _bn_scale_grad_x(g, xh, gamma):
    return g * _bn_expand(gamma, xh)


def _bn_scale_grad_gamma(g, xh, gamma):
    return (g * xh).sum(axis=_bn_axes(xh)[1])


def _bn_scale_grad_beta(g, xh, gamma):
    return np.broadcast_to(g, np.broadcast_shapes(g.shape[:1], xh.shape[:1]) + g.shape[1:]).sum(axis=_bn_axes(xh)[1])


def _dropout(x, mask, keep):
    """Inverted dropout with a given mask: kept entries divided by the keep probability."""
    return x * mask / keep


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
            _RECENT[0] = None
            fn(*(a[lo:hi] if a.shape[0] != 1 else a for a in rows), out=views, t=scratch[:, :hi - lo],
               backward=backward)
            for g in summed:
                parts[g][k] = views[g].total if g not in sinks else views[g].sum(axis=0)
        _RECENT[0] = None

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
