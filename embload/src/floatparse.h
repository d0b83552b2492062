/* floatparse.h - decimal text to double, exactly as Python's float() reads it.
 *
 * CONTRACT (other modules rely on this; keep it stable):
 *
 *   static inline const char *el_parse_double(const char *p, const char *last, double *out);
 *
 *   Parses the longest prefix of [p, last) that is a number in the grammar of
 *   Python's float() (without the surrounding whitespace float() would strip):
 *       [+-] ( digits [. [digits]] | . digits ) [ (e|E) [+-] digits ]
 *       [+-] ( inf | infinity | nan )                     (any case)
 *   with Python's rule for underscores (only between two digits, in any of
 *   the three digit runs: "1_0.5_5e1_0" is valid, "1__0", "_1", "1_.5" are not).
 *   On success stores the correctly rounded double in *out and returns the
 *   pointer just past the number (the caller checks that a separator follows).
 *   On failure returns NULL and leaves *out unspecified.
 *   Never reads at or past `last`, never allocates, never depends on the locale,
 *   safe to call without the GIL from any number of threads.
 *   Hex floats and "nan(...)" are not numbers here (Python rejects them);
 *   "-nan" gives a NaN with the sign bit set, as Python's float("-nan") does.
 *
 *   static inline uint16_t el_double_to_half(double x);
 *       IEEE binary16 bits of x rounded to nearest even (what np.float16(x) gives),
 *       directly from the double (no double rounding through float).
 *
 *   float32 readers store (float) of el_parse_double's result, which is
 *   np.float32(float(token)): one rounding of the exact double, no second parser.
 *
 * HOW: tokens of the common shape ([sign] <= 7 integer digits [. <= 15 digits]
 * [e [sign] <= 3 digits], <= 19 digits, >= 24 bytes of buffer left) take
 * el__parse_fast: the integer part byte by byte (almost always one digit, so
 * the loop is predicted), the fraction 8 bytes at a time (SWAR), the exponent
 * unrolled. The uint64 mantissa m and exponent e then become a double by
 *   - Clinger's fast path when m <= 2^53 and |e| <= 22: one IEEE division or
 *     multiplication of two exact doubles, hence correctly rounded (x86-64
 *     uses SSE2, not x87, so no extended precision sneaks in). Measured: for
 *     GloVe's "-0.20036" this beats the division-free step below.
 *   - else Eisel-Lemire (el__eisel_lemire, its proof is above it): a 64x128
 *     bit product with a power of five from pow5table.h; the rare undecided
 *     cases (a remainder of exactly one half: exact ties such as
 *     2^53 + 1, practically never otherwise), subnormal and
 *     overflowing results fall back.
 * Everything else goes to el__parse_general (any length, underscores, inf,
 * nan, the end of the buffer), which uses the same two steps for <= 19 digits;
 * its last resort rewrites the token into a small stack buffer as
 * "DIGITSe<exp>" - at most 800 significant digits plus a sticky '1' standing
 * for the dropped non-zero tail, which cannot change the rounding because a
 * double's halfway points need at most 767 significant digits - and hands it
 * to glibc's strtod, which is correctly rounded. The rewritten text holds no
 * '.', so the locale's decimal point never matters.
 * Checked against Python's float() by tests/test_floatparse.py and
 * tests/test_conversions.py, and against strtod on tens of millions of random
 * tokens by scripts/bench_floatparse.py --check.
 */
#ifndef EMBLOAD_FLOATPARSE_H
#define EMBLOAD_FLOATPARSE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pow5table.h"

#define EL_SLOW_MAX_DIGITS 800
/* -DEL_NO_CLINGER=1: Eisel-Lemire for every fast-path token (for measuring;
 * slower on GloVe tokens, see the HOW note) */
#ifndef EL_NO_CLINGER
#define EL_NO_CLINGER 0
#endif

static inline int el_is_digit(char c) { return (unsigned char)(c - '0') < 10; }

