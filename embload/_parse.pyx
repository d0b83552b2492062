# cython: language_level=3
"""Parsing core: bytes from a source -> rows of one matrix, words -> one byte arena.

Formats accepted
----------------
Text (``"glove"`` without a header, ``"word2vec"`` / fastText ``.vec`` with one)::

    400000 3                      <- optional header "count dim" (word2vec/fastText only)
    the 0.418 0.24968 -0.41242    <- WORD, then dim numbers
    New York -0.2 1e-3 .5         <- the word is everything before the last dim fields
    nan inf -INF 1_0\r            <- Python float() spellings; CRLF; trailing blanks

* Fields are separated by runs of ``' '``, ``'\\t'``, ``'\\r'``, ``'\\v'``, ``'\\f'``.
* A UTF-8 byte-order mark at the start of the file is skipped; lines that hold only
  blanks are skipped; the last line may lack its ``'\\n'``.
* ``dim`` comes from the header, otherwise from the first line (fields after the first).
* Each value is ``float(token)`` rounded to the output dtype, as
  ``numpy.float32(float(token))`` does: parsed exactly in C (src/floatparse.h).

Binary (``"word2vec-binary"``, the C tool's format)::

    count dim\\n  then per record:  WORD ' ' <dim little-endian float32> ['\\n']

Leading ``'\\n'`` bytes of WORD are dropped (gensim does the same).

Pipeline
--------
The source is read in blocks of ``block_size`` bytes into one reusable buffer. The
complete lines of a block are cut into pieces at line boundaries (four per thread,
handed out dynamically, so a thread descheduled on a busy machine delays one small
piece); each piece's lines are counted (memchr) so it knows its first row and
physical line; then the pieces are parsed in parallel without the GIL straight into
the final matrix (rows of blank lines are closed up afterwards). Plain files are read
with pread() by several threads. A plain binary file read as float32 needs no buffer at
all: its blocks are read straight into the matrix's memory and each vector is moved down
to its row (``_read_binary_in_place``); otherwise binary records are found serially in the
buffer and their vectors copied in parallel. The partial last line is carried to the
next block. Words are copied into one growing byte arena, ``'\\n'``-separated,
with int64 start offsets; embload.io wraps them as a WordList (no str per word).

The stream (``_Reader``), the block loop (``_next_lines``, ``_cut_pieces``) and the checks
of binary records are declared in ``_parse.pxd``: ``embload._align`` reads with them and
adds only its decision of which lines it wants.
"""
import mmap
import os
import sys

import numpy as np

cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.string cimport memchr, memcpy, memmove

from .errors import EmbeddingFormatError
from .formats import FIELD_SEPARATORS

cnp.import_array()

DTYPE_CODES = {"float32": EL_F32, "float64": EL_F64, "float16": EL_F16}
_MAX_PIECES = 64
PIECES_PER_THREAD = 4
# A binary record whose word has no ending space within this many bytes is garbage.
MAX_BINARY_WORD = 1 << 28


cdef inline char *_ptr(cnp.ndarray a):
    return <char *>cnp.PyArray_DATA(a)


