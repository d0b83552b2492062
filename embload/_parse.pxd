# cython: language_level=3
"""Contract of the parsing core: the options struct every stage receives and the
nogil kernels (C, in src/textscan.h) that turn bytes into matrix rows.

Data flow: _source (bytes) -> el_text_piece / el_binary_records (records -> rows)
-> floatparse.h (text -> double -> output dtype) -> one matrix allocated once.
"""
from libc.stdint cimport int64_t, uint16_t


cdef extern from "floatparse.h" nogil:
    const char *el_parse_double(const char *p, const char *last, double *out)
    uint16_t el_double_to_half(double x)


cdef extern from "textscan.h" nogil:
    enum:
        EL_F32      # float32 rows
        EL_F64      # float64 rows
        EL_F16      # float16 rows (IEEE binary16 bits)

    enum:
        EL_OK
        EL_ERR_NUMBER     # a field is not a number; err_pos = the token, err_field = 1-based number index
        EL_ERR_FIELDS     # too few fields on a line; err_pos = line start, err_field = fields found
        EL_ERR_TRUNCATED  # binary data ends inside a record; err_pos = record start

    # The options struct, passed to every kernel (mirrors embload.options.LoadOptions).
    ctypedef struct el_config:
        Py_ssize_t dim         # numbers per vector (from the header, or the first line)
        int dtype              # EL_F32 / EL_F64 / EL_F16: type of the output matrix
        Py_ssize_t block_size  # bytes read from the source per block (the bounded buffer)
        Py_ssize_t min_piece   # smallest piece of a block worth giving to its own thread
        int threads            # pieces parsed in parallel per block

    # One thread's share of a block: whole lines in, rows and (maybe) an error out.
    ctypedef struct el_piece:
        const char *begin      # in: first byte, the start of a line
        const char *end        # in: one past the last byte (after a '\n' or end of data)
        int64_t first_line     # in: 1-based physical line number at `begin`
        Py_ssize_t first_row   # in: block-local row of the first row written
        Py_ssize_t max_rows    # in: rows this piece may write
        Py_ssize_t rows        # out: rows written, compactly from first_row
        Py_ssize_t lines       # out: physical lines consumed
        const char *stop       # out: where parsing stopped
        int err                # out: EL_OK or EL_ERR_*
        const char *err_pos    # out: see the error codes
        int64_t err_line       # out: physical line of the error
        Py_ssize_t err_field   # out: see the error codes

    Py_ssize_t el_count_lines(const char *p, const char *end)
    const char *el_field_end(const char *p, const char *end)
    const char *el_after_last_newline(const char *p, const char *end)
    void el_text_piece(const el_config *cfg, el_piece *pc, char *out, const char *base,
                       int64_t *wstart, int64_t *wlen, int64_t *lineno)
    void el_binary_row(const el_config *cfg, char *row, const char *v)
    void el_binary_records(const el_config *cfg, el_piece *pc, char *out, const char *base,
                           int64_t *wstart, int64_t *wlen, int at_eof)
    Py_ssize_t el_pread_full(int fd, char *buf, Py_ssize_t n, int64_t off)
    void el_drop_pages(const char *a, const char *b)
    void el_move_rows(char *data, Py_ssize_t rowbytes, Py_ssize_t dst, Py_ssize_t src, Py_ssize_t n)
    int el_parse_fields(const char *q, const char *le, Py_ssize_t dim, int dtype, char *row,
                        const char **err_pos, Py_ssize_t *err_field)


cimport numpy as cnp


# The stream every reader of a vectors file shares (load and load_aligned): a bounded
# buffer over an embload._source stream. ``fill()`` moves the unconsumed bytes
# ``[pos, filled)`` to the front and appends about one block after them (growing the
# buffer for a line longer than a block); a plain file is read with pread() by several
# threads, anything else through the source's readinto(). With ``mapped=True`` a plain
# file is memory-mapped instead (``buf`` is the map; ``pos``/``filled`` are file offsets
# past the start; nothing moves). Progress goes to ``bar``.
cdef class _Reader:
    cdef object src
    cdef object bar
    cdef cnp.ndarray buf          # the bytes; buf[pos:filled] are not consumed yet
    cdef Py_ssize_t block_size
    cdef public Py_ssize_t pos
    cdef readonly Py_ssize_t filled
    cdef readonly bint eof        # the source has no more bytes after buf[:filled]
    cdef Py_ssize_t reported      # bytes already reported to bar
    cdef int fd                   # plain file: read with pread() by several threads; else -1
    cdef int64_t offset           # file offset of the next pread
    cdef int threads
    cdef Py_ssize_t min_chunk
    cdef object mapping           # mapped=True: the mmap that buf views; else None
    cdef Py_ssize_t released      # mapped: bytes before this were handed back to the OS

    cdef int pread_block(self, Py_ssize_t target) except -1
    cdef int fill(self) except -1
    cdef int skip(self, Py_ssize_t nbytes) except -1


# The record splitter's block loop, shared by every reader of text:
# the next block of complete lines is reader.buf[reader.pos:lend] (lend returned; -1 at
# the end of the data); _cut_pieces cuts it at line ends into pieces for threads.
cdef Py_ssize_t _next_lines(_Reader reader) except -2
cdef Py_ssize_t _cut_pieces(const char *base, Py_ssize_t start, Py_ssize_t lend, const el_config *cfg,
                            Py_ssize_t *bounds) noexcept
# The checks of binary records, shared by every reader of them.
cdef int _raise_truncated(el_piece *pc, const char *base, Py_ssize_t filled, Py_ssize_t rows,
                          Py_ssize_t count, Py_ssize_t dim, path) except -1
cdef int _raise_no_space(const char *base, Py_ssize_t pos, Py_ssize_t rows, path) except -1
cdef el_config _config(Py_ssize_t dim, str dtype, int threads, Py_ssize_t block_size,
                       Py_ssize_t min_piece) except *
