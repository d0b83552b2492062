# cython: freethreading_compatible = True
"""Bulk numeric conversions over the C kernels of ``src/floatparse.h`` and
``src/floatformat.h``: used by the tests (to compare the C code with Python's
``float()``/``repr()`` and NumPy's casts); the writers cimport the kernels
through ``_conversions.pxd``.

Every function here takes whole lists or arrays so that the per-value work runs
in C without the GIL; none of them goes through a Python float per value except
where noted.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint16_t

cnp.import_array()

__all__ = ["parse_float_tokens", "parse_float_buffer", "double_to_half_bits",
           "format_float32", "format_float64", "format_float16"]

cdef inline bint _is_space(char c) noexcept nogil:
    return c == b' ' or c == b'\t' or c == b'\n' or c == b'\r' or c == b'\v' or c == b'\f'


def parse_float_tokens(tokens, padding=b""):
    """Parse each bytes token as Python's ``float()`` would (no surrounding whitespace).

    Parameters
    ----------
    tokens : sequence of bytes
    padding : bytes, optional
        Appended after each token inside the parsed buffer (it must start with
        whitespace): with 19 or more bytes after a token the parser takes its
        fast path, with fewer the general one. Tests use this to reach both.

    Returns
    -------
    values : ndarray of float64
        NaN where a token is invalid.
    errors : list of int
        Indices of the tokens that are not numbers (not wholly consumed).
    """
    cdef Py_ssize_t n = len(tokens), i, tl
    cdef cnp.ndarray[cnp.float64_t, ndim=1] out = np.empty(n, dtype=np.float64)
    cdef const char *p
    cdef const char *end
    cdef const char *q
    cdef double v
    cdef bytes tok
    if padding and not _is_space(padding[0]):
        raise ValueError("padding must start with whitespace")
    errors = []
    for i in range(n):
        tl = len(tokens[i])
        tok = bytes(tokens[i]) + padding
        p = tok
        end = p + len(tok)
        q = el_parse_double(p, end, &v)
        if q == NULL or q != p + tl:
            errors.append(i)
            v = float("nan")
        out[i] = v
    return out, errors


def parse_float_buffer(const unsigned char[::1] data, dtype="float64"):
    """Parse a whitespace-separated buffer of numbers into a 1-D array.

    The float64 value of each token is cast to ``dtype`` exactly as NumPy casts
    a float64 (float16 rounds directly from the double, as ``np.float16(x)``).

    Raises
    ------
    ValueError
        Naming the byte offset and the text of the first token that is not a number.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float16, float32 or float64, not {dtype}")
    cdef Py_ssize_t n = data.shape[0], count = 0, bad = -1, i
    cdef const char *base = <const char *>&data[0] if n else <const char *>b""
    cdef const char *p = base
    cdef const char *last = base + n
    cdef const char *q
    cdef double v
    # first pass counts the tokens so that the result is allocated once
    with nogil:
        i = 0
        while i < n:
            while i < n and _is_space(base[i]):
                i += 1
            if i < n:
                count += 1
            while i < n and not _is_space(base[i]):
                i += 1
    cdef cnp.ndarray[cnp.float64_t, ndim=1] out = np.empty(count, dtype=np.float64)
    cdef double *dst = <double *>out.data
    cdef Py_ssize_t k = 0
    with nogil:
        while True:
            while p < last and _is_space(p[0]):
                p += 1
            if p >= last:
                break
            q = el_parse_double(p, last, &v)
            if q == NULL or (q < last and not _is_space(q[0])):
                bad = p - base
                break
            dst[k] = v
            k += 1
            p = q
    if bad >= 0:
        j = bad
        while j < n and not _is_space(base[j]):
            j += 1
        text = bytes(data[bad:min(j, bad + 100)]).decode("utf-8", "replace")
        raise ValueError(f"byte {bad}: not a number: {text!r}")
    if dtype == np.float16:
        return double_to_half_bits(out).view(np.float16)
    with np.errstate(over="ignore"):
        return out.astype(dtype, copy=False)


def double_to_half_bits(const double[::1] values):
    """IEEE binary16 bits of each float64, rounded to nearest even (C kernel)."""
    cdef Py_ssize_t n = values.shape[0], i
    cdef cnp.ndarray[cnp.uint16_t, ndim=1] out = np.empty(n, dtype=np.uint16)
    cdef uint16_t *dst = <uint16_t *>out.data
    with nogil:
        for i in range(n):
            dst[i] = el_double_to_half(values[i])
    return out


def _format(values, int kind):
    cdef Py_ssize_t n = values.shape[0], i
    cdef int k
    cdef char buf[64]
    cdef const float[::1] f32
    cdef const double[::1] f64
    cdef const uint16_t[::1] f16
    out = [None] * n
    if kind == 32:
        f32 = values
    elif kind == 64:
        f64 = values
    else:
        f16 = values
    for i in range(n):
        if kind == 32:
            k = el_format_float32(f32[i], buf)
        elif kind == 64:
            k = el_format_float64(f64[i], buf)
        else:
            k = el_format_half(f16[i], buf)
        out[i] = buf[:k].decode("ascii")
    return out


def format_float32(values):
    """Shortest text for each float32 that reads back to it (``np.float32(float(s))``).

    Python ``repr`` style: ``'0.1'``, ``'-2.5'``, ``'1e-05'``, ``'-0.0'``, ``'inf'``, ``'nan'``.
    """
    return _format(np.ascontiguousarray(values, dtype=np.float32).ravel(), 32)


def format_float64(values):
    """Shortest text for each float64 that reads back to it (``float(s)``); Python ``repr`` style."""
    return _format(np.ascontiguousarray(values, dtype=np.float64).ravel(), 64)


def format_float16(values):
    """Shortest text for each float16 that reads back to it (``np.float16(float(s))``)."""
    return _format(np.ascontiguousarray(values, dtype=np.float16).ravel().view(np.uint16), 16)
