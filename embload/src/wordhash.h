/* wordhash.h - the C core of aligned loading (embload.load_aligned).
 *
 * Two parts, both header-only and safe to call without the GIL:
 *
 * 1. el_wordhash: a read-only open-addressing hash table (linear probing, power-of-two
 *    size, load <= 1/2) from the UTF-8 bytes of a word to an int32 value. Keys live in one
 *    arena owned by the caller; entries hold the 64-bit hash, so a probe that misses
 *    almost never touches the arena. el_wh_get_lower() looks a word up as if its ASCII
 *    letters were lowercase, without copying it (for case="fallback").
 *
 * 2. The scanners: they walk a buffer of complete lines (text) or records (binary) and
 *    record a hit for each line whose word is wanted. A line that is not wanted costs a
 *    newline scan and one hash lookup; floats are parsed only for the lines that win a
 *    row (el_parse_values), later, by the caller.
 *
 * Text formats accepted (glove: no header; word2vec text / fastText .vec: a "count dim"
 * header line, skipped by the caller before the first buffer):
 *
 *     the 0.418 0.24968 -0.41242\n          word, then dim values
 *     at name@domain.com 0.1 0.2 0.3\r\n    the word is everything before the last dim
 *                                           fields ("at name@domain.com", GloVe 840B)
 *     word 1 2 3 \n                         trailing blanks and CR are ignored
 *
 * Fields are separated by runs of blanks (' ', '\t', '\r', '\v', '\f', as the readers
 * in textscan.h). Lines of blanks only are skipped; a word may start with blanks.
 * Binary (word2vec C tool): after the header, records "word" ' ' dim little-endian
 * float32; newlines before a word are skipped (as gensim does).
 */
#ifndef EMBLOAD_WORDHASH_H
#define EMBLOAD_WORDHASH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define EL_HAVE_MADVISE 1
#endif

#include "floatparse.h"
#include "textscan.h" /* the readers' separator rule and right split: one definition */

/* Hand the whole pages inside [a, b) of a read-only FILE mapping back to the OS (they are
 * re-read from the page cache if touched again). Never call it on anonymous memory: there
 * MADV_DONTNEED zeroes the pages. A no-op where madvise is missing. */
static inline void el_drop_pages(const char *a, const char *b) {
#ifdef EL_HAVE_MADVISE
    static long page = 0;
    if (page <= 0) page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t lo = ((uintptr_t)a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = (uintptr_t)b & ~((uintptr_t)page - 1);
    if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED);
#else
    (void)a;
    (void)b;
#endif
}

/* ------------------------------------------------------------------------ */
/* Hash table                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint64_t hash;
    int64_t key;   /* offset of the key bytes in the arena; -1 marks an empty entry */
    int64_t len;   /* key length in bytes */
    int64_t value;
} el_wh_entry;

typedef struct {
    el_wh_entry *entries;
    const char *arena; /* owned by the caller (a bytes object kept alive alongside) */
    int64_t mask;      /* number of entries - 1 (a power of two minus one) */
    int64_t count;
} el_wordhash;

static inline uint64_t el_wh_mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* 8 bytes at a time; the tail is zero-padded (the length is mixed in, so "a" and "a\0"
 * differ). Words are short, so this is one or two rounds. */
static inline uint64_t el_wh_hash(const char *p, int64_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0x100000001b3ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, p, (size_t)n);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 29;
    }
    return el_wh_mix(h);
}

static inline unsigned char el_ascii_lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The hash of the word with its ASCII letters lowercased (same function as above). */
static inline uint64_t el_wh_hash_lower(const char *p, int64_t n) {
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
    return el_wh_mix(h);
}

/* Allocate an empty table for `count` keys. Returns 0, or -1 when out of memory. */
static inline int el_wh_init(el_wordhash *t, const char *arena, int64_t count) {
    int64_t size = 16;
    while (size < 2 * count) size *= 2;
    t->entries = (el_wh_entry *)malloc((size_t)size * sizeof(el_wh_entry));
    if (t->entries == NULL) return -1;
    for (int64_t i = 0; i < size; i++) t->entries[i].key = -1;
    t->arena = arena;
    t->mask = size - 1;
    t->count = 0;
    return 0;
}

static inline void el_wh_free(el_wordhash *t) {
    free(t->entries);
    t->entries = NULL;
}

/* The entry holding the word [p, p+n) whose hash is h, or the empty entry where it would
 * go (the table is never full, see el_wh_init). */
static inline el_wh_entry *el_wh_find(const el_wordhash *t, const char *p, int64_t n,
                                      uint64_t h) {
    int64_t i = (int64_t)(h & (uint64_t)t->mask);
    for (;;) {
        el_wh_entry *e = &t->entries[i];
        if (e->key < 0 ||
            (e->hash == h && e->len == n && memcmp(t->arena + e->key, p, (size_t)n) == 0))
            return e;
        i = (i + 1) & t->mask;
    }
}

