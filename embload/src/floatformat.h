/* floatformat.h - the shortest decimal that reads back to the same float.
 *
 * CONTRACT:
 *   static inline int el_format_float32(float x, char *out);
 *   static inline int el_format_half(uint16_t h, char *out);
 *   static inline int el_format_float64(double x, char *out);
 *       Write at most EL_FORMAT_MAX bytes (no terminating NUL) and return the
 *       count. np.float32(float(text)) == x (np.float16 / float for the other
 *       two), bit for bit, for every non-NaN x including -0.0 and +-inf.
 *       The out buffer must have EL_FORMAT_MAX bytes: the float32 fast path
 *       stores whole words, and bytes past the returned count are scratch.
 *   static inline int el_format_float32_hint(float x, char *out, int *khint);
 *       The same text; *khint carries the decimal places of the previous value
 *       of a run (start it at 0), which makes GloVe-like data faster.
 *   static inline float el_half_to_float(uint16_t h);   exact widening
 *
 * STYLE: float32 exactly as NumPy's str(np.float32(x)) - which is what gensim
 * writes, so our text files are byte-identical to gensim's: positional when
 * 1e-4 <= |x| < 1e6 ("0.1", "-2.5", "100.0", "0.00012"), otherwise exponent
 * form with at least two exponent digits ("1e-05", "1e+06", "1.5e+16").
 * float64 and float16 as Python's repr(): positional when the leading digit's
 * exponent is in [-4, 16). "-0.0" keeps the sign of zero; "inf", "-inf",
 * "nan" (the sign and payload of a NaN are not kept) - all spelled so that
 * float() reads them.
 *
 * FAST PATH (float32, 1e-4 <= |x| < 1e6, not a power of two: nearly every value
 * of a trained embedding): see el__format_float32_fast below; it writes the bytes
 * of the general algorithm, checked for all 2^32 values by
 * scripts/check_float32_format.py --compare-exact.
 *
 * HOW (float32 and float16): the value is m * 2^e. The numbers that round
 * back to it form the interval between the midpoints to its neighbours
 * (the lower one is closer at a power of two; the ends belong to it when m is
 * even, since ties round to even). Scale the three points (low end, value,
 * high end) by 10^-q, with q chosen so that 10^q is at most the spacing of the
 * points: this is exact integer arithmetic (a product by 5^-q and a shift,
 * or a division by 5^q for large values, in at most 192 bits), giving floors
 * and "was exact" flags. Then drop decimal digits while the interval still
 * contains a multiple of the next power of ten, remembering the last dropped
 * digit of the value and whether everything dropped was zero; finally round
 * the value's kept digits to nearest (ties to even), moving up when the
 * rounded-down digits fall outside the interval. This is the digit-removal
 * scheme of Ryu (Ulf Adams, 2018) with exact multiprecision products in place
 * of its precomputed approximations: slower than Ryu, much simpler to trust.
 * The digits are exact for rounding the decimal straight to float32; but
 * float() rounds to a double first, and a decimal within 2^-53 of a midpoint
 * between two floats becomes that midpoint, whose tie may go the other way
 * (e.g. 7.038531e-26 reads back as the float above 0x15ae43fd). So every
 * result is read back the way np.float32(float(text)) reads it (one exact
 * double operation for the usual exponents) and, in the rare failure, found
 * again by trying glibc's correctly rounded 1..9-digit decimals and their
 * neighbours. In such edge cases a decimal that only double rounding brings
 * to x may be one digit shorter than what is written.
 * scripts/check_float32_format.py checks all float32 values.
 *
 * float64: glibc's correctly rounded printf at 15, 16 and 17 significant
 * digits, the first that reads back, trailing zeros dropped (for a normal
 * double the 15-digit rounding is the shortest form padded with zeros
 * whenever a form of 15 digits or fewer exists; subnormals try 1..17). At
 * powers of two a 16-digit form other than printf's rounding can be missed,
 * then 17 digits are written: still exact, one digit longer than repr).
 */
#ifndef EMBLOAD_FLOATFORMAT_H
#define EMBLOAD_FLOATFORMAT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "floatparse.h"

#define EL_FORMAT_MAX 32

