# Similarity kernels: row norms, the top-k selection of a tiled scan (scores from BLAS),
# and the whole scan of one query in C (dot products from src/simdot.h). Contract and
# ordering rules in _similarity.pxd; the tiled scan (tiles, BLAS, memory budget) is
# driven by embload/similarity.py.

cimport cython
from cython.parallel cimport prange
from libc.math cimport sqrt, INFINITY
from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t, uint16_t, INT64_MAX

cdef extern from "simdot.h" nogil:
    float el_dot_f32(const float* row, const float* q, Py_ssize_t n)
    float el_dot_f16(const uint16_t* row, const float* q, Py_ssize_t n)
    double el_dot_f64(const double* row, const double* q, Py_ssize_t n)
    void el_dot_4x4(const void* const* rows, int half, const float* const* qs, Py_ssize_t n,
                    float* out)
    void el_widen_f16(float* dst, const uint16_t* src, Py_ssize_t count)
    void el_dot_1x4(const void* const* rows, int half, const float* q, Py_ssize_t n, float* out)
    void el_dot_1x8_f32(const float* const* rows, const float* q, Py_ssize_t n, float* out)
    int el_simd_init()
    int el_simd_level

cdef extern from "prefetch.h" nogil:
    void el_prefetch_read(const void* p, size_t nbytes)

# Rows a lone query prefetches ahead: it reads each row once, straight from memory.
cdef enum:
    PREFETCH_ROWS = 8

# the dot products' path for this CPU, chosen once (src/simdot.h)
SIMD_LEVEL = el_simd_init()


def _set_simd_level(int level):
    """Force the dot products' path (0: portable C; 1: AVX2; 2: AVX-512; never above what
    the CPU has); returns the old level. For tests, which check that the paths agree."""
    global el_simd_level
    old = el_simd_level
    el_simd_level = min(max(level, 0), SIMD_LEVEL)
    return old

# table element kinds of scan_query
cdef enum:
    KIND_F16 = 0
    KIND_F32 = 1
    KIND_F64 = 2

import numpy as np


cdef void row_norms_kernel(const floating* table, Py_ssize_t nrows, Py_ssize_t dim,
                           floating* out, int nthreads) noexcept nogil:
    cdef Py_ssize_t r, j
    cdef double acc, x
    cdef const floating* row
    for r in prange(nrows, schedule='static', num_threads=nthreads):
        row = table + r * dim
        acc = 0.0
        for j in range(dim):
            x = row[j]
            acc = acc + x * x
        out[r] = <floating>sqrt(acc)


cdef inline bint worse(floating s1, int64_t r1, floating s2, int64_t r2) noexcept nogil:
    # (s1, r1) ranks below (s2, r2)
    return s1 < s2 or (s1 == s2 and r1 > r2)


cdef void heap_offer(floating* scores, int64_t* rows, Py_ssize_t k,
                     floating s, int64_t row) noexcept nogil:
    cdef Py_ssize_t i = 0, child, right
    if k <= 0 or not worse(scores[0], rows[0], s, row):
        return
    # replace the root, sift down
    while True:
        child = 2 * i + 1
        if child >= k:
            break
        right = child + 1
        if right < k and worse(scores[right], rows[right], scores[child], rows[child]):
            child = right
        if not worse(scores[child], rows[child], s, row):
            break
        scores[i] = scores[child]
        rows[i] = rows[child]
        i = child
    scores[i] = s
    rows[i] = row


cdef inline bint excluded(const int64_t* ex, Py_ssize_t nex, int64_t row) noexcept nogil:
    cdef Py_ssize_t e
    for e in range(nex):
        if ex[e] == row:
            return True
    return False


cdef inline void offer(floating n, floating* hs, int64_t* hr, Py_ssize_t k,
                       const int64_t* ex, Py_ssize_t nex, floating s, int64_t r) noexcept nogil:
    # Offer row r, of dot product s with the query and norm n, scored s / n.
    cdef floating bound
    # Most rows score below the worst kept one: reject them without the division, with a
    # margin far above the rounding of s / n vs s, worst * n. (A NaN bound rejects nothing.)
    # Only for n > 0: a zero row scores 0 whatever s is, and a NaN norm is left to the
    # division below.
    if n > 0:
        bound = hs[0] * n
        if s < bound - (bound if bound >= 0 else -bound) * <floating>1e-5 - <floating>1e-30:
            return
    # a zero vector is its own unit vector (gensim's unitvec): cosine 0; a NaN norm keeps
    # its NaN score, which never enters a heap
    s = s / n if n != 0 else 0
    if worse(hs[0], hr[0], s, r) and not excluded(ex, nex, r):
        heap_offer(hs, hr, k, s, r)


