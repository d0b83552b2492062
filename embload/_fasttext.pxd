# Contract of embload._fasttext: the C side of fastText / floret .bin models
# (embload/src/fasttext.h) and the parsed model that Python holds on to.

from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "fasttext.h" nogil:
    int64_t EL_FT_ENTRY_TAIL

    ctypedef struct el_ft_model:
        int32_t minn
        int32_t maxn
        uint32_t bucket
        int floret
        int32_t hash_count
        int eos_subwords
        int64_t nwords
        int64_t prune_size
        const int32_t *prune_keys
        const int32_t *prune_rows
        int64_t rows
        int64_t dim
        const float *dense
        const uint8_t *codes
        const float *centroids
        int32_t nsubq
        int32_t dsub
        int32_t lastdsub
        const uint8_t *norm_codes
        const float *norm_centroids

    ctypedef struct el_ft_sink:
        float *acc
        int64_t *rows
        int64_t *spans
        int64_t cap
        int64_t count
        int bad_row

    int64_t el_ft_scan_entries(const unsigned char *buf, int64_t size, int64_t pos, int64_t n,
                               int64_t *end, int64_t *word_bytes)
    void el_ft_copy_entries(const unsigned char *buf, int64_t pos, int64_t n, char *arena,
                            int64_t *off, int64_t *counts, int8_t *types)
    uint32_t el_ft_fnv(const unsigned char *s, int64_t n)
    void el_ft_murmur3_128(const unsigned char *s, int64_t n, uint32_t seed, uint64_t out[2])
    void el_ft_subwords(const el_ft_model *m, const unsigned char *w, int64_t n, int64_t id,
                        el_ft_sink *s)
    int64_t el_ft_word_vector(const el_ft_model *m, const char *word, int64_t len, int64_t id,
                              unsigned char *scratch, float *out)
    void el_ft_range_vectors(const el_ft_model *m, const char *base, const int64_t *off,
                             const int64_t *entry, const int64_t *ids, int64_t lo, int64_t hi,
                             float *out, int64_t *cnt, unsigned char *scratch)


from ._words cimport el_wordtable, el_wordtable_build, el_wordtable_find, el_wordtable_free


cdef class _Cursor:
    # reads numbers from the buffer, checking that they are there
    cdef const unsigned char[::1] buf
    cdef Py_ssize_t size
    cdef public Py_ssize_t pos
    cdef object path
    cdef Py_ssize_t left(self)
    cdef need(self, Py_ssize_t n, str section, str what)
    cdef int64_t i64(self, str section, str what) except? -1
    cdef int32_t i32(self, str section, str what) except? -1
    cdef int u8(self, str section, str what) except -1
    cdef array(self, buffer, dtype, Py_ssize_t count, str section, str what)


cdef class ParsedModel:
    # what the file says, section by section (read-only to Python)
    cdef readonly object path
    cdef readonly object version          # 11, 12, or None for the oldest layout
    cdef readonly dict args
    cdef readonly Py_ssize_t size, nwords, nlabels
    cdef readonly long long ntokens, prune_size
    cdef readonly object arena            # uint8: every entry's word + '\n'
    cdef readonly object offsets          # int64, size + 1
    cdef readonly object counts           # int64, size
    cdef readonly object types            # int8, size (0 word, 1 label)
    cdef readonly object prune_keys, prune_rows   # int32, ascending buckets
    cdef readonly bint quantized
    cdef readonly Py_ssize_t rows         # of the input matrix
    cdef readonly object matrix           # dense: float32 (rows, dim), a view of the file
    cdef readonly object codes, centroids, norm_codes, norm_centroids
    cdef readonly dict layout             # section -> byte offset
    cdef readonly Py_ssize_t trailing     # bytes after the model (ignored)
    cdef readonly object buffer           # the memory map / bytes the arrays view
    # C view of the above for the kernels
    cdef el_ft_model model
    cdef el_wordtable index
    cdef bint indexed

    cdef _read_args(self, layout)
    cdef _read_dictionary(self, _Cursor cur, bint has_pruneidx)
    cdef _read_quantizer(self, _Cursor cur, str section, int64_t dim)
    cdef _read_matrix(self, _Cursor cur)
    cdef _check_output(self, _Cursor cur, bint new)
    cdef _bind(self, int64_t rows)
    cdef _build_index(self)
    cdef int _range(self, const char *base, const int64_t *off, const int64_t *entry, int64_t *ids,
                    Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t longest, float *out,
                    int64_t *cnt) noexcept nogil
    cdef _run(self, const char *base, const int64_t *off, const int64_t *entry, int64_t *ids,
              Py_ssize_t n, float *out, int64_t *cnt, Py_ssize_t threads)