/* 5^k as (high, low) 64-bit halves of a 128-bit integer, k = 0..55 */
static const uint64_t el__fmt_pow5[56][2] = {
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000000000001)}, /* 5^0 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000000000005)}, /* 5^1 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000000000019)}, /* 5^2 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000000000007d)}, /* 5^3 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000000000271)}, /* 5^4 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000000000c35)}, /* 5^5 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000000003d09)}, /* 5^6 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000000001312d)}, /* 5^7 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000000005f5e1)}, /* 5^8 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x00000000001dcd65)}, /* 5^9 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x00000000009502f9)}, /* 5^10 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000002e90edd)}, /* 5^11 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000000e8d4a51)}, /* 5^12 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000000048c27395)}, /* 5^13 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000016bcc41e9)}, /* 5^14 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000071afd498d)}, /* 5^15 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0000002386f26fc1)}, /* 5^16 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000000b1a2bc2ec5)}, /* 5^17 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000003782dace9d9)}, /* 5^18 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x00001158e460913d)}, /* 5^19 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000056bc75e2d631)}, /* 5^20 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0001b1ae4d6e2ef5)}, /* 5^21 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x000878678326eac9)}, /* 5^22 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x002a5a058fc295ed)}, /* 5^23 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x00d3c21bcecceda1)}, /* 5^24 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x0422ca8b0a00a425)}, /* 5^25 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x14adf4b7320334b9)}, /* 5^26 */
    {UINT64_C(0x0000000000000000), UINT64_C(0x6765c793fa10079d)}, /* 5^27 */
    {UINT64_C(0x0000000000000002), UINT64_C(0x04fce5e3e2502611)}, /* 5^28 */
    {UINT64_C(0x000000000000000a), UINT64_C(0x18f07d736b90be55)}, /* 5^29 */
    {UINT64_C(0x0000000000000032), UINT64_C(0x7cb2734119d3b7a9)}, /* 5^30 */
    {UINT64_C(0x00000000000000fc), UINT64_C(0x6f7c40458122964d)}, /* 5^31 */
    {UINT64_C(0x00000000000004ee), UINT64_C(0x2d6d415b85acef81)}, /* 5^32 */
    {UINT64_C(0x00000000000018a6), UINT64_C(0xe32246c99c60ad85)}, /* 5^33 */
    {UINT64_C(0x0000000000007b42), UINT64_C(0x6fab61f00de36399)}, /* 5^34 */
    {UINT64_C(0x000000000002684c), UINT64_C(0x2e58e9b04570f1fd)}, /* 5^35 */
    {UINT64_C(0x00000000000c097c), UINT64_C(0xe7bc90715b34b9f1)}, /* 5^36 */
    {UINT64_C(0x00000000003c2f70), UINT64_C(0x86aed236c807a1b5)}, /* 5^37 */
    {UINT64_C(0x00000000012ced32), UINT64_C(0xa16a1b11e8262889)}, /* 5^38 */
    {UINT64_C(0x0000000005e0a1fd), UINT64_C(0x2712875988becaad)}, /* 5^39 */
    {UINT64_C(0x000000001d6329f1), UINT64_C(0xc35ca4bfabb9f561)}, /* 5^40 */
    {UINT64_C(0x0000000092efd1b8), UINT64_C(0xd0cf37be5aa1cae5)}, /* 5^41 */
    {UINT64_C(0x00000002deaf189c), UINT64_C(0x140c16b7c528f679)}, /* 5^42 */
    {UINT64_C(0x0000000e596b7b0c), UINT64_C(0x643c7196d9ccd05d)}, /* 5^43 */
    {UINT64_C(0x00000047bf19673d), UINT64_C(0xf52e37f2410011d1)}, /* 5^44 */
    {UINT64_C(0x00000166bb7f0435), UINT64_C(0xc9e717bb45005915)}, /* 5^45 */
    {UINT64_C(0x00000701a97b150c), UINT64_C(0xf18376a85901bd69)}, /* 5^46 */
    {UINT64_C(0x000023084f676940), UINT64_C(0xb7915149bd08b30d)}, /* 5^47 */
    {UINT64_C(0x0000af298d050e43), UINT64_C(0x95d69670b12b7f41)}, /* 5^48 */
    {UINT64_C(0x00036bcfc1194751), UINT64_C(0xed30f03375d97c45)}, /* 5^49 */
    {UINT64_C(0x00111b0ec57e6499), UINT64_C(0xa1f4b1014d3f6d59)}, /* 5^50 */
    {UINT64_C(0x00558749db77f700), UINT64_C(0x29c77506823d22bd)}, /* 5^51 */
    {UINT64_C(0x01aba4714957d300), UINT64_C(0xd0e549208b31adb1)}, /* 5^52 */
    {UINT64_C(0x085a36366eb71f04), UINT64_C(0x147a6da2b7f86475)}, /* 5^53 */
    {UINT64_C(0x29c30f1029939b14), UINT64_C(0x6664242d97d9f649)}, /* 5^54 */
    {UINT64_C(0xd0cf4b50cfe20765), UINT64_C(0xfff4b4e3f741cf6d)}, /* 5^55 */
};

