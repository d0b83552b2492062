/* tokenize.h - Keras' text rules in C: lowercase, filter, split; then count or look up.
 *
 * Header-only, safe without the GIL. The caller (embload/_text.pyx) collects, with the
 * GIL held, where each document's characters live (CPython's own storage: 1, 2 or 4
 * bytes per code point, PEP 393) and hands ranges of documents to threads.
 *
 * The rules (keras_preprocessing.text, to the letter):
 *   - a document is a string, or a list of strings taken as tokens (only lowercased);
 *   - lowercasing is Python's str.lower: the full mapping (U+0130 'İ' becomes two code
 *     points, "i" + U+0307) and the Final_Sigma context of U+03A3; the tables come from
 *     Python's own str.lower at import (see _text.pyx), so both always agree;
 *   - char_level: every code point of the lowercased string is a token;
 *   - otherwise every filter character becomes `split`, the text is cut at each
 *     occurrence of `split` (left to right, not overlapping, as str.split) and empty
 *     pieces are dropped.
 * Tokens are written as UTF-8 with lone surrogates encoded like any other code point
 * (Python's "surrogatepass"), so every Python string has exactly one byte form.
 *
 * Errors: the only failure is running out of memory; functions return -1 and leave the
 * structures consistent, the caller raises MemoryError.
 */
#ifndef EMBLOAD_TOKENIZE_H
#define EMBLOAD_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clones.h"     /* EL_TARGET_CLONES */
#include "wordhash.h"   /* el_word_tail */


/* ------------------------------------------------------------------------ */
/* Strings and case tables                                                    */
/* ------------------------------------------------------------------------ */

/* One Python string, as CPython stores it. */
typedef struct {
    const void *data;
    int64_t len; /* code points */
    int kind;    /* 1, 2 or 4 bytes per code point */
    int ascii;   /* every code point < 128 */
} el_str;

static inline uint32_t el_str_at(const el_str *s, int64_t i) {
    if (s->kind == 1) return ((const uint8_t *)s->data)[i];
    if (s->kind == 2) return ((const uint16_t *)s->data)[i];
    return ((const uint32_t *)s->data)[i];
}

/* Code point classes for the Final_Sigma rule of str.lower. */
#define EL_CASE_OTHER 0
#define EL_CASE_CASED 1     /* cased and not case-ignorable */
#define EL_CASE_IGNORABLE 2 /* case-ignorable (skipped when looking for a cased letter) */
#define EL_LOWER_EXPANDS 0xFFFFFFFFu

typedef struct {
    const uint32_t *lower; /* lower[cp] for cp < lower_size, or EL_LOWER_EXPANDS */
    int64_t lower_size;
    const uint8_t *cls;    /* class of every code point, 0x110000 entries */
    const uint32_t *exp;   /* expansions: n_exp rows of 4: cp, then up to 3 code points (0 ends) */
    int64_t n_exp;
} el_case;

/* str.lower's U+03A3 rule: final sigma when a cased letter precedes (case-ignorable
 * ones skipped) and none follows. */
static inline int el_final_sigma(const el_case *c, const el_str *s, int64_t i) {
    int64_t j = i - 1;
    uint8_t k = EL_CASE_OTHER;
    while (j >= 0 && (k = c->cls[el_str_at(s, j)]) == EL_CASE_IGNORABLE) j--;
    if (j < 0 || k != EL_CASE_CASED) return 0;
    j = i + 1;
    while (j < s->len && (k = c->cls[el_str_at(s, j)]) == EL_CASE_IGNORABLE) j++;
    return j == s->len || k != EL_CASE_CASED;
}

/* The lowercase of the code point cp found at index i of s: 1 to 3 code points in out. */
static inline int el_lower_at(const el_case *c, const el_str *s, int64_t i, uint32_t cp,
                              uint32_t out[3]) {
    if (cp < 128) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    if (cp == 0x3A3) {
        out[0] = el_final_sigma(c, s, i) ? 0x3C2 : 0x3C3;
        return 1;
    }
    if ((int64_t)cp < c->lower_size) {
        uint32_t l = c->lower[cp];
        if (l != EL_LOWER_EXPANDS) {
            out[0] = l;
            return 1;
        }
        for (int64_t k = 0; k < c->n_exp; k++) {
            const uint32_t *row = c->exp + 4 * k;
            if (row[0] == cp) {
                int n = 0;
                while (n < 3 && row[1 + n]) {
                    out[n] = row[1 + n];
                    n++;
                }
                return n;
            }
        }
    }
    out[0] = cp;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Options and token scratch                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    int lower;                /* lowercase first (str.lower) */
    int char_level;           /* every code point a token */
    uint8_t sep_ascii[128];   /* 1 for an ASCII filter character (and a one-character split) */
    const uint32_t *filters;  /* every filter code point, sorted */
    int64_t n_filters;
    const uint32_t *split;    /* the separator's code points */
    int64_t split_len;        /* >= 1 */
    const el_case *cases;
    /* the ASCII separators (sep_ascii) as two 16-entry nibble tables: byte b < 0x80 is
     * one when sep_lo[b & 15] & sep_hi[b >> 4] is not 0 (sep_hi[h] = 1 << h, sep_lo[l]
     * the bits of the h with (h << 4 | l) a separator) - what a byte shuffle looks up */
    uint8_t sep_lo[16];
    uint8_t sep_hi[16];
    int simd; /* el_cpu_simd(): classify 64 (2) or 32 (1) bytes at a time */
    /* NULL, or for each code point below 0x10000 what the one-character-split rules do
     * with it, in one look-up: its lowercase (or itself), EL_BMP_SEP when that is a
     * separator, EL_BMP_SLOW when the general rule must decide (a longer lowercase,
     * the context-dependent sigma) */
    const uint32_t *bmp;
} el_tokopts;

#define EL_BMP_SEP (1u << 24)
#define EL_BMP_SLOW (1u << 25)

/* Fill sep_lo / sep_hi from sep_ascii. */
static inline void el_tokopts_nibbles(el_tokopts *o) {
    for (int k = 0; k < 16; k++) {
        o->sep_lo[k] = 0;
        o->sep_hi[k] = k < 8 ? (uint8_t)(1u << k) : 0;
    }
    for (int c = 0; c < 128; c++)
        if (o->sep_ascii[c]) o->sep_lo[c & 15] |= (uint8_t)(1u << (c >> 4));
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EL_HAVE_AVX2_PATH 1

/* The widest SIMD this CPU runs: 2 AVX-512BW and DQ (classify 64 bytes at a time, and
 * key and hash 8 tokens at a time), 1 AVX2 (classify 32),
 * 0 none (the build targets plain x86-64; each path is compiled for its instructions on
 * its own and taken only where the CPU has them). */
static inline int el_cpu_simd(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) return 2;
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

/* Copy the n bytes of src to b lowercasing the ASCII capitals (if lower), and set bit j
 * of m[w] where byte 64 w + j is a separator, for the words w <= n / 64 (bytes past n:
 * whatever the buffer holds; the caller marks them). One pass: the source is read 32
 * bytes at a time where 32 are there (never past its end), the rest from a copy. */
__attribute__((target("avx2"))) static void el_sep_bits_avx2(const el_tokopts *o,
                                                             const unsigned char *src, int64_t n,
                                                             unsigned char *b, uint64_t *m) {
    const int64_t nwords = n / 64 + 1, whole = n / 32; /* chunks of 32 inside the source */
    if (n > 32 * whole) memcpy(b + 32 * whole, src + 32 * whole, (size_t)(n - 32 * whole));
    const __m256i lo_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)o->sep_lo));
    const __m256i hi_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)o->sep_hi));
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i before_a = _mm256_set1_epi8('A' - 1), after_z = _mm256_set1_epi8('Z' + 1);
    const __m256i bit5 = _mm256_set1_epi8(0x20);
    const int lower = o->lower;
    for (int64_t w = 0; w < nwords; w++) {
        uint64_t keep = 0; /* bits of the bytes that are not separators */
        for (int half = 0; half < 2; half++) {
            const int64_t chunk = 2 * w + half;
            __m256i *q = (__m256i *)(b + 32 * chunk);
            __m256i x = _mm256_loadu_si256(chunk < whole ? (const __m256i *)(src + 32 * chunk) : q);
            if (lower) {
                __m256i cap = _mm256_and_si256(_mm256_cmpgt_epi8(x, before_a),
                                               _mm256_cmpgt_epi8(after_z, x));
                x = _mm256_or_si256(x, _mm256_and_si256(cap, bit5));
            }
            _mm256_storeu_si256(q, x);
            __m256i lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(x, nib));
            __m256i hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
            __m256i other = _mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), zero);
            keep |= (uint64_t)(uint32_t)_mm256_movemask_epi8(other) << (32 * half);
        }
        m[w] = ~keep;
    }
}

