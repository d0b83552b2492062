/* wordhash.h - the one hash function for words and the one table of words (header-only).
 *
 * Every word table in embload is an el_wordtable: the WordList's index (word -> row, in
 * embload/_words.pyx) and the alignment's table of wanted words (word -> id, in
 * embload/_align.pyx) are the same structure over the same kind of arena.
 *
 *   el_word_hash        64-bit hash of a word's UTF-8 bytes
 *   el_word_hash_lower  the same hash of the word with its ASCII letters lowercased
 *   el_wordtable_*      open addressing (linear probing, power-of-two size, at most half
 *                       full) over an arena owned by the caller: key i is
 *                       base[off[i], off[i+1] - 1) (the byte at off[i+1] - 1 separates
 *                       it from the next, as in a WordList's arena, src/wordarena.h).
 *                       A slot is 8 bytes, a 32-bit tag (the hash's high half: most
 *                       mismatches end there, without touching the arena) and the key's
 *                       number + 1, so the table of a large vocabulary stays in cache.
 *
 * No Python objects; no allocation except the slots; safe without the GIL.
 */
#ifndef EMBLOAD_WORDHASH_H
#define EMBLOAD_WORDHASH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- the hash --------------------------------------------------------------------- */

static inline uint64_t el_word_mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* The n < 8 bytes at q as one little-endian number, zero-padded, assembled in
 * registers: a memcpy of a variable length is a libc call. */
static inline uint64_t el_word_tail(const unsigned char *q, int64_t n) {
    uint64_t w = 0;
    for (int64_t k = 0; k < n; k++) w |= (uint64_t)q[k] << (8 * k);
    return w;
}

/* 8 bytes at a time; the tail is zero-padded (the length is mixed in, so "a" and "a\0"
 * differ). Words are short, so this is one or two rounds. */
static inline uint64_t el_word_hash(const char *p, int64_t n) {
    const unsigned char *q = (const unsigned char *)p;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0x100000001b3ULL);
    for (; n >= 8; q += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 31;
    }
    if (n > 0) {
        h = (h ^ el_word_tail(q, n)) * 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 29;
    }
    return el_word_mix(h);
}

static inline unsigned char el_ascii_lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline int el_is_ascii(const char *p, int64_t n) {
    unsigned char acc = 0;
    for (int64_t i = 0; i < n; i++) acc |= (unsigned char)p[i];
    return acc < 0x80;
}