/* floor(X * 2^e / 10^q) for X < 2^27, with *exact = (no remainder); the
 * quotient fits 64 bits for the (e, q) pairs el__shortest uses. */
static inline uint64_t el__scaled(uint64_t X, int e, int q, int *exact) {
    if (e >= 0 && q >= 0) {
        /* X * 2^(e-q) / 5^q ; e - q <= 73 keeps it under 2^100 */
        unsigned __int128 num = (unsigned __int128)X << (e - q);
        unsigned __int128 den = ((unsigned __int128)el__fmt_pow5[q][0] << 64) | el__fmt_pow5[q][1];
        unsigned __int128 quo = num / den;
        *exact = quo * den == num;
        return (uint64_t)quo;
    }
    if (e >= 0) {   /* q < 0: an exact product */
        *exact = 1;
        return (X << e) * el_pow10_u64[-q];
    }
    {
        /* X * 5^-q / 2^s with s = q - e */
        int k = -q, s = q - e;
        if (s < 0) { *exact = 1; return (X * el__fmt_pow5[k][1]) << -s; }
        if (k <= 13) {  /* 5^13 < 2^31: one 64-bit product (the common case) */
            uint64_t prod = X * el__fmt_pow5[k][1];
            if (s >= 64) { *exact = prod == 0; return 0; }
            *exact = s == 0 || (prod << (64 - s)) == 0;
            return prod >> s;
        } else {
            unsigned __int128 lo = (unsigned __int128)X * el__fmt_pow5[k][1];
            unsigned __int128 hi = (unsigned __int128)X * el__fmt_pow5[k][0];
            unsigned __int128 t = (lo >> 64) + (uint64_t)hi;
            uint64_t w0 = (uint64_t)lo, w1 = (uint64_t)t;
            uint64_t w2 = (uint64_t)(hi >> 64) + (uint64_t)(t >> 64);
            /* 192-bit w2:w1:w0 >> s */
            if (s >= 128) {
                int r = s - 128;
                *exact = w0 == 0 && w1 == 0 && (r == 0 || (w2 << (64 - r)) == 0);
                return r ? w2 >> r : w2;
            } else if (s >= 64) {
                int r = s - 64;
                *exact = w0 == 0 && (r == 0 || (w1 << (64 - r)) == 0);
                return r ? (w1 >> r) | (w2 << (64 - r)) : w1;
            } else {
                *exact = s == 0 || (w0 << (64 - s)) == 0;
                return s ? (w0 >> s) | (w1 << (64 - s)) : w0;
            }
        }
    }
}

/* Shortest digits for m2 * 2^e2 (m2 < 2^25, -151 <= e2 <= 104): value ~ *digits * 10^*exp10.
 * lower_closer: m2 is a power of two whose lower neighbour is half as far. */
