# Contract of embload._text: Keras' text rules in C (embload/src/tokenize.h) and the
# objects that hold their state between batches of documents.

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "tokenize.h" nogil:
    ctypedef struct el_str:
        const void *data
        int64_t len
        int kind
        int ascii

    ctypedef struct el_case:
        const uint32_t *lower
        int64_t lower_size
        const uint8_t *cls
        const uint32_t *exp
        int64_t n_exp

    ctypedef struct el_tokopts:
        int lower
        int char_level
        uint8_t sep_ascii[128]
        const uint32_t *filters
        int64_t n_filters
        const uint32_t *split
        int64_t split_len
        const el_case *cases
        int simd
        const uint32_t *bmp

    ctypedef struct el_toks:
        char *buf
        int64_t len
        int64_t *start
        int64_t *end
        int64_t n

    ctypedef struct el_docs:
        const el_str *items
        const int64_t *first
        const int64_t *count
        const uint8_t *is_list

    ctypedef struct el_word:
        uint64_t hash
        int64_t off
        int64_t len
        int64_t first_doc
        int64_t first_pos

    ctypedef struct el_wcount:
        int64_t count
        int64_t docs
        int64_t last_doc

    ctypedef struct el_vocab:
        el_word *words
        el_wcount *counts
        int64_t n
        char *arena
        int64_t *rec
        int64_t nrec

    ctypedef struct el_idbuf:
        int64_t *ids
        int64_t n, cap

    ctypedef struct el_thread:
        el_toks toks
        el_vocab vocab
        el_idbuf out

    int64_t EL_OOV
    uint32_t EL_LOWER_EXPANDS
    uint32_t EL_BMP_SEP
    uint32_t EL_BMP_SLOW
    int EL_CASE_OTHER
    int EL_CASE_CASED
    int EL_CASE_IGNORABLE

    void el_toks_free(el_toks *t)
    void el_tokopts_nibbles(el_tokopts *o)
    int el_cpu_simd()
    int el_tokenize(const el_tokopts *o, const el_docs *D, int64_t d, el_toks *t)
    int el_vocab_init(el_vocab *v, int64_t expected)
    void el_vocab_free(el_vocab *v)
    int64_t el_vocab_add(el_vocab *v, const char *p, int64_t n, int *added)
    int el_fit_range(const el_tokopts *o, const el_docs *D, int64_t d0, int64_t d1,
                     int64_t doc_base, el_vocab *v, el_toks *t)
    int el_vocab_merge(el_vocab *dst, const el_vocab *src, int64_t *map)
    int el_vocab_copy(el_vocab *dst, const el_vocab *src)
    int el_lookup_range(const el_tokopts *o, const el_docs *D, int64_t d0, int64_t d1,
                        const el_vocab *table, const uint8_t *keep, int has_oov,
                        int oov_has_index, el_toks *t, el_idbuf *out, int64_t *lengths)


cdef class Options:
    """The tokenizer options in C form (one per call, read by every thread)."""
    cdef el_tokopts opts
    cdef object _filters   # NumPy arrays the struct points into
    cdef object _split
    cdef object _bmp       # the BMP table (bmp), or None


cdef class Docs:
    """Where the characters of a batch of documents live (the batch is kept alive)."""
    cdef el_str *items
    cdef int64_t *first
    cdef int64_t *count
    cdef uint8_t *is_list
    cdef int64_t n
    cdef int64_t nitems
    cdef el_docs view
    cdef object _keep
    cdef object _weights   # code points per document, to balance threads


cdef class Counter:
    """Counts of a fit in progress: one vocabulary per thread, merged at the end."""
    cdef Options options
    cdef el_thread *states    # one per thread, each on its own cache lines
    cdef int nthreads
    cdef int64_t documents
    cdef readonly object thread_seconds  # CPU seconds each thread spent in the kernel


cdef class Table:
    """A word_index in C: word -> (index value, the dict's value object)."""
    cdef el_vocab vocab
    cdef readonly list values
    cdef readonly object numbers


cdef class LookupPieces:
    """A look-up cut into pieces of documents that any thread may claim and run without
    the GIL (``help``, ``wait``), each piece's ids kept apart for its lists."""
    cdef Options options
    cdef Table table
    cdef Docs docs
    cdef object _keep           # the uint8 keep table (NumPy), read by every piece
    cdef const uint8_t *keep
    cdef int has_oov, oov_has_index
    cdef int64_t npieces, piece_docs
    cdef el_idbuf *outs         # one per piece
    cdef int *state             # per piece: 0 to run, 1 running, 2 done, -1 out of memory
    cdef int64_t next_piece     # the next piece to claim (atomic)
    cdef object _lengths        # tokens per document, written by the pieces
    cdef int64_t *lengths       # its data
    cdef el_toks mine           # the scratch of the thread that calls wait()
    cdef int run(self, int64_t i, el_toks *t) noexcept nogil
