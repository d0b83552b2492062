/* vocab.h - the words of a loaded file kept as one UTF-8 arena.
 *
 * A reader leaves its words in one byte arena: word i is base[off[i], off[i+1]-1) and the
 * byte at off[i+1]-1 is a separator. Turning 400,000 words into Python str objects and a
 * dict costs more than reading the whole binary file they came from, and most programs
 * look up a few thousand of them. So the words stay bytes, and this header gives what a
 * word list needs without creating any object:
 *
 *   el_words_check   offsets in range and increasing; the first word that is not valid
 *                    UTF-8 (the strict rule of Python's decoder); whether every separator
 *                    is '\n' and no word holds one (then one split gives the whole list)
 *   el_split_lines   offsets of the '\n'-separated words of a blob
 *   el_vindex_*      a hash index word bytes -> row: 8-byte slots (a 32-bit tag and the
 *                    row + 1), half full, so 400,000 words take 8 MB and mostly stay in
 *                    cache; built with prefetching, which hides most of the misses.
 *
 * No allocation except the index's slots; no Python objects; safe without the GIL.
 */
#ifndef EMBLOAD_VOCAB_H
#define EMBLOAD_VOCAB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordhash.h" /* el_wh_hash: one hash function for every word table */

/* --- UTF-8 validation ------------------------------------------------------------- */

/* Length of the valid UTF-8 prefix of s[0, n): n when all of it is valid. The rules are
 * those of Python's strict decoder (RFC 3629): no overlong forms, nothing above U+10FFFF,
 * and no encoded surrogates U+D800..U+DFFF unless `allow_surrogates` (what the
 * "surrogatepass" error handler accepts). */
static inline int64_t el_utf8_valid_prefix(const unsigned char *s, int64_t n, int allow_surrogates) {
    int64_t i = 0;
    while (i < n) {
        /* ASCII runs 8 bytes at a time: words are mostly ASCII */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int64_t need;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;                        /* overlong */
            else if (c == 0xED && !allow_surrogates) hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;      /* overlong */
            else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
        } else {
            return i; /* 0x80..0xC1 (continuation, overlong lead) or 0xF5..0xFF */
        }
        if (i + need >= n) return i; /* sequence cut short */
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (int64_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += need + 1;
    }
    return n;
}

/* Number of '\n' bytes in blob[0, n). */
static inline int64_t el_count_newlines(const char *blob, int64_t n) {
    int64_t count = 0;
    const char *p = blob, *end = blob + n;
    for (;;) {
        const char *q = (const char *)memchr(p, '\n', (size_t)(end - p));
        if (q == NULL) return count;
        count++;
        p = q + 1;
    }
}

/* Checks the arena of n words. Returns -1 when all is well, else the index of the first
 * bad word; *why is 1 for offsets out of order or out of [0, size], 2 for a word that is
 * not valid UTF-8. *plain is set to 1 when every separator is '\n' and no word holds a
 * '\n' (so splitting base[off[0], off[n]-1) at '\n' gives exactly the words).
 *
 * Every offset is checked before any byte is read: one offset too large followed by a
 * smaller one would otherwise send the UTF-8 check past the arena. When every separator
 * is '\n' (the readers' arenas and from_lines), the words are valid exactly when the whole
 * span is (a multi-byte sequence cannot straddle an ASCII byte), so one pass over the
 * span replaces n short calls; only a failure walks the words to name the bad one. */
