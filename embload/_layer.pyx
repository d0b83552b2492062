# distutils: extra_compile_args = -fno-math-errno
# (sqrt of a non-negative sum never sets errno; without the flag gcc keeps a
# scalar errno path in the Adam/Adagrad loops and cannot vectorise them)
# Embedding-layer kernels: gather (forward), coalesce (backward), max_norm
# renormalisation and sparse optimizer steps. The contract is in _layer.pxd.
#
# Determinism: the backward finds the unique rows with a stable radix sort,
# then reads the gradient front to back and adds each position into its row's
# sum, so every row is summed in batch order. Each row belongs to one thread
# (rows are hashed to threads; each thread scans the batch and takes its own
# rows' positions), so a row sees the same additions in the same order and
# the bits are the same for any thread count. Optimizer steps give each
# thread whole rows too. No kernel ever has two threads writing one row.
# (Splitting the columns instead also keeps the order, but is slower: each
# core's prefetchers then fetch every gradient row.)

cimport cython
from cython.parallel cimport prange, parallel
from libc.math cimport sqrt, sqrtf, pow, fabs, INFINITY
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcpy, memset

import numpy as np

cdef extern from "prefetch.h" nogil:
    void el_prefetch_read(const void* p, size_t nbytes)
    void el_prefetch_write(const void* p, size_t nbytes)

cdef extern from "rowcopy.h" nogil:
    void el_copy_row_stream(void* dst, const void* src, size_t nbytes)
    void el_stream_fence()

# Radix digit width for the backward sort: 2^11 counters (16 KiB) stay in L1.
cdef enum:
    RADIX_BITS = 11
    RADIX_SIZE = 2048
    RADIX_MAX_PASSES = 6     # 66 bits: any Py_ssize_t row count
    # Rows prefetched ahead of use: enough to overlap the memory latency of a
    # data-dependent row, few enough to stay in the line-fill queues.
    AHEAD = 8
    # Outputs from this size on are written with streaming stores (see rowcopy.h).
    STREAM_MIN_BYTES = 8 << 20


# ---------------------------------------------------------------- kernels

cdef Py_ssize_t first_bad_index(const index_t* idx, Py_ssize_t count,
                                Py_ssize_t nrows) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t v
    # One cheap branch-free sweep; the exact position is found only on failure.
    cdef int bad = 0
    for i in range(count):
        v = idx[i]
        bad |= (v < 0) | (v >= nrows)
    if not bad:
        return -1
    for i in range(count):
        v = idx[i]
        if v < 0 or v >= nrows:
            return i
    return -1


cdef inline int owner(uint64_t key, int nparts) noexcept nogil:
    # Fibonacci hashing spreads rows evenly over the threads whatever their
    # ids (frequent words have small ids, so id ranges would not).
    # (multiply-shift maps the hash's top 32 bits onto 0..nparts-1 without a division)
    return <int>((((key * <uint64_t>11400714819323198485ULL) >> 32) * <uint64_t>nparts) >> 32)


# Work below this many elements runs on one thread: waking threads costs more.
cdef Py_ssize_t parallel_min_elements = 1 << 16


cdef inline int parts_for(Py_ssize_t count, Py_ssize_t dim, int nthreads) noexcept nogil:
    if <size_t>count * <size_t>dim < <size_t>parallel_min_elements or nthreads < 1:
        return 1
    return nthreads


def _set_parallel_min_elements(Py_ssize_t n):
    """Set the size from which kernels use threads; returns the old value (for tests,
    which run the threaded paths on small data with 0)."""
    global parallel_min_elements
    old = parallel_min_elements
    parallel_min_elements = n
    return old


cdef inline void _gather_one(const floating* table, Py_ssize_t dim, const index_t* idx,
                             Py_ssize_t i, Py_ssize_t count, floating* out,
                             size_t row_bytes, bint stream) noexcept nogil:
    if i + AHEAD < count:
        el_prefetch_read(table + <Py_ssize_t>idx[i + AHEAD] * dim, row_bytes)
    if stream:
        el_copy_row_stream(out + i * dim, table + <Py_ssize_t>idx[i] * dim, row_bytes)
    else:
        memcpy(out + i * dim, table + <Py_ssize_t>idx[i] * dim, row_bytes)


