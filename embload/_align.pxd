# cython: language_level=3
"""Contract of embload._align: the tables of wanted words, the scanning kernels
(src/alignscan.h), and the state one aligned load keeps between blocks.

Alignment owns one decision, "is this line's word wanted?" (el_align_lookup). The rest is
the reader's, cimported from its contracts: the stream and block loop (_parse._Reader,
_next_lines, _cut_pieces), the record splitter and value parser (src/textscan.h via
_parse.pxd: el_binary_records, el_parse_fields, el_binary_row, the EL_F* dtype and EL_ERR_*
error codes), and the one word table (src/wordhash.h via _words.pxd).
"""
from libc.stdint cimport int64_t

cimport numpy as cnp

from embload._parse cimport el_config
from embload._words cimport el_wordtable


cdef extern from "alignscan.h" nogil:
    int64_t EL_NO_ID         # not wanted
    int64_t EL_ASK_PYTHON    # a non-ASCII word in fallback mode: Python lowercases it

    ctypedef struct el_align_cfg:
        const el_wordtable *exact   # wanted words as written
        const int64_t *exact_id     # key number -> slot
        const el_wordtable *lower   # their lowercased forms (case="fallback"), or NULL
        const int64_t *lower_id     # key number -> case group
        Py_ssize_t dim
        int general                 # some wanted word holds a SEP: split every line from the right
        int dtype                   # EL_F32 / EL_F64 / EL_F16
        Py_ssize_t row_bytes

    ctypedef struct el_hit:
        int64_t line       # start of the line / record, offset from the block's base
        int64_t word       # start of the word
        int64_t word_end
        int64_t end        # text: end of the line; binary: start of the vector
        int64_t lineno     # 0-based line/record number within the scanned piece
        int64_t fields     # fields after the word (-1: not counted yet)
        int64_t exact      # slot of the word as written, or EL_NO_ID
        int64_t lower      # case group, EL_NO_ID, or EL_ASK_PYTHON
        int64_t row        # row of the piece's scratch holding the parsed values, or -1
        int64_t bad        # EL_ERR_NUMBER: offset of the field that is not a number
        int64_t field      # EL_ERR_NUMBER: its 1-based index
        int err            # EL_OK or EL_ERR_NUMBER

    ctypedef struct el_hitbuf:
        el_hit *data
        int64_t n
        int64_t cap
        char *rows
        int64_t nrows
        int64_t caprows
        int64_t records
        int failed

    void el_hitbuf_free(el_hitbuf *b)
    int64_t el_count_fields(const char *buf, int64_t p, int64_t q)
    int64_t el_align_text(const char *buf, int64_t start, int64_t end,
                          const el_align_cfg *cfg, el_hitbuf *out)
    void el_align_records(const char *base, const int64_t *ws, const int64_t *wl, int64_t n,
                          const el_align_cfg *cfg, el_hitbuf *out)


cdef class WordTable:
    """Read-only table: UTF-8 word -> int (an el_wordtable and the value of each key)."""
    cdef el_wordtable table
    cdef bytes arena                 # the keys, '\n'-separated (the table points into it)
    cdef cnp.ndarray offsets         # int64, size + 1
    cdef cnp.ndarray values          # int64: key number -> value
    cdef const int64_t *value_of
    cdef readonly Py_ssize_t size

    cdef int64_t get_c(self, const char *p, int64_t n) noexcept nogil
    cdef int64_t get_lower_c(self, const char *p, int64_t n) noexcept nogil


cdef class Scanner:
    """State of one aligned load: which rows are settled, by which rank, and the output."""
    cdef WordTable exact_table
    cdef WordTable lower_table       # None unless case="fallback"
    cdef el_align_cfg cfg
    cdef el_config rows              # the reader's options: dim, dtype (el_binary_row), threads
    cdef bint binary                 # scanning binary records (their rows are copied in _fill)
    cdef object path
    cdef object lower_dict           # lowercased UTF-8 word -> group (non-ASCII words)
    cdef el_hitbuf *parts            # one hit buffer per piece of a block
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
    cdef int64_t[::1] row_win        # within one block: winning hit of a row, or -1
    cdef unsigned char[::1] slot_exact
    cdef int64_t[::1] slot_line      # line (binary: record) where each slot was first found,
                                     # negated (-line - 1) once a repeat of it was recorded
    cdef readonly list duplicates    # (slot, first line, line) of the first repeat of each
                                     # slot's word: one entry a word, however often repeated
    cdef unsigned char[::1] group_found
    cdef readonly list group_word    # first file word (bytes) of each case group
    cdef readonly Py_ssize_t n_exact # slots found as written
    cdef public Py_ssize_t lines     # physical lines (records) before the next block

    cdef int _python_group(self, const char *p, el_hit *h) except -2
    cdef void _offer(self, int64_t row, int64_t rank, int64_t hit, list touched) noexcept
    cdef _resolve(self, const char *p, Py_ssize_t n_parts, const int64_t *first_line)
    cdef _fill(self, const char *p, el_hit *flat, char **rowp, Py_ssize_t total, list touched)
    cdef _raise_parse_error(self, const char *p, el_hit *h)