/* exact powers of ten as doubles (10^22 is the last exact one) */
static const double el_pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Case-insensitive match of the lower-case ASCII word w at [p, last). */
static inline int el__match_word(const char *p, const char *last, const char *w, size_t n) {
    size_t i;
    if ((size_t)(last - p) < n) return 0;
    for (i = 0; i < n; i++) {
        if ((p[i] | 0x20) != w[i]) return 0;
    }
    return 1;
}

/* Correct fallback: [p, end) is a syntactically valid decimal (no sign), already
 * scanned. Rewrite it as "DIGITSe<exp>" and let strtod round it. */
static inline double el__parse_slow(const char *p, const char *end) {
    char buf[EL_SLOW_MAX_DIGITS + 2 + 24];
    size_t n = 0;
    int64_t point = 0;        /* decimal exponent of the digit just after the kept ones, relative */
    int64_t int_digits = 0;   /* significant digits in the integer part (after leading zeros) */
    int64_t frac_zeros = 0;   /* zeros after '.' before the first significant digit */
    int seen_sig = 0, in_frac = 0, sticky = 0;
    int64_t exp_part = 0;
    const char *s = p;
    while (s < end) {
        char c = *s;
        if (c == '.') { in_frac = 1; s++; continue; }
        if (c == '_') { s++; continue; }
        if (c == 'e' || c == 'E') break;
        /* a digit */
        if (!seen_sig && c == '0') {
            if (in_frac) frac_zeros++;
            s++;
            continue;
        }
        seen_sig = 1;
        if (!in_frac) int_digits++;
        if (n < EL_SLOW_MAX_DIGITS) buf[n++] = c;
        else if (c != '0') sticky = 1;
        s++;
    }
    if (!seen_sig) return 0.0;
    if (s < end) { /* exponent */
        int eneg = 0;
        s++;
        if (*s == '+' || *s == '-') { eneg = *s == '-'; s++; }
        for (; s < end; s++) {
            if (*s == '_') continue;
            if (exp_part < 1000000000) exp_part = exp_part * 10 + (*s - '0');
        }
        if (eneg) exp_part = -exp_part;
    }
    if (sticky) buf[n++] = '1';
    /* value = 0.DIGITS * 10^(int_digits or -frac_zeros) * 10^exp_part
     *       = DIGITS * 10^(that - n) */
    point = (int_digits > 0 ? int_digits : -frac_zeros) + exp_part - (int64_t)n;
    if (point > 99999) point = 99999;     /* far past overflow / underflow either way */
    if (point < -99999) point = -99999;
    {
        char tmp[24];
        int k = 0;
        uint64_t a;
        buf[n++] = 'e';
        if (point < 0) { buf[n++] = '-'; a = (uint64_t)(-point); } else a = (uint64_t)point;
        do { tmp[k++] = (char)('0' + a % 10); a /= 10; } while (a);
        while (k) buf[n++] = tmp[--k];
        buf[n] = '\0';
    }
    return strtod(buf, NULL);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define EL_SWAR 1
#else
#define EL_SWAR 0
#endif

static const uint64_t el_pow10_u64[20] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000), UINT64_C(100000),
    UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000),
    UINT64_C(10000000000), UINT64_C(100000000000), UINT64_C(1000000000000),
    UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
    UINT64_C(10000000000000000), UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
    UINT64_C(10000000000000000000)};

#if EL_SWAR
/* Eight ASCII digits (first character in the lowest byte, already minus '0')
 * to their value: combine neighbouring digits pairwise (x10), then pairs of
 * pairs (x100), then halves (x10000); each step is one multiply and shift. */
static inline uint64_t el__eight_digits(uint64_t d) {
    d = (d * (10 * 256 + 1)) >> 8;
    d &= UINT64_C(0x00FF00FF00FF00FF);
    d = (d * (100 * 65536 + 1)) >> 16;
    d &= UINT64_C(0x0000FFFF0000FFFF);
    return (d * (10000 * (UINT64_C(1) << 32) + 1)) >> 32;
}
#endif

/* Consume a run of digits [s, ...) (no underscores), adding them to *m while
 * *count stays <= 19 (after that *m is no longer maintained). */