/* el_sep_bits_avx2 64 bytes at a time: one load (a masked one past the source's end,
 * which reads nothing there), the capitals lowered under a compare mask, and the
 * separator test straight into a 64-bit mask register. Same bits. */
__attribute__((target("avx512bw"))) static void el_sep_bits_avx512(const el_tokopts *o,
                                                                   const unsigned char *src,
                                                                   int64_t n, unsigned char *b,
                                                                   uint64_t *m) {
    const int64_t nwords = n / 64 + 1;
    const __m512i lo_t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)o->sep_lo));
    const __m512i hi_t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)o->sep_hi));
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const __m512i a = _mm512_set1_epi8('A'), letters = _mm512_set1_epi8(26);
    const __m512i bit5 = _mm512_set1_epi8(0x20);
    const int lower = o->lower;
    for (int64_t w = 0; w < nwords; w++) {
        const int64_t left = n - 64 * w;
        const __mmask64 in = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(in, src + 64 * w);
        if (lower) {
            const __mmask64 cap = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, a), letters);
            x = _mm512_mask_add_epi8(x, cap, x, bit5);
        }
        _mm512_storeu_si512((void *)(b + 64 * w), x);
        const __m512i lo = _mm512_shuffle_epi8(lo_t, _mm512_and_si512(x, nib));
        const __m512i hi = _mm512_shuffle_epi8(hi_t, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib));
        m[w] = _mm512_test_epi8_mask(lo, hi);
    }
}
#else
static inline int el_cpu_simd(void) { return 0; }
#endif

static inline int el_is_filter(const el_tokopts *o, uint32_t cp) {
    if (cp < 128) return o->sep_ascii[cp] && !(o->split_len == 1 && o->split[0] == cp);
    int64_t lo = 0, hi = o->n_filters;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (o->filters[mid] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < o->n_filters && o->filters[lo] == cp;
}

/* The tokens of one document: token k is buf[start[k], end[k]), UTF-8. They are back
 * to back, except on the ASCII path, which leaves the separators between them; at least
 * 24 readable bytes follow the last one (el_tokenize), for el_key_padded. */
typedef struct {
    char *buf;
    int64_t len, cap;
    int64_t *start; /* start and end offset of each token in buf */
    int64_t *end;
    int64_t n, ncap, scap;
    uint64_t *seps; /* the ASCII path: one bit per byte of buf, set at a separator */
    int64_t sepcap;
    uint32_t *cps; /* the transformed text, for a split of several code points */
    int64_t ncps, cpcap;
    /* per token of the block being looked up (EL_TOK_BLOCK at most): its hash, key and id
     * (el_hash_tokens, el_home_ids); the key as three arrays of its 8-byte words, which
     * SIMD code loads and stores 8 tokens at a time */
    uint64_t *hash;
    int64_t hcap;
    uint64_t *key0;
    uint64_t *key1;
    uint64_t *key2;
    int64_t k0cap, k1cap, k2cap;
    int64_t *ids;
    int64_t icap;
    int simd; /* el_tokopts.simd of the last el_tokenize */
} el_toks;

static inline void el_toks_free(el_toks *t) {
    free(t->buf);
    free(t->start);
    free(t->end);
    free(t->seps);
    free(t->cps);
    free(t->hash);
    free(t->key0);
    free(t->key1);
    free(t->key2);
    free(t->ids);
    memset(t, 0, sizeof(*t));
}

static inline int el_grow(void **p, int64_t *cap, int64_t need, size_t item) {
    if (need <= *cap) return 0;
    int64_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * item);
    if (q == NULL) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* room for 3 more code points of 4 bytes */
static inline int el_toks_room(el_toks *t) {
    if (t->len + 12 <= t->cap) return 0;
    return el_grow((void **)&t->buf, &t->cap, t->len + 12, 1);
}

static inline void el_put_utf8(el_toks *t, uint32_t c) {
    char *p = t->buf + t->len;
    if (c < 0x80) {
        p[0] = (char)c;
        t->len += 1;
    } else if (c < 0x800) {
        p[0] = (char)(0xC0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3F));
        t->len += 2;
    } else if (c < 0x10000) { /* surrogates too: "surrogatepass" */
        p[0] = (char)(0xE0 | (c >> 12));
        p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        t->len += 3;
    } else {
        p[0] = (char)(0xF0 | (c >> 18));
        p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[3] = (char)(0x80 | (c & 0x3F));
        t->len += 4;
    }
}

/* End the current token; an empty one is kept only when `keep_empty`. */
static inline int el_toks_close(el_toks *t, int keep_empty) {
    int64_t start = t->n ? t->end[t->n - 1] : 0;
    if (t->len == start && !keep_empty) return 0;
    if (el_grow((void **)&t->end, &t->ncap, t->n + 1, sizeof(int64_t))) return -1;
    if (el_grow((void **)&t->start, &t->scap, t->n + 1, sizeof(int64_t))) return -1;
    t->start[t->n] = start;
    t->end[t->n++] = t->len;
    return 0;
}

/* A whole string, lowercased or not, as one token (the items of a pre-split document). */
static inline int el_tok_whole(const el_tokopts *o, const el_str *s, el_toks *t) {
    uint32_t out[3];
    for (int64_t i = 0; i < s->len; i++) {
        uint32_t cp = el_str_at(s, i);
        int n = 1;
        if (o->lower) n = el_lower_at(o->cases, s, i, cp, out);
        else out[0] = cp;
        if (el_toks_room(t)) return -1;
        for (int k = 0; k < n; k++) el_put_utf8(t, out[k]);
    }
    return el_toks_close(t, 1);
}

/* char_level: each code point of the lowercased string. */
static inline int el_tok_chars(const el_tokopts *o, const el_str *s, el_toks *t) {
    uint32_t out[3];
    for (int64_t i = 0; i < s->len; i++) {
        uint32_t cp = el_str_at(s, i);
        int n = 1;
        if (o->lower) n = el_lower_at(o->cases, s, i, cp, out);
        else out[0] = cp;
        for (int k = 0; k < n; k++) {
            if (el_toks_room(t)) return -1;
            el_put_utf8(t, out[k]);
            if (el_toks_close(t, 1)) return -1;
        }
    }
    return 0;
}