static inline void el__shortest(uint32_t m2, int e2, int lower_closer, uint64_t *digits, int *exp10) {
    int e = e2 - 2, q, accept = (m2 & 1) == 0;
    int vr_exact, vp_exact, vm_exact, removed = 0;
    uint64_t mv = (uint64_t)m2 * 4, vr, vp, vm, out;
    unsigned last = 0;
    /* q = floor(e * log10 2), so that 10^q <= 2^e (the spacing of the three
     * points); 78913 / 2^18 ~ log10 2 is exact enough for |e| < 1650 */
    q = e >= 0 ? (e * 78913) >> 18 : -(int)((((uint32_t)(-e)) * 78913u + 262143u) >> 18);
    /* one digit finer still: the interval then spans at least 30 units, so
     * the loop below removes at least one digit and sees the first digit the
     * rounding depends on (the rest is in the exactness flag) */
    q -= 1;
    vr = el__scaled(mv, e, q, &vr_exact);
    vp = el__scaled(mv + 2, e, q, &vp_exact);
    vm = el__scaled(mv - (lower_closer ? 1 : 2), e, q, &vm_exact);
    if (!accept && vp_exact) vp--;   /* the upper end is excluded */
    /* two digits at a time while possible (short decimals such as GloVe's
     * "0.04656" drop four or five), then one at a time */
    while (vp / 100 > vm / 100) {
        unsigned r = (unsigned)(vr % 100);
        vm_exact &= vm % 100 == 0;
        vr_exact &= (last == 0) & (r % 10 == 0);
        last = r / 10;
        vr /= 100; vp /= 100; vm /= 100;
        removed += 2;
    }
    while (vp / 10 > vm / 10) {
        vm_exact &= vm % 10 == 0;
        vr_exact &= last == 0;
        last = (unsigned)(vr % 10);
        vr /= 10; vp /= 10; vm /= 10;
        removed++;
    }
    if (accept && vm_exact) {
        /* the lower end itself is a candidate with more zeros */
        while (vm % 10 == 0) {
            vr_exact &= last == 0;
            last = (unsigned)(vr % 10);
            vr /= 10; vp /= 10; vm /= 10;
            removed++;
        }
    }
    if (vr_exact && last == 5 && (vr & 1) == 0) last = 4;   /* exact tie: to even */
    out = vr + ((vr == vm && (!accept || !vm_exact)) || last >= 5);
    q += removed;
    while (out % 10 == 0 && out) { out /= 10; q++; }
    *digits = out;
    *exp10 = q;
}

static const char el_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The n decimal digits of v (zero-padded on the left) at dst[0..n), two at a time. */
static inline void el__put_digits(char *dst, uint64_t v, int n) {
    if (v < (UINT64_C(1) << 32)) {   /* always for float32/float16: 32-bit division is cheaper */
        uint32_t w = (uint32_t)v;
        while (n >= 2) {
            unsigned r = w % 100;
            w /= 100;
            n -= 2;
            dst[n] = el_digit_pairs[2 * r];
            dst[n + 1] = el_digit_pairs[2 * r + 1];
        }
        if (n) dst[0] = (char)('0' + w % 10);
        return;
    }
    while (n >= 2) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        n -= 2;
        dst[n] = el_digit_pairs[2 * r];
        dst[n + 1] = el_digit_pairs[2 * r + 1];
    }
    if (n) dst[0] = (char)('0' + v % 10);
}

static inline int el__ndigits(uint64_t v) {
    int n = 1;
    while (v >= 10000) { v /= 10000; n += 4; }
    if (v >= 100) { v /= 100; n += 2; }
    return n + (v >= 10);
}

/* Layout of digits * 10^exp10 (digits > 0, no trailing zeros): positional when
 * `positional` is 1, exponent form when 0, and when -1 by Python's repr rule
 * (positional iff the leading digit's exponent E is in [-4, 16)). */
static inline int el__layout(int neg, uint64_t digits, int exp10, int positional, char *out) {
    int n = el__ndigits(digits), k = neg, E = exp10 + n - 1, i;   /* E: exponent of the leading digit */
    out[0] = '-';
    if (positional < 0) positional = E >= -4 && E < 16;
    if (positional) {
        if (E < 0) {                        /* 0.000ddd */
            out[k++] = '0'; out[k++] = '.';
            for (i = 0; i < -E - 1; i++) out[k++] = '0';
            el__put_digits(out + k, digits, n);
            return k + n;
        }
        if (exp10 >= 0) {                   /* ddd000.0 */
            el__put_digits(out + k, digits, n);
            k += n;
            for (i = 0; i < exp10; i++) out[k++] = '0';
            out[k++] = '.'; out[k++] = '0';
            return k;
        }
        {                                   /* dd.ddd */
            int frac = n - E - 1;
            uint64_t p10 = el_pow10_u64[frac];
            el__put_digits(out + k, digits / p10, E + 1);
            k += E + 1;
            out[k++] = '.';
            el__put_digits(out + k, digits % p10, frac);
            return k + frac;
        }
    } else {                                /* d.ddde-XX */
        unsigned a;
        uint64_t p10 = el_pow10_u64[n - 1];
        out[k++] = (char)('0' + digits / p10);
        if (n > 1) {
            out[k++] = '.';
            el__put_digits(out + k, digits % p10, n - 1);
            k += n - 1;
        }
        out[k++] = 'e';
        out[k++] = E < 0 ? '-' : '+';
        a = (unsigned)(E < 0 ? -E : E);
        if (a >= 100) out[k++] = (char)('0' + a / 100);
        out[k++] = (char)('0' + (a / 10) % 10);
        out[k++] = (char)('0' + a % 10);
        return k;
    }
}

