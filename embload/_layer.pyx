# Embedding-layer kernels: gather (forward), coalesce (backward), max_norm
# renormalisation and sparse optimizer steps. The contract is in _layer.pxd.
#
# Determinism: the backward sorts batch positions by row with a stable radix
# sort, so every gradient row is summed in batch order by exactly one thread
# (or, for a row that fills a large part of the batch, by column blocks that
# each add in batch order). The bits are the same for any thread count.
# Scatter-free: no kernel ever has two threads writing one row.

cimport cython
from cython.parallel cimport prange, parallel
from libc.math cimport sqrt, sqrtf, pow, fabs
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy, memset

import numpy as np

# Radix digit width for the backward sort: 2^11 counters (16 KiB) stay in L1.
cdef enum:
    RADIX_BITS = 11
    RADIX_SIZE = 2048
    RADIX_MAX_PASSES = 6     # 66 bits: any Py_ssize_t row count


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


cdef void gather_rows(const floating* table, Py_ssize_t dim, const index_t* idx,
                      Py_ssize_t count, floating* out, int nthreads) noexcept nogil:
    cdef Py_ssize_t i
    cdef size_t row_bytes = <size_t>dim * sizeof(floating)
    if nthreads <= 1 or count < 64:
        for i in range(count):
            memcpy(out + i * dim, table + <Py_ssize_t>idx[i] * dim, row_bytes)
        return
    for i in prange(count, schedule='static', num_threads=nthreads):
        memcpy(out + i * dim, table + <Py_ssize_t>idx[i] * dim, row_bytes)


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


cdef inline void _sum_one(const floating* grad, Py_ssize_t dim, const int64_t* pos,
                          Py_ssize_t first, Py_ssize_t last, floating* dst,
                          Py_ssize_t c0, Py_ssize_t c1) noexcept nogil:
    cdef Py_ssize_t j, c
    cdef const floating* src = grad + pos[first] * dim
    memcpy(dst + c0, src + c0, <size_t>(c1 - c0) * sizeof(floating))
    for j in range(first + 1, last):
        src = grad + pos[j] * dim
        for c in range(c0, c1):
            dst[c] += src[c]


