"""Numeric conversions (embload/_conversions.pyx over src/floatparse.h and
src/floatformat.h) against independent references: Python's float() and repr(),
NumPy's float16/float32 casts."""

import math
import random
import struct

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from embload._conversions import double_to_half_bits, parse_float_buffer, parse_float_tokens


def bits(x):
    return struct.pack("<d", x)


def py_float(tok):
    """Python's float() restricted to the grammar the parser documents (ASCII, no spaces)."""
    if tok != tok.strip():
        return None
    try:
        return float(tok.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None


PADDINGS = [b"", b" ", b" " + b"9" * 40, b"\n" + b"e5" * 20, b"\t" + b"_" * 30]


def check_tokens(tokens):
    tokens = [t if isinstance(t, bytes) else t.encode("utf-8") for t in tokens]
    for padding in PADDINGS:  # general parser (short buffer) and fast path (long buffer)
        check_tokens_padded(tokens, padding)


def check_tokens_padded(tokens, padding):
    values, errors = parse_float_tokens(tokens, padding)
    errors = set(errors)
    for i, tok in enumerate(tokens):
        want = py_float(tok)
        if want is None:
            assert i in errors, (tok, padding)
            continue
        assert i not in errors, (tok, padding)
        got = values[i]
        if math.isnan(want):
            assert math.isnan(got) and math.copysign(1, got) == math.copysign(1, want), tok
        else:
            assert bits(got) == bits(want), (tok, padding, got, want)


# --- parsing: exactness ------------------------------------------------------

HARD = [
    "1.00000000000000011102230246251565404236316680908203125",  # halfway 1 and 1+2^-52: even -> 1
    "1.00000000000000011102230246251565404236316680908203126",  # just above: rounds up
    "1.00000000000000011102230246251565404236316680908203124",
    "9007199254740993",  # 2^53 + 1: halfway
    "9007199254740993.0000000000000000000000000000001",
    "2.2250738585072011e-308",  # the famous one
    "2.2250738585072012e-308",
    "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
    "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
    "179769313486231580793728971405301e276",
    "0.1", "0.2", "0.3", "123456789012345678901234567890", "1e22", "1e23", "8.98846567431158e307",
    "7.2057594037927933e16", "3.0517578125e-05", "5e-324", "1e-400", "1e400", "-0", "-0.0", "0e999999999999",
    "1" + "0" * 400, "0." + "0" * 400 + "1", "1" * 800, "0." + "1" * 800, "1" * 800 + "e-800",
    "0.000000000000000000000000000000000000000000000000000000000000001e63",
    "1.0" + "0" * 1000 + "1", "123456789012345678e-30", "999999999999999999999", "18446744073709551615",
    "18446744073709551616", "9999999999999999999", "10000000000000000000", "1e0000000000000000000000001",
    "1e-0000000000000000000000001", "1e99999999999999999999", "1e-99999999999999999999",
]


def test_hard_cases():
    check_tokens(HARD)
    check_tokens(["-" + t for t in HARD] + ["+" + t for t in HARD])


def test_embedding_like_tokens():
    rng = random.Random(5)
    toks = []
    for _ in range(20000):
        x = rng.gauss(0, 0.5)
        toks.append("%.*f" % (rng.randint(1, 9), x))
        toks.append("%.*e" % (rng.randint(0, 9), x))
        toks.append(repr(float(np.float32(x))))
    check_tokens(toks)


@given(st.floats(allow_nan=False))
@example(5e-324)
@example(1.7976931348623157e308)
def test_repr_and_printf(x):
    toks = [repr(x)] + ["%.*e" % (n, x) for n in (0, 1, 5, 8, 15, 16, 17, 20, 25, 40)]
    toks += ["%.*f" % (n, x) for n in (0, 3, 10)] if abs(x) < 1e30 else []
    check_tokens(toks)


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_float32_values(x):
    check_tokens([repr(x), "%.9g" % x, "%.8e" % x, repr(float(np.float32(x)))])


@given(
    st.text("0123456789", min_size=1, max_size=60),
    st.one_of(st.none(), st.text("0123456789", max_size=60)),
    st.one_of(st.none(), st.integers(-400, 400), st.integers(-10**6, 10**6)),
    st.sampled_from(["", "-", "+"]),
)
def test_random_digit_strings(ip, fp, exp, sign):
    tok = sign + ip + ("" if fp is None else "." + fp) + ("" if exp is None else "e%d" % exp)
    check_tokens([tok, sign + "." + ip, sign + ip + "."])


@given(st.integers(1, 2**64), st.integers(-345, 310))
def test_long_mantissas_near_edges(m, e):
    check_tokens(["%de%d" % (m, e), "%d%se%d" % (m, "0" * 30, e), "0.%de%d" % (m, e)])


@given(st.integers(0, 2**52 - 1), st.integers(-1074, 971))
def test_exact_halfway_points(mant, e2):
    # the exact decimal expansion of a point halfway between two doubles, and 1 digit either side
    from fractions import Fraction
    from decimal import Decimal, getcontext

    getcontext().prec = 2000
    m = (2**52 + mant) * 2 + 1
    val = Fraction(m) * Fraction(2) ** (e2 - 1)
    d = Decimal(val.numerator) / Decimal(val.denominator)
    tok = format(d, "f") if abs(e2) < 200 else format(d, "e")
    check_tokens([tok])


def test_underscores_and_grammar():
    good = ["1_0", "1_0.5_5", "1e1_0", "1_000_000", "0_0", ".5", "5.", "5.e3", ".5e-3", "+.5",
            "inf", "-inf", "+inf", "INF", "Infinity", "-iNfInItY", "nan", "-nan", "+NaN", "NAN",
            "0", "00", "00.00", "1E5", "1e+5", "1e-5", "1.e1_0"]
    bad = ["1__0", "_1", "1_", "1_.5", "1._5", "1e_5", "1e5_", "1e", "1e+", "e5", ".", "", "+", "-",
           ".e3", "+-1", "--1", "in", "infinit", "infinityy", "nann", "na", "0x1p3", "nan(1)",
           "1.5.", "1 ", " 1", "1e5e5", "1,5", "١", "inf_", "_", "1e+_5", "1.0_", "1ee5", "0x10"]
    check_tokens(good + bad)
    # nan sign bit, as Python's float("-nan")
    values, _ = parse_float_tokens([b"-nan", b"nan"], b" " * 30)
    assert bits(values[0]) == bits(float("-nan")) and bits(values[1]) == bits(float("nan"))


@given(st.text("0123456789_.eE+-infatyINFATY", max_size=25))
@settings(max_examples=400)
def test_grammar_fuzz(tok):
    check_tokens([tok])


def test_never_reads_past_last():
    # the parser gets only a prefix of a larger buffer: what follows must not matter
    from embload._conversions import parse_float_buffer

    for tok in [b"1.5", b"1e", b"1e5", b"inf", b"infinity", b"1_0", b"12345678901234567890123"]:
        for cut in range(1, len(tok) + 1):
            head = tok[:cut]
            want = py_float(head)
            if want is None:
                with pytest.raises(ValueError):
                    parse_float_buffer(head)
            else:
                assert bits(parse_float_buffer(head)[0]) == bits(want)


# --- casts to float32 / float16 ------------------------------------------------

@given(st.lists(st.floats(width=64, allow_nan=False), min_size=1, max_size=50))
def test_buffer_float32_cast(xs):
    toks = [repr(x) for x in xs]
    got = parse_float_buffer(" ".join(toks).encode(), "float32")
    want = np.array([np.float32(float(t)) for t in toks], dtype=np.float32)
    assert got.tobytes() == want.tobytes()


def test_buffer_errors_name_offset_and_text():
    with pytest.raises(ValueError, match=r"byte 4: not a number: '1\.2\.3'"):
        parse_float_buffer(b"0.5 1.2.3 4")
    assert parse_float_buffer(b"").shape == (0,)
    assert parse_float_buffer(b" \n\t ").shape == (0,)


def half_reference(x):
    with np.errstate(over="ignore"):
        return np.array(x, dtype=np.float64).astype(np.float16).view(np.uint16)


def test_half_dense_sample():
    rng = np.random.default_rng(0)
    parts = [
        # every half value, its neighbours' midpoints, and just either side of them
        np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float64),
    ]
    h = parts[0]
    mid = (h[:-1] + h[1:]) / 2
    parts += [mid, np.nextafter(mid, np.inf), np.nextafter(mid, -np.inf), np.array([65504.0, 65519.99, 65520.0, 1e6, 2.0**-25,
              np.nextafter(2.0**-25, 1), 2.0**-26, 5e-324, 1e-300, np.inf, np.nan])]
    parts.append(rng.standard_normal(200000) * 10.0 ** rng.uniform(-9, 6, 200000))
    parts.append(np.frombuffer(rng.bytes(8 * 200000), dtype=np.float64))
    x = np.concatenate(parts)
    x = np.concatenate([x, -x])
    got = double_to_half_bits(np.ascontiguousarray(x))
    want = half_reference(x)
    nan = np.isnan(x)
    assert np.array_equal(got[~nan], want[~nan])
    assert np.all((got[nan] & 0x7C00) == 0x7C00) and np.all((got[nan] & 0x3FF) != 0)
    assert np.array_equal(got[nan] >> 15, want[nan] >> 15)