static inline int el__special(int neg, int is_nan, char *out) {
    int k = 0;
    if (is_nan) { memcpy(out, "nan", 3); return 3; }
    if (neg) out[k++] = '-';
    memcpy(out + k, "inf", 3);
    return k + 3;
}

static inline int el__zero(int neg, char *out) {
    if (neg) { memcpy(out, "-0.0", 4); return 4; }
    memcpy(out, "0.0", 3);
    return 3;
}

/* digits * 10^exp10 correctly rounded to a double, as float() reads it;
 * 0 if the parser refuses (it never does for these spellings). */
static inline int el__decimal_to_double(uint64_t digits, int exp10, double *d) {
    char buf[48];
    int k;
    if (digits <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Clinger: one correctly rounded operation on exact doubles */
        *d = exp10 < 0 ? (double)digits / el_pow10_exact[-exp10] : (double)digits * el_pow10_exact[exp10];
        return 1;
    }
    k = snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)digits, exp10);
    return el_parse_double(buf, buf + k, d) == buf + k;
}

/* Does digits * 10^exp10 read back to the positive float32 with bits `want`
 * the way np.float32(float(text)) reads it: correctly rounded to a double,
 * then that double rounded to float32? */
static inline int el__f32_reads_back(uint64_t digits, int exp10, uint32_t want) {
    double d;
    float f;
    uint32_t got;
    if (!el__decimal_to_double(digits, exp10, &d)) return 0;
    f = (float)d;
    memcpy(&got, &f, 4);
    return got == want;
}

/* glibc's correctly rounded p-significant-digit decimal of ax >= 0 as
 * digits * 10^exp10, trailing zeros kept (read from "%.*e" digit by digit, so
 * the locale's decimal point does not matter). */
static inline void el__printf_digits(double ax, int p, uint64_t *digits, int *exp10) {
    char buf[64];
    int len = snprintf(buf, sizeof buf, "%.*e", p - 1, ax), i, e = 0, eneg = 0, nd = 0;
    uint64_t r = 0;
    for (i = 0; i < len && buf[i] != 'e'; i++)
        if (buf[i] >= '0' && buf[i] <= '9') { r = r * 10 + (uint64_t)(buf[i] - '0'); nd++; }
    i++;
    if (i < len && (buf[i] == '-' || buf[i] == '+')) { eneg = buf[i] == '-'; i++; }
    for (; i < len; i++) e = e * 10 + (buf[i] - '0');
    *digits = r;
    *exp10 = (eneg ? -e : e) - (nd - 1);
}

/* Rare fallback (a decimal within 2^-53 of a midpoint between two floats, where
 * the double rounding of float() then float32 differs from rounding once):
 * glibc's correctly rounded p-digit decimal and its neighbours, shortest first. */
static inline void el__f32_fallback(float ax, uint32_t want, uint64_t *digits, int *exp10) {
    int p, e;
    uint64_t r;
    for (p = 1; p <= 17; p++) {
        el__printf_digits((double)ax, p, &r, &e);
        if (el__f32_reads_back(r, e, want)) { *digits = r; *exp10 = e; return; }
        if (el__f32_reads_back(r + 1, e, want)) { *digits = r + 1; *exp10 = e; return; }
        if (r > 1 && el__f32_reads_back(r - 1, e, want)) { *digits = r - 1; *exp10 = e; return; }
    }
}

/* The general float32 formatter (the reference of the fast path below). Kept out
 * of line where the compiler allows: inlined into a caller's loop, its registers
 * would crowd the fast path's. */
#if defined(__GNUC__)
#define EL__COLD __attribute__((noinline, cold))
#else
#define EL__COLD
#endif
static EL__COLD int el__format_float32_exact(float x, char *out) {
    uint32_t b, mant;
    int ex, neg, exp10;
    uint64_t digits;
    memcpy(&b, &x, 4);
    neg = (int)(b >> 31);
    ex = (int)((b >> 23) & 0xff);
    mant = b & 0x7fffffu;
    if (ex == 0xff) return el__special(neg, mant != 0, out);
    if (ex == 0 && mant == 0) return el__zero(neg, out);
    if (ex == 0) el__shortest(mant, -149, 0, &digits, &exp10);
    else el__shortest(mant | 0x800000u, ex - 150, mant == 0 && ex > 1, &digits, &exp10);
    if (!el__f32_reads_back(digits, exp10, b & 0x7fffffffu)) {
        float ax = neg ? -x : x;
        el__f32_fallback(ax, b & 0x7fffffffu, &digits, &exp10);
        while (digits % 10 == 0) { digits /= 10; exp10++; }
    }
    {
        /* NumPy's layout for float32 (what str(np.float32) and so gensim write):
         * positional iff 1e-4 <= |x| < 1e6, comparing the exact value */
        double a = neg ? -(double)x : (double)x;
        return el__layout(neg, digits, exp10, a >= 1e-4 && a < 1e6, out);
    }
}