cdef class _Reader:
    """Bounded buffer over a source: ``fill()`` appends about one block of bytes after
    the unconsumed data ``[pos, filled)``, moving that data to the front first.

    ``mapped=True`` (a plain file only): ``buf`` is a read-only memory map of the whole
    file instead, ``fill()`` makes one more block of it visible and hands the pages
    before ``pos`` back to the OS; nothing is copied or moved. For a reader that looks at
    few of the bytes it scans (alignment): the copy out of the page cache would be a
    large share of its work. ``load`` reads every byte and keeps the copying reader
    (parallel pread into a block that stays in cache; scripts/bench_load.py)."""
    def __init__(self, src, Py_ssize_t block_size, bar, int threads=1, Py_ssize_t min_chunk=1 << 20,
                 bint mapped=False):
        self.src = src
        self.bar = bar
        self.block_size = block_size
        self.fd = src.plain_fileno() if hasattr(src, "plain_fileno") else -1
        self.mapping = None
        self.released = 0
        if mapped and self.fd >= 0 and os.fstat(self.fd).st_size > 0:
            self.mapping = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
            if hasattr(self.mapping, "madvise"):
                self.mapping.madvise(mmap.MADV_SEQUENTIAL)
            self.buf = np.frombuffer(self.mapping, dtype=np.uint8)
        else:
            self.buf = np.empty(block_size + 1024, dtype=np.uint8)
        self.pos = 0
        self.filled = 0
        self.eof = False
        self.reported = 0
        self.offset = 0
        self.threads = max(1, min(threads, _MAX_PIECES))
        self.min_chunk = max(1, min_chunk)

    cdef int pread_block(self, Py_ssize_t target) except -1:
        """Fill buf[filled:target] from the file, in parallel chunks (the copy out of
        the page cache is a sizeable share of the work; one thread per chunk)."""
        cdef Py_ssize_t want = target - self.filled
        cdef Py_ssize_t nchunks = max(1, min(self.threads, want // self.min_chunk))
        cdef Py_ssize_t t, got = 0
        cdef Py_ssize_t chunk = (want + nchunks - 1) // nchunks
        cdef Py_ssize_t[64] sizes
        cdef Py_ssize_t[64] results
        cdef char *dst = _ptr(self.buf) + self.filled
        cdef int fd = self.fd
        cdef int64_t offset = self.offset
        for t in range(nchunks):
            sizes[t] = min(chunk, want - t * chunk)
        if nchunks == 1:
            with nogil:
                results[0] = el_pread_full(fd, dst, sizes[0], offset)
        else:
            with nogil:
                for t in prange(nchunks, schedule='static', num_threads=nchunks):
                    results[t] = el_pread_full(fd, dst + t * chunk, sizes[t], offset + t * chunk)
        for t in range(nchunks):
            if results[t] == -2:
                self.fd = -1  # no pread here: use the stream from now on
                self.src._raw.seek(self.offset)
                return 0
            if results[t] < 0:
                raise OSError(f"cannot read {self.src.path}: I/O error at byte {self.offset + t * chunk}")
            got += results[t]
            if results[t] < sizes[t]:
                self.eof = True
                break
        if got == 0:
            self.eof = True
        self.filled += got
        self.offset += got
        return 0

    cdef int fill(self) except -1:
        cdef Py_ssize_t keep = self.filled - self.pos
        cdef Py_ssize_t target, cap, n, drop
        cdef cnp.ndarray bigger
        if self.mapping is not None:
            # file pages: dropping them costs nothing but a re-read from the page cache
            # if touched again, and keeps the resident set to about one block
            drop = (self.pos // mmap.PAGESIZE) * mmap.PAGESIZE
            if drop > self.released and hasattr(self.mapping, "madvise"):
                self.mapping.madvise(mmap.MADV_DONTNEED, self.released, drop - self.released)
                self.released = drop
            self.filled = min(self.buf.shape[0], self.filled + self.block_size)
            self.eof = self.filled == self.buf.shape[0]
            if self.filled > self.reported:
                self.bar.update(self.filled - self.reported)
                self.reported = self.filled
            return 0
        if self.pos > 0:
            if keep > 0:
                memmove(_ptr(self.buf), _ptr(self.buf) + self.pos, keep)
            self.filled = keep
            self.pos = 0
        target = self.filled + self.block_size
        cap = self.buf.shape[0]
        if target > cap:
            # a line longer than a block: grow, keeping what is there
            bigger = np.empty(max(target, 2 * cap), dtype=np.uint8)
            memcpy(_ptr(bigger), _ptr(self.buf), self.filled)
            self.buf = bigger
        if self.fd >= 0 and not self.eof:
            self.pread_block(target)
            if self.offset > self.reported:
                self.bar.update(self.offset - self.reported)
                self.reported = self.offset
            if self.fd >= 0:
                return 0
        view = memoryview(self.buf)
        while self.filled < target and not self.eof:
            n = self.src.readinto(view[self.filled:target])
            if not n:
                self.eof = True
            else:
                self.filled += n
        view.release()
        position = self.src.position()
        if position > self.reported:
            self.bar.update(position - self.reported)
            self.reported = position
        return 0

    cdef int skip(self, Py_ssize_t nbytes) except -1:
        cdef Py_ssize_t take
        while nbytes > 0:
            if self.pos == self.filled:
                if self.eof:
                    return 0
                self.fill()
            take = min(nbytes, self.filled - self.pos)
            self.pos += take
            nbytes -= take
        return 0


cdef class _Store:
    """The result under construction: matrix (grown by realloc, never copied
    twice), per-row physical line, and the word arena with its offsets; plus the
    scratch the kernels fill with the words of the block being parsed (``ws``:
    offsets from the block's base, ``wl``: lengths), reused for every block."""
    cdef object matrix
    cdef object lineno
    cdef object offsets
    cdef object arena
    cdef Py_ssize_t rows
    cdef Py_ssize_t arena_len
    cdef Py_ssize_t dim
    cdef cnp.ndarray wstart
    cdef cnp.ndarray wlen
    cdef int64_t *ws
    cdef int64_t *wl

    def __init__(self, Py_ssize_t cap_rows, Py_ssize_t dim, str dtype, bint with_lineno=True):
        cap_rows = max(cap_rows, 1)
        self.dim = dim
        self.matrix = np.empty((cap_rows, dim), dtype=dtype)
        # binary records have no line numbers: no array to grow alongside the matrix
        self.lineno = np.empty(cap_rows, dtype=np.int64) if with_lineno else None
        self.offsets = np.empty(cap_rows + 1, dtype=np.int64)
        self.arena = np.empty(max(cap_rows * 8, 4096), dtype=np.uint8)
        self.rows = 0
        self.arena_len = 0
        self.wstart = np.empty(1024, dtype=np.int64)
        self.wlen = np.empty(1024, dtype=np.int64)
        self.ws = <int64_t *>_ptr(self.wstart)
        self.wl = <int64_t *>_ptr(self.wlen)

    cdef int reserve(self, Py_ssize_t rows) except -1:
        cdef Py_ssize_t cap = self.matrix.shape[0]
        if rows <= cap:
            return 0
        cap = max(rows, cap + cap // 2)
        # ndarray.resize reallocs in place (mremap for large blocks): no second copy
        self.matrix.resize((cap, self.dim), refcheck=False)
        if self.lineno is not None:
            self.lineno.resize(cap, refcheck=False)
        self.offsets.resize(cap + 1, refcheck=False)
        return 0

    cdef int block_words(self, Py_ssize_t n) except -1:
        """Make ``ws``/``wl`` hold at least ``n`` words (their contents are not kept)."""
        if self.wstart.shape[0] < n:
            n += n // 2
            self.wstart = np.empty(n, dtype=np.int64)
            self.wlen = np.empty(n, dtype=np.int64)
            self.ws = <int64_t *>_ptr(self.wstart)
            self.wl = <int64_t *>_ptr(self.wlen)
        return 0

    cdef int add_rows(self, const char *base, Py_ssize_t n) except -1:
        """Count ``n`` more rows, whose words are ``ws``/``wl`` (from ``base``): copied to
        the arena."""
        cdef Py_ssize_t i, need = n
        cdef char *dst
        cdef int64_t *offs
        cdef int64_t *wstart = self.ws
        cdef int64_t *wlen = self.wl
        for i in range(n):
            need += wlen[i]
        if self.arena_len + need > self.arena.shape[0]:
            self.arena.resize(max(self.arena_len + need, 2 * self.arena.shape[0]), refcheck=False)
        dst = _ptr(self.arena)
        offs = <int64_t *>_ptr(self.offsets)
        with nogil:
            for i in range(n):
                offs[self.rows + i] = self.arena_len
                memcpy(dst + self.arena_len, base + wstart[i], wlen[i])
                self.arena_len += wlen[i]
                dst[self.arena_len] = b'\n'
                self.arena_len += 1
        self.rows += n
        return 0

    def finish(self):
        """Shrink to the rows read; returns (matrix, arena, offsets, lineno or None)."""
        (<int64_t *>_ptr(self.offsets))[self.rows] = self.arena_len
        self.matrix.resize((self.rows, self.dim), refcheck=False)
        if self.lineno is not None:
            self.lineno.resize(self.rows, refcheck=False)
        self.offsets.resize(self.rows + 1, refcheck=False)
        self.arena.resize(self.arena_len, refcheck=False)
        return self.matrix, self.arena, self.offsets, self.lineno


cdef el_config _config(Py_ssize_t dim, str dtype, int threads,
                       Py_ssize_t block_size, Py_ssize_t min_piece) except *:
    cdef el_config cfg
    if dtype not in DTYPE_CODES:
        raise ValueError(f"dtype must be one of {sorted(DTYPE_CODES)}, not {dtype!r}")
    cfg.dim = dim
    cfg.dtype = DTYPE_CODES[dtype]
    cfg.block_size = max(block_size, 1)
    cfg.min_piece = max(min_piece, 1)
    cfg.threads = max(1, min(threads, _MAX_PIECES))
    return cfg


def _token_at(bytes data, Py_ssize_t i):
    """The field starting at ``data[i]``: up to the next blank or line end."""
    cdef const char *base = data
    return data[i:el_field_end(base + i, base + len(data)) - base]


cdef object _text_error(el_piece *pc, const char *base, Py_ssize_t lend, bint at_eof, Py_ssize_t dim, path):
    cdef Py_ssize_t start = pc.err_pos - base
    cdef const char *nl = <const char *>memchr(pc.err_pos, b'\n', lend - start)
    cdef Py_ssize_t line_end = (nl - base) if nl != NULL else lend
    cdef bint last_unterminated = at_eof and nl == NULL
    # the whole line, for messages (bounded: shorten() cuts it)
    line_start = start
    while line_start > 0 and base[line_start - 1] != b'\n':
        line_start -= 1
    line_text = (<bytes>base[line_start:line_end]).rstrip(b"\r")
    prefix = "file ends early (truncated download?): " if last_unterminated else ""
    if pc.err == EL_ERR_NUMBER:
        token = _token_at(<bytes>base[start:line_end], 0)
        reason = (f"{prefix}value {pc.err_field} of {dim} is not a number")
        return EmbeddingFormatError(reason, path=path, line=pc.err_line, text=token)
    reason = (f"{prefix}expected a word and {dim} numbers, found "
              f"{pc.err_field} field{'s' if pc.err_field != 1 else ''}")
    return EmbeddingFormatError(reason, path=path, line=pc.err_line, text=line_text[:200])


cdef Py_ssize_t _next_lines(_Reader reader) except -2:
    """Fill ``reader`` until ``buf[pos:lend]`` is one block of complete lines (at the end
    of the data the last line may lack its '\\n'); returns ``lend``, or -1 when no bytes
    are left."""
    cdef Py_ssize_t scanned = 0  # bytes after reader.pos known to hold no '\n'
    cdef const char *base
    cdef const char *q
    while True:
        reader.fill()  # may move buf[pos:filled] to the front: `scanned` counts from pos
        if reader.filled == reader.pos:
            return -1
        if reader.eof:
            return reader.filled
        base = _ptr(reader.buf)
        q = el_after_last_newline(base + reader.pos + scanned, base + reader.filled)
        if q != NULL:
            return q - base
        scanned = reader.filled - reader.pos  # no '\n' there: do not scan it again; read more


cdef Py_ssize_t _cut_pieces(const char *base, Py_ssize_t start, Py_ssize_t lend, const el_config *cfg,
                            Py_ssize_t *bounds) noexcept:
    """Cut the lines ``base[start:lend]`` at line ends into pieces for threads:
    piece t is ``[bounds[t], bounds[t + 1])``. Returns the number of pieces (at most
    _MAX_PIECES; ``bounds`` holds one more)."""
    cdef Py_ssize_t n = lend - start, npieces, t
    cdef const char *q
    # PIECES_PER_THREAD pieces per thread, handed out dynamically: on a shared
    # machine a thread that is descheduled for a while holds up only its current
    # piece, not half the block (static halves ran no faster than one thread there)
    npieces = max(1, min(cfg.threads * PIECES_PER_THREAD, _MAX_PIECES, n // cfg.min_piece))
    bounds[0] = start
    for t in range(1, npieces):
        bounds[t] = max(start + (n * t) // npieces, bounds[t - 1])
        q = <const char *>memchr(base + bounds[t], b'\n', lend - bounds[t])
        bounds[t] = (q + 1 - base) if q != NULL else lend
    bounds[npieces] = lend
    while npieces > 1 and bounds[npieces - 1] == lend:
        npieces -= 1  # empty pieces at the end (a block of few long lines)
    bounds[npieces] = lend
    return npieces


def read_text(src, *, Py_ssize_t dim, Py_ssize_t skip_bytes, int64_t first_line,
              Py_ssize_t est_rows, str dtype="float32", Py_ssize_t limit=-1, int threads=1,
              Py_ssize_t block_size=1 << 25, Py_ssize_t min_piece=1 << 20, bar=None, path=None):
    """Parse a text vectors file (after its header) into a matrix.

    Returns ``(matrix, arena, offsets, lineno, stats)``: word ``i`` is
    ``arena[offsets[i]:offsets[i+1]-1]``, found on physical line ``lineno[i]``;
    ``stats`` holds ``lines`` (physical lines consumed) and ``limited`` (stopped at limit).
    """
    if limit < 0:
        limit = <Py_ssize_t>((<size_t>-1) >> 1)
    cdef el_config cfg = _config(dim, dtype, threads, block_size, min_piece)
    cdef Py_ssize_t itemsize = np.dtype(dtype).itemsize
    cdef Py_ssize_t rowbytes = dim * itemsize
    cdef _Reader reader = _Reader(src, cfg.block_size, bar, cfg.threads, cfg.min_piece)
    cdef _Store store = _Store(min(est_rows, limit), dim, dtype)
    cdef el_piece pieces[64]
    cdef Py_ssize_t bounds[65]
    cdef Py_ssize_t npieces, nthreads, t, n, lend, start, total_lines, remaining, want, dst
    cdef const char *base
    cdef const char *q
    cdef char *out
    cdef int64_t *lineno
    cdef int64_t line = first_line
    cdef bint limited = False
    cdef el_piece *pc

    reader.skip(skip_bytes)
    while store.rows < limit:
        lend = _next_lines(reader)
        if lend < 0:
            break
        base = _ptr(reader.buf)
        start = reader.pos
        npieces = _cut_pieces(base, start, lend, &cfg, bounds)
        nthreads = min(cfg.threads, npieces)
        for t in range(npieces):
            pc = &pieces[t]
            pc.begin = base + bounds[t]
            pc.end = base + bounds[t + 1]
            pc.err = EL_OK
            pc.rows = 0
        with nogil:
            for t in prange(npieces, schedule='dynamic', chunksize=1, num_threads=nthreads):
                pieces[t].lines = el_count_lines(pieces[t].begin, pieces[t].end)
        if reader.eof and lend > start and base[lend - 1] != b'\n':
            pieces[npieces - 1].lines += 1  # the final line has no '\n'
        total_lines = 0
        for t in range(npieces):
            pieces[t].first_row = total_lines
            pieces[t].first_line = line + total_lines
            pieces[t].max_rows = pieces[t].lines
            total_lines += pieces[t].lines

        remaining = limit - store.rows
        if total_lines > remaining:
            # the limit falls in this block: one serial piece that stops there
            npieces = 1
            pieces[0].end = base + lend
            pieces[0].max_rows = remaining
            pieces[0].first_row = 0
            pieces[0].first_line = line
        want = min(total_lines, remaining)
        store.reserve(store.rows + want)
        store.block_words(total_lines)
        out = _ptr(store.matrix) + store.rows * rowbytes
        lineno = (<int64_t *>_ptr(store.lineno)) + store.rows
        ws = store.ws
        wl = store.wl
        if npieces == 1:
            with nogil:
                el_text_piece(&cfg, &pieces[0], out, base, ws, wl, lineno)
        else:
            with nogil:
                for t in prange(npieces, schedule='dynamic', chunksize=1, num_threads=nthreads):
                    el_text_piece(&cfg, &pieces[t], out, base, ws, wl, lineno)
        for t in range(npieces):
            if pieces[t].err != EL_OK:
                raise _text_error(&pieces[t], base, lend, reader.eof, dim, path)

        # close the gaps left by blank lines
        dst = pieces[0].rows
        for t in range(1, npieces):
            if pieces[t].first_row != dst and pieces[t].rows:
                el_move_rows(out, rowbytes, dst, pieces[t].first_row, pieces[t].rows)
                el_move_rows(<char *>lineno, 8, dst, pieces[t].first_row, pieces[t].rows)
                el_move_rows(<char *>ws, 8, dst, pieces[t].first_row, pieces[t].rows)
                el_move_rows(<char *>wl, 8, dst, pieces[t].first_row, pieces[t].rows)
            dst += pieces[t].rows
        store.add_rows(base, dst)
        if npieces == 1 and pieces[0].rows == remaining:
            reader.pos = pieces[0].stop - base
            line += pieces[0].lines
            limited = store.rows >= limit and not (reader.eof and reader.pos >= reader.filled)
            break
        line += total_lines
        reader.pos = lend
        if reader.eof and reader.pos >= reader.filled:
            break
    matrix, arena, offsets, lineno_arr = store.finish()
    return matrix, arena, offsets, lineno_arr, {"lines": line - first_line, "limited": limited}


cdef bint _LITTLE_ENDIAN = sys.byteorder == "little"
# In-place binary reading: how much more data than `count` records of short words the file
# may hold before reading it whole into the matrix wastes memory.
cdef Py_ssize_t IN_PLACE_SLACK_PER_ROW = 64
_BLANKS = FIELD_SEPARATORS + b"\n"   # what may follow the last binary record unremarked


cdef int _raise_truncated(el_piece *pc, const char *base, Py_ssize_t filled, Py_ssize_t rows,
                          Py_ssize_t count, Py_ssize_t dim, path) except -1:
    record = rows + pc.rows + 1
    start = pc.err_pos - base
    word_end = min(filled, start + 200)
    partial = (<bytes>base[start:word_end]).split(b" ", 1)[0]
    if pc.err_field == 0 and filled - start > 0:
        what = "no space after the word"
    else:
        what = f"{pc.err_field} of the {4 * dim} vector bytes present"
    raise EmbeddingFormatError(
        f"file ends early (truncated download?): record {record} of {count} "
        f"is incomplete ({what})", path=path, record=record, text=partial)


cdef int _raise_no_space(const char *base, Py_ssize_t pos, Py_ssize_t rows, path) except -1:
    raise EmbeddingFormatError(
        f"record {rows + 1}: no space ending the word within {MAX_BINARY_WORD} bytes; "
        f"is this a word2vec binary file?", path=path, record=rows + 1,
        text=(<bytes>base[pos:pos + 100]))


cdef bint _data_follows(_Reader reader) except -1:
    """Whether non-blank bytes follow ``reader.pos`` (after the records a binary header
    announced: a header that announces too few). Blanks alone, however many, are not data.
    The one trailing-data check of binary files."""
    cdef Py_ssize_t end
    while True:
        if reader.pos >= reader.filled:
            if reader.eof:
                return False
            reader.fill()
            continue
        end = min(reader.filled, reader.pos + 4096)
        if (<bytes>(_ptr(reader.buf)[reader.pos:end])).strip(_BLANKS):
            return True
        reader.pos = end


cdef object _read_binary_in_place(src, el_config cfg, Py_ssize_t skip_bytes, Py_ssize_t count,
                                  bar, path):
    """read_binary for a plain file of float32 into float32 rows, with no read buffer: the
    file's bytes are read straight into the matrix's memory and each vector is then moved
    down to its row. A record is at least one byte longer than its row, so a row's place
    never lies past its record, and moving rows in file order never overwrites bytes not
    yet used; words are copied to the arena before their vectors move. One copy out of the
    page cache instead of two, and the matrix's first touch happens inside that copy.
    Reads ``cfg.block_size`` bytes at a time, so each block is still in cache when its
    vectors move; the moves of one block and the reads of the next run side by side.

    Returns None when this path does not apply (the caller reads the usual way)."""
    cdef int fd = src.plain_fileno()
    if fd < 0:
        return None
    cdef int64_t data = os.fstat(fd).st_size - skip_bytes
    cdef Py_ssize_t dim = cfg.dim
    cdef Py_ssize_t rowbytes = dim * 4
    if data <= 0 or data // rowbytes + 1 > (<Py_ssize_t>1 << 62) // rowbytes:
        return None
    # a header announcing far fewer records than the file holds: do not allocate the file
    if data > cfg.block_size and count + 1 < (data - cfg.block_size) // (rowbytes + IN_PLACE_SLACK_PER_ROW):
        return None
    cdef _Store store = _Store(data // rowbytes + 1, dim, "float32", False)
    cdef char *base = _ptr(store.matrix)
    cdef int64_t filled = 0, pos = 0, offset
    cdef Py_ssize_t want, part, nparts, t, r, got, expect, max_rows
    cdef Py_ssize_t moved = 0, pending = 0
    cdef Py_ssize_t[64] results
    cdef el_piece pc
    cdef int64_t *ws = store.ws
    cdef int64_t *wl = store.wl
    cdef bint at_eof = False
    cdef bint trailing = False
    cdef bint last = False
    cdef _Reader rest
    while True:
        # One parallel step: task 0 moves the rows of the block scanned last (they lie
        # below `filled`), the other tasks read the next block's parts (at `filled` and
        # beyond): disjoint memory, so the threads share both kinds of work.
        want = min(cfg.block_size, data - filled) if not last else 0
        nparts = min(_MAX_PIECES - 1, max(1, want // cfg.min_piece)) if want > 0 else 0
        part = (want + nparts - 1) // nparts if nparts else 0
        offset = skip_bytes + filled
        with nogil:
            for t in prange(nparts + 1, schedule='dynamic', chunksize=1, num_threads=cfg.threads):
                if t == 0:
                    for r in range(pending):
                        memmove(base + (moved + r) * rowbytes, base + ws[r] + wl[r] + 1, rowbytes)
                else:
                    results[t - 1] = el_pread_full(fd, base + filled + (t - 1) * part,
                                                   min(part, want - (t - 1) * part), offset + (t - 1) * part)
        moved += pending
        pending = 0
        if last:
            break
        got = 0
        for t in range(nparts):
            if results[t] == -2:
                return None if filled == 0 else _io_error(src, offset)
            if results[t] < 0:
                _io_error(src, offset + t * part)
            got += results[t]
            expect = min(part, want - t * part)
            if results[t] < expect:
                data = filled + got  # the file shrank while we read it
                break
        filled += got
        bar.update(got)
        at_eof = filled >= data
        max_rows = min(count - store.rows, (filled - pos) // (rowbytes + 1) + 1)
        store.block_words(max_rows)
        ws = store.ws
        wl = store.wl
        pc.begin = base + pos
        pc.end = base + filled
        pc.first_row = 0
        pc.max_rows = max_rows
        with nogil:
            el_binary_records(&cfg, &pc, NULL, base, ws, wl, at_eof)
        if pc.err != EL_OK:
            _raise_truncated(&pc, base, filled, store.rows, count, dim, path)
        # the words leave before their bytes can be overwritten by the rows' moves
        store.add_rows(base, pc.rows)
        pending = pc.rows
        pos = pc.stop - base
        if at_eof or store.rows == count:
            last = True  # one more step: move the pending rows, read nothing
        elif pc.rows == 0 and filled - pos > MAX_BINARY_WORD:
            _raise_no_space(base, pos, store.rows, path)
    if store.rows == count:
        # the rest of the file, from the first byte after the last record: the
        # reader's stream, positioned there
        rest = _Reader(src, 1 << 16, bar, 1)
        rest.offset = skip_bytes + pos
        rest.reported = skip_bytes + filled  # the bar has seen the bytes up to there
        trailing = _data_follows(rest)
    matrix, arena, offsets, _ = store.finish()
    return matrix, arena, offsets, {"trailing": trailing}


cdef object _io_error(src, int64_t offset):
    raise OSError(f"cannot read {src.path}: I/O error at byte {offset}")


def read_binary(src, *, Py_ssize_t dim, Py_ssize_t skip_bytes, Py_ssize_t count, Py_ssize_t est_rows,
                str dtype="float32", Py_ssize_t limit=-1, int threads=1, Py_ssize_t block_size=1 << 25,
                Py_ssize_t min_piece=1 << 20, bar=None, path=None):
    """Parse the records of a binary word2vec file (after its header line).

    Reads ``min(count, limit)`` records. Returns ``(matrix, arena, offsets, stats)``;
    ``stats["trailing"]`` is True when non-blank bytes follow the last record read
    although the header's count was reached (a header that announces too few).
    """
    if limit < 0 or limit > count:
        limit = count
    cdef el_config cfg = _config(dim, dtype, threads, block_size, min_piece)
    if limit == count and dtype == "float32" and _LITTLE_ENDIAN and hasattr(src, "plain_fileno"):
        result = _read_binary_in_place(src, cfg, skip_bytes, count, bar, path)
        if result is not None:
            return result
    cdef Py_ssize_t itemsize = np.dtype(dtype).itemsize
    cdef Py_ssize_t rowbytes = dim * itemsize
    cdef Py_ssize_t recbytes = 4 * dim + 1
    cdef _Reader reader = _Reader(src, cfg.block_size, bar, cfg.threads, cfg.min_piece)
    cdef _Store store = _Store(min(est_rows, limit), dim, dtype, False)
    cdef el_piece pc
    cdef Py_ssize_t avail, want
    cdef const char *base
    cdef char *out
    cdef int64_t *ws
    cdef int64_t *wl
    cdef int at_eof
    cdef Py_ssize_t r
    cdef bint trailing = False

    reader.skip(skip_bytes)
    while store.rows < limit:
        reader.fill()
        base = _ptr(reader.buf)
        avail = reader.filled - reader.pos
        want = min(limit - store.rows, avail // recbytes + 1)
        store.reserve(store.rows + want)
        store.block_words(want)
        pc.begin = base + reader.pos
        pc.end = base + reader.filled
        pc.first_row = 0
        pc.max_rows = want
        out = _ptr(store.matrix) + store.rows * rowbytes
        ws = store.ws
        wl = store.wl
        at_eof = reader.eof
        if cfg.threads == 1 or avail < cfg.min_piece:
            with nogil:
                el_binary_records(&cfg, &pc, out, base, ws, wl, at_eof)
        else:
            # find the records serially (one memchr per word), then copy the
            # vectors in parallel: the copy and the page faults are the work
            with nogil:
                el_binary_records(&cfg, &pc, NULL, base, ws, wl, at_eof)
                for r in prange(pc.rows, schedule='static', num_threads=cfg.threads):
                    el_binary_row(&cfg, out + r * rowbytes, base + ws[r] + wl[r] + 1)
        if pc.err != EL_OK:
            _raise_truncated(&pc, base, reader.filled, store.rows, count, dim, path)
        store.add_rows(base, pc.rows)
        reader.pos = pc.stop - base
        if reader.eof:
            break
        if pc.rows == 0 and reader.filled - reader.pos > MAX_BINARY_WORD:
            _raise_no_space(base, reader.pos, store.rows, path)
    if store.rows == count:
        trailing = _data_follows(reader)
    matrix, arena, offsets, _ = store.finish()
    return matrix, arena, offsets, {"trailing": trailing}


def compact_rows(cnp.ndarray matrix, cnp.ndarray keep):
    """Move rows ``keep`` (ascending int64) to the front of ``matrix`` in place, then
    shrink it to ``len(keep)`` rows (realloc, no copy of the matrix)."""
    cdef Py_ssize_t i, n = keep.shape[0]
    cdef Py_ssize_t rowbytes = matrix.shape[1] * matrix.itemsize
    cdef int64_t *k = <int64_t *>_ptr(keep)
    cdef char *data = _ptr(matrix)
    if not matrix.flags.c_contiguous or keep.dtype != np.int64 or not keep.flags.c_contiguous:
        raise ValueError("compact_rows needs a C-contiguous matrix and int64 indices")
    for i in range(1, n):
        if k[i] <= k[i - 1]:
            raise ValueError("keep must be strictly ascending")
    if n and (k[0] < 0 or k[n - 1] >= matrix.shape[0]):
        raise ValueError("keep out of range")
    with nogil:
        for i in range(n):
            el_move_rows(data, rowbytes, i, k[i], 1)
    if not matrix.flags.owndata:
        return matrix[:n].copy()
    matrix.resize((n, matrix.shape[1]), refcheck=False)
    return matrix
