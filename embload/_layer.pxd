# Contract of the embedding-layer kernels (embload/_layer.pyx).
#
# Every kernel is `noexcept nogil` and works on raw, C-contiguous buffers whose
# shapes, dtypes and index ranges the caller has already checked: the `def`
# wrappers at the bottom of _layer.pyx check them (again) before dropping the
# GIL, after embload/layer.py checked them with messages for users. A batch's
# indices are checked by the wrappers only; their BadIndex(position) lets
# layer.py name the offending entry. A table is `nrows x dim` elements of
# `floating` (float or double), row r starting at `<Py_ssize_t>r * dim`.
#
# Sparse gradients are "coalesced": `rows` holds unique, ascending row numbers
# and `values` one summed gradient row per entry. The optimizer kernels rely on
# the uniqueness: each thread owns whole rows, so no two threads ever write the
# same row and the result does not depend on the thread count.

from libc.stdint cimport int32_t, int64_t

ctypedef fused index_t:
    int32_t
    int64_t

ctypedef fused floating:
    float
    double

# Position of the first index outside [0, nrows), or -1 when all are valid.
cdef Py_ssize_t first_bad_index(const index_t* idx, Py_ssize_t count,
                                Py_ssize_t nrows) noexcept nogil

# out[i, :] = table[idx[i], :] for i in [0, count); indices already validated.
# Rows are prefetched a few iterations ahead; an output of 8 MiB or more is
# written with streaming stores (src/rowcopy.h).
cdef void gather_rows(const floating* table, Py_ssize_t dim, const index_t* idx,
                      Py_ssize_t count, floating* out, int nthreads) noexcept nogil

# Stable LSD radix sort of the positions 0..count-1 by row (idx[i]), dropping
# positions whose row is frozen (keep == NULL keeps all). Results in
# keys[0:m] (rows, ascending) and pos[0:m] (batch positions, ascending within
# a row); keys_tmp/pos_tmp are scratch of the same length `count`, hist
# scratch of 6 * 2048 counters. Returns m.
cdef Py_ssize_t sort_by_row(const index_t* idx, Py_ssize_t count, Py_ssize_t nrows,
                            const unsigned char* keep, int64_t* keys, int64_t* pos,
                            int64_t* keys_tmp, int64_t* pos_tmp,
                            int64_t* hist) noexcept nogil

# Runs of equal keys: rows[u] = key of run u, starts[u]..starts[u+1] its span.
# Returns the number of runs; starts needs room for m + 1 entries.
cdef Py_ssize_t find_runs(const int64_t* keys, Py_ssize_t m, int64_t* rows,
                          int64_t* starts) noexcept nogil

# slot[i] = run of batch position i (-1 when it was left out), first[u] = the
# first (smallest) batch position of run u.
cdef void slots_from_runs(const int64_t* pos, const int64_t* starts, Py_ssize_t nruns,
                          Py_ssize_t count, int64_t* slot, int64_t* first) noexcept nogil

# out[slot[i], :] = sum of grad[i, :] over the positions i of that slot, added
# in batch order. Each slot belongs to one thread (by a hash), which adds its
# positions in batch order: the same bits for any nthreads.
cdef void sum_in_batch_order(const floating* grad, Py_ssize_t dim, const int64_t* slot,
                             const int64_t* first, Py_ssize_t count, floating* out,
                             int nthreads) noexcept nogil

# Plain SGD straight from the batch, without coalescing:
# table[idx[i], :] -= lr * grad[i, :] in batch order, skipping rows with keep 0;
# each table row belongs to one thread (by a hash), as above.
cdef void sgd_scatter(floating* table, Py_ssize_t dim, const index_t* idx, Py_ssize_t count,
                      const unsigned char* keep, const floating* grad, double lr,
                      int nthreads) noexcept nogil

# PyTorch's embedding_renorm_: every listed (unique) row whose p-norm exceeds
# max_norm is scaled by max_norm / (norm + 1e-7).
cdef void renorm_rows(floating* table, Py_ssize_t dim, const int64_t* rows,
                      Py_ssize_t nrows, double max_norm, double norm_type,
                      int nthreads) noexcept nogil

# Optimizer steps over a coalesced gradient (rows unique). One skeleton,
# step_rows, visits the rows (each thread owning whole rows, the next rows
# prefetched with their state) and applies the rule's update to each; the rule
# is a fused type, so Cython makes one copy of the loop per rule (and per
# floating type) with no dispatch inside it. `lr` is the step's own rate
# (Adagrad's decayed rate, Adam's step size with the bias corrections folded
# in); `wd` is L2 weight decay added to the gradient of the touched rows:
# g = grad + wd * param. Per rule, with its state arrays s0, s1 (each of the
# table's shape; NULL when the rule has fewer):

# param -= lr * g
cdef struct sgd_rule:
    double lr
    double wd

# lazy momentum, s0 = buf: buf = momentum * buf + g;
# param -= lr * (g + momentum * buf) with nesterov, else lr * buf
cdef struct momentum_rule:
    double lr
    double wd
    double momentum
    bint nesterov

# s0 = acc: acc += g*g; param -= lr * g / (sqrt(acc) + eps)
# (torch.optim.Adagrad with sparse gradients)
cdef struct adagrad_rule:
    double lr
    double wd
    double eps

# s0 = m, s1 = v: m += (1-b1)(g-m); v += (1-b2)(g*g-v);
# param -= lr * m / (sqrt(v) + eps)   (torch.optim.SparseAdam)
cdef struct adam_rule:
    double lr
    double wd
    double beta1
    double beta2
    double eps

ctypedef fused step_rule:
    sgd_rule
    momentum_rule
    adagrad_rule
    adam_rule

cdef void step_rows(const step_rule* rule, floating* table, floating* s0, floating* s1,
                    Py_ssize_t dim, const int64_t* rows, const floating* values,
                    Py_ssize_t nrows, int nthreads) noexcept nogil
