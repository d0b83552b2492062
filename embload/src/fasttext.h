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

/* acc += r. Where the compiler can, a copy for AVX2 is chosen at run time
 * (GCC's target_clones): a third less time for a 300-dim model than SSE2's 16 bytes. Each
 * element is one float add whatever the width, so the result is the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
static void el_ft_add_dense(float *restrict acc, const float *restrict r, int64_t dim) {
    for (int64_t k = 0; k < dim; k++) acc[k] += r[k];
}

static inline void el_ft_add_row(const el_ft_model *m, int64_t row, float *acc) {
    const int64_t dim = m->dim;
    if (m->dense != NULL) {
        el_ft_add_dense(acc, m->dense + row * dim, dim);
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
 * miss. The rows are collected first and the first line of every one is requested
 * before any is summed: the misses then overlap instead of coming one after another
 * (scripts/bench_fasttext.py measures it). The sum keeps fastText's order. */
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
#if defined(__GNUC__)
        if (m->dense != NULL)
            for (int64_t k = 0; k < s.count; k++) __builtin_prefetch(m->dense + rows[k] * m->dim, 0, 0);
#endif
        for (int64_t k = 0; k < s.count; k++) el_ft_add_row(m, rows[k], out);
    } else {
        /* a long word: sum the rows as they come */
        s.acc = out;
        el_ft_subwords(m, scratch, len + 2, id, &s);
        if (s.bad_row) return -1;
    }
    if (s.count > 0) {
        /* Vector::mul(1.0 / ngrams.size()): the double quotient rounded to float first */
        const float scale = (float)(1.0 / (double)s.count);
        for (int64_t k = 0; k < m->dim; k++) out[k] *= scale;
    }
    return s.count;
}


/* --- many words ------------------------------------------------------------------ */

/* A batch is summed as a pipeline of blocks. The rows of a block of words are collected
 * (hashing only) into one list; the rows are then summed word by word while the row
 * EL_FT_AHEAD places further down the list (in the next block past the end) is requested.
 * The memory system then always has rows in flight, across word and block boundaries,
 * and the next block is hashed while the first rows of the current one arrive.
 *
 * Measured on one core of the 2-core VM (a 2.4 GB n-gram matrix, random 2-14 letter words,
 * ~40 rows a word), words/s of this loop alone: all rows of a word requested at once
 * before it is summed (the previous loop) 155-162k; this pipeline with 8 rows ahead, 4
 * lines of each 170-180k; 19 lines (the whole row) 154-160k, 16 rows ahead ~170k. The
 * hardware prefetcher follows a row once its first lines are asked for; asking for more
 * only fills the line fill buffers sooner (the prefetch instruction then stalls).
 * Through vectors_for, per CPU-second, alternating builds: random words 155k -> 163k,
 * misspelt English words 303k -> 323k. Taking a batch's words in an order that keeps
 * words with the same first letters together (so misspellings of a word follow each
 * other) gained nothing more over this pipeline, and lost 6% on random words (the
 * output rows are then written all over the output). */
#define EL_FT_BLOCK_WORDS 64
#define EL_FT_BLOCK_ROWS 4096
#define EL_FT_AHEAD 8
#define EL_FT_AHEAD_LINES 4

/* The rows of up to EL_FT_BLOCK_WORDS words: word k is batch position pos[k], its rows
 * rows[end[k-1], end[k]) (end[-1] taken as 0). */
typedef struct {
    int64_t nwords, nrows;
    int64_t pos[EL_FT_BLOCK_WORDS];
    int64_t end[EL_FT_BLOCK_WORDS];
    int64_t rows[EL_FT_BLOCK_ROWS];
} el_ft_block;

/* The two blocks of the pipeline (the one summed and the one hashed): per-thread
 * scratch, ~70 KB, so it is allocated, not on the stack. */
typedef struct {
    el_ft_block block[2];
} el_ft_rowset;

static inline void el_ft_request_row(const el_ft_model *m, int64_t row) {
#if defined(__GNUC__)
    const char *p = (const char *)(m->dense + row * m->dim);
    const int64_t lines = (m->dim * (int64_t)sizeof(float) + 63) / 64;
    for (int64_t l = 0; l < EL_FT_AHEAD_LINES && l < lines; l++) __builtin_prefetch(p + 64 * l, 0, 3);
#else
    (void)m; (void)row;
#endif
}

/* Collect the rows of words *j.. (word i: arena entry e = entry ? entry[i] : i, its
 * dictionary row ids ? ids[i] : e) into `b` until it is full or *j reaches hi. A word too long to collect is summed straight into its
 * output row; a word asking for a row outside the matrix gets cnt[i] = -1. */