/* The m code points of one lowercased character into t, under a one-code-point split:
 * a separator ends the token, anything else is written (room for 12 bytes is there). */
static inline int el_put_words1(const el_tokopts *o, el_toks *t, const uint32_t *out, int m) {
    for (int k = 0; k < m; k++) {
        const uint32_t c = out[k];
        if (c < 128 ? o->sep_ascii[c] : (c == o->split[0] || (o->n_filters && el_is_filter(o, c)))) {
            if (el_toks_close(t, 0)) return -1;
        } else {
            el_put_utf8(t, c);
        }
    }
    return 0;
}

/* Words with a one-code-point split: cut at every filter or split character.
 * One loop per storage width, with the output position in a local (char stores may
 * alias anything, so a field would be reloaded after every byte). */
#define EL_WORDS1_WIDE(NAME, CT)                                                          \
    static inline int NAME(const el_tokopts *o, const el_str *s, el_toks *t) {              \
        const CT *p = (const CT *)s->data;                                                  \
        const int64_t n = s->len;                                                           \
        const uint8_t *sep = o->sep_ascii;                                                  \
        uint32_t out[3];                                                                    \
        /* room: one byte per code point left, and 12 for the current one */            \
        if (el_grow((void **)&t->buf, &t->cap, t->len + n + 16, 1)) return -1;              \
        for (int64_t i = 0; i < n; i++) {                                                   \
            uint32_t cp = p[i];                                                             \
            int m = 1;                                                                      \
            if (cp < 128) {                                                                 \
                if (o->lower && cp >= 'A' && cp <= 'Z') cp += 32;                           \
                if (sep[cp]) {                                                              \
                    if (el_toks_close(t, 0)) return -1;                                     \
                } else {                                                                    \
                    t->buf[t->len++] = (char)cp;                                            \
                }                                                                           \
                continue;                                                                   \
            }                                                                               \
            if (o->lower) m = el_lower_at(o->cases, s, i, cp, out);                         \
            else out[0] = cp;                                                               \
            if (el_grow((void **)&t->buf, &t->cap, t->len + 12 + (n - i), 1)) return -1;     \
            if (el_put_words1(o, t, out, m)) return -1;                                     \
        }                                                                                   \
        return el_toks_close(t, 0);                                                         \
    }

EL_WORDS1_WIDE(el_tok_words1_ucs1, uint8_t)
EL_WORDS1_WIDE(el_tok_words1_ucs2, uint16_t)
EL_WORDS1_WIDE(el_tok_words1_ucs4, uint32_t)

/* The same rules through o->bmp, for 1- and 2-byte storage: one table look-up a code
 * point decides its lowercase and whether it separates; the output position lives in a
 * local. A code point marked EL_BMP_SLOW goes through the general rule. Every other
 * entry is a BMP code point (the table marks a lowercase beyond it slow): 3 bytes at
 * most, which the room taken up front covers. */
#define EL_WORDS1_BMP(NAME, CT)                                                           \
    static inline int NAME(const el_tokopts *o, const el_str *s, el_toks *t) {              \
        const CT *p = (const CT *)s->data;                                                  \
        const int64_t n = s->len;                                                           \
        const uint32_t *bmp = o->bmp;                                                       \
        if (el_grow((void **)&t->buf, &t->cap, t->len + 3 * n + 16, 1)) return -1;          \
        char *w = t->buf + t->len;                                                          \
        for (int64_t i = 0; i < n; i++) {                                                   \
            const uint32_t e = bmp[p[i]];                                                   \
            if (!(e & (EL_BMP_SEP | EL_BMP_SLOW))) {                                        \
                const uint32_t c = e;                                                       \
                if (c < 0x80) {                                                             \
                    *w++ = (char)c;                                                         \
                } else if (c < 0x800) {                                                     \
                    w[0] = (char)(0xC0 | (c >> 6));                                         \
                    w[1] = (char)(0x80 | (c & 0x3F));                                       \
                    w += 2;                                                                 \
                } else {                                                                    \
                    w[0] = (char)(0xE0 | (c >> 12));                                        \
                    w[1] = (char)(0x80 | ((c >> 6) & 0x3F));                                \
                    w[2] = (char)(0x80 | (c & 0x3F));                                       \
                    w += 3;                                                                 \
                }                                                                           \
                continue;                                                                   \
            }                                                                               \
            t->len = w - t->buf;                                                            \
            if (e & EL_BMP_SEP) {                                                           \
                if (el_toks_close(t, 0)) return -1;                                         \
            } else {                                                                        \
                uint32_t out[3];                                                            \
                int m = el_lower_at(o->cases, s, i, p[i], out);                             \
                /* up to 12 bytes here, and 3 a code point still to come */             \
                if (el_grow((void **)&t->buf, &t->cap, t->len + 12 + 3 * (n - i) + 16, 1))   \
                    return -1;                                                              \
                if (el_put_words1(o, t, out, m)) return -1;                                 \
            }                                                                               \
            w = t->buf + t->len;                                                            \
        }                                                                                   \
        t->len = w - t->buf;                                                                \
        return el_toks_close(t, 0);                                                         \
    }

EL_WORDS1_BMP(el_tok_words1_bmp1, uint8_t)
EL_WORDS1_BMP(el_tok_words1_bmp2, uint16_t)

static inline int el_tok_words1_ascii(const el_tokopts *o, const el_str *s, el_toks *t);

static inline int el_tok_words1(const el_tokopts *o, const el_str *s, el_toks *t) {
    if (!s->ascii) {
        if (s->kind == 1) return o->bmp ? el_tok_words1_bmp1(o, s, t) : el_tok_words1_ucs1(o, s, t);
        if (s->kind == 2) return o->bmp ? el_tok_words1_bmp2(o, s, t) : el_tok_words1_ucs2(o, s, t);
        return el_tok_words1_ucs4(o, s, t);
    }
    return el_tok_words1_ascii(o, s, t);
}

/* Bytes b[0..8) with the ASCII capitals lowercased, 8 at a time (every byte < 0x80: no
 * carry crosses a byte; a byte at or past 0x80 can only carry into the bytes after it). */
static inline uint64_t el_swar_lower(uint64_t x) {
    const uint64_t ge_a = x + 0x3F3F3F3F3F3F3F3FULL;  /* bit 7 set where b >= 'A' */
    const uint64_t gt_z = x + 0x2525252525252525ULL;  /* bit 7 set where b > 'Z' */
    return x | (((ge_a & ~gt_z) & 0x8080808080808080ULL) >> 2);
}

/* An ASCII document with a one-character split. Branches on every byte mispredict at
 * every token boundary, twice a token; instead: copy the document into the buffer
 * (lowercased 8 bytes at a time), mark the separators in a bit set 64 bytes at a time
 * (a table look-up per byte, no branch), then take the tokens from the bits - one
 * count-trailing-zeros per boundary. The tokens stay where they are in the copy. */