/* The usual case, 1e-4 <= |x| < 1e6 and not a power of two, in a few 64-bit
 * integer operations; returns 0 to leave x to el__format_float32_exact, whose
 * output it reproduces byte for byte (scripts/check_float32_format.py
 * --compare-exact checks this for every float32 and several hints).
 *
 * Why it gives the same digits: x = m * 2^-s (2^23 <= m < 2^24, 4 <= s <= 37
 * in this range), and the decimals that read back to x (rounding once) lie
 * within half a unit 2^-s-1 of it: the interval is symmetric because m is not
 * a power of two. So an L-digit decimal lies in it iff the L-digit decimal
 * nearest x does, and this predicate holds for every L from the shortest
 * length on. With E = floor(log10 x) and k = L - 1 - E decimal places
 * (0 <= k <= 12 here), P = m * 10^k < 2^64 is x * 10^k scaled by 2^s, so the
 * nearest L-digit decimal is r = round(P / 2^s), and its distance to x is
 * dist / 2^s in units of 10^-k: it reads back iff 2 * dist < 10^k (or ==, when
 * m is even: ties to even). The shortest L that passes gives the shortest
 * decimal, and its nearest one, which is what the exact algorithm chooses.
 *
 * Finding L: *khint is the number of decimal places of the previous value
 * (GloVe-like data: the same for every value). From k = *khint the search
 * steps down while k - 1 places still pass, or up until k passes (the
 * predicate is monotonic); k never goes below the first k >= 0 (shorter
 * integers that read back are found there too, spelled the same: "100.0").
 * An exact tie at L' means x is an exact (L' + 1)-digit decimal, so stepping
 * up meets no tie below the answer; stepping down, a tie sends x to the exact
 * path.
 *
 * Left to the exact path: an exact tie between two L-digit decimals, a carry
 * to 10^L (x just under a power of ten), and a decimal so close to the end
 * of the interval (relative 2^-49) that float()'s rounding to a double first
 * could move it onto the end. The digits are stored as the bytes of an
 * integer: little-endian machines only. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ \
    && defined(__SIZEOF_INT128__)
#define EL_FORMAT_FAST 1
#else
#define EL_FORMAT_FAST 0
#endif

/* For the binary exponents 113..146 of x in [2^-14, 2^20): the exponent E0 of
 * the power of ten at or below 2^(ex-127), and the bits of the smallest float32
 * >= 10^(E0+1) when that lies below 2^(ex-126) (else all ones): for positive
 * floats the bit patterns are ordered like the values, so
 * floor(log10 x) = E0 + (bits >= threshold) exactly. */
static const signed char el__f32_e10[34] = {
    -5, -4, -4, -4, -4, -3, -3, -3, -2, -2, -2, -1, -1, -1, 0, 0, 0,
    0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5};
static const uint32_t el__f32_e10_next[34] = {
    0x38d1b718u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x3a83126fu, 0xffffffffu, 0xffffffffu,
    0x3c23d70bu, 0xffffffffu, 0xffffffffu, 0x3dcccccdu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
    0xffffffffu, 0xffffffffu, 0xffffffffu, 0x41200000u, 0xffffffffu, 0xffffffffu, 0x42c80000u,
    0xffffffffu, 0xffffffffu, 0x447a0000u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x461c4000u,
    0xffffffffu, 0xffffffffu, 0x47c35000u, 0xffffffffu, 0xffffffffu, 0x49742400u};
/* bits of the smallest float32 >= 1e-4, and of 1e6 (exact) */
#define EL__F32_BITS_1EM4 0x38d1b718u
#define EL__F32_BITS_1E6 0x49742400u

/* Test k decimal places for m * 2^-s: rem is P = m * 10^k modulo 2^s, and the
 * nearest decimal lies half - |rem - half| units of 2^-s from x. Returns 1 if
 * it reads back, 0 if not, -1 on an exact tie. */