cdef void gather_rows(const floating* table, Py_ssize_t dim, const index_t* idx,
                      Py_ssize_t count, floating* out, int nthreads) noexcept nogil:
    cdef Py_ssize_t i
    cdef size_t row_bytes = <size_t>dim * sizeof(floating)
    # An output larger than the caches would be read back from memory before
    # each store: write it with streaming stores instead. A small one stays
    # cached for whatever consumes it next.
    cdef bint stream = <size_t>count * row_bytes >= STREAM_MIN_BYTES
    if parts_for(count, dim, nthreads) == 1:
        for i in range(count):
            _gather_one(table, dim, idx, i, count, out, row_bytes, stream)
        if stream:
            el_stream_fence()
        return
    with parallel(num_threads=nthreads):
        for i in prange(count, schedule='static'):
            _gather_one(table, dim, idx, i, count, out, row_bytes, stream)
        if stream:
            el_stream_fence()


cdef Py_ssize_t sort_by_row(const index_t* idx, Py_ssize_t count, Py_ssize_t nrows,
                            const unsigned char* keep, int64_t* keys, int64_t* pos,
                            int64_t* keys_tmp, int64_t* pos_tmp,
                            int64_t* hist) noexcept nogil:
    cdef Py_ssize_t i, m = 0, total, c
    cdef int64_t v
    cdef int passes = 0, p, shift
    cdef int64_t *src_k
    cdef int64_t *src_p
    cdef int64_t *dst_k
    cdef int64_t *dst_p
    cdef int64_t *swap
    while passes < RADIX_MAX_PASSES and ((nrows - 1) >> (passes * RADIX_BITS)) > 0:
        passes += 1
    # Write the filtered input where the last pass expects it, so the sorted
    # result always lands in keys/pos whatever the number of passes.
    if passes % 2 == 0:
        src_k = keys
        src_p = pos
        dst_k = keys_tmp
        dst_p = pos_tmp
    else:
        src_k = keys_tmp
        src_p = pos_tmp
        dst_k = keys
        dst_p = pos
    memset(hist, 0, RADIX_MAX_PASSES * RADIX_SIZE * sizeof(int64_t))
    for i in range(count):
        v = idx[i]
        if keep != NULL and not keep[v]:
            continue
        src_k[m] = v
        src_p[m] = i
        m += 1
        for p in range(passes):
            hist[p * RADIX_SIZE + ((v >> (p * RADIX_BITS)) & (RADIX_SIZE - 1))] += 1
    for p in range(passes):
        total = 0
        for i in range(RADIX_SIZE):
            c = hist[p * RADIX_SIZE + i]
            hist[p * RADIX_SIZE + i] = total
            total += c
        shift = p * RADIX_BITS
        for i in range(m):
            v = src_k[i]
            c = hist[p * RADIX_SIZE + ((v >> shift) & (RADIX_SIZE - 1))]
            hist[p * RADIX_SIZE + ((v >> shift) & (RADIX_SIZE - 1))] = c + 1
            dst_k[c] = v
            dst_p[c] = src_p[i]
        swap = src_k
        src_k = dst_k
        dst_k = swap
        swap = src_p
        src_p = dst_p
        dst_p = swap
    return m


cdef Py_ssize_t find_runs(const int64_t* keys, Py_ssize_t m, int64_t* rows,
                          int64_t* starts) noexcept nogil:
    cdef Py_ssize_t i, n = 0
    for i in range(m):
        if i == 0 or keys[i] != keys[i - 1]:
            rows[n] = keys[i]
            starts[n] = i
            n += 1
    starts[n] = m
    return n