def test_buffer_float16():
    toks = ["0.1", "65504", "65520", "-1e-8", "6e-8", "3e-8", "nan", "-inf", "0.000060975552"]
    got = parse_float_buffer(" ".join(toks).encode(), "float16")
    want = np.array([np.float16(float(t)) for t in toks], dtype=np.float16)
    assert got.view(np.uint16)[np.isfinite(want)].tobytes() == want.view(np.uint16)[np.isfinite(want)].tobytes()
    assert np.isnan(got[6]) and got[7] == -np.inf


# --- formatting: shortest round-trip text ---------------------------------------

from embload._conversions import format_float16, format_float32, format_float64  # noqa: E402


def numpy_digits(x):
    """(digits, exponent) of NumPy's shortest-unique representation (Dragon4): an independent reference."""
    s = np.format_float_scientific(x, unique=True, trim="-")
    mant, exp = s.split("e")
    mant = mant.lstrip("-")
    digits = mant.replace(".", "").rstrip("0") or "0"
    return digits, int(exp)


def our_digits(s):
    from decimal import Decimal

    d = Decimal(s).normalize()
    t = d.as_tuple()
    digits = "".join(map(str, t.digits))
    return digits, t.exponent + len(digits) - 1


def check_format32(values):
    values = np.asarray(values, dtype=np.float32)
    texts = format_float32(values)
    for x, s in zip(values, texts):
        if np.isnan(x):
            assert s == "nan"
            continue
        back = np.float32(float(s))
        assert back.tobytes() == x.tobytes(), (x, s)
        if np.isfinite(x) and x != 0:
            assert our_digits(s) == numpy_digits(x), (x, s)  # same digits: shortest, then closest
        # NumPy's own text for a float32 (what gensim writes): digits and layout,
        # except where NumPy's text does not read back through float() (below)
        ref = str(np.float32(x))
        if np.float32(float(ref)).tobytes() == x.tobytes():
            assert s == ref, (x, s)