cdef void offer_range(const floating* scores, const floating* norms, Py_ssize_t lo,
                      Py_ssize_t hi, int64_t row0, floating* hs, int64_t* hr, Py_ssize_t k,
                      const int64_t* ex, Py_ssize_t nex) noexcept nogil:
    cdef Py_ssize_t r
    cdef floating s, n
    if norms != NULL:
        for r in range(lo, hi):
            offer(norms[r], hs, hr, k, ex, nex, scores[r], row0 + r)
        return
    for r in range(lo, hi):
        s = scores[r]
        # cheap test first; exclusions (a query's own words) are checked only for
        # the few rows that would enter the heap
        if worse(hs[0], hr[0], s, row0 + r) and not excluded(ex, nex, row0 + r):
            heap_offer(hs, hr, k, s, row0 + r)


def row_norms(const floating[:, ::1] table, floating[::1] out, int nthreads):
    """out[r] = Euclidean norm of table[r] (summed in double)."""
    if out.shape[0] != table.shape[0]:
        raise ValueError(f"out has {out.shape[0]} entries for {table.shape[0]} rows")
    if table.shape[0] == 0:
        return
    with nogil:
        row_norms_kernel(&table[0, 0], table.shape[0], table.shape[1], &out[0], max(1, nthreads))


def new_heaps(Py_ssize_t nqueries, Py_ssize_t parts, Py_ssize_t k, dtype):
    """Empty heaps for nqueries x parts: scores (-inf) and rows (INT64_MAX)."""
    scores = np.full((nqueries, parts, k), -np.inf, dtype=dtype)
    rows = np.full((nqueries, parts, k), INT64_MAX, dtype=np.int64)
    return scores, rows


def topk_update(const floating[:, ::1] scores, const floating[::1] norms, int64_t row0,
                floating[:, :, ::1] heap_scores, int64_t[:, :, ::1] heap_rows,
                const int64_t[:, ::1] exclude, int nthreads):
    """Offer one tile of scores to the heaps.

    scores[q, r] is query q's score of row row0 + r (divided by norms[r] when norms is not
    None). heap_scores/heap_rows[q, p] is query q's heap for part p of every tile's rows
    (parts > 1 lets several threads work on one query). exclude[q] lists rows that query q
    never returns (padded with -1).
    """
    cdef Py_ssize_t nq = scores.shape[0], m = scores.shape[1]
    cdef Py_ssize_t parts = heap_scores.shape[1], k = heap_scores.shape[2]
    cdef Py_ssize_t nex = exclude.shape[1], item, q, p, lo, hi
    cdef const floating* norm_ptr = NULL
    if heap_scores.shape[0] != nq or heap_rows.shape[0] != nq or exclude.shape[0] != nq:
        raise ValueError("scores, heaps and exclude must have one entry per query")
    if heap_rows.shape[1] != parts or heap_rows.shape[2] != k:
        raise ValueError("heap_scores and heap_rows must have the same shape")
    if norms is not None:
        if norms.shape[0] != m:
            raise ValueError(f"{norms.shape[0]} norms for a tile of {m} rows")
        if m:
            norm_ptr = &norms[0]
    if nq == 0 or m == 0 or k == 0 or parts == 0:
        return
    with nogil:
        for item in prange(nq * parts, schedule='static', num_threads=max(1, nthreads)):
            q = item // parts
            p = item % parts
            lo = m * p // parts
            hi = m * (p + 1) // parts
            offer_range(&scores[q, 0], norm_ptr, lo, hi, row0, &heap_scores[q, p, 0],
                        &heap_rows[q, p, 0], k, &exclude[q, 0] if nex else NULL, nex)


