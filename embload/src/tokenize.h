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

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordhash.h"   /* el_word_hash: the package's one word hash */


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
    uint8_t sep_lowered[128]; /* sep_ascii of the character after lowercasing (if lower) */
    uint8_t ascii_map[128];   /* each ASCII character after lowercasing (if lower) */
    const uint32_t *filters;  /* every filter code point, sorted */
    int64_t n_filters;
    const uint32_t *split;    /* the separator's code points */
    int64_t split_len;        /* >= 1 */
    const el_case *cases;
} el_tokopts;

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

/* The tokens of one document, as UTF-8 bytes back to back. */
typedef struct {
    char *buf;
    int64_t len, cap;
    int64_t *end; /* end offset of each token in buf */
    int64_t n, ncap;
    uint32_t *cps; /* the transformed text, for a split of several code points */
    int64_t ncps, cpcap;
    uint64_t *hash; /* the hash of each token (el_hash_tokens) */
    int64_t hcap;
} el_toks;

static inline void el_toks_free(el_toks *t) {
    free(t->buf);
    free(t->end);
    free(t->cps);
    free(t->hash);
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

/* Words with a one-code-point split: cut at every filter or split character.
 * One loop per storage width, with the output position in a local (char stores may
 * alias anything, so a field would be reloaded after every byte). */
#define EL_WORDS1_WIDE(NAME, CT)                                                          \
    static inline int NAME(const el_tokopts *o, const el_str *s, el_toks *t) {              \
        const CT *p = (const CT *)s->data;                                                  \
        const int64_t n = s->len;                                                           \
        const uint32_t split = o->split[0];                                                 \
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
            for (int k = 0; k < m; k++) {                                                   \
                uint32_t c = out[k];                                                        \
                if (c < 128 ? sep[c] : (c == split || (o->n_filters && el_is_filter(o, c)))) { \
                    if (el_toks_close(t, 0)) return -1;                                     \
                } else {                                                                    \
                    el_put_utf8(t, c);                                                      \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        return el_toks_close(t, 0);                                                         \
    }

EL_WORDS1_WIDE(el_tok_words1_ucs1, uint8_t)
EL_WORDS1_WIDE(el_tok_words1_ucs2, uint16_t)
EL_WORDS1_WIDE(el_tok_words1_ucs4, uint32_t)

static inline int el_tok_words1(const el_tokopts *o, const el_str *s, el_toks *t) {
    if (!s->ascii) {
        if (s->kind == 1) return el_tok_words1_ucs1(o, s, t);
        if (s->kind == 2) return el_tok_words1_ucs2(o, s, t);
        return el_tok_words1_ucs4(o, s, t);
    }
    /* ASCII: find each run of non-separators, copy it (lowered) in one tight loop */
    const unsigned char *p = (const unsigned char *)s->data;
    const int64_t n = s->len;
    const uint8_t *sep = o->sep_lowered;
    const uint8_t *low = o->ascii_map;
    if (el_grow((void **)&t->buf, &t->cap, t->len + n + 1, 1)) return -1;
    if (el_grow((void **)&t->end, &t->ncap, t->n + n / 2 + 2, sizeof(int64_t))) return -1;
    char *const base = t->buf;
    char *out = base + t->len;
    int64_t *ends = t->end;
    int64_t ntok = t->n;
    int64_t i = 0;
    for (;;) {
        while (i < n && sep[p[i]]) i++;
        if (i >= n) break;
        while (i < n && !sep[p[i]]) *out++ = (char)low[p[i++]];
        ends[ntok++] = out - base;
    }
    t->len = out - base;
    t->n = ntok;
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
    const el_str *s = D->items + D->first[d];
    if (D->is_list[d]) {
        for (int64_t k = 0; k < D->count[d]; k++)
            if (el_tok_whole(o, s + k, t)) return -1;
        return 0;
    }
    if (o->char_level) return el_tok_chars(o, s, t);
    if (o->split_len == 1) return el_tok_words1(o, s, t);
    return el_tok_words_general(o, s, t);
}

/* ------------------------------------------------------------------------ */
/* Vocabulary: a growable hash table of words with their counts               */
/* ------------------------------------------------------------------------ */

/* The first min(n, 8) bytes of a word as one number (zero-padded). */
static inline uint64_t el_key8(const char *p, int64_t n) {
    uint64_t w = 0;
    if (n >= 8) {
        memcpy(&w, p, 8);
        return w;
    }
    for (int64_t k = 0; k < n; k++) w |= (uint64_t)(unsigned char)p[k] << (8 * k);
    return w;
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
    uint64_t hash;
    int64_t off, len;    /* the bytes, in the arena */
    int64_t count;       /* occurrences */
    int64_t docs;        /* documents containing it */
    int64_t last_doc;    /* the last document counted in docs */
    int64_t first_doc;   /* where it was first seen: document, then token position */
    int64_t first_pos;
    int64_t value;       /* look-up tables: the index */
    uint64_t key8;       /* the first 8 bytes, zero-padded: most words compare without the arena */
} el_word;

typedef struct {
    int64_t *slots; /* word ids, -1 empty; open addressing, linear probing, load <= 1/2 */
    int64_t mask;
    el_word *words;
    int64_t n, wcap;
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
    free(v->arena);
    free(v->rec);
    free(v->distinct);
    memset(v, 0, sizeof(*v));
}

static inline int el_vocab_init(el_vocab *v, int64_t expected) {
    memset(v, 0, sizeof(*v));
    int64_t size = 64;
    while (size < 2 * expected) size *= 2;
    v->slots = (int64_t *)malloc((size_t)size * sizeof(int64_t));
    if (v->slots == NULL) return -1;
    memset(v->slots, 0xFF, (size_t)size * sizeof(int64_t));
    v->mask = size - 1;
    return 0;
}

static inline int el_vocab_rehash(el_vocab *v) {
    int64_t size = 2 * (v->mask + 1);
    int64_t *slots = (int64_t *)malloc((size_t)size * sizeof(int64_t));
    if (slots == NULL) return -1;
    memset(slots, 0xFF, (size_t)size * sizeof(int64_t));
    for (int64_t id = 0; id < v->n; id++) {
        int64_t i = (int64_t)(v->words[id].hash & (uint64_t)(size - 1));
        while (slots[i] >= 0) i = (i + 1) & (size - 1);
        slots[i] = id;
    }
    free(v->slots);
    v->slots = slots;
    v->mask = size - 1;
    return 0;
}

/* The id of the word [p, p+n) hashing to h, or -1. `*slot` gets where it is or would go. */
static inline int64_t el_vocab_find(const el_vocab *v, const char *p, int64_t n, uint64_t h,
                                    int64_t *slot) {
    int64_t i = (int64_t)(h & (uint64_t)v->mask);
    const uint64_t k8 = el_key8(p, n);
    for (;;) {
        int64_t id = v->slots[i];
        if (id < 0) break;
        const el_word *w = &v->words[id];
        if (w->hash == h && w->len == n && w->key8 == k8 &&
            (n <= 8 || el_tok_eq(v->arena + w->off + 8, p + 8, n - 8))) {
            *slot = i;
            return id;
        }
        i = (i + 1) & v->mask;
    }
    *slot = i;
    return -1;
}

static inline int64_t el_vocab_get(const el_vocab *v, const char *p, int64_t n) {
    int64_t slot;
    return el_vocab_find(v, p, n, el_word_hash(p, n), &slot);
}

/* The id of the word, added (with zero counts) if new; *added tells which. -1: no memory. */
static inline int64_t el_vocab_add(el_vocab *v, const char *p, int64_t n, uint64_t h, int *added) {
    int64_t slot;
    int64_t id = el_vocab_find(v, p, n, h, &slot);
    *added = 0;
    if (id >= 0) return id;
    if (el_grow((void **)&v->words, &v->wcap, v->n + 1, sizeof(el_word))) return -1;
    if (el_grow((void **)&v->arena, &v->acap, v->alen + n + 1, 1)) return -1;
    memcpy(v->arena + v->alen, p, (size_t)n);
    id = v->n++;
    el_word *w = &v->words[id];
    w->hash = h;
    w->off = v->alen;
    w->len = n;
    w->count = 0;
    w->docs = 0;
    w->last_doc = -1;
    w->first_doc = -1;
    w->first_pos = -1;
    w->value = 0;
    w->key8 = el_key8(p, n);
    v->alen += n;
    v->slots[slot] = id;
    *added = 1;
    if (2 * v->n > v->mask + 1 && el_vocab_rehash(v)) return -1;
    return id;
}

/* Hash every token of a document and start fetching what looking them up will read.
 * A large vocabulary does not fit in cache: each look-up is two dependent misses (the
 * slot, then the word). Asked for all tokens of the document at once, the memory
 * system serves them in parallel instead of one after the other. */
static inline int el_hash_tokens(const el_vocab *v, el_toks *t) {
    if (el_grow((void **)&t->hash, &t->hcap, t->n, sizeof(uint64_t))) return -1;
    int64_t start = 0;
    for (int64_t k = 0; k < t->n; k++) {
        uint64_t h = el_word_hash(t->buf + start, t->end[k] - start);
        start = t->end[k];
        t->hash[k] = h;
        __builtin_prefetch(&v->slots[h & (uint64_t)v->mask]);
    }
    for (int64_t k = 0; k < t->n; k++) {
        int64_t id = v->slots[t->hash[k] & (uint64_t)v->mask];
        if (id >= 0) __builtin_prefetch(&v->words[id]);
    }
    return 0;
}

/* Count the tokens of document `doc` (a number unique over the whole fit). */
static inline int el_vocab_count(el_vocab *v, el_toks *t, int64_t doc) {
    int64_t start = 0, fresh = 0;
    v->ndist = 0;
    if (el_hash_tokens(v, t)) return -1;
    for (int64_t k = 0; k < t->n; k++) {
        const char *p = t->buf + start;
        int64_t n = t->end[k] - start;
        start = t->end[k];
        int added;
        int64_t id = el_vocab_add(v, p, n, t->hash[k], &added);
        if (id < 0) return -1;
        el_word *w = &v->words[id];
        if (added) {
            w->first_doc = doc;
            w->first_pos = k;
            fresh++;
        }
        w->count++;
        if (w->last_doc != doc) {
            w->last_doc = doc;
            w->docs++;
            if (el_grow((void **)&v->distinct, &v->dcap, v->ndist + 1, sizeof(int64_t))) return -1;
            v->distinct[v->ndist++] = id;
        }
    }
    if (fresh >= 2) {
        if (el_grow((void **)&v->rec, &v->rcap, v->nrec + 2 + v->ndist, sizeof(int64_t))) return -1;
        v->rec[v->nrec++] = doc;
        v->rec[v->nrec++] = v->ndist;
        memcpy(v->rec + v->nrec, v->distinct, (size_t)v->ndist * sizeof(int64_t));
        v->nrec += v->ndist;
    }
    return 0;
}

/* Fit on documents [d0, d1); document d is numbered doc_base + d. */
static inline int el_fit_range(const el_tokopts *o, const el_docs *D, int64_t d0, int64_t d1,
                               int64_t doc_base, el_vocab *v, el_toks *t) {
    for (int64_t d = d0; d < d1; d++) {
        if (el_tokenize(o, D, d, t)) return -1;
        if (el_vocab_count(v, t, doc_base + d)) return -1;
    }
    return 0;
}

/* Add the words and counts of `src` to `dst`; map[id of src] = id in dst. Where a word is
 * in both, the earlier first sighting wins. */
static inline int el_vocab_merge(el_vocab *dst, const el_vocab *src, int64_t *map) {
    for (int64_t id = 0; id < src->n; id++) {
        const el_word *s = &src->words[id];
        int added;
        int64_t g = el_vocab_add(dst, src->arena + s->off, s->len, s->hash, &added);
        if (g < 0) return -1;
        el_word *w = &dst->words[g];
        w->count += s->count;
        w->docs += s->docs;
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
 *   found, value < num_words (or no limit)  -> the id
 *   found, value >= num_words               -> EL_OOV if the OOV token has an index, else dropped
 *   not found                               -> EL_OOV if there is an OOV token, else dropped
 * lengths[d] gets the number of codes of document d. */
static inline int el_lookup_range(const el_tokopts *o, const el_docs *D, int64_t d0, int64_t d1,
                                  const el_vocab *table, int64_t num_words, int has_oov,
                                  int oov_has_index, el_toks *t, el_idbuf *out,
                                  int64_t *lengths) {
    for (int64_t d = d0; d < d1; d++) {
        if (el_tokenize(o, D, d, t)) return -1;
        if (el_grow((void **)&out->ids, &out->cap, out->n + t->n, sizeof(int64_t))) return -1;
        if (el_hash_tokens(table, t)) return -1;
        int64_t before = out->n, start = 0;
        for (int64_t k = 0; k < t->n; k++) {
            const char *p = t->buf + start;
            int64_t n = t->end[k] - start;
            start = t->end[k];
            int64_t slot;
            int64_t id = el_vocab_find(table, p, n, t->hash[k], &slot);
            if (id >= 0) {
                if (num_words && table->words[id].value >= num_words) {
                    if (oov_has_index) out->ids[out->n++] = EL_OOV;
                } else {
                    out->ids[out->n++] = id;
                }
            } else if (has_oov) {
                out->ids[out->n++] = EL_OOV;
            }
        }
        lengths[d] = out->n - before;
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