static inline int el__f32_places_ok(uint32_t m, int s, int k, uint64_t *P_out, uint64_t *dist_out) {
    uint64_t p10 = el_pow10_u64[k], P = (uint64_t)m * p10;
    uint64_t half = UINT64_C(1) << (s - 1), rem = P & ((half << 1) - 1);
    /* |rem - half| without a branch: which side of x the decimal falls is a coin
     * toss, and a mispredicted branch costs more than this whole test */
    uint64_t c = rem - half, sign = (uint64_t)((int64_t)c >> 63), dist = half - ((c ^ sign) - sign);
    *P_out = P;
    *dist_out = dist;
    if (c == 0) return -1;
    return 2 * dist < p10 + ((m & 1) ^ 1);   /* the ends belong to x when m is even */
}

static inline int el__format_float32_fast(uint32_t b, char *out, int *khint) {
#if EL_FORMAT_FAST
    uint32_t a = b & 0x7fffffffu, ex = a >> 23, m = (a & 0x7fffffu) | 0x800000u, r;
    int s = 150 - (int)ex, E, L, k, kmin, n, ok, ok1;
    uint64_t P, dist, P1, dist1, p10;
    if (a - EL__F32_BITS_1EM4 >= EL__F32_BITS_1E6 - EL__F32_BITS_1EM4 || (a & 0x7fffffu) == 0) return 0;
    E = el__f32_e10[ex - 113] + (a >= el__f32_e10_next[ex - 113]);
    kmin = E >= 0 ? 0 : -1 - E;          /* L = 1, or E + 1 when x >= 1 */
    /* start at the hint, step down while the shorter decimal still reads back,
     * or up until one does */
    k = *khint < kmin ? kmin : *khint > 8 - E ? 8 - E : *khint;
    ok = el__f32_places_ok(m, s, k, &P, &dist);
    r = (uint32_t)((P >> s) + ((P & ((UINT64_C(1) << s) - 1)) > (UINT64_C(1) << (s - 1))));
    if (ok > 0) {
        /* An interval narrower than 10^-k (10^k < 2^s) holds one k-place decimal
         * at most, r: a shorter decimal in it would be r, ending in 0. So when r
         * does not end in 0, k is the shortest without testing k - 1 (the usual
         * case: the hint was right). */
        if (k > kmin && ((el_pow10_u64[k] >> s) != 0 || r % 10 == 0)) {
            while (k > kmin && (ok1 = el__f32_places_ok(m, s, k - 1, &P1, &dist1)) != 0) {
                if (ok1 < 0) return 0;
                k--; P = P1; dist = dist1;
            }
            r = (uint32_t)((P >> s) + ((P & ((UINT64_C(1) << s) - 1)) > (UINT64_C(1) << (s - 1))));
        }
    } else {
        while (ok == 0 && k < 8 - E) ok = el__f32_places_ok(m, s, ++k, &P, &dist);
        if (ok <= 0) return 0;
        r = (uint32_t)((P >> s) + ((P & ((UINT64_C(1) << s) - 1)) > (UINT64_C(1) << (s - 1))));
    }
    *khint = k;
    L = k + 1 + E;
    p10 = el_pow10_u64[k];
    /* far enough from the interval's ends that float()'s double rounding agrees */
    if (p10 - 2 * dist <= (P >> 49)) return 0;
    if (r == (uint32_t)el_pow10_u64[L]) return 0;   /* carried to 10^L */
    {
        /* The last eight digits of r as the bytes of a 64-bit integer, first digit
         * lowest, in a few multiplications on all lanes at once: 4-digit halves
         * in 32-bit lanes, /100 (x * 10486 >> 20, exact below 10^4) into 16-bit
         * lanes, /10 (x * 103 >> 10, exact below 100) into bytes. No
         * data-dependent branches; shifting out the leading zeros and storing 8
         * (or 16) bytes leaves the digits followed by NULs, for which the
         * caller's EL_FORMAT_MAX bytes have room and which do not count. */
        uint32_t lo8 = L == 9 ? r % 100000000u : r;   /* r < 10^L */
        uint64_t v = (uint64_t)(lo8 / 10000u) | (uint64_t)(lo8 % 10000u) << 32, top, pairs, tens, d8;
        top = ((v * 10486u) >> 20) & ((UINT64_C(0x7f) << 32) | 0x7f);
        pairs = ((v - 100 * top) << 16) | top;
        tens = ((pairs * 103u) >> 10) & UINT64_C(0x000f000f000f000f);
        d8 = (tens | (pairs - 10 * tens) << 8) + UINT64_C(0x3030303030303030);
        out[0] = '-';
        n = (int)(b >> 31);
        if (L == 9) {            /* 9 digits: a leading digit, then as below with L = 8 */
            if (E < 0) {
                memcpy(out + n, "0.000000", 8);
                n += 1 - E;
                out[n] = (char)('0' + r / 100000000u);
                memcpy(out + n + 1, &d8, 8);
                return n + 9;
            }
            {
                unsigned __int128 w = (unsigned __int128)d8 << 8 | (unsigned)('0' + r / 100000000u);
                memcpy(out + n, &w, 16);
                n += E + 1;
                out[n] = '.';
                w >>= 8 * (E + 1);
                memcpy(out + n + 1, &w, 16);
                return n + 1 + k;    /* k >= 9 - 6 > 0 */
            }
        }
        d8 >>= 8 * (8 - L);
        if (E < 0) {             /* 0.000ddd: "0." and -E - 1 zeros */
            memcpy(out + n, "0.000000", 8);
            n += 1 - E;
            memcpy(out + n, &d8, 8);
            return n + L;
        }
        /* E + 1 integer digits, ".", the k fraction digits or "0" */
        memcpy(out + n, &d8, 8);
        n += E + 1;
        out[n] = '.';
        d8 = k ? d8 >> (8 * (E + 1)) : '0';
        memcpy(out + n + 1, &d8, 8);
        return n + 1 + (k ? k : 1);
    }
#else
    (void)b; (void)out; (void)khint;
    return 0;
#endif
}

