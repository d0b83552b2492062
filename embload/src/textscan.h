/* textscan.h - record splitter and row writer for word-vector files (header-only).
 *
 * Formats accepted (the full description is at the top of embload/_parse.pyx):
 *
 *   text   (GloVe, word2vec text, fastText .vec), one vector per line:
 *            WORD SEP NUM SEP NUM ... NUM [SEP] ('\n' | end of data)
 *          SEP is a run of ' ', '\t', '\r', '\v', '\f'. The WORD is everything before
 *          the last `dim` fields, minus trailing SEP bytes, so words may contain spaces
 *          ("New York -0.2 0.1" with dim 2 has the word "New York"). Lines that are only
 *          SEP bytes are blank and skipped. NUM is Python's float() grammar
 *          (floatparse.h). CRLF works because '\r' is a SEP byte.
 *
 *   binary (word2vec C tool): per record WORD ' ' dim*float32-little-endian ['\n'].
 *          Leading '\n' bytes of WORD are dropped (left over from the previous record),
 *          as gensim does.
 *
 * The kernels never allocate, never touch Python objects and run without the GIL.
 * They stop at the first error, which they describe in their el_piece and return.
 */
#ifndef EMBLOAD_TEXTSCAN_H
#define EMBLOAD_TEXTSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "floatparse.h"

enum { EL_F32 = 0, EL_F64 = 1, EL_F16 = 2 };

enum {
    EL_OK = 0,
    EL_ERR_NUMBER = 1,   /* a field is not a number: err_pos = token, err_field = its 1-based index */
    EL_ERR_FIELDS = 2,   /* too few fields: err_pos = line start, err_field = fields found */
    EL_ERR_TRUNCATED = 3 /* binary: data ends inside a record: err_pos = record start */
};

typedef struct {
    ptrdiff_t dim;       /* numbers per vector */
    int dtype;           /* EL_F32, EL_F64 or EL_F16: type of the output rows */
    ptrdiff_t block_size;/* bytes read from the source per block */
    ptrdiff_t min_piece; /* a block is split into at most size/min_piece pieces for threads */
    int threads;         /* pieces parsed in parallel */
} el_config;

typedef struct {
    /* in */
    const char *begin;   /* first byte of the piece: the start of a line */
    const char *end;     /* one past the last byte: after a '\n', or the end of the data */
    int64_t first_line;  /* 1-based physical line number of the line at `begin` */
    ptrdiff_t first_row; /* block-local row where this piece writes its first row */
    ptrdiff_t max_rows;  /* rows this piece may write */
    /* out */
    ptrdiff_t rows;      /* rows written (compactly from first_row) */
    ptrdiff_t lines;     /* lines counted (text) */
    const char *stop;    /* where the kernel stopped */
    int err;             /* EL_OK or an EL_ERR_* code */
    const char *err_pos; /* see the error codes */
    int64_t err_line;    /* 1-based physical line of the error */
    ptrdiff_t err_field;
} el_piece;

#define EL_IS_SEP(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\v' || (c) == '\f')

/* End of the field that starts at p: the next separator or line end. Error messages show
 * the offending field; the reader and the aligner both find its end here. */
static inline const char *el_field_end(const char *p, const char *end) {
    while (p < end && !EL_IS_SEP(*p) && *p != '\n') p++;
    return p;
}

/* Number of '\n' bytes in [p, end). */
static inline ptrdiff_t el_count_lines(const char *p, const char *end) {
    ptrdiff_t n = 0;
    while (p < end) {
        const char *q = (const char *)memchr(p, '\n', (size_t)(end - p));
        if (q == NULL) break;
        n++;
        p = q + 1;
    }
    return n;
}

/* One past the last '\n' in [p, end), or NULL when there is none. */
static inline const char *el_after_last_newline(const char *p, const char *end) {
    const char *q = end;
    while (q > p) {
        if (q[-1] == '\n') return q;
        q--;
    }
    return NULL;
}

/* For a line [ls, le) whose last byte is not a SEP: start of the last `dim` fields.
 * Sets *wend to the end of the word (trailing SEP removed). Returns NULL when the
 * line has no word before `dim` fields; then *nfields is the number of fields. */