cdef void slots_from_runs(const int64_t* pos, const int64_t* starts, Py_ssize_t nruns,
                          Py_ssize_t count, int64_t* slot, int64_t* first) noexcept nogil:
    cdef Py_ssize_t u, j
    memset(slot, 0xFF, <size_t>count * sizeof(int64_t))  # -1: position left out
    for u in range(nruns):
        first[u] = pos[starts[u]]
        for j in range(starts[u], starts[u + 1]):
            slot[pos[j]] = u


cdef inline void _sum_part(const floating* grad, Py_ssize_t dim, const int64_t* slot,
                           const int64_t* first, Py_ssize_t count, floating* out,
                           int part, int nparts) noexcept nogil:
    cdef Py_ssize_t i, c
    cdef int64_t u
    cdef const floating* src
    cdef floating* dst
    cdef size_t row_bytes = <size_t>dim * sizeof(floating)
    for i in range(count):
        if i + AHEAD < count:
            u = slot[i + AHEAD]
            if u >= 0 and owner(u, nparts) == part:
                el_prefetch_write(out + u * dim, row_bytes)
                el_prefetch_read(grad + (i + AHEAD) * dim, row_bytes)
        u = slot[i]
        if u < 0 or owner(u, nparts) != part:
            continue
        src = grad + i * dim
        dst = out + u * dim
        if first[u] == i:
            for c in range(dim):
                dst[c] = src[c]
        else:
            for c in range(dim):
                dst[c] = dst[c] + src[c]


cdef void sum_in_batch_order(const floating* grad, Py_ssize_t dim, const int64_t* slot,
                             const int64_t* first, Py_ssize_t count, floating* out,
                             int nthreads) noexcept nogil:
    cdef int part, nparts = parts_for(count, dim, nthreads)
    if nparts == 1:
        _sum_part(grad, dim, slot, first, count, out, 0, 1)
        return
    for part in prange(nparts, schedule='static', num_threads=nparts):
        _sum_part(grad, dim, slot, first, count, out, part, nparts)


cdef inline void _sgd_scatter_part(floating* table, Py_ssize_t dim, const index_t* idx,
                                   Py_ssize_t count, const unsigned char* keep,
                                   const floating* grad, floating lr, int part,
                                   int nparts) noexcept nogil:
    cdef Py_ssize_t i, c, r
    cdef floating* p
    cdef const floating* g
    cdef size_t row_bytes = <size_t>dim * sizeof(floating)
    for i in range(count):
        if i + AHEAD < count:
            r = idx[i + AHEAD]
            if owner(r, nparts) == part:
                el_prefetch_write(table + r * dim, row_bytes)
                el_prefetch_read(grad + (i + AHEAD) * dim, row_bytes)
        r = idx[i]
        if owner(r, nparts) != part or (keep != NULL and not keep[r]):
            continue
        p = table + r * dim
        g = grad + i * dim
        for c in range(dim):
            p[c] = p[c] - lr * g[c]


cdef void sgd_scatter(floating* table, Py_ssize_t dim, const index_t* idx, Py_ssize_t count,
                      const unsigned char* keep, const floating* grad, double lr,
                      int nthreads) noexcept nogil:
    cdef int part, nparts = parts_for(count, dim, nthreads)
    if nparts == 1:
        _sgd_scatter_part(table, dim, idx, count, keep, grad, <floating>lr, 0, 1)
        return
    for part in prange(nparts, schedule='static', num_threads=nparts):
        _sgd_scatter_part(table, dim, idx, count, keep, grad, <floating>lr, part, nparts)


cdef inline void _renorm_one(floating* row, Py_ssize_t dim, double max_norm,
                             double norm_type) noexcept nogil:
    cdef Py_ssize_t c
    cdef double acc = 0.0, norm, x
    cdef floating scale
    if norm_type == 2.0:
        for c in range(dim):
            x = row[c]
            acc += x * x
        norm = sqrt(acc)
    elif norm_type == INFINITY:
        for c in range(dim):
            x = fabs(row[c])
            if x > acc:
                acc = x
        norm = acc
    elif norm_type == 1.0:
        for c in range(dim):
            acc += fabs(row[c])
        norm = acc
    else:
        for c in range(dim):
            acc += pow(fabs(row[c]), norm_type)
        norm = pow(acc, 1.0 / norm_type)
    if norm > max_norm:
        scale = <floating>(max_norm / (norm + 1e-7))
        for c in range(dim):
            row[c] *= scale


