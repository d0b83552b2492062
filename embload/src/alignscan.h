/* alignscan.h - the one decision of aligned loading (embload.load_aligned): is this
 * line's word wanted? (header-only)
 *
 * Everything else is the reader's: the bytes come from the reader's stream (_Reader in
 * embload/_parse.pyx), lines and records are cut by its record splitter, words split and
 * values parsed by its rules (src/textscan.h: el_split_right, el_binary_records,
 * el_parse_fields, el_binary_row), with its dtype codes (EL_F32 ...) and error codes
 * (EL_OK, EL_ERR_NUMBER). So a wanted row is bit-identical to the row embload.load gives.
 *
 * The wanted words are el_wordtables (src/wordhash.h): one of the words as written
 * (key -> slot), and for case="fallback" one of their lowercased forms (key -> group).
 *
 * A scan walks the complete lines of a piece of a block (text) or the records the
 * splitter found (binary) and records a hit for each wanted word. A line that is not
 * wanted costs a newline search and one lookup. A wanted text line is parsed at once,
 * while it is in cache, into the piece's scratch rows; the caller (Scanner._resolve)
 * then picks the lines that win rows.
 *
 * The word of a text line is everything before its last dim fields (the reader's rule).
 * When no wanted word contains a SEP byte, the first token is looked up instead of
 * splitting every line from the right: a line whose first token is wanted but which has
 * more than dim fields after it has a longer word, which then is not wanted.
 */
#ifndef EMBLOAD_ALIGNSCAN_H
#define EMBLOAD_ALIGNSCAN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textscan.h" /* record splitter, value parser, dtype and error codes */
#include "wordhash.h" /* the tables of wanted words */

#define EL_NO_ID (-1)
#define EL_ASK_PYTHON (-2) /* non-ASCII word in fallback mode: Python lowercases it */

typedef struct {
    const el_wordtable *exact; /* wanted words as written */
    const int64_t *exact_id;   /* key number -> slot */
    const el_wordtable *lower; /* lowercased wanted words (case="fallback"), or NULL */
    const int64_t *lower_id;   /* key number -> case group */
    ptrdiff_t dim;
    int general;               /* some wanted word holds a SEP: split every line from the right */
    int dtype;                 /* EL_F32 / EL_F64 / EL_F16: the rows the scan threads parse */
    ptrdiff_t row_bytes;
} el_align_cfg;

typedef struct {
    int64_t line;     /* start of the line / record, offset from the block's base */
    int64_t word;     /* start of the word */
    int64_t word_end; /* end of the word */
    int64_t end;      /* text: end of the line without CR and trailing SEP; binary: start of the vector */
    int64_t lineno;   /* 0-based line (record) number within the scanned piece */
    int64_t fields;   /* text: SEP-separated fields after the word; -1 = not counted yet */
    int64_t exact;    /* slot of the word as written, or EL_NO_ID */
    int64_t lower;    /* case group, EL_NO_ID, or EL_ASK_PYTHON */
    int64_t row;      /* values already parsed into row `row` of the piece's scratch, or -1 */
    int64_t bad;      /* EL_ERR_NUMBER: offset of the field that is not a number */
    int64_t field;    /* EL_ERR_NUMBER: its 1-based index */
    int err;          /* EL_OK or EL_ERR_NUMBER (el_parse_fields) */
} el_hit;