/* Insert arena[key, key+len) -> value. Returns the value already stored for an equal key
 * (the table keeps the first), or `value` when the key is new. The caller sized the table
 * (el_wh_init with the number of keys), so there is always an empty entry. */
static inline int64_t el_wh_put(el_wordhash *t, int64_t key, int64_t len, int64_t value) {
    const char *p = t->arena + key;
    uint64_t h = el_wh_hash(p, len);
    el_wh_entry *e = el_wh_find(t, p, len, h);
    if (e->key >= 0) return e->value;
    e->hash = h;
    e->key = key;
    e->len = len;
    e->value = value;
    t->count++;
    return value;
}

/* Value of the word [p, p+n), or -1. */
static inline int64_t el_wh_get(const el_wordhash *t, const char *p, int64_t n) {
    const el_wh_entry *e = el_wh_find(t, p, n, el_wh_hash(p, n));
    return e->key < 0 ? -1 : e->value;
}

/* Value of the word [p, p+n) with its ASCII letters lowercased, or -1. The keys of a table
 * used this way are stored lowercased. */
static inline int64_t el_wh_get_lower(const el_wordhash *t, const char *p, int64_t n) {
    uint64_t h = el_wh_hash_lower(p, n);
    int64_t i = (int64_t)(h & (uint64_t)t->mask);
    for (;;) {
        const el_wh_entry *e = &t->entries[i];
        if (e->key < 0) return -1;
        if (e->hash == h && e->len == n) {
            const unsigned char *k = (const unsigned char *)(t->arena + e->key);
            int64_t j = 0;
            while (j < n && el_ascii_lower((unsigned char)p[j]) == k[j]) j++;
            if (j == n) return e->value;
        }
        i = (i + 1) & t->mask;
    }
}

/* ------------------------------------------------------------------------ */
/* Value conversion                                                           */
/* ------------------------------------------------------------------------ */

/* The separators of embload's text readers: a run of them splits fields. */
static inline int el_is_blank(char c) {
    return EL_IS_SEP(c);
}

#define EL_AL_F16 0
#define EL_AL_F32 1
#define EL_AL_F64 2

#define EL_AL_OK 0
#define EL_AL_ERR_VALUE 1    /* a field is not a number */
#define EL_AL_ERR_FEW 2      /* fewer than dim values */
#define EL_AL_ERR_MANY 3     /* more than dim values */

static inline void el_store(void *dest, int dtype, int64_t k, double d) {
    if (dtype == EL_AL_F32)
        ((float *)dest)[k] = (float)d;
    else if (dtype == EL_AL_F64)
        ((double *)dest)[k] = d;
    else
        ((uint16_t *)dest)[k] = el_double_to_half(d);
}

/* Parse exactly dim values from buf[p, le) (p = end of the word) into dest. On error
 * returns a code and sets *bad to the offset of the offending field and *field to its
 * 0-based number. */
static inline int el_parse_values(const char *buf, int64_t p, int64_t le, int64_t dim,
                                  void *dest, int dtype, int64_t *bad, int64_t *field) {
    const char *last = buf + le;
    const char *q = buf + p;
    for (int64_t k = 0; k < dim; k++) {
        const char *s = q;
        double d;
        while (q < last && el_is_blank(*q)) q++;
        if (q >= last) {
            *bad = (int64_t)(q - buf);
            *field = k;
            return EL_AL_ERR_FEW;
        }
        if (q == s) { /* no blank between two fields */
            *bad = (int64_t)(q - buf);
            *field = k;
            return EL_AL_ERR_VALUE;
        }
        const char *r = el_parse_double(q, last, &d);
        if (r == NULL || (r < last && !el_is_blank(*r))) {
            *bad = (int64_t)(q - buf);
            *field = k;
            return EL_AL_ERR_VALUE;
        }
        el_store(dest, dtype, k, d);
        q = r;
    }
    while (q < last && el_is_blank(*q)) q++;
    if (q < last) {
        *bad = (int64_t)(q - buf);
        *field = dim;
        return EL_AL_ERR_MANY;
    }
    return EL_AL_OK;
}

/* ------------------------------------------------------------------------ */
/* Hits                                                                       */
/* ------------------------------------------------------------------------ */

#define EL_NO_ID (-1)
#define EL_ASK_PYTHON (-2) /* non-ASCII word in fallback mode: Python lowercases it */