static inline const char *el__digit_run(const char *s, const char *last, uint64_t *m, int64_t *count) {
    uint64_t v = *m;
    int64_t c = *count;
#if EL_SWAR
    while (last - s >= 8) {
        uint64_t w, bad;
        int n;
        memcpy(&w, s, 8);
        /* high bit of a byte set <=> that byte is not '0'..'9' (no false
         * positive before the first non-digit: carries and borrows only move
         * towards later bytes) */
        bad = ((w + UINT64_C(0x4646464646464646)) | (w - UINT64_C(0x3030303030303030))) &
              UINT64_C(0x8080808080808080);
        if (bad == 0) {
            if (c + 8 <= 19) v = v * 100000000u + el__eight_digits(w - UINT64_C(0x3030303030303030));
            c += 8;
            s += 8;
            continue;
        }
        n = __builtin_ctzll(bad) >> 3;
        if (n) {
            if (c + n <= 19)
                v = v * el_pow10_u64[n] +
                    el__eight_digits((w - UINT64_C(0x3030303030303030)) << (64 - 8 * n));
            c += n;
            s += n;
        }
        *m = v;
        *count = c;
        return s;
    }
#endif
    while (s < last) {
        unsigned d = (unsigned)(unsigned char)*s - '0';
        if (d >= 10) break;
        if (c < 19) v = v * 10 + d;
        c++;
        s++;
    }
    *m = v;
    *count = c;
    return s;
}

/* A digit run that may contain single underscores between digits. */
static inline const char *el__digits(const char *s, const char *last, uint64_t *m, int64_t *count) {
    const char *start = s;
    s = el__digit_run(s, last, m, count);
    while (s < last && *s == '_' && s > start && s + 1 < last && el_is_digit(s[1]))
        s = el__digit_run(s + 1, last, m, count);
    return s;
}

/* ---- Eisel-Lemire: w * 10^q to the nearest double without a division ------
 *
 * With w' = w << l in [2^63, 2^64) (l = leading zeros of w) and T = 5^q scaled
 * into [2^127, 2^128) and rounded up (pow5table.h; exact for 0 <= q <= 55):
 *     x = w * 10^q = (w' * T_exact) * 2^(e5 + q - l),   T_exact = 5^q * 2^-e5.
 * We compute H = floor(w' * T / 2^64) from two 64x64->128 products (all 128
 * upper bits, no truncation). Since 0 <= w' * (T - T_exact) < w' < 2^64,
 *     w' * T_exact / 2^64  lies in the open interval (H - 1, H + 1).
 * H has its top bit at 127 or 126; the double keeps the 53 bits from there
 * down and R = H mod 2^(s+64) (s = 11 or 10) is what is rounded away, to be
 * compared with half = 2^(s-1+64). The true remainder lies in (R - 1, R + 1):
 *   - R <= half - 1: the true remainder is in (-1, half): round down. (A
 *     negative true remainder means the true mantissa is one less with a
 *     remainder just under 2^(s+64), which rounds up to the same result.)
 *   - R >= half + 1: the true remainder is in (half, 2^(s+64)) (R is at
 *     most 2^(s+64) - 1): round up; a carry out of the 53 bits moves the
 *     exponent up by one.
 *   - R == half: undecided (a tie or either side): the caller falls back.
 * In the same way a top bit of H at 127 while the true value is just below
 * 2^127 (or H just below it) gives the same double. Results that would be
 * subnormal (binary exponent below the normal range before rounding: a
 * 53-bit rounding would then be a double rounding) or overflow also fall
 * back, as do q outside the table. The binary exponent uses
 * floor(q * log2(10)) == (q * 217706) >> 16, checked for every q of the
 * table by scripts/make_pow5_table.py.
 * Returns 1 and stores |x| in *out, or 0 (undecided; *out untouched). */
#if defined(__SIZEOF_INT128__)
static inline uint64_t el__mul128(uint64_t a, uint64_t b, uint64_t *hi) {
    unsigned __int128 r = (unsigned __int128)a * b;
    *hi = (uint64_t)(r >> 64);
    return (uint64_t)r;
}
#else
static inline uint64_t el__mul128(uint64_t a, uint64_t b, uint64_t *hi) {
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return (mid << 32) | (p00 & 0xffffffffu);
}
#endif

