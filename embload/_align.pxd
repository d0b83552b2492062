# Contract of embload._align: the C hash table of wanted words and the scanning kernels
# (embload/src/wordhash.h), and the state one aligned load keeps between buffers.

from libc.stdint cimport int64_t, uint64_t


cdef extern from "wordhash.h" nogil:
    ctypedef struct el_wh_entry:
        uint64_t hash
        int64_t key
        int64_t len
        int64_t value

    ctypedef struct el_wordhash:
        el_wh_entry *entries
        const char *arena
        int64_t mask
        int64_t count

    int el_wh_init(el_wordhash *t, const char *arena, int64_t count)
    void el_wh_free(el_wordhash *t)
    int64_t el_wh_put(el_wordhash *t, int64_t key, int64_t len, int64_t value)
    int64_t el_wh_get(const el_wordhash *t, const char *p, int64_t n)
    int64_t el_wh_get_lower(const el_wordhash *t, const char *p, int64_t n)
    int el_is_ascii(const char *p, int64_t n)

    int64_t EL_NO_ID
    int64_t EL_ASK_PYTHON

    ctypedef struct el_hit:
        int64_t line       # start of the line / record in the buffer
        int64_t word       # start of the word
        int64_t word_end
        int64_t end        # text: end of the line; binary: start of the vector
        int64_t lineno     # 0-based line/record number within the scanned part
        int64_t fields     # fields after the word (-1: not counted yet)
        int64_t exact      # slot of the word as written, or EL_NO_ID
        int64_t lower      # case group, EL_NO_ID, or EL_ASK_PYTHON
        int64_t row        # row of the part's scratch holding the parsed values, or -1
        int64_t bad        # parse error: offset of the offending field
        int64_t field      # parse error: its 0-based number
        int err            # EL_AL_OK or a parse error

    ctypedef struct el_hitbuf:
        el_hit *data
        int64_t n
        int64_t cap
        char *rows
        int64_t nrows
        int64_t caprows
        int failed

    void el_hitbuf_free(el_hitbuf *b)

    ctypedef struct el_scan_cfg:
        const el_wordhash *exact
        const el_wordhash *lower
        int64_t dim
        int general
        int dtype
        int64_t row_bytes

    void el_drop_pages(const char *a, const char *b)
    int el_is_blank(char c)
    int64_t el_count_fields(const char *buf, int64_t p, int64_t q)
    int64_t el_scan_text(const char *buf, int64_t start, int64_t end,
                         const el_scan_cfg *cfg, el_hitbuf *out)
    int64_t el_scan_binary(const char *buf, int64_t start, int64_t end, int64_t limit,
                           const el_scan_cfg *cfg, el_hitbuf *out, int64_t *records)

    int EL_AL_F16
    int EL_AL_F32
    int EL_AL_F64
    int EL_AL_OK
    int EL_AL_ERR_VALUE
    int EL_AL_ERR_FEW
    int EL_AL_ERR_MANY
    int el_parse_values(const char *buf, int64_t p, int64_t le, int64_t dim,
                        void *dest, int dtype, int64_t *bad, int64_t *field)
    void el_copy_binary(const char *src, int64_t dim, void *dest, int dtype)


cdef class WordTable:
    """Read-only hash table: UTF-8 word -> int, built once from Python."""
    cdef el_wordhash table
    cdef bytes arena
    cdef readonly Py_ssize_t size


cdef class Scanner:
    """State of one aligned load: which rows are settled, by which rank, and the output."""
    cdef WordTable exact_table
    cdef WordTable lower_table       # None unless case="fallback"
    cdef el_scan_cfg cfg
    cdef int threads
    cdef int dtype_code
    cdef bint binary
    cdef object path
    cdef object lower_dict           # lowercased UTF-8 word -> group (non-ASCII words)
    cdef el_hitbuf *parts            # one hit buffer per part of a buffer (4 per thread)
    cdef Py_ssize_t n_parts
    cdef Py_ssize_t n_slots
    cdef Py_ssize_t n_rows
    cdef char *out                   # the output matrix, row-major
    cdef Py_ssize_t row_bytes
    cdef object matrix
    cdef int64_t[::1] slot_row       # slot (unique wanted word) -> matrix row
    cdef int64_t[::1] group_ptr      # case group -> its slots, CSR
    cdef int64_t[::1] group_slots
    cdef int64_t[::1] row_rank       # best rank settled for a row; n_rows of "none" = 2*slots
    cdef int64_t[::1] row_win        # within one buffer: winning hit of a row, or -1
    cdef unsigned char[::1] slot_exact
    cdef unsigned char[::1] group_found
    cdef readonly list group_word    # first file word (bytes) of each case group
    cdef readonly Py_ssize_t n_exact # slots found as written
    cdef public Py_ssize_t lines     # physical lines (records) before the next buffer

    cdef int _python_group(self, const char *p, el_hit *h) except -2
    cdef void _offer(self, int64_t row, int64_t rank, int64_t hit, list touched) noexcept
    cdef _resolve(self, const unsigned char[::1] buf, Py_ssize_t n_parts, int64_t[::1] first_line)
    cdef _fill(self, const char *p, el_hit *flat, char **rowp, Py_ssize_t total, list touched)
    cdef _raise_parse_error(self, const char *p, el_hit *h, int code, int64_t bad, int64_t field)