typedef struct {
    int64_t line;     /* start of the line / record, offset in the buffer */
    int64_t word;     /* start of the word */
    int64_t word_end; /* end of the word */
    int64_t end;      /* text: end of the line without CR and trailing blanks; binary: start of the vector */
    int64_t lineno;   /* 0-based line (record) number within the scanned part */
    int64_t fields;   /* text: blank-separated fields after the word; -1 = not counted yet */
    int64_t exact;    /* value from the exact table, or EL_NO_ID */
    int64_t lower;    /* value from the lowercase table, EL_NO_ID, or EL_ASK_PYTHON */
    int64_t row;      /* values already parsed into row `row` of the part's scratch, or -1 */
    int64_t bad;      /* parse error: offset of the offending field */
    int64_t field;    /* parse error: its 0-based number */
    int err;          /* EL_AL_OK or the parse error */
} el_hit;

/* The hits of one part of a buffer, and the rows parsed for them (the scan threads parse
 * a wanted line at once, while it is in cache; the serial resolve step then only copies
 * the rows that win). */
typedef struct {
    el_hit *data;
    int64_t n;
    int64_t cap;
    char *rows;        /* scratch rows, row_bytes each */
    int64_t nrows;
    int64_t caprows;
    int failed; /* an allocation failed: the caller raises MemoryError */
} el_hitbuf;

static inline void el_hitbuf_free(el_hitbuf *b) {
    free(b->data);
    free(b->rows);
    b->data = NULL;
    b->rows = NULL;
    b->n = b->cap = b->nrows = b->caprows = 0;
}

