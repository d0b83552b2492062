# cython: language_level=3
"""Aligned loading kernels: find the wanted words of a vectors file, parse only their rows.

The bytes, blocks, records and values are the reader's (``embload._parse``: the
``_Reader`` stream, its block loop, ``src/textscan.h``); this module adds the decision
"is this word wanted?" (``src/alignscan.h``) and what follows from it. For one block of
complete lines (text) or records (binary):

1. scan (nogil, the block cut into pieces at line ends by the reader's ``_cut_pieces``,
   pieces taken by threads): each line's word is looked up in the C table of the wanted
   words (``WordTable``); a wanted line is parsed at once, while it is in cache, by the
   reader's value parser into the piece's scratch rows. Other lines cost a newline search
   and one lookup. Binary records are found by the reader's ``el_binary_records``.
2. resolve (GIL, typed, file order): each hit offers its line to the row(s) it can fill,
   with a rank: an exact match of the i-th word of word_index has rank i, a
   case-insensitive match ``n_slots + i``; a row keeps the lowest rank, and the first
   line in the file among equal ranks (so the first of duplicate file words wins).
3. fill (serial): the winning scratch rows are copied into the matrix (binary records
   and non-ASCII words that Python lowercased are converted here).

The state between blocks (ranks, which words were found) lives in ``Scanner``; the scan
stops between blocks once every wanted word has been found as written.
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy

import numpy as np

cimport numpy as cnp

from embload._parse cimport (EL_OK, EL_ERR_NUMBER, EL_ERR_TRUNCATED, _Reader, _config, _cut_pieces,
                             _next_lines, _raise_no_space, el_binary_records, el_binary_row,
                             el_config, el_drop_pages, el_field_end, el_parse_fields, el_piece)
from embload._words cimport el_is_ascii, el_wordtable_build, el_wordtable_find, el_wordtable_find_lower, el_wordtable_free

from ._parse import MAX_BINARY_WORD
from .errors import EmbeddingFormatError

cnp.import_array()

# A piece smaller than this is not worth a thread of its own.
cdef Py_ssize_t MIN_PART_BYTES = 1 << 20
# Pieces of one block: the reader's cap (_parse._MAX_PIECES).
DEF MAX_PARTS = 64


def _set_min_part_bytes(int64_t n):
    """Set the smallest piece a thread scans; returns the old value (tests use tiny pieces)."""
    global MIN_PART_BYTES
    old = MIN_PART_BYTES
    MIN_PART_BYTES = max(1, n)
    return old


cdef inline char *_ptr(cnp.ndarray a):
    return <char *>cnp.PyArray_DATA(a)


cdef class WordTable:
    """Table from the UTF-8 bytes of words to ints (``keys[i] -> values[i]``): the one word
    table of ``src/wordhash.h`` over the keys joined into an arena.

    Keys must be unique. Read without the GIL by the scanners.
    """

    def __cinit__(self, keys, values):
        cdef Py_ssize_t n = len(keys)
        cdef int rc
        self.table.slots = NULL
        self.values = np.ascontiguousarray(values, dtype=np.int64)
        if self.values.ndim != 1 or self.values.shape[0] != n:
            raise ValueError("keys and values differ in length")
        self.value_of = <const int64_t *>_ptr(self.values)
        keys = list(keys)
        self.arena = b"\n".join(keys) + b"\n" if n else b""
        self.offsets = np.zeros(n + 1, dtype=np.int64)
        if n:
            np.cumsum(np.fromiter(map(len, keys), dtype=np.int64, count=n) + 1, out=self.offsets[1:])
        self.size = n
        rc = el_wordtable_build(&self.table, PyBytes_AS_STRING(self.arena),
                                <const int64_t *>_ptr(self.offsets), n)
        if rc != 0:
            raise MemoryError(f"no memory for a table of {n} words")
        if self.table.duplicates:
            raise ValueError(f"duplicate key {keys[self.table.first_dup]!r} in the word table")

    def __dealloc__(self):
        el_wordtable_free(&self.table)

    cdef int64_t get_c(self, const char *p, int64_t n) noexcept nogil:
        cdef int64_t k = el_wordtable_find(&self.table, p, n)
        return self.value_of[k] if k >= 0 else -1

    cdef int64_t get_lower_c(self, const char *p, int64_t n) noexcept nogil:
        cdef int64_t k = el_wordtable_find_lower(&self.table, p, n)
        return self.value_of[k] if k >= 0 else -1

    def get(self, bytes word):
        """Value of ``word``, or -1 (for tests)."""
        return self.get_c(PyBytes_AS_STRING(word), len(word))

    def get_lower(self, bytes word):
        """Value of ``word`` with ASCII letters lowercased, or -1 (for tests)."""
        return self.get_lower_c(PyBytes_AS_STRING(word), len(word))

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
            g = lower.get_lower_c(base + a, b - a)
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
        The output matrix (zeros until rows are found); dtype one of the reader's
        (``_parse.DTYPE_CODES``).
    threads : int
    general : bool
        Some wanted word contains a blank: split every line from the right.
    path : str
        For error messages.
    """

    def __cinit__(self, WordTable exact, WordTable lower, lower_dict, slot_row, group_ptr,
                  group_slots, Py_ssize_t n_rows, Py_ssize_t dim, dtype, int threads,
                  bint general, path):
        cdef Py_ssize_t n_groups
        self.parts = NULL
        if threads < 1:
            raise ValueError("threads must be >= 1")
        if dim < 1:
            raise ValueError("dim must be >= 1")
        dtype = np.dtype(dtype)
        self.rows = _config(dim, dtype.name, threads, 1 << 20, MIN_PART_BYTES)
        self.exact_table = exact
        self.lower_table = lower
        self.lower_dict = lower_dict
        self.cfg.exact = &exact.table
        self.cfg.exact_id = exact.value_of
        self.cfg.lower = NULL if lower is None else &lower.table
        self.cfg.lower_id = NULL if lower is None else lower.value_of
        self.cfg.dim = dim
        self.cfg.general = general
        self.cfg.dtype = self.rows.dtype
        self.path = path
        self.matrix = np.zeros((n_rows, dim), dtype=dtype)
        self.n_rows = n_rows
        self.row_bytes = dim * dtype.itemsize
        self.cfg.row_bytes = self.row_bytes
        self.out = _ptr(self.matrix)
        self.slot_row = np.ascontiguousarray(slot_row, dtype=np.int64)
        self.n_slots = self.slot_row.shape[0]
        self.group_ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
        self.group_slots = np.ascontiguousarray(group_slots, dtype=np.int64)
        n_groups = self.group_ptr.shape[0] - 1
        self.row_rank = np.full(n_rows, 2 * self.n_slots + 1, dtype=np.int64)
        self.row_win = np.full(n_rows, -1, dtype=np.int64)
        self.slot_exact = np.zeros(self.n_slots, dtype=np.uint8)
        self.slot_line = np.full(self.n_slots, -1, dtype=np.int64)
        self.duplicates = []
        self.group_found = np.zeros(max(n_groups, 0), dtype=np.uint8)
        self.group_word = [None] * max(n_groups, 0)
        self.n_exact = 0
        self.lines = 0
        self.n_parts = MAX_PARTS
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
    def records(self):
        """Records scanned so far (text: lines that are not blank), header excluded."""
        cdef Py_ssize_t k
        cdef int64_t total = 0
        for k in range(self.n_parts):
            total += self.parts[k].records
        return total

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

    def scan_text(self, src, Py_ssize_t skip_bytes, Py_ssize_t block_size, bar, bint mapped=False):
        """Scan the lines of a text source (an ``embload._source`` stream) after its first
        ``skip_bytes`` bytes, with the reader's stream and block loop, until the data ends
        or every wanted word has been found as written. Line numbers in errors continue
        from ``self.lines`` (set it to the header's lines). ``mapped``: memory-map a plain
        file instead of copying it (the reader's ``mapped`` mode). Returns the bytes of
        the source reported to ``bar``."""
        cdef _Reader reader = _Reader(src, max(block_size, 1), bar, self.rows.threads, MIN_PART_BYTES,
                                      mapped)
        cdef el_config cfg = self.rows
        cdef Py_ssize_t bounds[MAX_PARTS + 1]
        cdef int64_t part_lines[MAX_PARTS + 1]
        cdef Py_ssize_t lend, k, n_parts
        cdef int nthreads
        cdef const char *base
        cdef el_align_cfg *acfg = &self.cfg
        cdef el_hitbuf *parts = self.parts
        cdef bint drop = reader.mapping is not None
        cfg.min_piece = MIN_PART_BYTES
        reader.skip(skip_bytes)
        while self.n_exact < self.n_slots:
            lend = _next_lines(reader)
            if lend < 0:
                break
            base = _ptr(reader.buf)
            n_parts = _cut_pieces(base, reader.pos, lend, &cfg, bounds)
            nthreads = <int>min(n_parts, <Py_ssize_t>cfg.threads)
            with nogil:
                # a mapped file's pages go back to the OS as soon as their piece is
                # scanned: the resident set stays far below a block
                if nthreads == 1:
                    for k in range(n_parts):
                        part_lines[k + 1] = el_align_text(base, bounds[k], bounds[k + 1], acfg, &parts[k])
                        if drop:
                            el_drop_pages(base + bounds[k], base + bounds[k + 1])
                else:
                    # more pieces than threads, taken dynamically: a thread the OS
                    # descheduled does not hold the whole block up
                    for k in prange(n_parts, num_threads=nthreads, schedule='dynamic', chunksize=1):
                        part_lines[k + 1] = el_align_text(base, bounds[k], bounds[k + 1], acfg, &parts[k])
                        if drop:
                            el_drop_pages(base + bounds[k], base + bounds[k + 1])
            # 1-based line number of the first line of each piece
            part_lines[0] = self.lines + 1
            for k in range(n_parts):
                part_lines[k + 1] += part_lines[k]
            self._resolve(base, n_parts, part_lines)
            self.lines = part_lines[n_parts] - 1
            reader.pos = lend
        return reader.reported

    def scan_binary(self, src, Py_ssize_t skip_bytes, Py_ssize_t count, Py_ssize_t block_size, bar):
        """Scan the ``count`` records of a word2vec binary source after its first
        ``skip_bytes`` bytes (the header), with the reader's stream and record splitter,
        until they end or every wanted word has been found as written. A record cut short
        by the end of the data is an error. Returns the bytes of the source reported to
        ``bar``."""
        cdef _Reader reader = _Reader(src, max(block_size, 1), bar, self.rows.threads, MIN_PART_BYTES)
        cdef Py_ssize_t dim = self.cfg.dim, recbytes = 4 * dim + 1, done = 0, want
        cdef el_piece pc
        cdef const char *base
        cdef int64_t first_line[2]
        cdef int at_eof
        cdef cnp.ndarray ws_arr = np.empty(1024, dtype=np.int64)
        cdef cnp.ndarray wl_arr = np.empty(1024, dtype=np.int64)
        cdef int64_t *ws
        cdef int64_t *wl
        self.binary = True
        reader.skip(skip_bytes)
        while done < count and self.n_exact < self.n_slots:
            reader.fill()
            base = _ptr(reader.buf)
            want = min(count - done, (reader.filled - reader.pos) // recbytes + 1)
            if ws_arr.shape[0] < want:
                ws_arr = np.empty(want + want // 2, dtype=np.int64)
                wl_arr = np.empty(want + want // 2, dtype=np.int64)
            ws = <int64_t *>_ptr(ws_arr)
            wl = <int64_t *>_ptr(wl_arr)
            pc.begin = base + reader.pos
            pc.end = base + reader.filled
            pc.first_row = 0
            pc.max_rows = want
            pc.err_pos = NULL
            at_eof = reader.eof
            with nogil:
                el_binary_records(&self.rows, &pc, NULL, base, ws, wl, at_eof)
                el_align_records(base, ws, wl, pc.rows, &self.cfg, &self.parts[0])
            if pc.err == EL_ERR_TRUNCATED:
                present = reader.filled - (pc.err_pos - base)
                raise EmbeddingFormatError(
                    f"file ends early, inside record {done + pc.rows + 1} of {count} "
                    f"({present} bytes of it present)", path=self.path, record=done + pc.rows + 1,
                    text=(<bytes>pc.err_pos[:min(present, 100)]).split(b" ", 1)[0])
            first_line[0] = self.lines + 1
            self._resolve(base, 1, first_line)
            self.lines += pc.rows
            done += pc.rows
            reader.pos = pc.stop - base
            if reader.eof:
                break
            if pc.rows == 0 and reader.filled - reader.pos > MAX_BINARY_WORD:
                _raise_no_space(base, reader.pos, done, self.path)
        return reader.reported

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

    cdef _resolve(self, const char *p, Py_ssize_t n_parts, const int64_t *first_line):
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
                        self.slot_line[s] = h.lineno
                        self.n_exact += 1
                    elif self.slot_line[s] >= 0:  # the word again: its first line keeps
                        # the row (load keeps it too); recorded once, whatever the repeats
                        self.duplicates.append((s, self.slot_line[s], h.lineno))
                        self.slot_line[s] = -self.slot_line[s] - 1
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
        cdef int64_t r, hi, first, dim = self.cfg.dim
        cdef int err = EL_OK
        cdef int64_t[::1] hit_first = np.full(total, -1, dtype=np.int64)
        cdef char *out = self.out
        cdef Py_ssize_t row_bytes = self.row_bytes
        cdef const char *err_pos = NULL
        cdef Py_ssize_t err_field = 0
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
                el_binary_row(&self.rows, out + r * row_bytes, p + h.end)
                continue
            if rowp[hi] != NULL:
                err = h.err
                if err == EL_OK:
                    memcpy(out + r * row_bytes, rowp[hi], row_bytes)
            else:
                h.err = el_parse_fields(p + h.word_end, p + h.end, dim, self.cfg.dtype,
                                        out + r * row_bytes, &err_pos, &err_field)
                if h.err != EL_OK:
                    h.bad = err_pos - p
                    h.field = err_field
                err = h.err
            if err != EL_OK and (worst < 0 or hi < worst):
                worst = hi
        if worst >= 0:
            self._raise_parse_error(p, &flat[worst])

    cdef _raise_parse_error(self, const char *p, el_hit *h):
        """The reader's message for a value that is not a number (EL_ERR_NUMBER, the one
        error el_parse_fields reports), naming file, line and token."""
        cdef int64_t e = el_field_end(p + h.bad, p + h.end) - p
        raise EmbeddingFormatError(
            f"value {h.field} of {self.cfg.dim} is not a number", path=self.path,
            line=h.lineno, text=p[h.bad:e])
