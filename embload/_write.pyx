# cython: freethreading_compatible = True
"""Writer kernels: a block of matrix rows to the bytes of a GloVe / word2vec
text line or a word2vec binary record, formatted without the GIL (the writer
runs blocks on several threads at once).

Text values are the shortest decimal that reads back to the same value
(``src/floatformat.h``): float32 and float16 rows use the float32 form (a
float16 widened to float32 is exact, so the text reads back exactly both as
float32 and as float16), float64 rows the float64 form. Binary records hold
float32 little-endian values (the C tool's format): float64 rows are rounded
to nearest even, float16 rows widened exactly.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport int64_t, uint16_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from embload._conversions cimport (EL_FORMAT_MAX, el_format_float32_hint, el_format_float64,
                                   el_half_to_float)

cnp.import_array()

__all__ = ["row_bound", "format_block"]

# Bytes one formatted value can take, separator included (float32 needs 20:
# "-9999999500000000.0 "; float64 25; EL_FORMAT_MAX bounds them all).
VALUE_BOUND = EL_FORMAT_MAX + 1


cdef inline void _store_le32(char *dst, float v) noexcept nogil:
    # byte by byte, so the file is little-endian whatever the machine's order
    cdef unsigned int u
    memcpy(&u, &v, 4)
    dst[0] = <char>(u & 0xff)
    dst[1] = <char>((u >> 8) & 0xff)
    dst[2] = <char>((u >> 16) & 0xff)
    dst[3] = <char>((u >> 24) & 0xff)


cdef Py_ssize_t format_rows(const RowBlock *blk, Py_ssize_t first, Py_ssize_t stop,
                            Py_ssize_t row0, char *out) noexcept nogil:
    """Rows [first, stop) of the block into `out`; returns the bytes written.

    `row0` is the matrix row of block index 0 (blk.words[0])."""
    cdef Py_ssize_t i, j, k = 0, dim = blk.dim, wl
    cdef int khint = 0
    cdef const float *f32
    cdef const double *f64
    cdef const uint16_t *f16
    for i in range(first, stop):
        wl = blk.word_len[i]
        memcpy(out + k, blk.words[i], <size_t>wl)
        k += wl
        if blk.binary:
            out[k] = b' '
            k += 1
        # text: a space before each value, so a row of dim 0 is "word\n"
        if blk.kind == 32:
            f32 = <const float *>blk.data + <Py_ssize_t>(row0 + i) * dim
            if blk.binary:
                for j in range(dim):
                    _store_le32(out + k, f32[j])
                    k += 4
            else:
                for j in range(dim):
                    out[k] = b' '
                    k += 1 + el_format_float32_hint(f32[j], out + k + 1, &khint)
        elif blk.kind == 64:
            f64 = <const double *>blk.data + <Py_ssize_t>(row0 + i) * dim
            if blk.binary:
                for j in range(dim):
                    _store_le32(out + k, <float>f64[j])
                    k += 4
            else:
                for j in range(dim):
                    out[k] = b' '
                    k += 1 + el_format_float64(f64[j], out + k + 1)
        else:
            f16 = <const uint16_t *>blk.data + <Py_ssize_t>(row0 + i) * dim
            if blk.binary:
                for j in range(dim):
                    _store_le32(out + k, el_half_to_float(f16[j]))
                    k += 4
            else:
                for j in range(dim):
                    out[k] = b' '
                    k += 1 + el_format_float32_hint(el_half_to_float(f16[j]), out + k + 1, &khint)
        out[k] = b'\n'
        k += 1
    return k


def row_bound(Py_ssize_t dim, bint binary):
    """Upper bound of the bytes a row takes, without its word."""
    return 2 + dim * (4 if binary else VALUE_BOUND)


def format_block(matrix, arena, offsets, Py_ssize_t start, Py_ssize_t stop, bint binary, out):
    """Format rows ``[start, stop)`` of ``matrix`` into ``out``; return the bytes used.

    Called from the writer's worker threads, one part of the rows per call; the GIL
    is released while formatting, so parts format in parallel.

    Parameters
    ----------
    matrix : ndarray, C-contiguous, (rows, dim), float16/float32/float64
    arena, offsets : bytes-like, int64 ndarray
        The UTF-8 words of all rows: word ``i`` is ``arena[offsets[i]:offsets[i + 1] - 1]``
        (each word is followed by one separator byte, never written). Words are
        pointed at, not copied into Python objects.
    out : writable C-contiguous uint8 ndarray
        Must hold at least the rows' words plus ``row_bound(dim, binary)`` per row
        (the caller sizes it).

    Returns
    -------
    int
        Bytes used: ``out[:used]`` are the rows' bytes.
    """
    cdef cnp.ndarray arr = matrix
    cdef const unsigned char[::1] text = arena
    cdef const int64_t[::1] off = offsets
    cdef Py_ssize_t n = stop - start, i, used
    cdef RowBlock blk
    if not arr.flags.c_contiguous or arr.ndim != 2:
        raise ValueError("matrix must be a C-contiguous 2-D array")
    if start < 0 or stop > arr.shape[0] or n < 0:
        raise ValueError(f"rows [{start}, {stop}) outside a matrix of {arr.shape[0]} rows")
    if off.shape[0] < stop + 1:
        raise ValueError(f"{off.shape[0]} word offsets for rows up to {stop}")
    # every word of the block inside the arena, lengths >= 0 (monotonic offsets)
    for i in range(start, stop):
        if off[i] < 0 or off[i + 1] <= off[i] or off[i + 1] - 1 > text.shape[0]:
            raise ValueError(f"word offsets {off[i]}, {off[i + 1]} of row {i} do not fit an arena "
                             f"of {text.shape[0]} bytes")
    if arr.dtype == np.float32:
        blk.kind = 32
    elif arr.dtype == np.float64:
        blk.kind = 64
    elif arr.dtype == np.float16:
        blk.kind = 16
    else:
        raise TypeError(f"matrix dtype must be float16, float32 or float64, not {arr.dtype}")
    if not arr.dtype.isnative:
        raise TypeError("matrix must be in native byte order")
    cdef cnp.ndarray buf = out
    if buf.dtype != np.uint8 or not buf.flags.c_contiguous or not buf.flags.writeable or buf.ndim != 1:
        raise ValueError("out must be a writable C-contiguous 1-D uint8 array")
    cdef Py_ssize_t need = off[stop] - off[start] + n * row_bound(arr.shape[1], binary)
    if buf.shape[0] < need:
        raise ValueError(f"out holds {buf.shape[0]} bytes, the rows need up to {need}")
    blk.data = <const char *>cnp.PyArray_DATA(arr)
    blk.dim = arr.shape[1]
    blk.binary = binary
    cdef const char **wp = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef Py_ssize_t *wl = <Py_ssize_t *>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef const char *base = NULL
    cdef char *dst = <char *>cnp.PyArray_DATA(buf)
    try:
        if wp == NULL or wl == NULL:
            raise MemoryError()
        if text.shape[0]:
            base = <const char *>&text[0]
        for i in range(n):
            wp[i] = base + off[start + i]
            wl[i] = off[start + i + 1] - 1 - off[start + i]
        blk.words = wp
        blk.word_len = wl
        with nogil:
            used = format_rows(&blk, 0, n, start, dst)
        return used
    finally:
        free(wp)
        free(wl)