static inline int el_tok_words1_ascii(const el_tokopts *o, const el_str *s, el_toks *t) {
    const int64_t n = s->len;
    const int64_t nw = n / 64 + 2; /* one word more than the bytes: all separators */
    if (el_grow((void **)&t->buf, &t->cap, 64 * nw + 8, 1)) return -1;
    if (el_grow((void **)&t->seps, &t->sepcap, nw, sizeof(uint64_t))) return -1;
    const int64_t most = n / 2 + 1; /* tokens are at least 1 byte with a separator between */
    if (el_grow((void **)&t->start, &t->scap, most, sizeof(int64_t))) return -1;
    if (el_grow((void **)&t->end, &t->ncap, most, sizeof(int64_t))) return -1;
    unsigned char *b = (unsigned char *)t->buf;
    uint64_t *m = t->seps;
    const int64_t full = n / 64;
#ifdef EL_HAVE_AVX2_PATH
    if (o->simd >= 2) {
        el_sep_bits_avx512(o, (const unsigned char *)s->data, n, b, m);
    } else if (o->simd) {
        el_sep_bits_avx2(o, (const unsigned char *)s->data, n, b, m);
    } else
#endif
    {
        if (n) memcpy(b, s->data, (size_t)n);
        if (o->lower) {
            for (int64_t i = 0; i < n; i += 8) {
                uint64_t x;
                memcpy(&x, b + i, 8);
                x = el_swar_lower(x);
                memcpy(b + i, &x, 8);
            }
        }
        const uint8_t *sep = o->sep_ascii; /* of the lowered byte */
        for (int64_t w = 0; w <= full; w++) {
            const unsigned char *q = b + 64 * w;
            uint64_t bits = 0;
            for (int j = 0; j < 64; j++) bits |= (uint64_t)sep[q[j] & 0x7F] << j;
            m[w] = bits;
        }
    }
    /* bytes past the end count as separators */
    if (n - 64 * full) m[full] |= ~0ULL << (n - 64 * full);
    else m[full] = ~0ULL;
    m[full + 1] = ~0ULL;
    /* A token starts at a byte that is not a separator after one that is, and ends at a
     * separator after a byte that is not: two bit sets per word, each read off with
     * count-trailing-zeros in a loop of its own (no chain from one token to the next). */
    int64_t *starts = t->start, *ends = t->end;
    int64_t ks = 0, ke = 0;
    uint64_t before = 1; /* bit 0: the byte before the word is a separator */
    for (int64_t w = 0; w <= full; w++) {
        const uint64_t sep_w = m[w];
        const uint64_t after_sep = (sep_w << 1) | before;
        uint64_t st = ~sep_w & after_sep, en = sep_w & ~after_sep;
        before = sep_w >> 63;
        const int64_t base = 64 * w;
        while (st) {
            starts[ks++] = base + __builtin_ctzll(st);
            st &= st - 1;
        }
        while (en) {
            ends[ke++] = base + __builtin_ctzll(en);
            en &= en - 1;
        }
    }
    /* the byte after the last one is a separator: every token has ended (ke == ks) */
    t->len = n;
    t->n = ke;
    return 0;
}

/* Words with a split of several code points: build the lowercased text with every
 * filter replaced by the split, then cut it as str.split does. */
static inline int el_tok_words_general(const el_tokopts *o, const el_str *s, el_toks *t) {
    uint32_t out[3];
    const int64_t L = o->split_len;
    t->ncps = 0;
    for (int64_t i = 0; i < s->len; i++) {
        uint32_t cp = el_str_at(s, i);
        int n = 1;
        if (o->lower) n = el_lower_at(o->cases, s, i, cp, out);
        else out[0] = cp;
        if (el_grow((void **)&t->cps, &t->cpcap, t->ncps + 3 * (L > 1 ? L : 1), sizeof(uint32_t)))
            return -1;
        for (int k = 0; k < n; k++) {
            if (el_is_filter(o, out[k])) {
                memcpy(t->cps + t->ncps, o->split, (size_t)L * sizeof(uint32_t));
                t->ncps += L;
            } else {
                t->cps[t->ncps++] = out[k];
            }
        }
    }
    int64_t i = 0;
    while (i < t->ncps) {
        if (i + L <= t->ncps && t->cps[i] == o->split[0] &&
            memcmp(t->cps + i, o->split, (size_t)L * sizeof(uint32_t)) == 0) {
            if (el_toks_close(t, 0)) return -1;
            i += L;
            continue;
        }
        if (el_toks_room(t)) return -1;
        el_put_utf8(t, t->cps[i]);
        i++;
    }
    return el_toks_close(t, 0);
}

/* Documents: doc d is items[first[d]] (a string) or, when is_list[d], the strings
 * items[first[d] .. first[d] + count[d]) taken as tokens. */
typedef struct {
    const el_str *items;
    const int64_t *first;
    const int64_t *count;
    const uint8_t *is_list;
} el_docs;

/* The tokens of document d into t (emptied first). Returns 0, or -1 out of memory. */
static inline int el_tokenize(const el_tokopts *o, const el_docs *D, int64_t d, el_toks *t) {
    t->len = 0;
    t->n = 0;
    t->simd = o->simd;
    const el_str *s = D->items + D->first[d];
    int r;
    if (D->is_list[d]) {
        r = 0;
        for (int64_t k = 0; k < D->count[d] && !r; k++) r = el_tok_whole(o, s + k, t);
    } else if (o->char_level) {
        r = el_tok_chars(o, s, t);
    } else if (o->split_len == 1) {
        r = el_tok_words1(o, s, t);
    } else {
        r = el_tok_words_general(o, s, t);
    }
    /* 24 readable bytes past the last token: el_key_padded */
    return r ? r : el_grow((void **)&t->buf, &t->cap, t->len + 24, 1);
}

/* ------------------------------------------------------------------------ */
/* Vocabulary: a growable hash table of words with their counts               */
/* ------------------------------------------------------------------------ */

/* Every token is looked up once, so the table is laid out for that: a slot holds the
 * word's first 24 bytes and a tag (the hash's high bits with the word's length), so a
 * word of up to 24 bytes - nearly every token, 12 letters of Cyrillic or Greek - is
 * found or ruled out by its slot alone, half a cache line; the counts a fit updates per
 * token sit in an array of their own (24 bytes a word), and the rest (where the bytes
 * are, first sighting) is read only for longer words and new ones.
 *
 * A document's tokens go through three loops instead of one (el_vocab_count,
 * el_lookup_range): hash them all and fetch their home slots; read each home slot,
 * without a branch, into the token's id or "not there"; then count (or emit) in token
 * order, probing further only for the few tokens the home slot did not settle (a
 * collision, a word over 24 bytes, a new word). One loop doing all of it per token
 * waited on each token's slot and mispredicted the probe's branches; split, the loads
 * of a whole document are in flight together and the branches are few, and with
 * AVX-512 the first two loops take 8 tokens a step. */

/* The first n bytes (n clamped to 0..8) of a little-endian number: the masks by n */
static const uint64_t el_low_mask[9] = {
    0, 0xFFULL, 0xFFFFULL, 0xFFFFFFULL, 0xFFFFFFFFULL, 0xFFFFFFFFFFULL, 0xFFFFFFFFFFFFULL,
    0xFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL};

static inline uint64_t el_low_bytes(uint64_t w, int64_t n) {
    return w & el_low_mask[n < 0 ? 0 : n > 8 ? 8 : n];
}

/* A word's key: its first 24 bytes as three little-endian numbers, zero-padded. */
typedef struct {
    uint64_t k0, k1, k2;
} el_key;

#define EL_KEY_BYTES 24

/* The key of a word followed by at least EL_KEY_BYTES readable bytes (el_toks
 * guarantees it past every token): three loads and three masks, no branch. */
static inline el_key el_key_padded(const char *p, int64_t n) {
    el_key k;
    memcpy(&k.k0, p, 8);
    memcpy(&k.k1, p + 8, 8);
    memcpy(&k.k2, p + 16, 8);
    k.k0 = el_low_bytes(k.k0, n);
    k.k1 = el_low_bytes(k.k1, n - 8);
    k.k2 = el_low_bytes(k.k2, n - 16);
    return k;
}