static inline int el__clz64(uint64_t w) {
#if defined(__GNUC__)
    return __builtin_clzll(w);
#else
    int n = 0;
    while (!(w & (UINT64_C(1) << 63))) { w <<= 1; n++; }
    return n;
#endif
}

static inline int el__eisel_lemire(uint64_t w, int64_t q, double *out) {
    const uint64_t *t;
    uint64_t wn, hi1, lo1, hi2, lower, upper, mant, rbits, half, bits;
    int l, top, s;
    int64_t e2;
    if (w == 0 || q < EL_POW5_MIN || q > EL_POW5_MAX) return 0;
    l = el__clz64(w);
    wn = w << l;
    t = el_pow5_128[q - EL_POW5_MIN];
    lo1 = el__mul128(wn, t[0], &hi1);
    (void)el__mul128(wn, t[1], &hi2);
    lower = lo1 + hi2;
    upper = hi1 + (lower < lo1);
    top = (int)(upper >> 63);
    s = 10 + top;
    mant = upper >> s;                                 /* in [2^52, 2^53) */
    rbits = upper & ((UINT64_C(1) << s) - 1);
    half = UINT64_C(1) << (s - 1);
    e2 = ((q * 217706) >> 16) + 63 + top - l + 1023;   /* biased exponent */
    if (rbits == half && lower == 0) return 0;
    if (e2 < 1) return 0;
    mant += rbits >= half;
    if (mant >> 53) { mant >>= 1; e2++; }
    if (e2 > 2046) return 0;
    bits = ((uint64_t)e2 << 52) | (mant & ((UINT64_C(1) << 52) - 1));
    memcpy(out, &bits, 8);
    return 1;
}

/* The complete parser: every token of the grammar, any length, any position.
 * Kept out of line so that the fast path inlined into a reader's loop stays
 * small; not marked cold (GCC would optimise it for size): readers that bound
 * the parse by the line send the last field or two of every line here. */
#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static const char *el__parse_general(const char *p, const char *last, double *out) {
    const char *s = p, *num, *run;
    int neg = 0, ndigits;
    uint64_t m = 0;
    int64_t count = 0, e10 = 0;
    double v;
    if (s < last && (*s == '-' || *s == '+')) { neg = *s == '-'; s++; }
    if (s >= last) return NULL;
    num = s;
    if (!el_is_digit(*s) && *s != '.') {
        char c = (char)(*s | 0x20);
        if (c == 'i' && el__match_word(s, last, "inf", 3)) {
            s += el__match_word(s, last, "infinity", 8) ? 8 : 3;
            *out = neg ? -HUGE_VAL : HUGE_VAL;
            return s;
        }
        if (c == 'n' && el__match_word(s, last, "nan", 3)) {
            *out = neg ? -NAN : NAN;
            return s + 3;
        }
        return NULL;
    }
    run = s;
    s = el__digits(s, last, &m, &count);
    ndigits = s != run;
    if (s < last && *s == '.') {
        int64_t before = count;
        s++;
        run = s;
        s = el__digits(s, last, &m, &count);
        ndigits |= s != run;
        e10 = before - count;
    }
    if (!ndigits) return NULL;  /* ".", "+.", ".e5" */
    /* exponent: only taken when at least one digit follows */
    if (s < last && (*s == 'e' || *s == 'E')) {
        const char *t = s + 1;
        int eneg = 0;
        if (t < last && (*t == '+' || *t == '-')) { eneg = *t == '-'; t++; }
        if (t < last && el_is_digit(*t)) {
            int64_t ex = 0;
            run = t;
            while (t < last) {
                unsigned d = (unsigned)(unsigned char)*t - '0';
                if (d < 10) {
                    if (ex < 100000000) ex = ex * 10 + d;
                    t++;
                } else if (*t == '_' && t + 1 < last && el_is_digit(t[1])) {
                    t++;
                } else break;
            }
            e10 += eneg ? -ex : ex;
            s = t;
        }
    }
    if (count <= 19 && m == 0) {
        v = 0.0;
    } else if (count <= 19 && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        v = (double)m;   /* Clinger: one correctly rounded operation on exact doubles */
        if (e10 < 0) v = v / el_pow10_exact[-e10];
        else v = v * el_pow10_exact[e10];
    } else if (!(count <= 19 && el__eisel_lemire(m, e10, &v))) {
        v = el__parse_slow(num, s);
    }
    *out = neg ? -v : v;
    return s;
}