cdef void renorm_rows(floating* table, Py_ssize_t dim, const int64_t* rows,
                      Py_ssize_t nrows, double max_norm, double norm_type,
                      int nthreads) noexcept nogil:
    cdef Py_ssize_t u
    cdef size_t row_bytes = <size_t>dim * sizeof(floating)
    for u in prange(nrows, schedule='static',
                    num_threads=parts_for(nrows, dim, nthreads)):
        if u + AHEAD < nrows:
            el_prefetch_write(table + rows[u + AHEAD] * dim, row_bytes)
        _renorm_one(table + rows[u] * dim, dim, max_norm, norm_type)


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


# The optimizer rules: what one touched row does in one step. Each takes its
# hyperparameters by value, already in the table's type, so the loop over the
# row's elements keeps them in registers whatever the pointers may alias.

cdef inline void _sgd_row(floating* p, const floating* g, Py_ssize_t dim,
                          floating lr, floating wd) noexcept nogil:
    cdef Py_ssize_t c
    if wd == 0:
        for c in range(dim):
            p[c] = p[c] - lr * g[c]
    else:
        for c in range(dim):
            p[c] = p[c] - lr * (g[c] + wd * p[c])


cdef inline void _momentum_row(floating* p, floating* buf, const floating* g,
                               Py_ssize_t dim, floating lr, floating mu, floating wd,
                               bint nesterov) noexcept nogil:
    cdef Py_ssize_t c
    cdef floating gc, b
    for c in range(dim):
        gc = g[c]
        if wd != 0:
            gc = gc + wd * p[c]
        b = mu * buf[c] + gc
        buf[c] = b
        if nesterov:
            p[c] = p[c] - lr * (gc + mu * b)
        else:
            p[c] = p[c] - lr * b


cdef inline void _adagrad_row(floating* p, floating* acc, const floating* g,
                              Py_ssize_t dim, floating clr, floating eps,
                              floating wd) noexcept nogil:
    cdef Py_ssize_t c
    cdef floating gc, a
    for c in range(dim):
        gc = g[c]
        if wd != 0:
            gc = gc + wd * p[c]
        a = acc[c] + gc * gc
        acc[c] = a
        p[c] = p[c] + (-clr) * (gc / (_sqrt(a) + eps))


cdef inline void _adam_row(floating* p, floating* m, floating* v, const floating* g,
                           Py_ssize_t dim, floating step_size, floating one_b1,
                           floating one_b2, floating eps, floating wd) noexcept nogil:
    cdef Py_ssize_t c
    cdef floating gc, mc, vc
    for c in range(dim):
        gc = g[c]
        if wd != 0:
            gc = gc + wd * p[c]
        mc = m[c]
        mc = (gc - mc) * one_b1 + mc
        vc = v[c]
        vc = (gc * gc - vc) * one_b2 + vc
        m[c] = mc
        v[c] = vc
        p[c] = p[c] + (-step_size) * (mc / (_sqrt(vc) + eps))