/* 8-byte word i of a key for bytes that may end at p + n. */
static inline uint64_t el_key_word(const char *p, int64_t n, int64_t i) {
    uint64_t w = 0;
    if (n >= i + 8) memcpy(&w, p + i, 8);
    else if (n > i) w = el_word_tail((const unsigned char *)p + i, n - i);
    return w;
}

/* el_key_padded for bytes that may end at p + n. */
static inline el_key el_key_of(const char *p, int64_t n) {
    el_key k = {el_key_word(p, n, 0), el_key_word(p, n, 8), el_key_word(p, n, 16)};
    return k;
}

/* el_tok_hash's mixing of the bytes past the key, for a word longer than EL_KEY_BYTES */
static inline uint64_t el_tok_hash_rest(uint64_t h, const char *p, int64_t n) {
    for (int64_t i = EL_KEY_BYTES; i < n; i += 8) {
        uint64_t w;
        if (n - i >= 8) memcpy(&w, p + i, 8);
        else w = el_word_tail((const unsigned char *)p + i, n - i);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 31;
    }
    return h;
}

/* The tokenizer's word hash, from the key and the length: for the words of up to 24
 * bytes a fixed number of multiplies with no branch (a hash looping over 8-byte words
 * mispredicts on the token lengths, which are as good as random); the bytes past 24 of
 * a longer word are mixed in after. Tables of one tokenizer all hash with this; it is
 * never stored. */
static inline uint64_t el_tok_hash(const char *p, int64_t n, el_key k) {
    uint64_t a = (k.k0 ^ ((uint64_t)n << 56)) * 0x9E3779B97F4A7C15ULL;
    uint64_t b = k.k1 * 0xff51afd7ed558ccdULL;
    uint64_t c = k.k2 * 0xc4ceb9fe1a85ec53ULL;
    uint64_t h = a ^ ((b << 31) | (b >> 33)) ^ ((c << 17) | (c >> 47));
    if (n > EL_KEY_BYTES) h = el_tok_hash_rest(h, p, n);
    h ^= h >> 32;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h;
}

/* The slot tag: the hash's high 27 bits and min(n, 31) - with the key, exact for words
 * up to 24 bytes ("a" and "a\0" differ by their length). */
static inline uint32_t el_vtag(uint64_t h, int64_t n) {
    return ((uint32_t)(h >> 32) & 0xFFFFFFE0u) | (uint32_t)(n < 31 ? n : 31);
}

/* a == b for n bytes, without a libc call for short words */
static inline int el_tok_eq(const char *a, const char *b, int64_t n) {
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    for (int64_t k = 0; k < n; k++)
        if (a[k] != b[k]) return 0;
    return 1;
}

typedef struct {
    el_key key;   /* the word's first 24 bytes */
    uint32_t tag; /* el_vtag */
    uint32_t id1; /* word id + 1; 0: an empty slot */
} el_vslot;       /* 32 bytes: two to a cache line, never across one */

/* el_home_ids_avx512 gathers a slot as four 8-byte words: the key's three, then the tag
 * (low half) with the id (high half) */
typedef char el_vslot_layout[(sizeof(el_vslot) == 32 && offsetof(el_vslot, tag) == 24 &&
                              offsetof(el_vslot, id1) == 28) ? 1 : -1];

typedef struct {
    int64_t count;    /* occurrences */
    int64_t docs;     /* documents containing it */
    int64_t last_doc; /* the last document counted in docs */
} el_wcount;

typedef struct {
    uint64_t hash;
    int64_t off, len;    /* the bytes, in the arena */
    int64_t first_doc;   /* where it was first seen: document, then token position */
    int64_t first_pos;
} el_word;

/* At most this many words: a slot numbers them in 32 bits (a vocabulary that large
 * would need hundreds of GB anyway); past it el_vocab_add fails as out of memory. */
#define EL_VOCAB_MAX_WORDS ((int64_t)0xFFFFFFFE)

typedef struct {
    el_vslot *slots; /* open addressing, linear probing, load <= 3/4 */
    int64_t mask;
    el_word *words;
    el_wcount *counts;
    int64_t n, wcap, ccap;
    char *arena;
    int64_t alen, acap;
    /* fitting: the documents that brought two or more new words, as
     * [doc, k, id_1 .. id_k] with every distinct word of the document in first-seen
     * order (the caller rebuilds Python's set(tokens) iteration order from them) */
    int64_t *rec;
    int64_t nrec, rcap;
    int64_t *distinct; /* scratch: the current document's distinct words */
    int64_t ndist, dcap;
} el_vocab;

static inline void el_vocab_free(el_vocab *v) {
    free(v->slots);
    free(v->words);
    free(v->counts);
    free(v->arena);
    free(v->rec);
    free(v->distinct);
    memset(v, 0, sizeof(*v));
}

static inline int el_vocab_init(el_vocab *v, int64_t expected) {
    memset(v, 0, sizeof(*v));
    int64_t size = 64;
    while (3 * size < 4 * expected) size *= 2;
    v->slots = (el_vslot *)calloc((size_t)size, sizeof(el_vslot));
    if (v->slots == NULL) return -1;
    v->mask = size - 1;
    return 0;
}

static inline int el_vocab_rehash(el_vocab *v) {
    int64_t size = 2 * (v->mask + 1);
    el_vslot *slots = (el_vslot *)calloc((size_t)size, sizeof(el_vslot));
    if (slots == NULL) return -1;
    for (int64_t i = 0; i <= v->mask; i++) {
        const el_vslot *s = &v->slots[i];
        if (!s->id1) continue;
        int64_t j = (int64_t)(v->words[s->id1 - 1].hash & (uint64_t)(size - 1));
        while (slots[j].id1) j = (j + 1) & (size - 1);
        slots[j] = *s;
    }
    free(v->slots);
    v->slots = slots;
    v->mask = size - 1;
    return 0;
}

/* The table fields a look-up reads, in locals: the build lets any store alias anything
 * (-fno-strict-aliasing), so read through the el_vocab they would be loaded again after
 * every count a caller stores, on the path of the next look-up. */
typedef struct {
    const el_vslot *slots;
    uint64_t mask;
    const el_word *words;
    const char *arena;
} el_vview;

static inline el_vview el_vocab_view(const el_vocab *v) {
    el_vview t = {v->slots, (uint64_t)v->mask, v->words, v->arena};
    return t;
}

/* The id of the word [p, p+n) with hash h and key k, or -1; `*slot` gets where it is or
 * would go. */
static inline int64_t el_vview_find(el_vview v, const char *p, int64_t n, uint64_t h,
                                    el_key k, int64_t *slot) {
    const uint32_t tag = el_vtag(h, n);
    uint64_t i = h & v.mask;
    for (;;) {
        const el_vslot *s = &v.slots[i];
        if (!s->id1) break;
        if (s->tag == tag && s->key.k0 == k.k0 && s->key.k1 == k.k1 && s->key.k2 == k.k2) {
            const int64_t id = (int64_t)s->id1 - 1;
            if (n <= EL_KEY_BYTES) { /* the key and the length in the tag decide */
                *slot = (int64_t)i;
                return id;
            }
            const el_word *w = &v.words[id];
            if (w->len == n && el_tok_eq(v.arena + w->off + EL_KEY_BYTES, p + EL_KEY_BYTES,
                                         n - EL_KEY_BYTES)) {
                *slot = (int64_t)i;
                return id;
            }
        }
        i = (i + 1) & v.mask;
    }
    *slot = (int64_t)i;
    return -1;
}