static inline void el_ft_fill_block(const el_ft_model *m, const char *base, const int64_t *off,
                                    const int64_t *entry, const int64_t *ids, int64_t *j, int64_t hi, float *out, int64_t *cnt,
                                    unsigned char *scratch, el_ft_block *b) {
    b->nwords = 0;
    b->nrows = 0;
    while (*j < hi && b->nwords < EL_FT_BLOCK_WORDS) {
        const int64_t i = *j;
        const int64_t e = entry ? entry[i] : i;
        const char *word = base + off[e];
        const int64_t len = off[e + 1] - 1 - off[e], id = ids ? ids[i] : e;
        if (!el_ft_rows_fit(m, len + 2)) { /* a long word: sum the rows as they come */
            cnt[i] = el_ft_word_vector(m, word, len, id, scratch, out + i * m->dim);
            (*j)++;
            continue;
        }
        if (b->nrows + el_ft_rows_bound(m, len + 2) > EL_FT_BLOCK_ROWS) break;
        el_ft_sink s;
        memset(&s, 0, sizeof(s));
        scratch[0] = '<';
        memcpy(scratch + 1, word, (size_t)len);
        scratch[len + 1] = '>';
        s.rows = b->rows + b->nrows;
        s.cap = EL_FT_BLOCK_ROWS - b->nrows;
        el_ft_subwords(m, scratch, len + 2, id, &s);
        (*j)++;
        if (s.bad_row) {
            cnt[i] = -1;
            continue;
        }
        b->nrows += s.count;
        b->pos[b->nwords] = i;
        b->end[b->nwords] = b->nrows;
        b->nwords++;
    }
}

/* Sum the words of `b` into their output rows, requesting rows ahead (into `next`). */
static inline void el_ft_sum_block(const el_ft_model *m, const el_ft_block *b, const el_ft_block *next,
                                   float *out, int64_t *cnt, float *acc) {
    const int64_t dim = m->dim;
    int64_t start = 0;
    for (int64_t w = 0; w < b->nwords; w++) {
        const int64_t i = b->pos[w], stop = b->end[w], c = stop - start;
        cnt[i] = c;
        if (c == 0) continue;
        memset(acc, 0, (size_t)dim * sizeof(float));
        for (int64_t k = start; k < stop; k++) {
            if (m->dense != NULL) {
                const int64_t f = k + EL_FT_AHEAD;
                if (f < b->nrows) el_ft_request_row(m, b->rows[f]);
                else if (f - b->nrows < next->nrows) el_ft_request_row(m, next->rows[f - b->nrows]);
            }
            el_ft_add_row(m, b->rows[k], acc);
        }
        /* Vector::mul(1.0 / ngrams.size()): the double quotient rounded to float first */
        const float scale = (float)(1.0 / (double)c);
        float *o = out + i * dim;
        for (int64_t k = 0; k < dim; k++) o[k] = acc[k] * scale;
        start = stop;
    }
}

/* Vectors of words lo..hi-1 into out (row i at out + i * dim; zeros on entry) and the
 * number of rows each averaged into cnt[i] (-1: a row outside the matrix). Word i is arena entry e = entry ? entry[i] : i,
 * its bytes base[off[e], off[e+1]-1), its dictionary row ids ? ids[i] : e. `scratch`
 * holds the longest word + 2 bytes, `acc` dim floats. A word's rows are summed in
 * fastText's order into `acc` (in L1, instead of reading and writing the output row 30
 * times), so the result is el_ft_word_vector's bit for bit; the output row is written
 * once. */
static inline void el_ft_range_vectors(const el_ft_model *m, const char *base, const int64_t *off,
                                       const int64_t *entry, const int64_t *ids, int64_t lo, int64_t hi,
                                       float *out, int64_t *cnt,
                                       unsigned char *scratch, float *acc, el_ft_rowset *rs) {
    int64_t j = lo;
    int cur = 0;
    el_ft_fill_block(m, base, off, entry, ids, &j, hi, out, cnt, scratch, &rs->block[0]);
    if (m->dense != NULL)
        for (int64_t k = 0; k < EL_FT_AHEAD && k < rs->block[0].nrows; k++)
            el_ft_request_row(m, rs->block[0].rows[k]);
    while (rs->block[cur].nwords > 0) {
        el_ft_fill_block(m, base, off, entry, ids, &j, hi, out, cnt, scratch, &rs->block[cur ^ 1]);
        el_ft_sum_block(m, &rs->block[cur], &rs->block[cur ^ 1], out, cnt, acc);
        cur ^= 1;
    }
}

#endif
