# Contract of embload._similarity: the kernels behind embload/similarity.py.
#
# scan_part is the top-k scan of a few queries: dot products of table rows with queries
# (src/simdot.h, in a fixed order), divided by the row norms, offered to bounded heaps, all
# without the GIL. topk_update (in the .pyx) offers scores computed by NumPy's BLAS (large
# batches, 3CosMul) to the same heaps. row_norms_kernel computes the norms once per table
# (embload.similarity keeps them).
#
# Order of answers (also for ties): a higher score first; equal scores, the lower row
# first. A NaN score never enters a top-k. Every kernel gives the same bits for any
# thread count: each heap belongs to one thread, and the final merge sorts by the total
# order above, so how rows were split among threads does not matter.

from libc.stdint cimport int64_t

ctypedef fused floating:
    float
    double

# out[r] = sqrt(sum of table[r, :]^2), summed in double, rounded once to `floating`.
cdef void row_norms_kernel(const floating* table, Py_ssize_t nrows, Py_ssize_t dim,
                           floating* out, int nthreads) noexcept nogil

# A bounded min-heap of (score, row): heap[0] is the worst entry kept, "worse" being a
# lower score, or an equal score and a higher row. Empty slots hold (-inf, INT64_MAX).
# Offer (s, row): kept when better than the worst, which it then replaces.
cdef void heap_offer(floating* scores, int64_t* rows, Py_ssize_t k,
                     floating s, int64_t row) noexcept nogil

# The scan in C: rows [lo, hi) of `table` (float16 read as uint16 and widened in
# src/simdot.h, float32 or float64; `kind` 0, 1, 2) against `nq` queries, scored
# dot(row, query) / norms[row] (0 for a zero norm), each sum in the fixed order of
# src/simdot.h whatever the blocking (4 queries x 4 rows at a time for float; a lone float32
# query 8 rows at a time). Query q's
# heap for part p is at hs/hr + (q * parts + p) * k; rows in ex[q * nex : (q + 1) * nex]
# are skipped. Rows go in tiles of tile_rows, which stay in cache while every query passes.
cdef void scan_part(const void* table, int kind, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t dim,
                    const floating* queries, Py_ssize_t nq, const floating* norms, floating* hs,
                    int64_t* hr, Py_ssize_t p, Py_ssize_t parts, Py_ssize_t k, const int64_t* ex,
                    Py_ssize_t nex, Py_ssize_t tile_rows) noexcept nogil