static inline const char *el_split_right(const char *ls, const char *le, ptrdiff_t dim,
                                         const char **wend, ptrdiff_t *nfields) {
    const char *q = le;
    ptrdiff_t k = 0;
    for (;;) {
        while (q > ls && !EL_IS_SEP(q[-1])) q--;
        k++;
        if (k == dim) break;
        while (q > ls && EL_IS_SEP(q[-1])) q--;
        if (q == ls) { *nfields = k; return NULL; }
    }
    const char *w = q;
    while (w > ls && EL_IS_SEP(w[-1])) w--;
    if (w == ls) { *nfields = dim; return NULL; }
    *wend = w;
    return q;
}

#define EL_STORE_F32(row, k, d) (((float *)(row))[k] = (float)(d))
#define EL_STORE_F64(row, k, d) (((double *)(row))[k] = (d))
#define EL_STORE_F16(row, k, d) (((uint16_t *)(row))[k] = el_double_to_half(d))

/* Value k of a row of the output type. */
static inline void el_store(char *row, int dtype, ptrdiff_t k, double d) {
    if (dtype == EL_F32) EL_STORE_F32(row, k, d);
    else if (dtype == EL_F64) EL_STORE_F64(row, k, d);
    else EL_STORE_F16(row, k, d);
}

/* The value parser every reader shares: the dim fields of [q, le) into a row. q is the
 * start of the first field (or SEP bytes before it) and [q, le) holds exactly dim fields
 * with no SEP at le - 1: what el_split_right leaves after the word. Returns EL_OK, or
 * EL_ERR_NUMBER with *err_pos at the field that is not a number and *err_field its
 * 1-based index. */
static inline int el_parse_fields(const char *q, const char *le, ptrdiff_t dim, int dtype, char *row,
                                  const char **err_pos, ptrdiff_t *err_field) {
    while (q < le && EL_IS_SEP(*q)) q++;
    for (ptrdiff_t k = 0; k < dim; k++) {
        double d;
        const char *t = el_parse_double(q, le, &d);
        if (t == NULL || (t < le && !EL_IS_SEP(*t))) {
            *err_pos = q;
            *err_field = k + 1;
            return EL_ERR_NUMBER;
        }
        el_store(row, dtype, k, d);
        q = t;
        while (q < le && EL_IS_SEP(*q)) q++;
    }
    return EL_OK;
}

