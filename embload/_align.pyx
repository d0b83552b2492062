"""Aligned loading kernels: find the wanted words of a vectors file, parse only their rows.

Data flow for one buffer of complete lines (text) or records (binary):

1. scan (nogil, the buffer cut into parts at line ends, parts taken by threads): each
   line's word is looked up in a C hash table of the wanted words (``WordTable``); a
   wanted line is parsed at once, while it is in cache, into the part's scratch rows.
   Other lines cost a newline search and one lookup. One parallel region per buffer.
2. resolve (GIL, typed, file order): each hit offers its line to the row(s) it can fill,
   with a rank: an exact match of the i-th word of word_index has rank i, a
   case-insensitive match ``n_slots + i``; a row keeps the lowest rank, and the first
   line in the file among equal ranks (so the first of duplicate file words wins).
3. fill (serial): the winning scratch rows are copied into the matrix (binary records
   and non-ASCII words that Python lowercased are converted here).

The state between buffers (ranks, which words were found) lives in ``Scanner``.
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memchr, memcpy

import numpy as np

from .errors import EmbeddingFormatError

# A part smaller than this is not worth a thread of its own.
cdef int64_t MIN_PART_BYTES = 1 << 20


def _set_min_part_bytes(int64_t n):
    """Set the smallest part a thread scans; returns the old value (tests use tiny parts)."""
    global MIN_PART_BYTES
    old = MIN_PART_BYTES
    MIN_PART_BYTES = max(1, n)
    return old


cdef class WordTable:
    """Hash table from the UTF-8 bytes of words to ints (``keys[i] -> values[i]``).

    Keys must be unique. Read without the GIL by the scanners.
    """

    def __cinit__(self, keys, values):
        cdef Py_ssize_t n = len(keys), i, off = 0, k
        cdef int64_t[::1] vals = np.ascontiguousarray(values, dtype=np.int64)
        if vals.shape[0] != n:
            raise ValueError("keys and values differ in length")
        self.arena = b"".join(keys)
        self.size = n
        if el_wh_init(&self.table, PyBytes_AS_STRING(self.arena), n) != 0:
            raise MemoryError("no memory for the word table")
        for i in range(n):
            k = len(keys[i])
            if el_wh_put(&self.table, off, k, vals[i]) != vals[i]:
                raise ValueError(f"duplicate key {keys[i]!r} in the word table")
            off += k

    def __dealloc__(self):
        el_wh_free(&self.table)

    def get(self, bytes word):
        """Value of ``word``, or -1 (for tests)."""
        return el_wh_get(&self.table, PyBytes_AS_STRING(word), len(word))

    def get_lower(self, bytes word):
        """Value of ``word`` with ASCII letters lowercased, or -1 (for tests)."""
        return el_wh_get_lower(&self.table, PyBytes_AS_STRING(word), len(word))

    def __len__(self):
        return self.size


def first_lower_rows(WordTable lower, dict lower_str, arena, offsets):
    """For each case group, the first word of a UTF-8 word arena whose ``str.lower()`` is
    the group's key, or -1 (``Vectors.align(case="fallback")``).

    ``lower``: the keys' UTF-8 -> group; ``lower_str``: the keys as str -> group. Word
    ``i`` is ``arena[offsets[i]:offsets[i + 1] - 1]`` (a WordList's arena, valid UTF-8,
    lone surrogates as "surrogatepass" forms). ASCII words are looked up in C as if
    lowercased (no str is made, as the file scanner does); others are decoded and
    lowercased by Python.
    """
    cdef const unsigned char[::1] view = arena if len(arena) else b"\0"
    cdef const int64_t[::1] off = np.ascontiguousarray(offsets, dtype=np.int64)
    cdef const char *base = <const char *>&view[0]
    cdef Py_ssize_t n = off.shape[0] - 1, i, left = len(lower_str)
    cdef int64_t a, b, g
    first = np.full(len(lower_str), -1, dtype=np.int64)
    cdef int64_t[::1] f = first
    for i in range(n):
        if left == 0:
            break
        a = off[i]
        b = off[i + 1] - 1
        if el_is_ascii(base + a, b - a):
            g = el_wh_get_lower(&lower.table, base + a, b - a)
        else:
            g = lower_str.get(base[a:b].decode("utf-8", "surrogatepass").lower(), -1)
        if g >= 0 and f[g] < 0:
            f[g] = i
            left -= 1
    return first


cdef inline bytes _slice(const char *p, Py_ssize_t a, Py_ssize_t b):
    return p[a:b]


cdef class Scanner:
    """One aligned load in progress.

    Parameters
    ----------
    exact : WordTable
        UTF-8 wanted word -> slot (the slot's position in word_index order).
    lower : WordTable or None
        ``str.lower()`` of each wanted word, UTF-8 -> case group (case="fallback").
    lower_dict : dict or None
        The same mapping as a dict, for non-ASCII file words lowercased by Python.
    slot_row : int64 array
        Matrix row of each slot.
    group_ptr, group_slots : int64 arrays
        The slots of each case group (CSR, slots in increasing order).
    n_rows, dim, dtype
        The output matrix (zeros until rows are found).
    threads : int
    general : bool
        Some wanted word contains a blank: split every line from the right.
    binary : bool
        word2vec binary records instead of text lines.
    path : str
        For error messages.
    """

    def __cinit__(self, WordTable exact, WordTable lower, lower_dict, slot_row, group_ptr,
                  group_slots, Py_ssize_t n_rows, Py_ssize_t dim, dtype, int threads,
                  bint general, bint binary, path):
        cdef Py_ssize_t n_groups
        self.parts = NULL
        if threads < 1:
            raise ValueError("threads must be >= 1")
        if dim < 1:
            raise ValueError("dim must be >= 1")
        self.exact_table = exact
        self.lower_table = lower
        self.lower_dict = lower_dict
        self.cfg.exact = &exact.table
        self.cfg.lower = NULL if lower is None else &lower.table
        self.cfg.dim = dim
        self.cfg.general = general
        self.threads = threads
        self.binary = binary
        self.path = path
        dtype = np.dtype(dtype)
        if dtype == np.float32:
            self.dtype_code = EL_AL_F32
        elif dtype == np.float64:
            self.dtype_code = EL_AL_F64
        elif dtype == np.float16:
            self.dtype_code = EL_AL_F16
        else:
            raise ValueError(f"dtype must be float16, float32 or float64, not {dtype}")
        self.matrix = np.zeros((n_rows, dim), dtype=dtype)
        self.n_rows = n_rows
        self.row_bytes = dim * dtype.itemsize
        self.cfg.dtype = self.dtype_code
        self.cfg.row_bytes = self.row_bytes
        cdef char[:, ::1] raw = self.matrix.view(np.int8)
        self.out = &raw[0, 0]
        self.slot_row = np.ascontiguousarray(slot_row, dtype=np.int64)
        self.n_slots = self.slot_row.shape[0]
        self.group_ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
        self.group_slots = np.ascontiguousarray(group_slots, dtype=np.int64)
        n_groups = self.group_ptr.shape[0] - 1
        self.row_rank = np.full(n_rows, 2 * self.n_slots + 1, dtype=np.int64)
        self.row_win = np.full(n_rows, -1, dtype=np.int64)
        self.slot_exact = np.zeros(self.n_slots, dtype=np.uint8)
        self.group_found = np.zeros(max(n_groups, 0), dtype=np.uint8)
        self.group_word = [None] * max(n_groups, 0)
        self.n_exact = 0
        self.lines = 0
        self.n_parts = 4 * threads
        self.parts = <el_hitbuf *>calloc(self.n_parts, sizeof(el_hitbuf))
        if self.parts == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef Py_ssize_t k
        if self.parts != NULL:
            for k in range(self.n_parts):
                el_hitbuf_free(&self.parts[k])
            free(self.parts)

    @property
    def done(self):
        """Every wanted word has been found as written: nothing later can change a row."""
        return self.n_exact == self.n_slots

    def result(self):
        """(matrix, row_found, slot_exact, group_found) as NumPy arrays."""
        return (self.matrix,
                np.asarray(self.row_rank) <= 2 * self.n_slots,
                np.asarray(self.slot_exact).astype(bool),
                np.asarray(self.group_found).astype(bool))

    def feed_text(self, const unsigned char[::1] buf, Py_ssize_t start, Py_ssize_t end,
                  bint drop_pages=False):
        """Scan the complete lines of ``buf[start:end]`` and fill the rows they win.

        ``drop_pages``: ``buf`` is a read-only memory map of a file; each thread hands the
        pages of its part back to the OS when done (they stay in the page cache), so the
        resident size does not grow with the buffer. Never set it for other memory.
        """
        cdef Py_ssize_t n = end - start, k, n_parts
        cdef int64_t b, total = 0
        cdef const char *p
        cdef const char *nl
        if start < 0 or end > buf.shape[0] or n < 0:
            raise ValueError("bad buffer range")
        if n == 0:
            return
        p = <const char *>&buf[0]
        # more parts than threads, taken dynamically: a thread the OS descheduled does
        # not hold the whole buffer up
        n_parts = min(self.n_parts, max(1, n // MIN_PART_BYTES))
        cdef int64_t[::1] bounds = np.empty(n_parts + 1, dtype=np.int64)
        cdef int64_t[::1] part_lines = np.zeros(n_parts + 1, dtype=np.int64)
        bounds[0] = start
        for k in range(1, n_parts):
            b = max(start + (n * k) // n_parts, bounds[k - 1])
            nl = <const char *>memchr(p + b, 10, end - b) if b < end else NULL
            bounds[k] = (nl - p) + 1 if nl != NULL else end
        bounds[n_parts] = end
        cdef el_scan_cfg *cfg = &self.cfg
        cdef el_hitbuf *parts = self.parts
        cdef int nthreads = <int>min(n_parts, <Py_ssize_t>self.threads)
        with nogil:
            if nthreads == 1:
                for k in range(n_parts):
                    part_lines[k + 1] = el_scan_text(p, bounds[k], bounds[k + 1], cfg, &parts[k])
                    if drop_pages:
                        el_drop_pages(p + bounds[k], p + bounds[k + 1])
            else:
                for k in prange(n_parts, num_threads=nthreads, schedule='dynamic', chunksize=1):
                    part_lines[k + 1] = el_scan_text(p, bounds[k], bounds[k + 1], cfg, &parts[k])
                    if drop_pages:
                        el_drop_pages(p + bounds[k], p + bounds[k + 1])
        # 1-based line number of the first line of each part
        part_lines[0] = self.lines + 1
        for k in range(n_parts):
            part_lines[k + 1] += part_lines[k]
        self._resolve(buf, n_parts, part_lines)
        self.lines = part_lines[n_parts] - 1

    def feed_binary(self, const unsigned char[::1] buf, Py_ssize_t start, Py_ssize_t end,
                    Py_ssize_t limit):
        """Scan whole records of ``buf[start:end]`` (at most ``limit``); fill the rows they win.

        Returns ``(offset after the last whole record, records scanned)``.
        """
        cdef int64_t records = 0, pos
        cdef const char *p
        if start < 0 or end > buf.shape[0] or end < start:
            raise ValueError("bad buffer range")
        if end == start or limit <= 0:
            return start, 0
        p = <const char *>&buf[0]
        with nogil:
            pos = el_scan_binary(p, start, end, limit, &self.cfg, &self.parts[0], &records)
        cdef int64_t[::1] first = np.array([self.lines + 1, 0], dtype=np.int64)
        self._resolve(buf, 1, first)
        self.lines += records
        return pos, records

    cdef int _python_group(self, const char *p, el_hit *h) except -2:
        """Case group of a non-ASCII word, lowercased by str.lower(); -1 if none."""
        try:
            word = p[h.word:h.word_end].decode("utf-8")
        except UnicodeDecodeError:
            return -1
        return self.lower_dict.get(word.lower().encode("utf-8"), -1)

    cdef void _offer(self, int64_t row, int64_t rank, int64_t hit, list touched) noexcept:
        if rank < self.row_rank[row]:
            self.row_rank[row] = rank
            if self.row_win[row] < 0:
                touched.append(row)
            self.row_win[row] = hit

    cdef _resolve(self, const unsigned char[::1] buf, Py_ssize_t n_parts, int64_t[::1] first_line):
        cdef const char *p = <const char *>&buf[0]
        cdef Py_ssize_t k, i, j, total = 0
        cdef int64_t s, g, dim = self.cfg.dim
        cdef el_hit *h
        cdef el_hit *flat = NULL
        cdef char **rowp = NULL
        try:
            for k in range(n_parts):
                if self.parts[k].failed:
                    raise MemoryError("no memory for the hit list")
                total += self.parts[k].n
            if total == 0:
                return
            flat = <el_hit *>malloc(total * sizeof(el_hit))
            rowp = <char **>malloc(total * sizeof(char *))
            if flat == NULL or rowp == NULL:
                raise MemoryError()
            i = 0
            for k in range(n_parts):
                if self.parts[k].n:
                    memcpy(&flat[i], self.parts[k].data, self.parts[k].n * sizeof(el_hit))
                    for j in range(i, i + self.parts[k].n):
                        flat[j].lineno += first_line[k]
                        rowp[j] = (self.parts[k].rows + flat[j].row * self.row_bytes
                                   if flat[j].row >= 0 else NULL)
                    i += self.parts[k].n
            touched = []
            for i in range(total):
                h = &flat[i]
                if h.lower == EL_ASK_PYTHON:
                    g = self._python_group(p, h)
                    if g >= 0 and h.fields < 0:
                        h.fields = el_count_fields(p, h.word_end, h.end)
                        if h.fields > dim:
                            g = -1  # the real word has blanks; no wanted word has
                    h.lower = g
                if h.exact < 0 and h.lower < 0:
                    continue
                if h.fields != dim:
                    raise EmbeddingFormatError(
                        f"expected {dim} values after the word, found {h.fields}",
                        path=self.path, line=h.lineno, text=p[h.line:h.end])
                if h.exact >= 0:
                    s = h.exact
                    if not self.slot_exact[s]:
                        self.slot_exact[s] = 1
                        self.n_exact += 1
                    self._offer(self.slot_row[s], s, i, touched)
                if h.lower >= 0:
                    g = h.lower
                    if not self.group_found[g]:
                        self.group_found[g] = 1
                        self.group_word[g] = p[h.word:h.word_end]
                        for j in range(self.group_ptr[g], self.group_ptr[g + 1]):
                            s = self.group_slots[j]
                            self._offer(self.slot_row[s], self.n_slots + s, i, touched)
            self._fill(p, flat, rowp, total, touched)
        finally:
            free(flat)
            free(rowp)
            for k in range(n_parts):
                self.parts[k].n = 0
                self.parts[k].nrows = 0
                self.parts[k].failed = 0

    cdef _fill(self, const char *p, el_hit *flat, char **rowp, Py_ssize_t total, list touched):
        """Copy each winning line's row (parsed by the scan threads) into the matrix rows
        it won; lines not parsed yet (binary records, words Python lowercased) are
        converted here. Serial: it only moves the few wanted rows."""
        cdef Py_ssize_t n = len(touched), j, worst = -1
        cdef int64_t r, hi, first, dim = self.cfg.dim, bad = 0, field = 0
        cdef int err = EL_AL_OK
        cdef int64_t[::1] hit_first = np.full(total, -1, dtype=np.int64)
        cdef char *out = self.out
        cdef Py_ssize_t row_bytes = self.row_bytes
        cdef int dtype = self.dtype_code
        cdef el_hit *h
        for j in range(n):
            r = touched[j]
            hi = self.row_win[r]
            self.row_win[r] = -1
            first = hit_first[hi]
            if first >= 0:
                memcpy(out + r * row_bytes, out + first * row_bytes, row_bytes)
                continue
            hit_first[hi] = r
            h = &flat[hi]
            if self.binary:
                el_copy_binary(p + h.end, dim, out + r * row_bytes, dtype)
                continue
            if rowp[hi] != NULL:
                err = h.err
                if err == EL_AL_OK:
                    memcpy(out + r * row_bytes, rowp[hi], row_bytes)
            else:
                h.err = el_parse_values(p, h.word_end, h.end, dim, out + r * row_bytes, dtype,
                                        &h.bad, &h.field)
                err = h.err
            if err != EL_AL_OK and (worst < 0 or hi < worst):
                worst = hi
        if worst >= 0:
            h = &flat[worst]
            self._raise_parse_error(p, h, h.err, h.bad, h.field)

    cdef _raise_parse_error(self, const char *p, el_hit *h, int code, int64_t bad, int64_t field):
        cdef int64_t dim = self.cfg.dim, e = bad
        if code == EL_AL_ERR_VALUE:
            while e < h.end and not el_is_blank(p[e]):
                e += 1
            raise EmbeddingFormatError(
                f"value {field + 1} of {dim} is not a number", path=self.path,
                line=h.lineno, text=p[bad:e])
        if code == EL_AL_ERR_FEW:
            reason = f"expected {dim} values after the word, found {field}"
        else:
            reason = f"more than {dim} values after the word"
        raise EmbeddingFormatError(reason, path=self.path, line=h.lineno, text=p[h.line:h.end])