cdef void sum_runs(const floating* grad, Py_ssize_t dim, const int64_t* pos,
                   const int64_t* starts, Py_ssize_t nruns, floating* out,
                   int nthreads) noexcept nogil:
    cdef Py_ssize_t u, b, c0, c1, total = starts[nruns] - starts[0]
    cdef Py_ssize_t big = total + 1
    if nthreads <= 1 or nruns == 0:
        for u in range(nruns):
            _sum_one(grad, dim, pos, starts[u], starts[u + 1], out + u * dim, 0, dim)
        return
    # A row that fills much of the batch (a padding id, "the") would keep one
    # thread busy while the others idle: such rows are split by columns below.
    if dim >= 16 * nthreads:
        big = total // (4 * nthreads) + 1
    for u in prange(nruns, schedule='dynamic', chunksize=16,
                    num_threads=nthreads):
        if starts[u + 1] - starts[u] <= big:
            _sum_one(grad, dim, pos, starts[u], starts[u + 1], out + u * dim, 0, dim)
    for u in range(nruns):
        if starts[u + 1] - starts[u] > big:
            # column blocks start on multiples of 16 elements (whole cache lines)
            for b in prange(nthreads, schedule='static', num_threads=nthreads):
                c0 = (b * dim // nthreads) & ~15
                c1 = dim
                if b + 1 < nthreads:
                    c1 = ((b + 1) * dim // nthreads) & ~15
                _sum_one(grad, dim, pos, starts[u], starts[u + 1], out + u * dim, c0, c1)


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
    if nthreads <= 1:
        for u in range(nrows):
            _renorm_one(table + rows[u] * dim, dim, max_norm, norm_type)
        return
    for u in prange(nrows, schedule='static', num_threads=nthreads):
        _renorm_one(table + rows[u] * dim, dim, max_norm, norm_type)


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline void _sgd_one(floating* p, const floating* g, Py_ssize_t dim,
                          floating lr, floating wd) noexcept nogil:
    cdef Py_ssize_t c
    if wd == 0:
        for c in range(dim):
            p[c] = p[c] - lr * g[c]
    else:
        for c in range(dim):
            p[c] = p[c] - lr * (g[c] + wd * p[c])


cdef void sgd_rows(floating* table, Py_ssize_t dim, const int64_t* rows,
                   const floating* values, Py_ssize_t nrows, double lr, double wd,
                   int nthreads) noexcept nogil:
    cdef Py_ssize_t u
    for u in prange(nrows, schedule='static', num_threads=nthreads):
        _sgd_one(table + rows[u] * dim, values + u * dim, dim, <floating>lr, <floating>wd)


cdef inline void _momentum_one(floating* p, floating* buf, const floating* g,
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


cdef void sgd_momentum_rows(floating* table, floating* buf, Py_ssize_t dim,
                            const int64_t* rows, const floating* values,
                            Py_ssize_t nrows, double lr, double momentum, double wd,
                            bint nesterov, int nthreads) noexcept nogil:
    cdef Py_ssize_t u
    for u in prange(nrows, schedule='static', num_threads=nthreads):
        _momentum_one(table + rows[u] * dim, buf + rows[u] * dim, values + u * dim, dim,
                      <floating>lr, <floating>momentum, <floating>wd, nesterov)


cdef inline void _adagrad_one(floating* p, floating* acc, const floating* g,
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


cdef void adagrad_rows(floating* table, floating* acc, Py_ssize_t dim,
                       const int64_t* rows, const floating* values, Py_ssize_t nrows,
                       double clr, double eps, double wd, int nthreads) noexcept nogil:
    cdef Py_ssize_t u
    for u in prange(nrows, schedule='static', num_threads=nthreads):
        _adagrad_one(table + rows[u] * dim, acc + rows[u] * dim, values + u * dim, dim,
                     <floating>clr, <floating>eps, <floating>wd)


cdef inline void _adam_one(floating* p, floating* m, floating* v, const floating* g,
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


cdef void adam_rows(floating* table, floating* m, floating* v, Py_ssize_t dim,
                    const int64_t* rows, const floating* values, Py_ssize_t nrows,
                    double step_size, double beta1, double beta2, double eps,
                    double wd, int nthreads) noexcept nogil:
    cdef Py_ssize_t u
    cdef Py_ssize_t off
    for u in prange(nrows, schedule='static', num_threads=nthreads):
        off = rows[u] * dim
        _adam_one(table + off, m + off, v + off, values + u * dim, dim,
                  <floating>step_size, <floating>(1.0 - beta1), <floating>(1.0 - beta2),
                  <floating>eps, <floating>wd)


# ---------------------------------------------------------------- wrappers
# Called by layer.py / optimizers.py after they checked dtypes, shapes,
# contiguity and ranges; they only take pointers and drop the GIL.

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
    """out[i] = table[idx[i]] (indices already checked)."""
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
    rows_arr, starts_arr, pos_arr = _sorted_runs(idx, nrows, keep)
    cdef Py_ssize_t nruns = rows_arr.shape[0], dim = grad.shape[1]
    values_arr = np.empty((nruns, dim), dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] values = values_arr
    cdef const int64_t[::1] starts = starts_arr
    cdef const int64_t[::1] pos
    if nruns == 0 or dim == 0:
        return rows_arr, values_arr
    pos = pos_arr
    with nogil:
        sum_runs(&grad[0, 0], dim, &pos[0], &starts[0], nruns, &values[0, 0], nthreads)
    return rows_arr, values_arr


def renorm(floating[:, ::1] table, const int64_t[::1] rows, double max_norm,
           double norm_type, int nthreads):
    """Scale the listed unique rows to p-norm <= max_norm (PyTorch's semantics)."""
    if rows.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        renorm_rows(&table[0, 0], table.shape[1], &rows[0], rows.shape[0], max_norm,
                    norm_type, nthreads)


def sgd(floating[:, ::1] table, const int64_t[::1] rows, const floating[:, ::1] values,
        double lr, double wd, int nthreads):
    if rows.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        sgd_rows(&table[0, 0], table.shape[1], &rows[0], &values[0, 0], rows.shape[0],
                 lr, wd, nthreads)


def sgd_momentum(floating[:, ::1] table, floating[:, ::1] buf, const int64_t[::1] rows,
                 const floating[:, ::1] values, double lr, double momentum, double wd,
                 bint nesterov, int nthreads):
    if rows.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        sgd_momentum_rows(&table[0, 0], &buf[0, 0], table.shape[1], &rows[0],
                          &values[0, 0], rows.shape[0], lr, momentum, wd, nesterov,
                          nthreads)


def adagrad(floating[:, ::1] table, floating[:, ::1] acc, const int64_t[::1] rows,
            const floating[:, ::1] values, double clr, double eps, double wd,
            int nthreads):
    if rows.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        adagrad_rows(&table[0, 0], &acc[0, 0], table.shape[1], &rows[0], &values[0, 0],
                     rows.shape[0], clr, eps, wd, nthreads)


def adam(floating[:, ::1] table, floating[:, ::1] m, floating[:, ::1] v,
         const int64_t[::1] rows, const floating[:, ::1] values, double step_size,
         double beta1, double beta2, double eps, double wd, int nthreads):
    if rows.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        adam_rows(&table[0, 0], &m[0, 0], &v[0, 0], table.shape[1], &rows[0],
                  &values[0, 0], rows.shape[0], step_size, beta1, beta2, eps, wd,
                  nthreads)