cdef void step_rows(const step_rule* rule, floating* table, floating* s0, floating* s1,
                    Py_ssize_t dim, const int64_t* rows, const floating* values,
                    Py_ssize_t nrows, int nthreads) noexcept nogil:
    # `step_rule is ...` is decided when Cython specialises the function: each
    # rule gets its own copy of this loop with only its own row update and
    # prefetches in it (no branch per row). Hyperparameters go to the row
    # update by value, so its loop keeps them in registers.
    cdef Py_ssize_t u, off
    cdef size_t row_bytes = <size_t>dim * sizeof(floating)
    for u in prange(nrows, schedule='static',
                    num_threads=parts_for(nrows, dim, nthreads)):
        if u + AHEAD < nrows:
            off = rows[u + AHEAD] * dim
            el_prefetch_write(table + off, row_bytes)
            if step_rule is not sgd_rule:
                el_prefetch_write(s0 + off, row_bytes)
            if step_rule is adam_rule:
                el_prefetch_write(s1 + off, row_bytes)
        off = rows[u] * dim
        if step_rule is sgd_rule:
            _sgd_row(table + off, values + u * dim, dim, <floating>rule.lr,
                     <floating>rule.wd)
        elif step_rule is momentum_rule:
            _momentum_row(table + off, s0 + off, values + u * dim, dim, <floating>rule.lr,
                          <floating>rule.momentum, <floating>rule.wd, rule.nesterov)
        elif step_rule is adagrad_rule:
            _adagrad_row(table + off, s0 + off, values + u * dim, dim, <floating>rule.lr,
                         <floating>rule.eps, <floating>rule.wd)
        else:
            _adam_row(table + off, s0 + off, s1 + off, values + u * dim, dim,
                      <floating>rule.lr, <floating>(1.0 - rule.beta1),
                      <floating>(1.0 - rule.beta2), <floating>rule.eps, <floating>rule.wd)


# ---------------------------------------------------------------- wrappers
# Called by layer.py / optimizers.py; layer.py checks the input first and words
# the errors for users. The wrappers check shapes and ranges again (cheap next
# to the work) so that no call, even a wrong one, can write out of bounds.
# Batch indices are the exception: they are checked here only (a second sweep
# per token would cost a noticeable part of a small-dim lookup), and BadIndex
# tells layer.py where the bad one is so that it can name it for the user.

class BadIndex(IndexError):
    """An index outside the table; ``position`` is its place in the flat batch."""

    def __init__(self, position, value, nrows):
        super().__init__(f"embload._layer: index {value} at position {position} is "
                         f"outside 0..{nrows - 1}")
        self.position = position

cdef _need(bint ok, str what):
    if not ok:
        raise ValueError("embload._layer: " + what)