/* el_word_hash of the word with its ASCII letters lowercased, without copying it. */
static inline uint64_t el_word_hash_lower(const char *p, int64_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0x100000001b3ULL);
    while (n >= 8) {
        unsigned char b[8];
        uint64_t w;
        for (int k = 0; k < 8; k++) b[k] = el_ascii_lower((unsigned char)p[k]);
        memcpy(&w, b, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        uint64_t w;
        for (int64_t k = 0; k < n; k++) b[k] = el_ascii_lower((unsigned char)p[k]);
        memcpy(&w, b, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 29;
    }
    return el_word_mix(h);
}

/* --- the table -------------------------------------------------------------------- */

typedef struct {
    uint32_t tag;  /* high half of the key's hash */
    uint32_t key1; /* key number + 1; 0 marks an empty slot */
} el_wordslot;

typedef struct {
    el_wordslot *slots;   /* NULL until built, and after el_wordtable_free */
    uint64_t mask;        /* number of slots - 1, a power of two minus one */
    const char *base;     /* the keys' arena and offsets (owned by the caller) */
    const int64_t *off;
    int64_t duplicates;   /* keys equal to an earlier key (only the first is in the table) */
    int64_t first_dup;    /* number of the first such key, or -1 */
    int64_t first_dup_of; /* the earlier key it repeats */
} el_wordtable;

/* Past this many keys the 32-bit slot cannot number them (callers use a dict instead). */
#define EL_WORDTABLE_MAX_KEYS ((int64_t)0xFFFFFFFE)

static inline el_wordslot *el_wordtable_probe(const el_wordtable *t, const char *p, int64_t len,
                                              uint64_t h) {
    const uint32_t tag = (uint32_t)(h >> 32);
    uint64_t pos = h & t->mask;
    for (;;) {
        el_wordslot *s = &t->slots[pos];
        if (s->key1 == 0) return s;
        if (s->tag == tag) {
            int64_t key = (int64_t)s->key1 - 1;
            int64_t a = t->off[key];
            if (t->off[key + 1] - 1 - a == len && memcmp(t->base + a, p, (size_t)len) == 0) return s;
        }
        pos = (pos + 1) & t->mask;
    }
}

/* Put the n keys of the arena into a new table. Returns 0, -1 when out of memory, -2 when
 * n is past EL_WORDTABLE_MAX_KEYS. The first of equal keys is in the table; the others are
 * counted in t->duplicates. el_wordtable_free is safe after any return. */
static inline int el_wordtable_build(el_wordtable *t, const char *base, const int64_t *off, int64_t n) {
    uint64_t size = 16;
    t->slots = NULL;
    t->mask = 0;
    t->base = base;
    t->off = off;
    t->duplicates = 0;
    t->first_dup = -1;
    t->first_dup_of = -1;
    if (n > EL_WORDTABLE_MAX_KEYS) return -2;
    while (size < 2 * (uint64_t)n) size *= 2;
    t->mask = size - 1;
    t->slots = (el_wordslot *)calloc((size_t)size, sizeof(el_wordslot));
    uint64_t *hashes = (uint64_t *)malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    if (t->slots == NULL || hashes == NULL) {
        free(t->slots);
        free(hashes);
        t->slots = NULL;
        return -1;
    }
    /* hash everything first (a sequential pass over the arena), then insert while the
     * slots of the keys a few places ahead are being fetched: most inserts miss the cache */
    for (int64_t i = 0; i < n; i++) hashes[i] = el_word_hash(base + off[i], off[i + 1] - 1 - off[i]);
    enum { AHEAD = 16 };
    for (int64_t i = 0; i < n; i++) {
#if defined(__GNUC__)
        if (i + AHEAD < n) __builtin_prefetch(&t->slots[hashes[i + AHEAD] & t->mask], 1);
#endif
        el_wordslot *s = el_wordtable_probe(t, base + off[i], off[i + 1] - 1 - off[i], hashes[i]);
        if (s->key1 != 0) {
            if (t->duplicates++ == 0) {
                t->first_dup = i;
                t->first_dup_of = (int64_t)s->key1 - 1;
            }
            continue;
        }
        s->tag = (uint32_t)(hashes[i] >> 32);
        s->key1 = (uint32_t)(i + 1);
    }
    free(hashes);
    return 0;
}

/* Number of the key equal to p[0, len), or -1. */
static inline int64_t el_wordtable_find(const el_wordtable *t, const char *p, int64_t len) {
    return (int64_t)el_wordtable_probe(t, p, len, el_word_hash(p, len))->key1 - 1;
}

/* Number of the key equal to p[0, len) with its ASCII letters lowercased, or -1. Meant for
 * tables whose keys are lowercase (a key with an ASCII capital is never found). */
static inline int64_t el_wordtable_find_lower(const el_wordtable *t, const char *p, int64_t len) {
    const uint64_t h = el_word_hash_lower(p, len);
    const uint32_t tag = (uint32_t)(h >> 32);
    uint64_t pos = h & t->mask;
    for (;;) {
        const el_wordslot *s = &t->slots[pos];
        if (s->key1 == 0) return -1;
        if (s->tag == tag) {
            int64_t key = (int64_t)s->key1 - 1;
            int64_t a = t->off[key];
            if (t->off[key + 1] - 1 - a == len) {
                const unsigned char *k = (const unsigned char *)t->base + a;
                int64_t j = 0;
                while (j < len && el_ascii_lower((unsigned char)p[j]) == k[j]) j++;
                if (j == len) return key;
            }
        }
        pos = (pos + 1) & t->mask;
    }
}

static inline void el_wordtable_free(el_wordtable *t) {
    free(t->slots);
    t->slots = NULL;
}

#endif