/* One text kernel per output type: the store is a constant in the hot loop. */
#define EL_DEFINE_TEXT_KERNEL(NAME, STORE, ITEMSIZE)                                        \
static inline void NAME(const el_config *cfg, el_piece *pc, char *out, const char *base,   \
                        int64_t *wstart, int64_t *wlen, int64_t *lineno) {                  \
    const ptrdiff_t dim = cfg->dim;                                                        \
    const ptrdiff_t rowbytes = dim * (ptrdiff_t)(ITEMSIZE);                                \
    const char *p = pc->begin;                                                             \
    const char *const end = pc->end;                                                       \
    ptrdiff_t r = pc->first_row;                                                           \
    const ptrdiff_t rlast = pc->first_row + pc->max_rows;                                  \
    int64_t line = pc->first_line;                                                         \
    pc->err = EL_OK;                                                                       \
    while (p < end && r < rlast) {                                                         \
        char *row = out + (ptrdiff_t)r * rowbytes;                                         \
        const char *q = p;                                                                 \
        const char *wend;                                                                  \
        const char *next;                                                                  \
        ptrdiff_t k;                                                                       \
        /* fast path: the word ends at the first SEP, then exactly dim numbers */          \
        while (q < end && !EL_IS_SEP(*q) && *q != '\n') q++;                               \
        wend = q;                                                                          \
        if (q == p || q == end || *q == '\n') goto slow;                                   \
        do q++; while (q < end && EL_IS_SEP(*q));                                          \
        for (k = 0; k < dim; k++) {                                                        \
            double d;                                                                      \
            const char *t = el_parse_double(q, end, &d);                                   \
            if (t == NULL) goto slow;                                                      \
            STORE(row, k, d);                                                              \
            q = t;                                                                         \
            if (q < end && EL_IS_SEP(*q)) {                                                \
                do q++; while (q < end && EL_IS_SEP(*q));                                  \
            } else if (q < end && *q != '\n') {                                            \
                goto slow;                                                                 \
            }                                                                              \
            if ((q == end || *q == '\n') && k != dim - 1) goto slow;                       \
        }                                                                                  \
        if (q < end && *q != '\n') goto slow;                                              \
        next = q < end ? q + 1 : end;                                                      \
        goto done;                                                                         \
    slow: {                                                                                \
        /* general path: find the line, take the last dim fields, word = the rest */       \
        const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p));                 \
        const char *le = nl ? nl : end;                                                    \
        const char *s;                                                                     \
        ptrdiff_t nf = 0;                                                                  \
        next = nl ? nl + 1 : end;                                                          \
        while (le > p && EL_IS_SEP(le[-1])) le--;                                          \
        if (le == p) { line++; p = next; continue; } /* blank line */                      \
        s = el_split_right(p, le, dim, &wend, &nf);                                        \
        if (s == NULL) {                                                                   \
            pc->err = EL_ERR_FIELDS; pc->err_pos = p; pc->err_line = line;                 \
            pc->err_field = nf;                                                            \
            break;                                                                         \
        }                                                                                  \
        pc->err = el_parse_fields(s, le, dim, cfg->dtype, row, &pc->err_pos, &pc->err_field); \
        if (pc->err != EL_OK) { pc->err_line = line; break; }                              \
    }                                                                                      \
    done:                                                                                  \
        wstart[r] = (int64_t)(p - base);                                                   \
        wlen[r] = (int64_t)(wend - p);                                                     \
        lineno[r] = line;                                                                  \
        r++;                                                                               \
        line++;                                                                            \
        p = next;                                                                          \
    }                                                                                      \
    pc->rows = r - pc->first_row;                                                          \
    pc->lines = (ptrdiff_t)(line - pc->first_line);                                        \
    pc->stop = p;                                                                          \
}

EL_DEFINE_TEXT_KERNEL(el_text_piece_f32, EL_STORE_F32, 4)
EL_DEFINE_TEXT_KERNEL(el_text_piece_f64, EL_STORE_F64, 8)
EL_DEFINE_TEXT_KERNEL(el_text_piece_f16, EL_STORE_F16, 2)

/* Parse the lines of one piece into rows out[first_row ...] (block-local rows).
 * wstart/wlen: the word of each row as an offset from `base` and a length;
 * lineno: the physical line of each row. All three are indexed by block-local row. */
static inline void el_text_piece(const el_config *cfg, el_piece *pc, char *out, const char *base,
                                 int64_t *wstart, int64_t *wlen, int64_t *lineno) {
    switch (cfg->dtype) {
    case EL_F64: el_text_piece_f64(cfg, pc, out, base, wstart, wlen, lineno); break;
    case EL_F16: el_text_piece_f16(cfg, pc, out, base, wstart, wlen, lineno); break;
    default:     el_text_piece_f32(cfg, pc, out, base, wstart, wlen, lineno); break;
    }
}

static inline float el_load_f32le(const char *p) {
    uint32_t u;
    float f;
    memcpy(&u, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    u = ((u & 0xffu) << 24) | ((u & 0xff00u) << 8) | ((u >> 8) & 0xff00u) | (u >> 24);
#endif
    memcpy(&f, &u, 4);
    return f;
}

/* One binary vector (dim little-endian float32 at v) into a row of the output type. */
static inline void el_binary_row(const el_config *cfg, char *row, const char *v) {
    const ptrdiff_t dim = cfg->dim;
    ptrdiff_t k;
    if (cfg->dtype == EL_F32) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        for (k = 0; k < dim; k++) ((float *)row)[k] = el_load_f32le(v + 4 * k);
#else
        memcpy(row, v, (size_t)(dim * 4));
#endif
    } else if (cfg->dtype == EL_F64) {
        for (k = 0; k < dim; k++) ((double *)row)[k] = (double)el_load_f32le(v + 4 * k);
    } else {
        for (k = 0; k < dim; k++) ((uint16_t *)row)[k] = el_double_to_half((double)el_load_f32le(v + 4 * k));
    }
}