/* el_format_float32 for a run of values: *khint carries the number of decimal
 * places from one value to the next (start it at any int, e.g. 0); the text
 * does not depend on it, only the time. */
static inline int el_format_float32_hint(float x, char *out, int *khint) {
    uint32_t b;
    int n;
    memcpy(&b, &x, 4);
    n = el__format_float32_fast(b, out, khint);
    return n ? n : el__format_float32_exact(x, out);
}

static inline int el_format_float32(float x, char *out) {
    int khint = 0;
    return el_format_float32_hint(x, out, &khint);
}

static inline int el_format_half(uint16_t h, char *out) {
    int ex = (h >> 10) & 0x1f, neg = h >> 15, exp10;
    uint32_t mant = h & 0x3ffu;
    uint64_t digits;
    if (ex == 0x1f) return el__special(neg, mant != 0, out);
    if (ex == 0 && mant == 0) return el__zero(neg, out);
    if (ex == 0) el__shortest(mant, -24, 0, &digits, &exp10);
    else el__shortest(mant | 0x400u, ex - 25, mant == 0 && ex > 1, &digits, &exp10);
    return el__layout(neg, digits, exp10, -1, out);
}

static inline float el_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, ex = (h >> 10) & 0x1f, mant = h & 0x3ffu, b;
    float f;
    if (ex == 0x1f) b = sign | 0x7f800000u | (mant << 13);
    else if (ex == 0) {
        /* zero or subnormal: exactly mant * 2^-24 */
        f = (float)mant * (1.0f / 16777216.0f);
        memcpy(&b, &f, 4);
        b |= sign;
    } else b = sign | ((ex + 112) << 23) | (mant << 13);
    memcpy(&f, &b, 4);
    return f;
}

static inline int el_format_float64(double x, char *out) {
    uint64_t b;
    int neg, p;
    memcpy(&b, &x, 8);
    neg = (int)(b >> 63);
    if (((b >> 52) & 0x7ff) == 0x7ff) return el__special(neg, (b << 12) != 0, out);
    if ((b << 1) == 0) return el__zero(neg, out);
    /* subnormals carry fewer than 15 significant digits: try every precision */
    for (p = ((b >> 52) & 0x7ff) ? 15 : 1; p <= 17; p++) {
        int exp10;
        uint64_t digits;
        double back;
        el__printf_digits(neg ? -x : x, p, &digits, &exp10);
        while (digits % 10 == 0) { digits /= 10; exp10++; }
        if (el__decimal_to_double(digits, exp10, &back) && back == (neg ? -x : x))
            return el__layout(neg, digits, exp10, -1, out);
    }
    return 0;  /* unreachable: 17 digits always read back */
}

#endif