cdef inline floating row_dot(const void* table, int kind, Py_ssize_t r, Py_ssize_t dim,
                             const floating* q) noexcept nogil:
    if floating is double:
        return el_dot_f64(<const double*>table + r * dim, q, dim)
    else:
        if kind == KIND_F16:
            return el_dot_f16(<const uint16_t*>table + r * dim, q, dim)
        return el_dot_f32(<const float*>table + r * dim, q, dim)


cdef void scan_part(const void* table, int kind, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t dim,
                    const floating* queries, Py_ssize_t nq, const floating* norms, floating* hs,
                    int64_t* hr, Py_ssize_t p, Py_ssize_t parts, Py_ssize_t k, const int64_t* ex,
                    Py_ssize_t nex, Py_ssize_t tile_rows) noexcept nogil:
    cdef Py_ssize_t t0, t1, qb, r, i, j, step
    cdef float out16[16]
    cdef const void* rptr[4]
    cdef const float* qptr[4]
    cdef const float* fptr[8]
    cdef size_t row_bytes = <size_t>dim * (2 if kind == KIND_F16 else sizeof(floating))
    cdef const char* base = <const char*>table
    cdef Py_ssize_t heap_step = parts * k   # from query q's heap of part p to query q + 1's
    cdef floating* qhs
    cdef int64_t* qhr
    cdef float* widened = NULL
    cdef Py_ssize_t widened_tile = -1
    if kind == KIND_F16 and nq >= 4:
        # NULL (out of memory) only means widening each block as it is read: same bits
        widened = <float*>malloc(<size_t>tile_rows * <size_t>dim * sizeof(float))
    t0 = lo
    while t0 < hi:
        t1 = min(hi, t0 + tile_rows)
        qb = 0
        while qb < nq:
            qhs = hs + (qb * parts + p) * k
            qhr = hr + (qb * parts + p) * k
            if floating is float and qb + 4 <= nq:
                # 4 queries x 4 rows at a time (the tile's rows stay in cache for all queries)
                for i in range(4):
                    qptr[i] = <const float*>(queries + (qb + i) * dim)
                if widened != NULL and widened_tile != t0:
                    # a float16 tile, widened once for all the queries (exact: the values
                    # the float16 dot products see)
                    el_widen_f16(widened, <const uint16_t*>(base + t0 * row_bytes), (t1 - t0) * dim)
                    widened_tile = t0
                r = t0
                while r + 4 <= t1:
                    for i in range(4):
                        if widened != NULL:
                            rptr[i] = widened + (r - t0 + i) * dim
                        else:
                            rptr[i] = base + (r + i) * row_bytes
                    el_dot_4x4(rptr, 0 if widened != NULL else kind == KIND_F16, qptr, dim, out16)
                    for i in range(4):
                        for j in range(4):
                            offer(norms[r + j], qhs + i * heap_step, qhr + i * heap_step, k,
                                  ex + (qb + i) * nex, nex, out16[4 * i + j], r + j)
                    r += 4
                while r < t1:
                    for i in range(4):
                        offer(norms[r], qhs + i * heap_step, qhr + i * heap_step, k, ex + (qb + i) * nex,
                              nex, row_dot(table, kind, r, dim, queries + (qb + i) * dim), r)
                    r += 1
                step = 4
            else:
                r = t0
                if floating is float and kind == KIND_F32:
                    # 8 rows at a time: eight independent multiply-add chains. No software
                    # prefetch: the rows are read in order, which the hardware prefetcher
                    # follows; a prefetch per cache line doubles the loads issued and was
                    # slower (scripts/bench_similarity.py)
                    while r + 8 <= t1:
                        for i in range(8):
                            fptr[i] = <const float*>(base + (r + i) * row_bytes)
                        el_dot_1x8_f32(fptr, <const float*>(queries + qb * dim), dim, out16)
                        for i in range(8):
                            offer(norms[r + i], qhs, qhr, k, ex + qb * nex, nex, out16[i], r + i)
                        r += 8
                if floating is float:
                    # 4 rows at a time: more loads in flight for a query that waits on memory
                    while r + 4 <= t1:
                        if r + PREFETCH_ROWS + 4 <= hi:
                            el_prefetch_read(base + (r + PREFETCH_ROWS) * row_bytes, 4 * row_bytes)
                        for i in range(4):
                            rptr[i] = base + (r + i) * row_bytes
                        el_dot_1x4(rptr, kind == KIND_F16, <const float*>(queries + qb * dim), dim, out16)
                        for i in range(4):
                            offer(norms[r + i], qhs, qhr, k, ex + qb * nex, nex, out16[i], r + i)
                        r += 4
                while r < t1:
                    if r + PREFETCH_ROWS < hi:
                        el_prefetch_read(base + (r + PREFETCH_ROWS) * row_bytes, row_bytes)
                    offer(norms[r], qhs, qhr, k, ex + qb * nex, nex,
                          row_dot(table, kind, r, dim, queries + qb * dim), r)
                    r += 1
                step = 1
            qb += step
        t0 = t1
    free(widened)


