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
 *   with Python's rule for underscores (only between two digits).
 *   On success stores the correctly rounded double in *out and returns the
 *   pointer just past the number (the caller checks that a separator follows).
 *   On failure returns NULL and leaves *out unspecified.
 *   Never reads at or past `last`, never allocates, never depends on the locale,
 *   safe to call without the GIL from any number of threads.
 *
 *   static inline uint16_t el_double_to_half(double x);
 *       IEEE binary16 bits of x rounded to nearest even (what np.float16(x) gives).
 *
 * TEMPORARY IMPLEMENTATION: a simple validating wrapper around strtod_l. The
 * numeric-conversions work replaces the body with an exact fast path and a
 * correct fallback; the signatures above do not change.
 */
#ifndef EMBLOAD_FLOATPARSE_H
#define EMBLOAD_FLOATPARSE_H

#define _GNU_SOURCE 1
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static locale_t el_c_locale_obj = (locale_t)0;

static inline locale_t el_c_locale(void) {
    if (el_c_locale_obj == (locale_t)0) {
        el_c_locale_obj = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    }
    return el_c_locale_obj;
}

static inline int el_is_digit(char c) { return c >= '0' && c <= '9'; }

static inline const char *el_parse_double(const char *p, const char *last, double *out) {
    char buf[512];
    size_t n = 0;
    const char *q = p;
    int digits = 0;
    if (q < last && (*q == '+' || *q == '-')) buf[n++] = *q++;
    while (q < last && el_is_digit(*q) && n < sizeof(buf) - 8) { buf[n++] = *q++; digits++; }
    if (q < last && *q == '.') {
        buf[n++] = *q++;
        while (q < last && el_is_digit(*q) && n < sizeof(buf) - 8) { buf[n++] = *q++; digits++; }
    }
    if (digits == 0) return NULL;
    if (q < last && (*q == 'e' || *q == 'E')) {
        const char *r = q + 1;
        size_t m = n;
        char ebuf[8];
        (void)ebuf;
        buf[m++] = 'e';
        if (r < last && (*r == '+' || *r == '-')) buf[m++] = *r++;
        if (r < last && el_is_digit(*r)) {
            while (r < last && el_is_digit(*r) && m < sizeof(buf) - 2) buf[m++] = *r++;
            n = m;
            q = r;
        }
    }
    buf[n] = '\0';
    *out = strtod_l(buf, NULL, el_c_locale());
    return q;
}

static inline uint16_t el_double_to_half(double x) {
    /* placeholder: via float, not exact for all inputs */
    union { float f; uint32_t u; } v;
    v.f = (float)x;
    uint32_t f = v.u;
    uint32_t sign = (f >> 16) & 0x8000u;
    int32_t exp = (int32_t)((f >> 23) & 0xff) - 127 + 15;
    uint32_t mant = f & 0x7fffffu;
    if (exp >= 31) return (uint16_t)(sign | 0x7c00u | (((f & 0x7fffffffu) > 0x7f800000u) ? 0x200u : 0));
    if (exp <= 0) return (uint16_t)sign;
    return (uint16_t)(sign | ((uint32_t)exp << 10) | (mant >> 13));
}

#endif