cdef bint _strictly_ascending(const int64_t* rows, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef bint ok = True
    for i in range(1, n):
        ok &= rows[i - 1] < rows[i]
    return ok


cdef _unique_rows_ok(const int64_t[::1] rows, Py_ssize_t nrows):
    # The row kernels give each thread whole rows: a row listed twice would be
    # written by two threads at once.
    if rows.shape[0] == 0:
        return
    if first_bad_index(&rows[0], rows.shape[0], nrows) >= 0:
        raise IndexError(f"embload._layer: a row is outside 0..{nrows - 1}")
    _need(_strictly_ascending(&rows[0], rows.shape[0]),
          "rows must be unique and ascending (a coalesced gradient)")


cdef _keep_ok(keep, Py_ssize_t nrows):
    if keep is not None:
        _need(keep.shape == (nrows,), "keep must have one entry per table row")


cdef _indices_ok(const index_t[::1] idx, Py_ssize_t nrows):
    cdef Py_ssize_t bad = -1
    if idx.shape[0]:
        with nogil:
            bad = first_bad_index(&idx[0], idx.shape[0], nrows)
    if bad >= 0:
        raise BadIndex(bad, idx[bad], nrows)


def check_indices(const index_t[::1] idx, Py_ssize_t nrows):
    """Flat position of the first index outside [0, nrows), or -1."""
    cdef Py_ssize_t bad
    if idx.shape[0] == 0:
        return -1
    with nogil:
        bad = first_bad_index(&idx[0], idx.shape[0], nrows)
    return bad


def gather(const floating[:, ::1] table, const index_t[::1] idx, floating[:, ::1] out,
           int nthreads):
    """out[i] = table[idx[i]]; BadIndex when an index is outside the table."""
    _need(out.shape[0] == idx.shape[0] and out.shape[1] == table.shape[1],
          "out must have shape (len(idx), dim)")
    _indices_ok(idx, table.shape[0])
    if idx.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        gather_rows(&table[0, 0], table.shape[1], &idx[0], idx.shape[0], &out[0, 0],
                    nthreads)


def _sorted_runs(const index_t[::1] idx, Py_ssize_t nrows, keep):
    """(rows, starts, pos): unique kept rows ascending and their batch positions."""
    cdef Py_ssize_t count = idx.shape[0], m, nruns
    cdef const unsigned char[::1] keep_view
    cdef const unsigned char* keep_ptr = NULL
    _indices_ok(idx, nrows)
    _keep_ok(keep, nrows)
    keys_arr = np.empty(count, dtype=np.int64)
    pos_arr = np.empty(count, dtype=np.int64)
    tmp_k = np.empty(count, dtype=np.int64)
    tmp_p = np.empty(count, dtype=np.int64)
    hist_arr = np.empty(RADIX_MAX_PASSES * RADIX_SIZE, dtype=np.int64)
    starts_arr = np.empty(count + 1, dtype=np.int64)
    rows_arr = np.empty(count, dtype=np.int64)
    cdef int64_t[::1] keys = keys_arr, pos = pos_arr, kt = tmp_k, pt = tmp_p
    cdef int64_t[::1] starts = starts_arr, rows = rows_arr, hist = hist_arr
    if count == 0:
        starts_arr[0] = 0
        return rows_arr, starts_arr, pos_arr
    if keep is not None:
        keep_view = keep
        keep_ptr = &keep_view[0]
    with nogil:
        m = sort_by_row(&idx[0], count, nrows, keep_ptr, &keys[0], &pos[0], &kt[0], &pt[0],
                        &hist[0])
        nruns = find_runs(&keys[0], m, &rows[0], &starts[0])
    return rows_arr[:nruns], starts_arr[:nruns + 1], pos_arr[:m]


def unique_rows(const index_t[::1] idx, Py_ssize_t nrows, keep=None):
    """Unique rows of idx (ascending, int64), leaving out rows where keep is 0."""
    return _sorted_runs(idx, nrows, keep)[0]


def coalesce(const index_t[::1] idx, const floating[:, ::1] grad, Py_ssize_t nrows,
             keep, int nthreads):
    """(rows, values): unique kept rows ascending and their gradients summed in
    batch order (deterministic for any thread count)."""
    _need(grad.shape[0] == idx.shape[0], "grad must have one row per index")
    rows_arr, starts_arr, pos_arr = _sorted_runs(idx, nrows, keep)
    cdef Py_ssize_t nruns = rows_arr.shape[0], dim = grad.shape[1], count = idx.shape[0]
    values_arr = np.empty((nruns, dim), dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] values = values_arr
    cdef const int64_t[::1] starts = starts_arr
    cdef const int64_t[::1] pos
    cdef int64_t[::1] slot, first
    if nruns == 0 or dim == 0:
        return rows_arr, values_arr
    pos = pos_arr
    slot_arr = np.empty(count, dtype=np.int64)
    first_arr = np.empty(nruns, dtype=np.int64)
    slot = slot_arr
    first = first_arr
    # Read the gradient once, front to back (streams at memory speed), adding
    # each position into its row's sum: batch order per row, as the contract says.
    with nogil:
        slots_from_runs(&pos[0], &starts[0], nruns, count, &slot[0], &first[0])
        sum_in_batch_order(&grad[0, 0], dim, &slot[0], &first[0], count, &values[0, 0],
                           nthreads)
    return rows_arr, values_arr


def sgd_fused(floating[:, ::1] table, const index_t[::1] idx, const floating[:, ::1] grad,
              keep, double lr, int nthreads):
    """table[idx[i]] -= lr * grad[i] in batch order, rows with keep 0 left out."""
    cdef const unsigned char[::1] keep_view
    cdef const unsigned char* keep_ptr = NULL
    _need(grad.shape[0] == idx.shape[0] and grad.shape[1] == table.shape[1],
          "grad must have shape (len(idx), dim)")
    _keep_ok(keep, table.shape[0])
    _indices_ok(idx, table.shape[0])
    if idx.shape[0] == 0 or table.shape[1] == 0:
        return
    if keep is not None:
        keep_view = keep
        keep_ptr = &keep_view[0]
    with nogil:
        sgd_scatter(&table[0, 0], table.shape[1], &idx[0], idx.shape[0], keep_ptr,
                    &grad[0, 0], lr, nthreads)


def renorm(floating[:, ::1] table, const int64_t[::1] rows, double max_norm,
           double norm_type, int nthreads):
    """Scale the listed unique rows to p-norm <= max_norm (PyTorch's semantics)."""
    _unique_rows_ok(rows, table.shape[0])
    if rows.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        renorm_rows(&table[0, 0], table.shape[1], &rows[0], rows.shape[0], max_norm,
                    norm_type, nthreads)


# The optimizer rules by name: number of state arrays.
_STEP_STATES = {"sgd": 0, "momentum": 1, "adagrad": 1, "adam": 2}


def step(str rule, floating[:, ::1] table, tuple state, const int64_t[::1] rows,
         const floating[:, ::1] values, double lr, double wd=0.0, double momentum=0.0,
         bint nesterov=False, double beta1=0.0, double beta2=0.0, double eps=0.0,
         int nthreads=1):
    """One optimizer step on the listed unique rows of ``table``.

    rule  'sgd' (state ()), 'momentum' (state (buf,)), 'adagrad' (state (acc,))
          or 'adam' (state (m, v)); each state array has the table's shape and
          dtype and is updated in place.
    lr    the step's rate: Adagrad's decayed rate, Adam's with the bias
          corrections folded in.
    """
    cdef sgd_rule sgd_r
    cdef momentum_rule momentum_r
    cdef adagrad_rule adagrad_r
    cdef adam_rule adam_r
    cdef floating[:, ::1] s0, s1
    cdef floating* p0 = NULL
    cdef floating* p1 = NULL
    cdef floating* t
    cdef const floating* g
    cdef const int64_t* r
    cdef Py_ssize_t n, dim = table.shape[1]
    nstate = _STEP_STATES.get(rule)
    if nstate is None:
        raise ValueError(f"embload._layer: unknown optimizer rule {rule!r}")
    _need(len(state) == nstate, f"rule {rule!r} takes {nstate} state arrays")
    dtype = np.float32 if floating is float else np.float64
    for i, arr in enumerate(state):
        _need(isinstance(arr, np.ndarray) and arr.dtype == dtype
              and arr.shape == (table.shape[0], table.shape[1])
              and arr.flags.c_contiguous and arr.flags.writeable,
              f"state array {i} must have the table's shape and dtype, C-contiguous "
              "and writeable")
    _need(values.shape[0] == rows.shape[0] and values.shape[1] == table.shape[1],
          "values must have shape (len(rows), dim)")
    _unique_rows_ok(rows, table.shape[0])
    n = rows.shape[0]
    if n == 0 or dim == 0:
        return
    if nstate >= 1:
        s0 = state[0]
        p0 = &s0[0, 0]
    if nstate == 2:
        s1 = state[1]
        p1 = &s1[0, 0]
    t, r, g = &table[0, 0], &rows[0], &values[0, 0]
    if rule == "sgd":
        sgd_r.lr, sgd_r.wd = lr, wd
        with nogil:
            step_rows(&sgd_r, t, p0, p1, dim, r, g, n, nthreads)
    elif rule == "momentum":
        momentum_r.lr, momentum_r.wd = lr, wd
        momentum_r.momentum, momentum_r.nesterov = momentum, nesterov
        with nogil:
            step_rows(&momentum_r, t, p0, p1, dim, r, g, n, nthreads)
    elif rule == "adagrad":
        adagrad_r.lr, adagrad_r.wd, adagrad_r.eps = lr, wd, eps
        with nogil:
            step_rows(&adagrad_r, t, p0, p1, dim, r, g, n, nthreads)
    else:
        adam_r.lr, adam_r.wd, adam_r.eps = lr, wd, eps
        adam_r.beta1, adam_r.beta2 = beta1, beta2
        with nogil:
            step_rows(&adam_r, t, p0, p1, dim, r, g, n, nthreads)
