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
 * HOW: the digits are scanned once; up to 19 significant digits accumulate in
 * a uint64 and the decimal exponent is tracked. When nothing non-zero was
 * dropped, the mantissa is at most 2^53 and |exponent| <= 22, the result is
 * one IEEE multiplication or division of two exact doubles, hence correctly
 * rounded (Clinger's fast path; x86-64 uses SSE2, not x87, so no extended
 * precision sneaks in). Every other token (about 0 in real embedding files)
 * is rewritten into a small stack buffer as "DIGITSe<exp>" - at most 800
 * significant digits plus a sticky '1' standing for the dropped non-zero tail,
 * which cannot change the rounding because a double's halfway points need at
 * most 767 significant digits - and handed to glibc's strtod, which is
 * correctly rounded. The rewritten text holds no '.', so the locale's decimal
 * point never matters.
 */
#ifndef EMBLOAD_FLOATPARSE_H
#define EMBLOAD_FLOATPARSE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EL_SLOW_MAX_DIGITS 800

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

/* The complete parser: every token of the grammar, any length, any position.
 * Kept out of line so that the fast path inlined into a reader's loop stays small. */
#if defined(__GNUC__)
__attribute__((noinline, cold, unused))
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
    if (count <= 19 && m <= (UINT64_C(1) << 53)) {
        if (m == 0) {
            v = 0.0;
        } else if (e10 >= -22 && e10 <= 22) {
            v = (double)m;
            if (e10 < 0) v = v / el_pow10_exact[-e10];
            else v = v * el_pow10_exact[e10];
        } else if (e10 > 22 && e10 <= 22 + 16) {
            /* move exact factors of ten into the mantissa while it stays exact */
            uint64_t mm = m;
            int64_t e = e10;
            while (e > 22 && mm <= (UINT64_C(1) << 53) / 10) { mm *= 10; e--; }
            v = e <= 22 ? (double)mm * el_pow10_exact[e] : el__parse_slow(num, s);
        } else {
            v = el__parse_slow(num, s);
        }
    } else {
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

static inline const char *el_parse_double(const char *p, const char *last, double *out) {
#if EL_SWAR
    /* Fast path for what embedding files hold: [sign] 1-8 digits [. 0-7 digits]
     * [e[sign]1-3 digits] with at least 19 bytes of buffer left, so that the
     * integer loop (reads up to p[9]) and one 8-byte load of the fraction (up
     * to p[18]) stay inside [p, last); the exponent checks its own bound.
     * Anything else (underscores, long mantissas, inf/nan, ".5", big
     * exponents, the end of the buffer) goes to the general parser. */
    if (EL_LIKELY(last - p >= 19)) {
        const char *s = p, *q;
        int neg = *s == '-';
        uint64_t m, w, bad, frac;
        int64_t e10 = 0;
        int n;
        double v;
        s += neg | (*s == '+');
        m = (uint64_t)(unsigned char)*s - '0';
        if (m >= 10) goto general;
        q = s + 1;
        while ((unsigned)(unsigned char)*q - '0' < 10) {
            m = m * 10 + ((unsigned)(unsigned char)*q - '0');
            if (++q - s > 8) goto general;
        }
        if (*q == '.') {
            q++;
            memcpy(&w, q, 8);
            bad = ((w + UINT64_C(0x4646464646464646)) | (w - UINT64_C(0x3030303030303030))) &
                  UINT64_C(0x8080808080808080);
            if (bad == 0) goto general;
            n = __builtin_ctzll(bad) >> 3;
            if (n) {
                frac = el__eight_digits((w - UINT64_C(0x3030303030303030)) << (64 - 8 * n));
                m = m * el_pow10_u64[n] + frac;
                e10 = -n;
                q += n;
            }
        }
        if ((*q | 0x20) == 'e') {
            /* q <= p + 17 here; the exponent needs its own bounds checks */
            const char *t = q + 1;
            int eneg;
            int64_t ex;
            if (last - t < 8) goto general;
            eneg = *t == '-';
            t += eneg | (*t == '+');
            ex = (int64_t)(unsigned char)*t - '0';
            if ((uint64_t)ex >= 10) goto done;   /* "1e" or "1e+": the number ends before 'e' */
            t++;
            while ((unsigned)(unsigned char)*t - '0' < 10) {   /* reads at most q + 6 */
                ex = ex * 10 + ((unsigned char)*t - '0');
                if (++t - q > 5) goto general;
            }
            if (*t == '_') goto general;
            e10 += eneg ? -ex : ex;
            q = t;
        }
    done:
        if (*q == '_' || m > (UINT64_C(1) << 53) || e10 < -22 || e10 > 22) goto general;
        v = (double)m;
        v = e10 < 0 ? v / el_pow10_exact[-e10] : v * el_pow10_exact[e10];
        {   /* the sign by bits: random signs must not cost a branch mispredict */
            uint64_t b;
            memcpy(&b, &v, 8);
            b |= (uint64_t)neg << 63;
            memcpy(out, &b, 8);
        }
        return q;
    }
general:
#endif
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