#if defined(__GNUC__)
#define EL_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define EL_LIKELY(x) (x)
#endif

#if EL_SWAR
/* high bit of a byte set <=> that byte is not '0'..'9' (exact up to and
 * including the first non-digit: carries and borrows only move towards later
 * bytes, i.e. later characters) */
#define EL__NONDIGITS(w) \
    ((((w) + UINT64_C(0x4646464646464646)) | ((w) - UINT64_C(0x3030303030303030))) & \
     UINT64_C(0x8080808080808080))
/* value of the first n (1..7) digit bytes of w */
#define EL__FIRST_DIGITS(w, n) el__eight_digits(((w) - UINT64_C(0x3030303030303030)) << (64 - 8 * (n)))
#endif

/* Fast path for what embedding files hold: [sign] 0-7 digits [. 0-15 digits]
 * [e|E [sign] 1-3 digits], at most 19 digits in all (leading zeros count).
 * Bounds: the caller guarantees last - p >= 24, enough for every read of
 * the common shape (sign p[0]; integer digits p[1..8]; fraction load
 * p[9..16]; 'e' at most p[16]; exponent sign p[17], digits p[18..20], the
 * byte after them p[21]). A fraction of 8+ digits needs a second load and
 * then reads up to p[29]: it checks last - p >= 32 itself.
 * Everything else (underscores, long mantissas, inf/nan, no digits, the end
 * of the buffer, undecided or subnormal Eisel-Lemire cases) goes to the
 * general parser, which is complete.
 * Sets *v to the magnitude and returns the end, or NULL for "not handled". */
static inline const char *el__parse_fast(const char *p, const char *last, double *v, int *negp) {
#if EL_SWAR
    const char *s = p, *q;
    int neg = *s == '-';
    uint64_t w, bad, m;
    int64_t e10 = 0;
    int nf, nd;
    s += neg | (*s == '+');
    /* the integer part byte by byte: almost always one digit, so the loop
     * is predicted and the end of the number does not wait for a ctz */
    m = (unsigned)(unsigned char)*s - '0';
    if (EL_LIKELY(m < 10 && s[1] == '.')) {
        q = s + 1;                          /* "d." : the usual case */
    } else {
        q = s;
        m = 0;
        while ((unsigned)(unsigned char)*q - '0' < 10) {
            m = m * 10 + ((unsigned)(unsigned char)*q - '0');
            if (++q - s > 7) return NULL;   /* 8 or more integer digits */
        }
    }
    nd = (int)(q - s);
    if (*q == '.') {
        q++;
        memcpy(&w, q, 8);
        bad = EL__NONDIGITS(w);
        if (EL_LIKELY(bad != 0)) {
            /* 0-7 fraction digits. The value does not wait for a ctz or a
             * table: the lowest flagged bit is 0x80 << 8*nf, so the digit bytes
             * are kept by a mask and the rest read as zeros, giving the
             * fraction times 10^(8-nf); the exponent is then always -8. */
            uint64_t low = (bad & (0 - bad)) >> 7;     /* 1 << 8*nf */
            m = m * 100000000u + el__eight_digits((w - UINT64_C(0x3030303030303030)) & (low - 1));
            nf = __builtin_ctzll(bad) >> 3;
            e10 = -8;
        } else {                            /* 8 fraction digits and maybe 7 more */
            uint64_t w2;
            if (last - p < 32) return NULL;
            m = m * 100000000u + el__eight_digits(w - UINT64_C(0x3030303030303030));
            memcpy(&w2, q + 8, 8);
            bad = EL__NONDIGITS(w2);
            if (bad == 0) return NULL;
            nf = __builtin_ctzll(bad) >> 3;
            if (nd + 8 + nf > 19) return NULL;
            if (nf) m = m * el_pow10_u64[nf] + EL__FIRST_DIGITS(w2, nf);
            nf += 8;
            e10 = -nf;
        }
        q += nf;
        nd += nf;
    }
    if (nd == 0) return NULL;               /* "inf", "nan", ".", "-" ... */
    if ((*q | 0x20) == 'e') {
        const char *t = q + 1;
        int eneg = *t == '-';
        unsigned d;
        t += eneg | (*t == '+');
        d = (unsigned)(unsigned char)*t - '0';
        if (d < 10) {                       /* else "1e", "1e+": the number ends before 'e' */
            int64_t ex = d;
            d = (unsigned)(unsigned char)*++t - '0';
            if (d < 10) {
                ex = ex * 10 + d;
                d = (unsigned)(unsigned char)*++t - '0';
                if (d < 10) {
                    ex = ex * 10 + d;
                    if ((unsigned)(unsigned char)*++t - '0' < 10) return NULL;
                }
            }
            e10 += eneg ? -ex : ex;
            q = t;
        }
    }
    if (*q == '_') return NULL;
    if (!EL_NO_CLINGER && m <= (UINT64_C(1) << 53) && (uint64_t)(e10 + 22) <= 44) {
        double x = (double)m;   /* Clinger */
        *v = e10 < 0 ? x / el_pow10_exact[-e10] : x * el_pow10_exact[e10];
    } else if (!el__eisel_lemire(m, e10, v)) {
        return NULL;
    }
    *negp = neg;
    return q;
#else
    (void)p; (void)last; (void)v; (void)negp;
    return NULL;
#endif
}