def scan(table, const floating[:, ::1] queries, const floating[::1] norms, Py_ssize_t stop,
         floating[:, :, ::1] heap_scores, int64_t[:, :, ::1] heap_rows,
         const int64_t[:, ::1] exclude, int nthreads, Py_ssize_t tile_rows=0):
    """Offer rows [0, stop) of table, scored dot(row, query) / norms[row], to every query's heaps.

    table: C-contiguous float16 or float32 (float queries) or float64 (double queries),
    memory-mapped or not, read in place. heap_scores/heap_rows[q, p] is query q's heap for
    part p of the rows (parts run on nthreads threads); exclude[q] lists rows query q never
    returns (padded with -1). The rows are taken in tiles of tile_rows (0: about 128 KiB),
    which stay in cache while every query passes over them. A score is the same bits
    whatever the tiles, parts, threads or number of queries.
    """
    cdef Py_ssize_t nq = queries.shape[0], dim, parts = heap_scores.shape[1], k = heap_scores.shape[2]
    cdef Py_ssize_t nex = exclude.shape[1], p
    cdef int kind
    cdef const unsigned char[:, ::1] raw
    cdef const int64_t* ex_ptr = NULL
    cdef bint double_query = floating is double
    if not isinstance(table, np.ndarray) or table.ndim != 2 or not table.flags.c_contiguous:
        raise ValueError("table must be a C-contiguous 2-D array")
    if table.dtype == np.float16:
        kind = KIND_F16
    elif table.dtype == np.float32:
        kind = KIND_F32
    elif table.dtype == np.float64:
        kind = KIND_F64
    else:
        raise TypeError(f"table must be float16, float32 or float64, not {table.dtype}")
    if (kind == KIND_F64) != double_query:
        raise TypeError("a float64 table takes float64 queries; float16/float32 tables float32 ones")
    dim = table.shape[1]
    if queries.shape[1] != dim:
        raise ValueError(f"queries have {queries.shape[1]} values for rows of {dim}")
    if not 0 <= stop <= table.shape[0] or norms.shape[0] < stop:
        raise ValueError(f"stop {stop} outside the table's {table.shape[0]} rows or its norms")
    if heap_scores.shape[0] != nq or heap_rows.shape[0] != nq or exclude.shape[0] != nq:
        raise ValueError("heaps and exclusions must have one entry per query")
    if heap_rows.shape[1] != parts or heap_rows.shape[2] != k:
        raise ValueError("heap_scores and heap_rows must have the same shape")
    if nq == 0 or stop == 0 or k == 0 or parts == 0 or dim == 0:
        return
    if tile_rows <= 0:
        tile_rows = max(2, (128 << 10) // (dim * table.dtype.itemsize))
    if nex:
        ex_ptr = &exclude[0, 0]
    # the bytes, read-only or not (a memory-mapped cache is read-only)
    raw = table.reshape(table.shape[0], -1).view(np.uint8)
    with nogil:
        # Parts are taken by whichever thread is free ('dynamic'): on busy cores a thread
        # that lost its core would hold up a fixed share. Which thread scans a part does
        # not change its heap, so the answers stay the same.
        for p in prange(parts, schedule='dynamic', chunksize=1, num_threads=max(1, min(nthreads, parts))):
            scan_part(<const void*>&raw[0, 0], kind, stop * p // parts, stop * (p + 1) // parts,
                      dim, &queries[0, 0], nq, &norms[0], &heap_scores[0, 0, 0],
                      &heap_rows[0, 0, 0], p, parts, k, ex_ptr, nex, tile_rows)
