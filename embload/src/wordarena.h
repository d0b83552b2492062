/* wordarena.h - the words of a loaded file kept as one UTF-8 arena (header-only).
 *
 * A reader leaves its words in one byte arena: word i is base[off[i], off[i+1]-1) and the
 * byte at off[i+1]-1 is a separator. Making a str object per word and a dict of them costs
 * more than reading the binary file they came from, and most programs look up a few
 * thousand of them (scripts/bench_load.py measures it). So the words stay bytes, and this
 * header gives what a word list needs without creating any object:
 *
 *   el_words_check   offsets in range and increasing; the first word that is not valid
 *                    UTF-8 (the strict rule of Python's decoder); whether every separator
 *                    is '\n' and no word holds one (then one split gives the whole list)
 *   el_split_lines   offsets of the '\n'-separated words of a blob
 *
 * The hash index over an arena (word -> row) is the one word table, src/wordhash.h.
 * No allocation; no Python objects; safe without the GIL.
 */
#ifndef EMBLOAD_WORDARENA_H
#define EMBLOAD_WORDARENA_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

#endif
