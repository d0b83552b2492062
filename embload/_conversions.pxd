# Contract of the numeric conversions: text <-> float, shared by readers and writers.
#
# Parsing (src/floatparse.h): exactly Python's float() on a token, locale-free,
# never allocating, callable without the GIL.
# Formatting (src/floatformat.h): the shortest decimal that reads back (through
# float() and a cast) to the same float16/float32/float64, in Python repr style.

from libc.stdint cimport uint16_t

cdef extern from "floatparse.h" nogil:
    const char *el_parse_double(const char *p, const char *last, double *out)
    uint16_t el_double_to_half(double x)

cdef extern from "floatformat.h" nogil:
    # Each writes at most EL_FORMAT_MAX bytes at `out` (no terminating NUL)
    # and returns the number of bytes written.
    enum: EL_FORMAT_MAX
    int el_format_float32(float x, char *out)
    # the same text; *khint carries the decimal places of the previous value of a
    # run (speed only: start it at 0)
    int el_format_float32_hint(float x, char *out, int *khint)
    int el_format_float64(double x, char *out)
    int el_format_half(uint16_t h, char *out)
    float el_half_to_float(uint16_t h)