/* Binary word2vec: find the complete records of [pc->begin, pc->end), at most
 * pc->max_rows; record r's word is at base + wstart[r] (wlen[r] bytes) and its
 * vector follows the space after it. With `out` not NULL the vectors are also
 * converted into rows out[first_row ...] (else the caller converts them, e.g. in
 * parallel, with el_binary_row). Stops at the first record that is not complete
 * (pc->stop is its start); with `at_eof` set, a record that is started but
 * incomplete is an EL_ERR_TRUNCATED error. */
static inline void el_binary_records(const el_config *cfg, el_piece *pc, char *out, const char *base,
                                     int64_t *wstart, int64_t *wlen, int at_eof) {
    const ptrdiff_t dim = cfg->dim;
    const ptrdiff_t vbytes = dim * 4;
    const ptrdiff_t itemsize = cfg->dtype == EL_F64 ? 8 : (cfg->dtype == EL_F16 ? 2 : 4);
    const char *p = pc->begin;
    const char *const end = pc->end;
    ptrdiff_t r = pc->first_row;
    const ptrdiff_t rlast = pc->first_row + pc->max_rows;
    pc->err = EL_OK;
    while (r < rlast) {
        const char *w = p;
        const char *sp;
        const char *v;
        while (w < end && *w == '\n') w++;
        sp = w < end ? (const char *)memchr(w, ' ', (size_t)(end - w)) : NULL;
        if (sp == NULL || end - (sp + 1) < vbytes) {
            if (at_eof && w < end) {
                pc->err = EL_ERR_TRUNCATED; pc->err_pos = w;
                pc->err_field = sp == NULL ? 0 : (ptrdiff_t)(end - (sp + 1));
            }
            break;
        }
        v = sp + 1;
        if (out != NULL) el_binary_row(cfg, out + r * dim * itemsize, v);
        wstart[r] = (int64_t)(w - base);
        wlen[r] = (int64_t)(sp - w);
        r++;
        p = v + vbytes;
    }
    pc->rows = r - pc->first_row;
    pc->stop = p;
}

/* Read n bytes at file offset `off` into buf, retrying short reads; returns the
 * bytes read (less than n only at the end of the file), -1 on an error (errno is
 * set), or -2 where pread does not exist (the caller then uses the Python stream). */
#if defined(_WIN32)
static inline ptrdiff_t el_pread_full(int fd, char *buf, ptrdiff_t n, int64_t off) {
    (void)fd; (void)buf; (void)n; (void)off;
    return -2;
}
#else
/* pread() is POSIX: Python.h, included first by every Cython module, turns on the
 * feature macros (_GNU_SOURCE / _XOPEN_SOURCE) that declare it. */
#include <errno.h>
#include <sys/types.h>
#include <unistd.h>
static inline ptrdiff_t el_pread_full(int fd, char *buf, ptrdiff_t n, int64_t off) {
    ptrdiff_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, (size_t)(n - got), (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        got += r;
    }
    return got;
}
#endif

/* Hand the whole pages inside [a, b) of a read-only FILE mapping back to the OS (they are
 * re-read from the page cache if touched again): a mapped stream's memory bound, applied
 * by each thread to the piece it has just scanned. Never call it on anonymous memory:
 * there MADV_DONTNEED zeroes the pages. A no-op where madvise is missing. */
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
static inline void el_drop_pages(const char *a, const char *b) {
    static long page = 0;
    if (page <= 0) page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t lo = ((uintptr_t)a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = (uintptr_t)b & ~((uintptr_t)page - 1);
    if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED);
}
#else
static inline void el_drop_pages(const char *a, const char *b) {
    (void)a;
    (void)b;
}
#endif

/* Move rows [src, src+n) to [dst, ...) of a row-major matrix, dst <= src. */
static inline void el_move_rows(char *data, ptrdiff_t rowbytes, ptrdiff_t dst, ptrdiff_t src, ptrdiff_t n) {
    if (dst != src && n > 0)
        memmove(data + dst * rowbytes, data + src * rowbytes, (size_t)(n * rowbytes));
}

#endif
