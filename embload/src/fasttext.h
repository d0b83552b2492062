/* fasttext.h - the parts of a fastText / floret .bin model that are loops over bytes:
 * walking the dictionary, hashing subwords, and summing a word's rows.
 *
 * The layout (all numbers native little-endian; fastText writes its structs' bytes):
 *
 *   int32 magic 793712314, int32 version (11 or 12)    absent in the oldest layout, whose
 *                                                      first int32 is already `dim`
 *   args   int32 dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
 *          [floret only: int32 mode, int32 hashCount]  int32 lrUpdateRate, float64 t
 *   dict   int32 size nwords nlabels, int64 ntokens, [int64 pruneidx_size: not in the
 *          oldest layout], then `size` entries: the word's bytes, a NUL, int64 count,
 *          int8 type (0 word, 1 label); then pruneidx_size pairs int32 (bucket, row)
 *   [uint8 quant_input: not in the oldest layout]
 *   input  dense:     int64 m, int64 n, float32 m*n (row-major)
 *          quantized: uint8 qnorm, int64 m, int64 n, int32 codesize, uint8 codes[codesize],
 *                     product quantizer (int32 dim nsubq dsub lastdsub, float32
 *                     centroids[dim * 256]); with qnorm: uint8 norm_codes[m] and a second
 *                     quantizer (dim 1) for the norms
 *   uint8 qout, output matrix                          (not needed for word vectors)
 *
 * A word's vector is the mean of the input rows of its "subwords" (fastText's
 * Dictionary::getSubwords + FastText::getWordVector):
 *   - its own row, when it is in the dictionary (floret: only for row 0);
 *   - unless the word is "</s>" (in version 12 files; older fastText gave it n-grams
 *     too): with w = "<" word ">", every n-gram of n = minn..maxn
 *     UTF-8 code points of w, except the single "<" and ">"; each hashed (FNV-1a over
 *     the bytes taken as *signed* chars, the quirk every released model was trained
 *     with; floret: MurmurHash3_x64_128 giving hashCount 32-bit hashes, and w itself is
 *     hashed first), row nwords + hash % bucket, looked up in pruneidx when the model is
 *     pruned (a bucket missing from it contributes nothing).
 * The sum is taken in float32 in that order and multiplied by (float)(1.0 / count),
 * exactly as fastText does, so vectors match its own bit for bit.
 *
 * No allocation, no Python objects: safe without the GIL. Errors are codes.
 */
#ifndef EMBLOAD_FASTTEXT_H
#define EMBLOAD_FASTTEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clones.h"
#include "wordhash.h"

/* --- the dictionary ------------------------------------------------------------- */

/* Bytes an entry takes besides its word: the NUL, int64 count, int8 type. */
#define EL_FT_ENTRY_TAIL 10

/* Walk `n` entries from buf[pos]; stop at the first that does not fit in `size` bytes.
 * Returns the number of complete entries (n when all fit). *end is the offset after the
 * last complete entry, *word_bytes the sum of their word lengths. */
static inline int64_t el_ft_scan_entries(const unsigned char *buf, int64_t size, int64_t pos,
                                         int64_t n, int64_t *end, int64_t *word_bytes) {
    int64_t i, total = 0;
    for (i = 0; i < n; i++) {
        if (pos >= size) break;
        const unsigned char *nul = (const unsigned char *)memchr(buf + pos, 0, (size_t)(size - pos));
        if (nul == NULL) break;
        int64_t len = nul - (buf + pos);
        if (size - pos - len < EL_FT_ENTRY_TAIL) break;
        total += len;
        pos += len + EL_FT_ENTRY_TAIL;
    }
    *end = pos;
    *word_bytes = total;
    return i;
}

/* Second pass over entries el_ft_scan_entries accepted: copy the words into `arena`
 * ('\n' after each: word i is arena[off[i], off[i+1]-1)), their counts and types. */
static inline void el_ft_copy_entries(const unsigned char *buf, int64_t pos, int64_t n,
                                      char *arena, int64_t *off, int64_t *counts, int8_t *types) {
    int64_t a = 0;
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t len = (int64_t)strlen((const char *)buf + pos);
        memcpy(arena + a, buf + pos, (size_t)len);
        a += len;
        arena[a++] = '\n';
        off[i + 1] = a;
        pos += len + 1;
        memcpy(&counts[i], buf + pos, 8);
        types[i] = (int8_t)buf[pos + 8];
        pos += 9;
    }
}

/* --- hashes --------------------------------------------------------------------- */

#define EL_FT_FNV_INIT 2166136261u
#define EL_FT_FNV_PRIME 16777619u

