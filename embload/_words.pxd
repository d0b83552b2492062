# cython: language_level=3
"""Contract of embload._words: the words of a vectors file kept as one UTF-8 arena
(src/wordarena.h) and the one word table (src/wordhash.h) that indexes it.

An arena is a byte buffer and int64 offsets: word i is base[off[i], off[i+1] - 1) and the
byte at off[i+1] - 1 separates it from the next. Readers (embload._parse) produce one;
WordList wraps it without making a str per word; writers, the cache and alignment take
it back with ``WordList.utf8_arena()``. The table type is the one every word lookup in
embload uses (the WordList index here, the wanted words of embload._align).
"""
from libc.stdint cimport int64_t, uint32_t, uint64_t


cdef extern from "wordarena.h" nogil:
    int64_t el_words_check(const char *base, int64_t size, const int64_t *off, int64_t n,
                           int allow_surrogates, int *why, int *plain)
    int64_t el_split_lines(const char *blob, int64_t n, int64_t *off)
    int64_t el_count_newlines(const char *blob, int64_t n)


cdef extern from "wordhash.h" nogil:
    uint64_t el_word_hash(const char *p, int64_t n)
    uint64_t el_word_hash_lower(const char *p, int64_t n)
    int el_is_ascii(const char *p, int64_t n)

    ctypedef struct el_wordslot:
        uint32_t tag
        uint32_t key1

    # word -> key number over an arena owned by the caller (keep it alive with the table)
    ctypedef struct el_wordtable:
        el_wordslot *slots        # NULL until built
        int64_t duplicates        # keys equal to an earlier key (the first is kept)
        int64_t first_dup         # number of the first such key, or -1
        int64_t first_dup_of      # the earlier key it repeats

    int64_t EL_WORDTABLE_MAX_KEYS
    # 0, -1 out of memory, -2 more than EL_WORDTABLE_MAX_KEYS keys
    int el_wordtable_build(el_wordtable *t, const char *base, const int64_t *off, int64_t n)
    int64_t el_wordtable_find(const el_wordtable *t, const char *p, int64_t len)
    int64_t el_wordtable_find_lower(const el_wordtable *t, const char *p, int64_t len)
    void el_wordtable_free(el_wordtable *t)


cdef class WordList:
    cdef object _arena            # bytes or uint8 ndarray; never resized while we point into it
    cdef object _offsets          # int64 ndarray, count + 1 values
    cdef const char *_base
    cdef const int64_t *_off
    cdef Py_ssize_t _n
    cdef str _errors              # "strict" or "surrogatepass"
    cdef bint _surrogates
    cdef bint _plain              # every separator is '\n' and no word holds one
    cdef list _list               # the decoded words, once made
    cdef el_wordtable _index      # word -> row, built on first lookup
    cdef bint _indexed
    cdef dict _big_index          # only past EL_WORDTABLE_MAX_KEYS words

    cdef bytes _raw(self, Py_ssize_t i)
    cdef str _word(self, Py_ssize_t i)
    cdef list _all(self)
    cdef bytes _span(self)
    cpdef Py_ssize_t build_index(self) except -2
    cpdef Py_ssize_t find(self, word) except -2