/* The hits of one piece, and the rows parsed for them. */
typedef struct {
    el_hit *data;
    int64_t n;
    int64_t cap;
    char *rows;       /* scratch rows, row_bytes each */
    int64_t nrows;
    int64_t caprows;
    int64_t records;  /* records (text: lines not blank) scanned, over the whole scan */
    int failed;       /* an allocation failed: the caller raises MemoryError */
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

/* The SEP bytes as a table: a load instead of five compares and their branches. */
static const unsigned char el_sep_table[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1};

/* Number of SEP-separated fields in [p, q) (q is not preceded by a SEP): the SEP -> non-SEP
 * transitions, counted without a branch per byte. */
static inline int64_t el_count_fields(const char *buf, int64_t p, int64_t q) {
    int64_t n = 0;
    int prev = 1; /* as if a SEP came before p */
    for (int64_t i = p; i < q; i++) {
        int sep = el_sep_table[(unsigned char)buf[i]];
        n += prev & !sep;
        prev = sep;
    }
    return n;
}

/* The decision: the word [w, w+n) in the exact table and, in fallback mode, the lowercase one. */
static inline void el_align_lookup(const el_align_cfg *cfg, const char *w, int64_t n,
                                   int64_t *exact, int64_t *lower) {
    int64_t k = el_wordtable_find(cfg->exact, w, n);
    *exact = k < 0 ? EL_NO_ID : cfg->exact_id[k];
    *lower = EL_NO_ID;
    if (cfg->lower != NULL) {
        if (el_is_ascii(w, n)) {
            k = el_wordtable_find_lower(cfg->lower, w, n);
            *lower = k < 0 ? EL_NO_ID : cfg->lower_id[k];
        } else {
            *lower = EL_ASK_PYTHON;
        }
    }
}

/* Look the word up in both tables; push a hit when either wants it, and parse its values
 * when the line holds exactly dim of them. */
static inline void el_align_line(const char *buf, int64_t line, int64_t ws, int64_t we, int64_t le,
                                 int64_t lineno, int64_t fields, const el_align_cfg *cfg,
                                 el_hitbuf *out) {
    int64_t exact, lower;
    el_align_lookup(cfg, buf + ws, we - ws, &exact, &lower);
    if (exact == EL_NO_ID && lower == EL_NO_ID) return;
    if (fields < 0 && (exact != EL_NO_ID || lower >= 0)) {
        fields = el_count_fields(buf, we, le);
        if (fields > cfg->dim) {
            /* the real word contains SEP bytes; no wanted word does (else cfg->general) */
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
    h->err = EL_OK;
    h->bad = h->field = 0;
    if (fields == cfg->dim && (exact != EL_NO_ID || lower >= 0)) {
        char *dest = el_hitbuf_row(out, cfg->row_bytes);
        const char *err_pos = NULL;
        ptrdiff_t err_field = 0;
        if (dest == NULL) return;
        h->row = out->nrows - 1;
        h->err = el_parse_fields(buf + we, buf + le, cfg->dim, cfg->dtype, dest, &err_pos, &err_field);
        if (h->err != EL_OK) {
            h->bad = (int64_t)(err_pos - buf);
            h->field = err_field;
        }
    }
}

/* Scan the complete lines of buf[start, end) (a piece cut at line ends by the reader's
 * block loop). Returns the number of physical lines. */
static inline int64_t el_align_text(const char *buf, int64_t start, int64_t end,
                                    const el_align_cfg *cfg, el_hitbuf *out) {
    int64_t pos = start, lineno = 0;
    while (pos < end) {
        const char *nl = (const char *)memchr(buf + pos, '\n', (size_t)(end - pos));
        int64_t le = nl ? (int64_t)(nl - buf) : end;
        int64_t next = nl ? le + 1 : end;
        while (le > pos && EL_IS_SEP(buf[le - 1])) le--;
        if (le > pos) {
            out->records++;
            if (cfg->general) {
                /* dim >= 1 and buf[le - 1] is not a SEP, as el_split_right wants */
                const char *wend;
                ptrdiff_t nf;
                if (el_split_right(buf + pos, buf + le, cfg->dim, &wend, &nf) != NULL) {
                    el_align_line(buf, pos, pos, (int64_t)(wend - buf), le, lineno, cfg->dim, cfg, out);
                } else {
                    /* too few fields: report it if the first token is wanted */
                    int64_t fe = pos;
                    while (fe < le && !EL_IS_SEP(buf[fe])) fe++;
                    el_align_line(buf, pos, pos, fe, le, lineno, -1, cfg, out);
                }
            } else {
                int64_t we = pos;
                while (we < le && !EL_IS_SEP(buf[we])) we++;
                el_align_line(buf, pos, pos, we, le, lineno, -1, cfg, out);
            }
        }
        lineno++;
        pos = next;
    }
    return lineno;
}

/* The wanted ones among n binary records found by el_binary_records (record r's word is
 * base + ws[r], wl[r] bytes, its vector after the space that follows). The vectors are
 * converted later, only for the records that win rows (el_binary_row). */
static inline void el_align_records(const char *base, const int64_t *ws, const int64_t *wl, int64_t n,
                                    const el_align_cfg *cfg, el_hitbuf *out) {
    out->records += n;
    for (int64_t r = 0; r < n; r++) {
        int64_t exact, lower;
        el_align_lookup(cfg, base + ws[r], wl[r], &exact, &lower);
        if (exact == EL_NO_ID && lower == EL_NO_ID) continue;
        el_hit *h = el_hitbuf_push(out);
        if (h == NULL) return;
        h->line = ws[r];
        h->word = ws[r];
        h->word_end = ws[r] + wl[r];
        h->end = ws[r] + wl[r] + 1;
        h->lineno = r;
        h->fields = cfg->dim;
        h->exact = exact;
        h->lower = lower;
        h->row = -1;
        h->err = EL_OK;
        h->bad = h->field = 0;
    }
}

#endif