/* What a word's home slot says, without a branch: its id where the slot holds it;
 * EL_ABSENT where the slot is empty (the word is not in the table); else EL_UNSETTLED
 * (it may be further on, or be longer than 24 bytes: el_vview_find decides). */
#define EL_ABSENT (-2)
#define EL_UNSETTLED (-1)
static inline int64_t el_vview_home(el_vview v, int64_t n, uint64_t h, el_key k) {
    const el_vslot *s = &v.slots[h & v.mask];
    const int hit = (s->tag == el_vtag(h, n)) & (s->key.k0 == k.k0) & (s->key.k1 == k.k1) &
                    (s->key.k2 == k.k2) & (n <= EL_KEY_BYTES) & (s->id1 != 0);
    return hit ? (int64_t)s->id1 - 1 : s->id1 ? EL_UNSETTLED : EL_ABSENT;
}

/* Add the word [p, p+n) (hash h, key k), which is not in v, at the empty `slot`
 * el_vview_find gave for it (nothing added in between), with zero counts. Its id, or -1
 * out of memory. */
static inline int64_t el_vocab_insert(el_vocab *v, int64_t slot, const char *p, int64_t n,
                                      uint64_t h, el_key k) {
    int64_t id;
    if (v->n >= EL_VOCAB_MAX_WORDS) return -1;
    if (el_grow((void **)&v->words, &v->wcap, v->n + 1, sizeof(el_word))) return -1;
    if (el_grow((void **)&v->counts, &v->ccap, v->n + 1, sizeof(el_wcount))) return -1;
    if (el_grow((void **)&v->arena, &v->acap, v->alen + n + 1, 1)) return -1;
    memcpy(v->arena + v->alen, p, (size_t)n);
    id = v->n++;
    el_word *w = &v->words[id];
    w->hash = h;
    w->off = v->alen;
    w->len = n;
    w->first_doc = -1;
    w->first_pos = -1;
    el_wcount *c = &v->counts[id];
    c->count = 0;
    c->docs = 0;
    c->last_doc = -1;
    v->alen += n;
    el_vslot *s = &v->slots[slot];
    s->key = k;
    s->tag = el_vtag(h, n);
    s->id1 = (uint32_t)(id + 1);
    if (4 * v->n > 3 * (v->mask + 1) && el_vocab_rehash(v)) return -1;
    return id;
}

/* The id of the word [p, p+n) (any bytes: nothing is read past p + n), added with zero
 * counts if new; *added tells which. -1: no memory. */
static inline int64_t el_vocab_add(el_vocab *v, const char *p, int64_t n, int *added) {
    int64_t slot;
    const el_key k = el_key_of(p, n);
    const uint64_t h = el_tok_hash(p, n, k);
    const int64_t id = el_vview_find(el_vocab_view(v), p, n, h, k, &slot);
    *added = id < 0;
    return id >= 0 ? id : el_vocab_insert(v, slot, p, n, h, k);
}

/* A document's tokens are hashed, read from their home slots and counted or emitted a
 * block of this many at a time: the per-token scratch (40 bytes a token) stays this
 * size and in cache however long the document (a whole file given as one text). */
#define EL_TOK_BLOCK 1024

/* The key of the block's j-th token, from the three arrays el_hash_tokens fills. */
static inline el_key el_tok_key(const el_toks *t, int64_t j) {
    el_key key = {t->key0[j], t->key1[j], t->key2[j]};
    return key;
}

#ifdef EL_HAVE_AVX2_PATH
/* el_hash_tokens' and el_home_ids' loops 8 tokens at a time (AVX-512: 64-bit multiplies,
 * rotates, variable shifts and gathers); the same values bit for bit - the tests run
 * them against the scalar loops. A word over EL_KEY_BYTES has the rest of its bytes
 * mixed in by the scalar code, lane by lane. */
#define EL_SIMD_KEYS __attribute__((target("avx512f,avx512dq,avx512bw")))

/* The first min(max(n - skip, 0), 8) bytes of each lane's word: ~0 >> (64 - 8 x that);
 * a shift of 64 or more gives 0. */
EL_SIMD_KEYS static inline __m512i el_low_bytes8(__m512i w, __m512i n, int skip) {
    const __m512i rest = _mm512_min_epi64(_mm512_max_epi64(_mm512_sub_epi64(n, _mm512_set1_epi64(skip)),
                                                           _mm512_setzero_si512()),
                                          _mm512_set1_epi64(8));
    const __m512i shift = _mm512_sub_epi64(_mm512_set1_epi64(64), _mm512_slli_epi64(rest, 3));
    return _mm512_and_si512(w, _mm512_srlv_epi64(_mm512_set1_epi64(-1), shift));
}

EL_SIMD_KEYS static void el_hash_tokens_avx512(el_toks *t, int64_t from, int64_t n) {
    const char *buf = t->buf;
    const int64_t *starts = t->start + from, *ends = t->end + from;
    const __m512i c1 = _mm512_set1_epi64((long long)0x9E3779B97F4A7C15ULL);
    const __m512i c2 = _mm512_set1_epi64((long long)0xff51afd7ed558ccdULL);
    const __m512i c3 = _mm512_set1_epi64((long long)0xc4ceb9fe1a85ec53ULL);
    for (int64_t k = 0; k < n; k += 8) {
        const __mmask8 in = n - k >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - k)) - 1);
        const __m512i st = _mm512_maskz_loadu_epi64(in, starts + k);
        const __m512i len = _mm512_sub_epi64(_mm512_maskz_loadu_epi64(in, ends + k), st);
        /* 24 readable bytes follow every token (el_tokenize) */
        __m512i k0 = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), in, st, buf, 1);
        __m512i k1 = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), in, st, buf + 8, 1);
        __m512i k2 = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), in, st, buf + 16, 1);
        k0 = el_low_bytes8(k0, len, 0);
        k1 = el_low_bytes8(k1, len, 8);
        k2 = el_low_bytes8(k2, len, 16);
        _mm512_mask_storeu_epi64(t->key0 + k, in, k0);
        _mm512_mask_storeu_epi64(t->key1 + k, in, k1);
        _mm512_mask_storeu_epi64(t->key2 + k, in, k2);
        /* el_tok_hash */
        const __m512i a = _mm512_mullo_epi64(_mm512_xor_si512(k0, _mm512_slli_epi64(len, 56)), c1);
        const __m512i b = _mm512_mullo_epi64(k1, c2);
        const __m512i c = _mm512_mullo_epi64(k2, c3);
        __m512i h = _mm512_xor_si512(_mm512_xor_si512(a, _mm512_rol_epi64(b, 31)), _mm512_rol_epi64(c, 17));
        const __mmask8 longer = _mm512_mask_cmpgt_epi64_mask(in, len, _mm512_set1_epi64(EL_KEY_BYTES));
        if (longer) {
            uint64_t lanes[8];
            _mm512_storeu_si512((void *)lanes, h);
            for (int j = 0; j < 8; j++)
                if (longer >> j & 1)
                    lanes[j] = el_tok_hash_rest(lanes[j], buf + starts[k + j], ends[k + j] - starts[k + j]);
            h = _mm512_loadu_si512((const void *)lanes);
        }
        h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 32));
        h = _mm512_mullo_epi64(h, c3);
        h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 29));
        _mm512_mask_storeu_epi64(t->hash + k, in, h);
    }
}