/* A scratch row for the next parsed line, or NULL when out of memory. */
static inline char *el_hitbuf_row(el_hitbuf *b, int64_t row_bytes) {
    if (b->nrows == b->caprows) {
        int64_t cap = b->caprows ? 2 * b->caprows : 64;
        char *d = (char *)realloc(b->rows, (size_t)(cap * row_bytes));
        if (d == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->rows = d;
        b->caprows = cap;
    }
    return b->rows + (b->nrows++) * row_bytes;
}

static inline el_hit *el_hitbuf_push(el_hitbuf *b) {
    if (b->n == b->cap) {
        int64_t cap = b->cap ? 2 * b->cap : 256;
        el_hit *d = (el_hit *)realloc(b->data, (size_t)cap * sizeof(el_hit));
        if (d == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->data = d;
        b->cap = cap;
    }
    return &b->data[b->n++];
}

/* ------------------------------------------------------------------------ */
/* Text scanning                                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
    const el_wordhash *exact; /* wanted words as written */
    const el_wordhash *lower; /* lowercased wanted words (case="fallback"), or NULL */
    int64_t dim;
    int general; /* some wanted word contains a blank: split every line from the right */
    int dtype;   /* EL_AL_F16 / F32 / F64: how scan threads store the rows they parse */
    int64_t row_bytes;
} el_scan_cfg;


/* Number of blank-separated fields in [p, q) (q is not preceded by a blank). Written as
 * a branch-free count of blank->non-blank transitions so that the compiler vectorises it. */
static inline int64_t el_count_fields(const char *buf, int64_t p, int64_t q) {
    int64_t n = 0;
    if (p >= q) return 0;
    n = !el_is_blank(buf[p]);
    for (int64_t i = p; i + 1 < q; i++) {
        unsigned char a = (unsigned char)buf[i], b = (unsigned char)buf[i + 1];
        int sa = (a == ' ') | (a == '\t') | (a == '\r') | (a == '\v') | (a == '\f');
        int sb = (b == ' ') | (b == '\t') | (b == '\r') | (b == '\v') | (b == '\f');
        n += (int64_t)(sa & !sb);
    }
    return n;
}

static inline int el_is_ascii(const char *p, int64_t n) {
    unsigned char acc = 0;
    for (int64_t i = 0; i < n; i++) acc |= (unsigned char)p[i];
    return acc < 0x80;
}

/* The word [w, w+n) in the exact table and, in fallback mode, the lowercase one. */
static inline void el_lookup(const el_scan_cfg *cfg, const char *w, int64_t n,
                             int64_t *exact, int64_t *lower) {
    *exact = el_wh_get(cfg->exact, w, n);
    *lower = EL_NO_ID;
    if (cfg->lower != NULL)
        *lower = el_is_ascii(w, n) ? el_wh_get_lower(cfg->lower, w, n) : EL_ASK_PYTHON;
}

/* Look the word up in both tables; push a hit when either wants it. */
static inline void el_record(const char *buf, int64_t line, int64_t ws, int64_t we, int64_t le,
                             int64_t lineno, int64_t fields, const el_scan_cfg *cfg,
                             el_hitbuf *out) {
    int64_t exact, lower;
    el_lookup(cfg, buf + ws, we - ws, &exact, &lower);
    if (exact == EL_NO_ID && lower == EL_NO_ID) return;
    if (fields < 0 && (exact != EL_NO_ID || lower >= 0)) {
        fields = el_count_fields(buf, we, le);
        if (fields > cfg->dim) {
            /* the real word contains blanks; no wanted word does (else cfg->general) */
            return;
        }
    }
    el_hit *h = el_hitbuf_push(out);
    if (h == NULL) return;
    h->line = line;
    h->word = ws;
    h->word_end = we;
    h->end = le;
    h->lineno = lineno;
    h->fields = fields;
    h->exact = exact;
    h->lower = lower;
    h->row = -1;
    h->err = EL_AL_OK;
    h->bad = h->field = 0;
    if (fields == cfg->dim && (exact != EL_NO_ID || lower >= 0)) {
        char *dest = el_hitbuf_row(out, cfg->row_bytes);
        if (dest == NULL) return;
        h->row = out->nrows - 1;
        h->err = el_parse_values(buf, we, le, cfg->dim, dest, cfg->dtype, &h->bad, &h->field);
    }
}

/* Scan the complete lines of buf[start, end). Returns the number of physical lines. */
static inline int64_t el_scan_text(const char *buf, int64_t start, int64_t end,
                                   const el_scan_cfg *cfg, el_hitbuf *out) {
    int64_t pos = start, lineno = 0;
    while (pos < end) {
        const char *nl = (const char *)memchr(buf + pos, '\n', (size_t)(end - pos));
        int64_t le = nl ? (int64_t)(nl - buf) : end;
        int64_t next = nl ? le + 1 : end;
        while (le > pos && el_is_blank(buf[le - 1])) le--;
        if (le > pos) {
            if (cfg->general) {
                /* dim >= 1 and buf[le - 1] is not blank, as textscan.h's split wants */
                const char *wend;
                ptrdiff_t nf;
                if (el_split_right(buf + pos, buf + le, (ptrdiff_t)cfg->dim, &wend, &nf) != NULL) {
                    el_record(buf, pos, pos, (int64_t)(wend - buf), le, lineno, cfg->dim, cfg, out);
                } else {
                    /* too few fields: report it if the first token is wanted */
                    int64_t fe = pos;
                    while (fe < le && !el_is_blank(buf[fe])) fe++;
                    el_record(buf, pos, pos, fe, le, lineno, -1, cfg, out);
                }
            } else {
                int64_t we = pos;
                while (we < le && !el_is_blank(buf[we])) we++;
                el_record(buf, pos, pos, we, le, lineno, -1, cfg, out);
            }
        }
        lineno++;
        pos = next;
    }
    return lineno;
}

/* ------------------------------------------------------------------------ */
/* Binary records                                                             */
/* ------------------------------------------------------------------------ */

/* Scan whole records of buf[start, end), at most `limit` of them. Returns the offset
 * just past the last whole record; *records gets their number. A record cut by `end`
 * is left for the next buffer. */
static inline int64_t el_scan_binary(const char *buf, int64_t start, int64_t end,
                                     int64_t limit, const el_scan_cfg *cfg,
                                     el_hitbuf *out, int64_t *records) {
    int64_t pos = start, n = 0;
    int64_t vbytes = 4 * cfg->dim;
    while (n < limit && pos < end) {
        int64_t ws = pos;
        while (ws < end && buf[ws] == '\n') ws++;
        if (ws >= end) break;
        const char *sp = (const char *)memchr(buf + ws, ' ', (size_t)(end - ws));
        if (sp == NULL) break;
        int64_t we = (int64_t)(sp - buf);
        int64_t vs = we + 1;
        if (end - vs < vbytes) break;
        int64_t exact, lower;
        el_lookup(cfg, buf + ws, we - ws, &exact, &lower);
        if (exact != EL_NO_ID || lower != EL_NO_ID) {
            el_hit *h = el_hitbuf_push(out);
            if (h != NULL) {
                h->line = pos;
                h->word = ws;
                h->word_end = we;
                h->end = vs;
                h->lineno = n;
                h->fields = cfg->dim;
                h->exact = exact;
                h->lower = lower;
                h->row = -1;  /* binary rows are copied by the caller */
                h->err = EL_AL_OK;
                h->bad = h->field = 0;
            }
        }
        pos = vs + vbytes;
        n++;
    }
    *records = n;
    return pos;
}

/* Copy one little-endian float32 vector into dest converted to dtype (any host order). */
static inline void el_copy_binary(const char *src, int64_t dim, void *dest, int dtype) {
    for (int64_t k = 0; k < dim; k++) {
        float f;
        uint32_t u;
        memcpy(&u, src + 4 * k, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        u = ((u & 0xffu) << 24) | ((u & 0xff00u) << 8) | ((u >> 8) & 0xff00u) | (u >> 24);
#endif
        memcpy(&f, &u, 4);
        if (dtype == EL_AL_F32)
            ((float *)dest)[k] = f;
        else if (dtype == EL_AL_F64)
            ((double *)dest)[k] = (double)f;
        else
            ((uint16_t *)dest)[k] = el_double_to_half((double)f);
    }
}

#endif