static inline int64_t el_words_check(const char *base, int64_t size, const int64_t *off, int64_t n,
                                     int allow_surrogates, int *why, int *plain) {
    int nl_separators = 1;
    *why = 0;
    *plain = 0;
    if (n > 0 && (off[0] < 0 || off[n] - 1 > size)) {
        *why = 1;
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        if (off[i + 1] - 1 < off[i]) { /* the word [off[i], off[i+1]-1) has its separator at off[i+1]-1 */
            *why = 1;
            return i;
        }
    }
    /* offsets increase from off[0] >= 0 to off[n] - 1 <= size: every separator but the
     * last (imaginary at size) lies inside the arena */
    for (int64_t i = 0; i + 1 < n; i++) {
        if (base[off[i + 1] - 1] != '\n') {
            nl_separators = 0;
            break;
        }
    }
    if (n > 0 && nl_separators) {
        const unsigned char *span = (const unsigned char *)base + off[0];
        int64_t len = off[n] - 1 - off[0];
        if (el_utf8_valid_prefix(span, len, allow_surrogates) == len) {
            *plain = el_count_newlines((const char *)span, len) == n - 1;
            return -1;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t a = off[i], b = off[i + 1] - 1;
        if (el_utf8_valid_prefix((const unsigned char *)base + a, b - a, allow_surrogates) != b - a) {
            *why = 2;
            return i;
        }
    }
    *plain = n == 0; /* n > 0 here means some separator is not '\n' */
    return -1;
}

/* Offsets of the words of blob[0, n) separated by '\n' (no separator after the last one,
 * which is given an imaginary one at n): off[0] = 0, ..., off[count] = n + 1. `off` holds
 * count + 1 entries where count is the number of '\n' plus one. Returns count. */
static inline int64_t el_split_lines(const char *blob, int64_t n, int64_t *off) {
    int64_t count = 0;
    const char *p = blob, *end = blob + n;
    off[0] = 0;
    for (;;) {
        const char *q = (const char *)memchr(p, '\n', (size_t)(end - p));
        if (q == NULL) break;
        off[++count] = (q - blob) + 1;
        p = q + 1;
    }
    off[++count] = n + 1;
    return count;
}

/* --- hash index --------------------------------------------------------------------- */

typedef struct {
    uint32_t tag;  /* high half of the word's hash: most mismatches end here, no memcmp */
    uint32_t row1; /* row + 1; 0 marks an empty slot */
} el_vslot;

typedef struct {
    el_vslot *slots;
    uint64_t mask;       /* slots - 1, a power of two minus one */
    const char *base;    /* the arena and offsets the rows refer to (owned by the caller) */
    const int64_t *off;
    int64_t duplicates;  /* words equal to an earlier word (only the first is indexed) */
    int64_t first_dup;   /* row of the first such word, or -1 */
    int64_t first_dup_of;/* the earlier row it repeats */
} el_vindex;

#define EL_VINDEX_MAX_ROWS ((int64_t)0xFFFFFFFE)

static inline el_vslot *el_vindex_probe(const el_vindex *ix, const char *p, int64_t len, uint64_t h) {
    const uint32_t tag = (uint32_t)(h >> 32);
    uint64_t pos = h & ix->mask;
    for (;;) {
        el_vslot *s = &ix->slots[pos];
        if (s->row1 == 0) return s;
        if (s->tag == tag) {
            int64_t row = (int64_t)s->row1 - 1;
            int64_t a = ix->off[row];
            if (ix->off[row + 1] - 1 - a == len && memcmp(ix->base + a, p, (size_t)len) == 0) return s;
        }
        pos = (pos + 1) & ix->mask;
    }
}

/* Index the n words. Returns 0, -1 when out of memory, -2 when n is too large for 32-bit
 * rows (the caller then uses something else). The first of equal words is indexed; the
 * others are counted in ix->duplicates. */
static inline int el_vindex_build(el_vindex *ix, const char *base, const int64_t *off, int64_t n) {
    uint64_t size = 16;
    ix->slots = NULL;
    ix->base = base;
    ix->off = off;
    ix->duplicates = 0;
    ix->first_dup = -1;
    ix->first_dup_of = -1;
    if (n > EL_VINDEX_MAX_ROWS) return -2;
    while (size < 2 * (uint64_t)n) size *= 2;
    ix->mask = size - 1;
    ix->slots = (el_vslot *)calloc((size_t)size, sizeof(el_vslot));
    uint64_t *hashes = (uint64_t *)malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    if (ix->slots == NULL || hashes == NULL) {
        free(ix->slots);
        free(hashes);
        ix->slots = NULL;
        return -1;
    }
    /* hash everything first (a sequential pass over the arena), then insert while the
     * slots of the words a few places ahead are being fetched */
    for (int64_t i = 0; i < n; i++) hashes[i] = el_wh_hash(base + off[i], off[i + 1] - 1 - off[i]);
    enum { AHEAD = 16 };
    for (int64_t i = 0; i < n; i++) {
#if defined(__GNUC__)
        if (i + AHEAD < n) __builtin_prefetch(&ix->slots[hashes[i + AHEAD] & ix->mask], 1);
#endif
        const char *p = base + off[i];
        int64_t len = off[i + 1] - 1 - off[i];
        el_vslot *s = el_vindex_probe(ix, p, len, hashes[i]);
        if (s->row1 != 0) {
            if (ix->duplicates++ == 0) {
                ix->first_dup = i;
                ix->first_dup_of = (int64_t)s->row1 - 1;
            }
            continue;
        }
        s->tag = (uint32_t)(hashes[i] >> 32);
        s->row1 = (uint32_t)(i + 1);
    }
    free(hashes);
    return 0;
}

/* Row of the word p[0, len), or -1. */
static inline int64_t el_vindex_find(const el_vindex *ix, const char *p, int64_t len) {
    const el_vslot *s = el_vindex_probe(ix, p, len, el_wh_hash(p, len));
    return (int64_t)s->row1 - 1;
}

static inline void el_vindex_free(el_vindex *ix) {
    free(ix->slots);
    ix->slots = NULL;
}

#endif