EL_SIMD_KEYS static void el_home_ids_avx512(el_vview view, const el_toks *t, int64_t from,
                                             int64_t n) {
    const int64_t *starts = t->start + from, *ends = t->end + from;
    const char *base = (const char *)view.slots;
    const __m512i mask = _mm512_set1_epi64((long long)view.mask);
    const __m512i low32 = _mm512_set1_epi64(0xFFFFFFFFLL);
    for (int64_t k = 0; k < n; k += 8) {
        const __mmask8 in = n - k >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - k)) - 1);
        const __m512i h = _mm512_maskz_loadu_epi64(in, t->hash + k);
        const __m512i len = _mm512_sub_epi64(_mm512_maskz_loadu_epi64(in, ends + k),
                                             _mm512_maskz_loadu_epi64(in, starts + k));
        const __m512i off = _mm512_slli_epi64(_mm512_and_si512(h, mask), 5); /* 32-byte slots */
        const __m512i zero = _mm512_setzero_si512();
        const __m512i s0 = _mm512_mask_i64gather_epi64(zero, in, off, base, 1);
        const __m512i s1 = _mm512_mask_i64gather_epi64(zero, in, off, base + 8, 1);
        const __m512i s2 = _mm512_mask_i64gather_epi64(zero, in, off, base + 16, 1);
        const __m512i tagid = _mm512_mask_i64gather_epi64(zero, in, off, base + 24, 1);
        /* el_vtag */
        const __m512i tag = _mm512_or_si512(
            _mm512_and_si512(_mm512_srli_epi64(h, 32), _mm512_set1_epi64(0xFFFFFFE0LL)),
            _mm512_min_epi64(len, _mm512_set1_epi64(31)));
        const __m512i id1 = _mm512_srli_epi64(tagid, 32);
        __mmask8 hit = _mm512_mask_cmpeq_epi64_mask(in, s0, _mm512_maskz_loadu_epi64(in, t->key0 + k));
        hit = _mm512_mask_cmpeq_epi64_mask(hit, s1, _mm512_maskz_loadu_epi64(in, t->key1 + k));
        hit = _mm512_mask_cmpeq_epi64_mask(hit, s2, _mm512_maskz_loadu_epi64(in, t->key2 + k));
        hit = _mm512_mask_cmpeq_epi64_mask(hit, _mm512_and_si512(tagid, low32), tag);
        hit = _mm512_mask_cmple_epi64_mask(hit, len, _mm512_set1_epi64(EL_KEY_BYTES));
        hit = _mm512_mask_cmpneq_epi64_mask(hit, id1, zero);
        const __mmask8 full = _mm512_cmpneq_epi64_mask(id1, zero);
        /* EL_UNSETTLED where the slot is full, EL_ABSENT where empty, the id where it holds the word */
        __m512i out = _mm512_mask_blend_epi64(full, _mm512_set1_epi64(EL_ABSENT), _mm512_set1_epi64(EL_UNSETTLED));
        out = _mm512_mask_blend_epi64(hit, out, _mm512_sub_epi64(id1, _mm512_set1_epi64(1)));
        _mm512_mask_storeu_epi64(t->ids + k, in, out);
    }
}
#endif

/* The first loop over a block of tokens (the n from token `from` on, into the scratch's
 * first n places): the key and hash of each, and a request for its home slot. A large
 * vocabulary does not fit in cache: asked for a whole block's slots at once, the memory
 * system serves the misses in parallel. Also sizes the per-token id scratch. */
static inline int el_hash_tokens(const el_vocab *v, el_toks *t, int64_t from, int64_t n) {
    if (el_grow((void **)&t->hash, &t->hcap, n, sizeof(uint64_t))) return -1;
    if (el_grow((void **)&t->key0, &t->k0cap, n, sizeof(uint64_t))) return -1;
    if (el_grow((void **)&t->key1, &t->k1cap, n, sizeof(uint64_t))) return -1;
    if (el_grow((void **)&t->key2, &t->k2cap, n, sizeof(uint64_t))) return -1;
    if (el_grow((void **)&t->ids, &t->icap, n, sizeof(int64_t))) return -1;
    /* locals: the build allows any store to alias anything (-fno-strict-aliasing), so
     * fields read through t would be read again after every store */
    const el_vslot *slots = v->slots;
    const uint64_t mask = (uint64_t)v->mask;
    uint64_t *hash = t->hash;
#ifdef EL_HAVE_AVX2_PATH
    if (t->simd >= 2) {
        el_hash_tokens_avx512(t, from, n);
        for (int64_t k = 0; k < n; k++) __builtin_prefetch(&slots[hash[k] & mask]);
        return 0;
    }
#endif
    const char *buf = t->buf;
    const int64_t *starts = t->start + from, *ends = t->end + from;
    uint64_t *key0 = t->key0, *key1 = t->key1, *key2 = t->key2;
    for (int64_t k = 0; k < n; k++) {
        const char *p = buf + starts[k];
        const int64_t len = ends[k] - starts[k];
        const el_key key = el_key_padded(p, len);
        const uint64_t h = el_tok_hash(p, len, key);
        key0[k] = key.k0;
        key1[k] = key.k1;
        key2[k] = key.k2;
        hash[k] = h;
        __builtin_prefetch(&slots[h & mask]);
    }
    return 0;
}

/* The second loop, over the same block: what each token's home slot says (el_vview_home). */
static inline void el_home_ids(el_vview view, const el_toks *t, int64_t from, int64_t n) {
#ifdef EL_HAVE_AVX2_PATH
    if (t->simd >= 2) {
        el_home_ids_avx512(view, t, from, n);
        return;
    }
#endif
    const int64_t *starts = t->start + from, *ends = t->end + from;
    const uint64_t *hash = t->hash;
    int64_t *ids = t->ids;
    for (int64_t k = 0; k < n; k++)
        ids[k] = el_vview_home(view, ends[k] - starts[k], hash[k], el_tok_key(t, k));
}

/* Count the tokens of document `doc` (a number unique over the whole fit). */
static inline int el_vocab_count(el_vocab *v, el_toks *t, int64_t doc) {
    int64_t fresh = 0, ndist = 0;
    v->ndist = 0;
    if (el_grow((void **)&v->distinct, &v->dcap, t->n, sizeof(int64_t))) return -1;
    for (int64_t from = 0; from < t->n; from += EL_TOK_BLOCK) {
        const int64_t nb = t->n - from < EL_TOK_BLOCK ? t->n - from : EL_TOK_BLOCK;
        if (el_hash_tokens(v, t, from, nb)) return -1;
        el_vview view = el_vocab_view(v);
        el_home_ids(view, t, from, nb);
        /* locals (see el_hash_tokens); `counts` moves when a new word grows the arrays */
        int64_t *distinct = v->distinct;
        el_wcount *counts = v->counts;
        const char *buf = t->buf;
        const int64_t *starts = t->start + from, *ends = t->end + from;
        const uint64_t *hash = t->hash;
        const int64_t *ids = t->ids;
        for (int64_t j = 0; j < nb; j++) {
            int64_t id = ids[j];
            if (id < 0) { /* not settled by the home slot: the whole probe, then a new word */
                const char *p = buf + starts[j];
                const int64_t n = ends[j] - starts[j];
                int64_t slot;
                id = el_vview_find(view, p, n, hash[j], el_tok_key(t, j), &slot);
                if (id < 0) {
                    id = el_vocab_insert(v, slot, p, n, hash[j], el_tok_key(t, j));
                    if (id < 0) return -1;
                    v->words[id].first_doc = doc;
                    v->words[id].first_pos = from + j;
                    counts = v->counts;
                    view = el_vocab_view(v); /* the add may have grown or rehashed the table */
                    fresh++;
                }
            }
            el_wcount *c = &counts[id];
            /* without a branch: whether a token is its word's first in the document is
             * as good as random, and a mispredicted branch costs more than these stores */
            const int64_t seen_first = c->last_doc != doc;
            c->count++;
            c->docs += seen_first;
            c->last_doc = doc;
            distinct[ndist] = id;
            ndist += seen_first;
        }
    }
    v->ndist = ndist;
    if (fresh >= 2) {
        if (el_grow((void **)&v->rec, &v->rcap, v->nrec + 2 + ndist, sizeof(int64_t))) return -1;
        v->rec[v->nrec++] = doc;
        v->rec[v->nrec++] = ndist;
        memcpy(v->rec + v->nrec, v->distinct, (size_t)ndist * sizeof(int64_t));
        v->nrec += ndist;
    }
    return 0;
}