static inline const char *el_parse_double(const char *p, const char *last, double *out) {
    if (EL_LIKELY(last - p >= 24)) {
        double v;
        int neg;
        const char *q = el__parse_fast(p, last, &v, &neg);
        if (EL_LIKELY(q != NULL)) {
            /* the sign without a branch (random signs would mispredict) and
             * without moving the value through an integer register: x * -1.0
             * is exact, also for 0 */
            static const double sign[2] = {1.0, -1.0};
            *out = v * sign[neg];
            return q;
        }
    }
    /* A number near the end of the buffer (such as the last field of a line
     * when the caller bounds the parse by the line): copying it into a padded
     * local buffer for the fast path was tried and measured no faster. */
    return el__parse_general(p, last, out);
}

static inline uint16_t el_double_to_half(double x) {
    uint64_t b, mant;
    uint16_t sign, h;
    int e;
    memcpy(&b, &x, sizeof b);
    sign = (uint16_t)((b >> 48) & 0x8000u);
    e = (int)((b >> 52) & 0x7ff);
    mant = b & ((UINT64_C(1) << 52) - 1);
    if (e == 0x7ff) {
        if (mant == 0) return (uint16_t)(sign | 0x7c00u);
        /* NaN: keep the top payload bits, stay a NaN (as NumPy does) */
        h = (uint16_t)(0x7c00u | (mant >> 42));
        if (h == 0x7c00u) h++;
        return (uint16_t)(sign | h);
    }
    e -= 1023;
    if (e >= 16) return (uint16_t)(sign | 0x7c00u);
    if (e >= -14) {
        uint64_t rem = mant & ((UINT64_C(1) << 42) - 1);
        const uint64_t half = UINT64_C(1) << 41;
        h = (uint16_t)(((unsigned)(e + 15) << 10) | (unsigned)(mant >> 42));
        if (rem > half || (rem == half && (h & 1))) h++;  /* a carry rolls into the exponent, up to inf */
        return (uint16_t)(sign | h);
    }
    if (e < -25) return sign;
    {
        /* subnormal half: value / 2^-24, with the implicit bit */
        uint64_t full = mant | (UINT64_C(1) << 52);
        int shift = 28 - e;   /* 43 .. 53 */
        uint64_t rem = full & ((UINT64_C(1) << shift) - 1);
        uint64_t half = UINT64_C(1) << (shift - 1);
        h = (uint16_t)(full >> shift);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
}

#endif