/* One step of fastText's FNV-1a: the byte is sign-extended first (a char is signed on
 * the machines the models were trained on), so bytes >= 0x80 xor in 0xFFFFFFxx. */
static inline uint32_t el_ft_fnv_step(uint32_t h, unsigned char c) {
    return (h ^ (uint32_t)(int32_t)(int8_t)c) * EL_FT_FNV_PRIME;
}

static inline uint32_t el_ft_fnv(const unsigned char *s, int64_t n) {
    uint32_t h = EL_FT_FNV_INIT;
    for (int64_t i = 0; i < n; i++) h = el_ft_fnv_step(h, s[i]);
    return h;
}

static inline uint64_t el_ft_rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* MurmurHash3's finaliser fmix64 is the mix of the package's word hash (wordhash.h). */
static inline uint64_t el_ft_fmix64(uint64_t k) { return el_word_mix(k); }

/* MurmurHash3_x64_128 (Austin Appleby's public-domain algorithm) of s[0, n). */
static inline void el_ft_murmur3_128(const unsigned char *s, int64_t n, uint32_t seed, uint64_t out[2]) {
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = seed, h2 = seed, k1, k2;
    int64_t blocks = n / 16, i;
    for (i = 0; i < blocks; i++) {
        memcpy(&k1, s + 16 * i, 8);
        memcpy(&k2, s + 16 * i + 8, 8);
        k1 *= c1; k1 = el_ft_rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = el_ft_rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = el_ft_rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = el_ft_rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = s + 16 * blocks;
    k1 = 0;
    k2 = 0;
    switch (n & 15) {
    case 15: k2 ^= (uint64_t)tail[14] << 48; /* fall through */
    case 14: k2 ^= (uint64_t)tail[13] << 40; /* fall through */
    case 13: k2 ^= (uint64_t)tail[12] << 32; /* fall through */
    case 12: k2 ^= (uint64_t)tail[11] << 24; /* fall through */
    case 11: k2 ^= (uint64_t)tail[10] << 16; /* fall through */
    case 10: k2 ^= (uint64_t)tail[9] << 8;   /* fall through */
    case 9:  k2 ^= (uint64_t)tail[8];
             k2 *= c2; k2 = el_ft_rotl64(k2, 33); k2 *= c1; h2 ^= k2; /* fall through */
    case 8:  k1 ^= (uint64_t)tail[7] << 56;  /* fall through */
    case 7:  k1 ^= (uint64_t)tail[6] << 48;  /* fall through */
    case 6:  k1 ^= (uint64_t)tail[5] << 40;  /* fall through */
    case 5:  k1 ^= (uint64_t)tail[4] << 32;  /* fall through */
    case 4:  k1 ^= (uint64_t)tail[3] << 24;  /* fall through */
    case 3:  k1 ^= (uint64_t)tail[2] << 16;  /* fall through */
    case 2:  k1 ^= (uint64_t)tail[1] << 8;   /* fall through */
    case 1:  k1 ^= (uint64_t)tail[0];
             k1 *= c1; k1 = el_ft_rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= (uint64_t)n;
    h2 ^= (uint64_t)n;
    h1 += h2;
    h2 += h1;
    h1 = el_ft_fmix64(h1);
    h2 = el_ft_fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

/* floret's seed: the FNV offset basis */
#define EL_FT_MURMUR_SEED 2166136261u

/* --- the model ------------------------------------------------------------------ */

typedef struct {
    /* subwords */
    int32_t minn, maxn;
    uint32_t bucket;          /* 0: no n-gram rows at all */
    int floret;               /* floret mode: MurmurHash3 buckets, no word rows but row 0 */
    int32_t hash_count;       /* floret: hashes per n-gram (1..4) */
    int eos_subwords;         /* "</s>" has n-grams too: models before version 12 */
    int64_t nwords;           /* rows of words before the buckets */
    int64_t prune_size;       /* -1: not pruned; 0: no n-gram kept; > 0: pairs below */
    const int32_t *prune_keys;/* ascending buckets ... */
    const int32_t *prune_rows;/* ... and the row (after nwords) each one keeps */
    /* the input matrix: rows x dim, dense or product-quantized */
    int64_t rows, dim;
    const float *dense;       /* NULL when quantized */
    const uint8_t *codes;     /* nsubq bytes per row */
    const float *centroids;   /* 256 centroids per sub-quantizer */
    int32_t nsubq, dsub, lastdsub;
    const uint8_t *norm_codes;/* NULL: no quantized norms */
    const float *norm_centroids;
} el_ft_model;

/* Where subword rows go: summed into `acc`, and/or recorded (row and byte span in w). */
typedef struct {
    float *acc;               /* NULL: do not sum */
    int64_t *rows;            /* NULL: do not record; else room for `cap` entries */
    int64_t *spans;           /* 2 per entry: [start, end) in w, or -1 -1 for a word row */
    int64_t cap;
    int64_t count;            /* subword rows seen (recorded or not) */
    int bad_row;              /* a row outside the matrix was asked for (damaged model) */
} el_ft_sink;

/* fastText's Vector::mul(1.0 / ngrams.size()): the double quotient rounded to float */
static inline float el_ft_mean_scale(int64_t count) { return (float)(1.0 / (double)count); }

/* out = (rows[0] + rows[1] + ... + rows[n-1]) * scale, each element summed from 0.0f (from
 * out's own value when `accumulate`) in the rows' order: fastText's zero(), addRow()...,
 * mul() to the bit (scale 1.0f changes no bit: a word too long to collect its rows first
 * adds them one call at a time). The loop runs over
 * the columns in blocks of 64 floats (then 16, then one) held in registers, the rows
 * inside it, so the running sum is never stored and reloaded between rows, and the first
 * block's loads put a miss in flight for every row of the word at once. The element
 * order of the additions is the same as row after row; only the loops are swapped. With
 * an AVX-512 copy chosen at run time where the CPU has it: the vector width shows even
 * in a bare row-after-row sum of 26 random 300-float rows a word (scripts/rowread_bench.c
 * before it took this shape), 160k words/s with 16-byte vectors, 236k with AVX2's 32 and
 * 272k with AVX-512's 64, on one core of the 2-core VM. */
#if defined(__GNUC__)
/* 16 floats (GCC splits it into what the target has: 1 AVX-512, 2 AVX2, 4 SSE registers);
 * aligned(4) because rows start anywhere a float can */
typedef float el_ft_v16 __attribute__((vector_size(64), aligned(4), may_alias));
EL_TARGET_CLONES("avx512f", "avx2", "default")
static void el_ft_sum_dense(float *restrict out, const float *restrict dense, int64_t dim,
                            const int64_t *restrict rows, int64_t n, float scale, int accumulate) {
    int64_t k0 = 0;
    for (; k0 + 64 <= dim; k0 += 64) {
        el_ft_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        if (accumulate) {
            const el_ft_v16 *o = (const el_ft_v16 *)(out + k0);
            a0 = o[0];
            a1 = o[1];
            a2 = o[2];
            a3 = o[3];
        }
        for (int64_t r = 0; r < n; r++) {
            const el_ft_v16 *p = (const el_ft_v16 *)(dense + rows[r] * dim + k0);
            a0 += p[0];
            a1 += p[1];
            a2 += p[2];
            a3 += p[3];
        }
        el_ft_v16 *o = (el_ft_v16 *)(out + k0);
        o[0] = a0 * scale;
        o[1] = a1 * scale;
        o[2] = a2 * scale;
        o[3] = a3 * scale;
    }
    for (; k0 + 16 <= dim; k0 += 16) {
        el_ft_v16 a0 = {0};
        if (accumulate) a0 = *(const el_ft_v16 *)(out + k0);
        for (int64_t r = 0; r < n; r++) a0 += *(const el_ft_v16 *)(dense + rows[r] * dim + k0);
        *(el_ft_v16 *)(out + k0) = a0 * scale;
    }
    for (; k0 < dim; k0++) {
        float a = accumulate ? out[k0] : 0.0f;
        for (int64_t r = 0; r < n; r++) a += dense[rows[r] * dim + k0];
        out[k0] = a * scale;
    }
}
#else
static void el_ft_sum_dense(float *restrict out, const float *restrict dense, int64_t dim,
                            const int64_t *restrict rows, int64_t n, float scale, int accumulate) {
    for (int64_t k = 0; k < dim; k++) {
        float a = accumulate ? out[k] : 0.0f;
        for (int64_t r = 0; r < n; r++) a += dense[rows[r] * dim + k];
        out[k] = a * scale;
    }
}
#endif

static inline void el_ft_add_row(const el_ft_model *m, int64_t row, float *acc) {
    const int64_t dim = m->dim;
    if (m->dense != NULL) {
        el_ft_sum_dense(acc, m->dense, dim, &row, 1, 1.0f, 1);
        return;
    }
    /* QuantMatrix::addRowToVector -> ProductQuantizer::addcode */
    float norm = 1.0f;
    if (m->norm_codes != NULL) norm = m->norm_centroids[m->norm_codes[row]];
    const uint8_t *code = m->codes + (int64_t)m->nsubq * row;
    const int64_t dsub = m->dsub;
    for (int64_t q = 0; q < m->nsubq; q++) {
        const float *c;
        int64_t d;
        if (q == m->nsubq - 1) {
            c = m->centroids + q * 256 * dsub + (int64_t)code[q] * m->lastdsub;
            d = m->lastdsub;
        } else {
            c = m->centroids + (q * 256 + (int64_t)code[q]) * dsub;
            d = dsub;
        }
        float *x = acc + q * dsub;
        for (int64_t k = 0; k < d; k++) {
            float term = norm * c[k];
            x[k] += term;
        }
    }
}

static inline void el_ft_emit(const el_ft_model *m, el_ft_sink *s, int64_t row, int64_t a, int64_t b) {
    if (row < 0) return; /* a bucket pruning dropped */
    if (row >= m->rows) {
        s->bad_row = 1;
        return;
    }
    if (s->acc != NULL) el_ft_add_row(m, row, s->acc);
    if (s->rows != NULL && s->count < s->cap) {
        s->rows[s->count] = row;
        if (s->spans != NULL) {
            s->spans[2 * s->count] = a;
            s->spans[2 * s->count + 1] = b;
        }
    }
    s->count++;
}

/* Dictionary::pushHash: the row of a bucket, or -1 when pruning dropped it. */
static inline int64_t el_ft_bucket_row(const el_ft_model *m, uint32_t h) {
    int64_t id = (int64_t)(h % m->bucket);
    if (m->prune_size == 0) return -1;
    if (m->prune_size > 0) {
        int64_t lo = 0, hi = m->prune_size;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (m->prune_keys[mid] < id) lo = mid + 1;
            else hi = mid;
        }
        if (lo == m->prune_size || m->prune_keys[lo] != id) return -1;
        id = m->prune_rows[lo];
    }
    return m->nwords + id;
}

static inline void el_ft_emit_hash(const el_ft_model *m, el_ft_sink *s, const unsigned char *w,
                                   int64_t a, int64_t b, uint32_t fnv) {
    if (!m->floret) {
        el_ft_emit(m, s, el_ft_bucket_row(m, fnv), a, b);
        return;
    }
    uint64_t e[2];
    uint32_t keys[4];
    el_ft_murmur3_128(w + a, b - a, EL_FT_MURMUR_SEED, e);
    keys[0] = (uint32_t)(e[0] & 0xffffffffu);
    keys[1] = (uint32_t)(e[0] >> 32);
    keys[2] = (uint32_t)(e[1] & 0xffffffffu);
    keys[3] = (uint32_t)(e[1] >> 32);
    for (int32_t k = 0; k < m->hash_count; k++) el_ft_emit(m, s, el_ft_bucket_row(m, keys[k]), a, b);
}

/* The subword rows of one word, in fastText's order. `w` is "<" word ">" (n bytes),
 * `id` the word's row in the dictionary or -1. */
static inline void el_ft_subwords(const el_ft_model *m, const unsigned char *w, int64_t n,
                                  int64_t id, el_ft_sink *s) {
    if (id >= 0 && (!m->floret || id == 0)) el_ft_emit(m, s, id, -1, -1);
    /* since version 12 (fastText, Oct. 2017) the end-of-sentence token has no subwords */
    if (!m->eos_subwords && n == 6 && memcmp(w, "<</s>>", 6) == 0) return;
    if (m->bucket == 0) return;
    if (m->floret) el_ft_emit_hash(m, s, w, 0, n, 0);
    for (int64_t i = 0; i < n; i++) {
        if ((w[i] & 0xC0) == 0x80) continue;
        uint32_t h = EL_FT_FNV_INIT;
        int64_t j = i;
        for (int64_t cp = 1; j < n && cp <= m->maxn; cp++) {
            h = el_ft_fnv_step(h, w[j++]);
            while (j < n && (w[j] & 0xC0) == 0x80) h = el_ft_fnv_step(h, w[j++]);
            if (cp >= m->minn && !(cp == 1 && (i == 0 || j == n))) el_ft_emit_hash(m, s, w, i, j, h);
        }
    }
}

/* Rows of one word collected before they are summed (on the stack: 4 KiB). */
#define EL_FT_PREFETCH_ROWS 512

/* Most rows a word of n bytes ("<" word ">") can have: per start position at most
 * min(maxn, n) n-grams, hashCount rows each, plus the word's row and floret's whole-word
 * hashes. */
static inline int64_t el_ft_rows_bound(const el_ft_model *m, int64_t n) {
    int64_t per_start = m->maxn < n ? (int64_t)m->maxn : n;
    if (per_start < 0) per_start = 0;
    int64_t hashes = m->floret ? m->hash_count : 1;
    return n * per_start * hashes + 1 + hashes;
}

/* Whether the subword rows of a word of n bytes surely fit in EL_FT_PREFETCH_ROWS. */
static inline int el_ft_rows_fit(const el_ft_model *m, int64_t n) {
    return n <= EL_FT_PREFETCH_ROWS && el_ft_rows_bound(m, n) <= EL_FT_PREFETCH_ROWS;
}

/* The vector of one word into out[dim] (zeros on entry). `scratch` holds len + 2 bytes.
 * Returns the number of subword rows averaged; -1 if a row was outside the matrix.
 *
 * The rows of a word lie anywhere in a matrix of gigabytes, so each is a cache and TLB
 * miss. The rows are collected first and then summed a block of columns at a time
 * across all of them (el_ft_sum_dense): the misses overlap instead of coming one after
 * another (scripts/bench_fasttext.py measures it). The sum keeps fastText's order. */
static inline int64_t el_ft_word_vector(const el_ft_model *m, const char *word, int64_t len,
                                        int64_t id, unsigned char *scratch, float *out) {
    el_ft_sink s;
    int64_t rows[EL_FT_PREFETCH_ROWS];
    memset(&s, 0, sizeof(s));
    scratch[0] = '<';
    memcpy(scratch + 1, word, (size_t)len);
    scratch[len + 1] = '>';
    if (el_ft_rows_fit(m, len + 2)) {
        s.rows = rows;
        s.cap = EL_FT_PREFETCH_ROWS;
        el_ft_subwords(m, scratch, len + 2, id, &s);
        if (s.bad_row) return -1;
        if (m->dense != NULL && s.count > 0) {
            el_ft_sum_dense(out, m->dense, m->dim, rows, s.count, el_ft_mean_scale(s.count), 0);
            return s.count;
        }
        for (int64_t k = 0; k < s.count; k++) el_ft_add_row(m, rows[k], out);
    } else {
        /* a long word: sum the rows as they come */
        s.acc = out;
        el_ft_subwords(m, scratch, len + 2, id, &s);
        if (s.bad_row) return -1;
    }
    if (s.count > 0) {
        const float scale = el_ft_mean_scale(s.count);
        for (int64_t k = 0; k < m->dim; k++) out[k] *= scale;
    }
    return s.count;
}


/* --- many words ------------------------------------------------------------------ */

/* A batch is its words one after another (el_ft_word_vector): the column blocks of
 * el_ft_sum_dense already keep a miss in flight for every row of the word.
 *
 * Measured through vectors_for and the full load on the 2-core VM (a 2.4 GB n-gram
 * matrix, random 2-14 letter words, ~27 rows a word), against the loop this replaced (a
 * pipeline of 64-word blocks that requested the row 8 places ahead, 4 lines of it, and
 * summed row after row into an accumulator): full load of 500,000 words on one thread
 * 2.6 s -> 1.9-2.0 s, about the bare sum's speed in scripts/rowread_bench.c (269k words/s
 * there, 255k here); on two threads 1.25 s -> 0.92 s. Out-of-vocabulary words/s, one
 * thread: misspelt words ~300k -> 395-425k, random strings ~180k -> 200-227k. Requesting
 * the next word's rows ahead as well was 0-5% slower, and the 64-word block pipeline
 * around the new sum gained nothing over this loop, so neither stayed. */

/* Vectors of words lo..hi-1 into out (row i at out + i * dim; zeros on entry) and the
 * number of rows each averaged into cnt[i] (-1: a row outside the matrix). Word i is
 * arena entry e = entry ? entry[i] : i, its bytes base[off[e], off[e+1]-1), its
 * dictionary row ids ? ids[i] : e. `scratch` holds the longest word + 2 bytes. */
static inline void el_ft_range_vectors(const el_ft_model *m, const char *base, const int64_t *off,
                                       const int64_t *entry, const int64_t *ids, int64_t lo, int64_t hi,
                                       float *out, int64_t *cnt, unsigned char *scratch) {
    for (int64_t i = lo; i < hi; i++) {
        const int64_t e = entry ? entry[i] : i;
        const int64_t len = off[e + 1] - 1 - off[e], id = ids ? ids[i] : e;
        cnt[i] = el_ft_word_vector(m, base + off[e], len, id, scratch, out + i * m->dim);
    }
}

#endif