def test_format32_examples():
    cases = [(0.1, "0.1"), (-0.20036, "-0.20036"), (1e-5, "1e-05"), (1e16, "1e+16"), (100.0, "100.0"),
             (1e6, "1e+06"), (999999.94, "999999.94"), (1e-4, "1e-04"), (1.0001e-4, "0.00010001"),
             (-0.0, "-0.0"), (0.0, "0.0"), (float("inf"), "inf"), (float("-inf"), "-inf"),
             (float("nan"), "nan"), (16777216.0, "1.6777216e+07"), (3.4028234663852886e38, "3.4028235e+38"),
             (1e-45, "1e-45"), (0.00012, "0.00012"), (1.5e-7, "1.5e-07"),
             (123456789.0, "1.2345679e+08")]
    got = format_float32(np.array([x for x, _ in cases], dtype=np.float32))
    assert got == [s for _, s in cases]


@given(st.floats(width=32))
def test_format32_hypothesis(x):
    check_format32([x])


def test_format32_random_bits_and_edges():
    rng = np.random.default_rng(1)
    bits32 = rng.integers(0, 2**32, 10000, dtype=np.uint64).astype(np.uint32)
    # powers of two (asymmetric intervals), subnormals, neighbours of powers of ten
    pow2 = (np.arange(1, 255, dtype=np.uint32) << 23)
    sub = np.arange(0, 3000, dtype=np.uint32)
    tens = np.array([10.0**k for k in range(-45, 39)], dtype=np.float32).view(np.uint32)
    near = np.concatenate([tens - 1, tens, tens + 1, pow2 - 1, pow2 + 1])
    allbits = np.concatenate([bits32, pow2, sub, near, 0x7F7FFFFF - np.arange(100, dtype=np.uint32)])
    allbits = np.concatenate([allbits, allbits | np.uint32(0x80000000)])
    check_format32(allbits.view(np.float32))
    # embedding-like values
    check_format32((rng.standard_normal(5000) * 0.3).astype(np.float32))