/* The two per-thread entry points are compiled for x86-64-v3 (AVX2, BMI2: shorter
 * shifts, masks and bit counts in the scalar loops; 2-4% on the benchmark corpora) and
 * for the baseline (clones.h). */
#define EL_TOK_CLONES EL_TARGET_CLONES("arch=x86-64-v3", "default")

/* Fit on documents [d0, d1); document d is numbered doc_base + d. */
EL_TOK_CLONES
static int el_fit_range(const el_tokopts *o, const el_docs *D, int64_t d0, int64_t d1,
                        int64_t doc_base, el_vocab *v, el_toks *t) {
    for (int64_t d = d0; d < d1; d++) {
        if (el_tokenize(o, D, d, t)) return -1;
        if (el_vocab_count(v, t, doc_base + d)) return -1;
    }
    return 0;
}

/* dst (uninitialised) becomes a copy of src's words, counts and table (not its fitting
 * records): the start of a merge that keeps the first vocabulary's ids. 0, or -1 out of
 * memory (dst is then empty and may be freed). */
static inline int el_vocab_copy(el_vocab *dst, const el_vocab *src) {
    memset(dst, 0, sizeof(*dst));
    const size_t nslots = (size_t)(src->mask + 1);
    dst->slots = (el_vslot *)malloc(nslots * sizeof(el_vslot));
    dst->words = (el_word *)malloc((size_t)(src->n ? src->n : 1) * sizeof(el_word));
    dst->counts = (el_wcount *)malloc((size_t)(src->n ? src->n : 1) * sizeof(el_wcount));
    dst->arena = (char *)malloc((size_t)(src->alen ? src->alen : 1));
    if (!dst->slots || !dst->words || !dst->counts || !dst->arena) {
        free(dst->slots);
        free(dst->words);
        free(dst->counts);
        free(dst->arena);
        memset(dst, 0, sizeof(*dst));
        return -1;
    }
    memcpy(dst->slots, src->slots, nslots * sizeof(el_vslot));
    memcpy(dst->words, src->words, (size_t)src->n * sizeof(el_word));
    memcpy(dst->counts, src->counts, (size_t)src->n * sizeof(el_wcount));
    memcpy(dst->arena, src->arena, (size_t)src->alen);
    dst->mask = src->mask;
    dst->n = dst->wcap = dst->ccap = src->n;
    dst->alen = dst->acap = src->alen;
    return 0;
}

/* Add the words and counts of `src` to `dst`; map[id of src] = id in dst. Where a word is
 * in both, the earlier first sighting wins. */
static inline int el_vocab_merge(el_vocab *dst, const el_vocab *src, int64_t *map) {
    for (int64_t id = 0; id < src->n; id++) {
        const el_word *s = &src->words[id];
        const char *p = src->arena + s->off;
        int added;
        int64_t g = el_vocab_add(dst, p, s->len, &added);
        if (g < 0) return -1;
        el_word *w = &dst->words[g];
        dst->counts[g].count += src->counts[id].count;
        dst->counts[g].docs += src->counts[id].docs;
        if (added || s->first_doc < w->first_doc ||
            (s->first_doc == w->first_doc && s->first_pos < w->first_pos)) {
            w->first_doc = s->first_doc;
            w->first_pos = s->first_pos;
        }
        map[id] = g;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Look-up: documents -> word indices, Keras' num_words and OOV rules          */
/* ------------------------------------------------------------------------ */

#define EL_OOV (-1)   /* output code: the OOV token's index */

typedef struct {
    int64_t *ids; /* per token: the table id of the word, or EL_OOV */
    int64_t n, cap;
} el_idbuf;

/* For each token of documents [d0, d1): its table id (whose value is the index), EL_OOV,
 * or nothing, following Keras' texts_to_sequences:
 *   found, keep[id]                         -> the id
 *   found, not keep[id] (value >= num_words) -> EL_OOV if the OOV token has an index, else dropped
 *   not found                               -> EL_OOV if there is an OOV token, else dropped
 * (`keep`: one byte per table id, worked out by the caller from num_words, so the
 * loop reads no more than the slot for most words). lengths[d] gets the number of
 * codes of document d. */
EL_TOK_CLONES
static int el_lookup_range(const el_tokopts *o, const el_docs *D, int64_t d0, int64_t d1,
                           const el_vocab *table, const uint8_t *keep, int has_oov,
                           int oov_has_index, el_toks *t, el_idbuf *out, int64_t *lengths) {
    const el_vview view = el_vocab_view(table);
    for (int64_t d = d0; d < d1; d++) {
        if (el_tokenize(o, D, d, t)) return -1;
        if (el_grow((void **)&out->ids, &out->cap, out->n + t->n, sizeof(int64_t))) return -1;
        int64_t *ids = out->ids;
        int64_t m = out->n;
        const int64_t before = m;
        for (int64_t from = 0; from < t->n; from += EL_TOK_BLOCK) {
            const int64_t nb = t->n - from < EL_TOK_BLOCK ? t->n - from : EL_TOK_BLOCK;
            if (el_hash_tokens(table, t, from, nb)) return -1;
            el_home_ids(view, t, from, nb);
            const char *buf = t->buf;
            const int64_t *starts = t->start + from, *ends = t->end + from;
            const uint64_t *hash = t->hash;
            const int64_t *home = t->ids;
            for (int64_t j = 0; j < nb; j++) {
                int64_t id = home[j];
                if (id == EL_UNSETTLED) {
                    int64_t slot;
                    id = el_vview_find(view, buf + starts[j], ends[j] - starts[j], hash[j],
                                       el_tok_key(t, j), &slot);
                }
                /* without branches (found, kept: as good as random per token): the id,
                 * or EL_OOV; written always (ids has room for every token), kept or not */
                const int found = id >= 0;
                const int kept = keep[found ? id : 0] & found;
                ids[m] = kept ? id : EL_OOV;
                m += kept | (found ? oov_has_index : has_oov);
            }
        }
        out->n = m;
        lengths[d] = m - before;
    }
    return 0;
}

/* Everything one thread writes, on cache lines of its own: the counters in these structs
 * change with every token, and two threads writing one line pass it back and forth
 * (two threads were slower than one before this padding). */
typedef struct {
    el_toks toks;
    el_vocab vocab;
    el_idbuf out;
    char pad[128];
} el_thread;

#endif /* EMBLOAD_TOKENIZE_H */