def test_format32_fast_path_range():
    # 1e-4 <= |x| < 1e6 takes the integer fast path of floatformat.h: values with few
    # decimals (GloVe-like), exact binary fractions (ties between shorter decimals),
    # integers, the range's ends and values just under powers of ten (carry to 10^L)
    rng = np.random.default_rng(7)
    short = np.concatenate([np.round(rng.standard_normal(3000) * 10.0 ** rng.integers(-3, 6, 3000), int(d))
                            for d in range(0, 9)])
    fractions = rng.integers(1, 2**20, 3000) / 2.0 ** rng.integers(1, 24, 3000)
    ints = rng.integers(1, 10**6, 2000).astype(np.float64)
    tens = np.array([10.0**k for k in range(-4, 7)], dtype=np.float32)
    edges = np.concatenate([tens, np.nextafter(tens, np.float32(0)), np.nextafter(tens, np.float32(np.inf))])
    values = np.concatenate([short, fractions, ints]).astype(np.float32)
    values = values[(np.abs(values) >= 1e-4) & (np.abs(values) < 1e6)]
    check_format32(np.concatenate([values, -values, edges, -edges]))


def test_format16_exhaustive():
    h = np.arange(0, 2**16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    texts = format_float16(h)
    with np.errstate(over="ignore"):
        back = np.array([np.float16(float(s)) for s in texts], dtype=np.float16)
    finite = ~np.isnan(h)
    assert back.view(np.uint16)[finite].tobytes() == h.view(np.uint16)[finite].tobytes()
    assert all(texts[i] == "nan" for i in np.flatnonzero(~finite))
    for x, s in zip(h[finite][::3], np.array(texts, dtype=object)[finite][::3]):
        if np.isfinite(x) and x != 0:
            assert our_digits(s) == numpy_digits(x), (x, s)


@given(st.floats())
@example(5e-324)
@example(2.0**-1022)
@example(1.7976931348623157e308)
def test_format64_hypothesis(x):
    (s,) = format_float64(np.array([x]))
    if math.isnan(x):
        assert s == "nan"
        return
    assert bits(float(s)) == bits(x), (x, s)
    # repr's digits, except that at a power of two we may write one more digit
    r = repr(x)
    assert s == r or (len(s) <= len(r) + 1 and our_digits(s)[0].__len__() == 17), (x, s, r)


def test_format64_random():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(5000), np.frombuffer(rng.bytes(8 * 5000), dtype=np.float64)])
    x = x[~np.isnan(x)]
    texts = format_float64(x)
    same = sum(s == repr(float(v)) for s, v in zip(texts, x))
    assert all(bits(float(s)) == bits(float(v)) for s, v in zip(texts, x))
    assert same >= len(x) - 5


def test_format32_double_rounding_edge():
    # 7.038531e-26 is the shortest decimal nearest 0x15ae43fd when rounded straight to
    # float32, but float() makes it a double that is the exact midpoint to 0x15ae43fe,
    # and the tie goes there. NumPy's str() writes it (and so gensim corrupts it).
    x = np.array([0x15AE43FD, 0x15AE43FE], dtype=np.uint32).view(np.float32)
    texts = format_float32(x)
    assert [np.float32(float(t)).tobytes() for t in texts] == [v.tobytes() for v in x]
    assert texts == ["7.0385307e-26", "7.0385313e-26"]
    assert str(x[0]) == "7.038531e-26" and np.float32(float(str(x[0]))) == x[1]
