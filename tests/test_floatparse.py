"""The float parser (embload/src/floatparse.h: Clinger / Eisel-Lemire fast paths,
strtod fallback) against Python: every double must have the bits of ``float(tok)``
and every float32 the bits of ``np.float32(float(tok))``.

Three ways in: the existing hook ``embload._conversions.parse_float_tokens``
(el_parse_double, with paddings that select the fast path or the general one),
a small ctypes library compiled here from the header (el_parse_double, and its
float32 as the readers store it, on one token, any buffer end), and tiny GloVe files through
``embload.load`` (the reader's own call sites). Bulk checks at scale against
glibc's strtod live in scripts/bench_floatparse.py --check.
"""
import ctypes
import os
import random
import shutil
import struct
import subprocess
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import embload
from embload._conversions import parse_float_tokens

SRC = os.path.join(os.path.dirname(__file__), "..", "embload", "src")

SHIM = r"""
#include "floatparse.h"
/* one token at p[0, n); the buffer really ends at p + n + pad. Returns the
 * number of bytes taken, -1 for "not a number". */
long t_parse64(const char *p, long n, long pad, double *out) {
    const char *q = el_parse_double(p, p + n + pad, out);
    return q ? (long)(q - p) : -1;
}
/* float32 as the readers store it (textscan.h's EL_STORE_F32) */
long t_parse32(const char *p, long n, long pad, float *out) {
    double d;
    const char *q = el_parse_double(p, p + n + pad, &d);
    *out = (float)d;
    return q ? (long)(q - p) : -1;
}
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C compiler to build the ctypes shim")
    d = tmp_path_factory.mktemp("floatparse")
    src = d / "shim.c"
    src.write_text(SHIM)
    so = d / "shim.so"
    subprocess.run([cc, "-O2", "-std=gnu99", "-fno-strict-aliasing", "-shared", "-fPIC",
                    "-I", SRC, str(src), "-o", str(so), "-lm"], check=True)
    lib = ctypes.CDLL(str(so))
    for name, t in (("t_parse64", ctypes.c_double), ("t_parse32", ctypes.c_float)):
        f = getattr(lib, name)
        f.argtypes = [ctypes.c_char_p, ctypes.c_long, ctypes.c_long, ctypes.POINTER(t)]
        f.restype = ctypes.c_long
    return lib


def want_bits(tok):
    """(double bits, float32 bits) Python gives for tok, or None when float() rejects it."""
    try:
        x = float(tok)
    except ValueError:
        return None
    with np.errstate(over="ignore"):
        f = np.float32(x)
    return struct.pack("<d", x), f.tobytes()


PADS = [b"", b" ", b" " * 8, b" " + b"7" * 40, b"\n" + b"e5" * 30, b"\t" + b"_" * 40]


def check(lib, tokens):
    """Every token through every way in, with short and long buffers."""
    tokens = [t.encode() if isinstance(t, str) else t for t in tokens]
    # the grammar is ASCII (float() would also take other Unicode digits)
    wants = [want_bits(t.decode("ascii")) if t.isascii() else None for t in tokens]
    for pad in (b"", b" ", b" " + b"9" * 40):
        values, errors = parse_float_tokens(tokens, pad)
        for i, (tok, w) in enumerate(zip(tokens, wants)):
            if w is None:
                assert i in errors, (tok, pad)
            else:
                assert i not in errors and values[i].tobytes() == w[0], (tok, pad, values[i])
    if lib is None:
        return
    d, f = ctypes.c_double(), ctypes.c_float()
    for tok, w in zip(tokens, wants):
        for pad in PADS:
            buf = tok + pad
            n64 = lib.t_parse64(buf, len(tok), len(pad), ctypes.byref(d))
            n32 = lib.t_parse32(buf, len(tok), len(pad), ctypes.byref(f))
            if w is None:
                assert n64 != len(tok) and n32 != len(tok), (tok, pad)
                continue
            assert n64 == len(tok) and struct.pack("<d", d.value) == w[0], (tok, pad, d.value)
            assert n32 == len(tok) and bytes(f) == w[1], (tok, pad, f.value)


# --- exact decimal text of binary values -------------------------------------------

def exact_decimal(fr):
    """The exact Decimal of a dyadic Fraction (finite expansion)."""
    return Context(prec=1200).divide(Decimal(fr.numerator), Decimal(fr.denominator))


def write(dec, digits, rounding=ROUND_HALF_EVEN):
    return str(Context(prec=digits, rounding=rounding).plus(dec))


def neighbours(dec, ulp):
    """dec itself and the decimals a tiny step below and above it (ulp: a Fraction
    far below the spacing of the values around dec)."""
    return [dec, exact_decimal(Fraction(dec) - ulp), exact_decimal(Fraction(dec) + ulp)]


def f32_from_bits(u):
    return float(np.array([u], dtype=np.uint32).view(np.float32)[0])


def f64_from_bits(u):
    return struct.unpack("<d", struct.pack("<Q", u))[0]


def texts_near(fr, tiny):
    """Texts of a value fr and of values tiny away: exact, then 9, 17, 20, 25, 40
    significant digits rounded down, to nearest and up."""
    out = []
    for dec in neighbours(exact_decimal(fr), tiny):
        out.append(str(dec))
        for n in (9, 17, 20, 25, 40):
            for r in (ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_CEILING):
                out.append(write(dec, n, r))
    return out


def float32_midpoints(rng, count):
    """Halfway points between adjacent float32 (normal, subnormal, the top one)."""
    bits = [0, 1, 2, 0x007FFFFF, 0x00800000, 0x3F800000, 0x3F7FFFFF, 0x7F7FFFFE, 0x7F7FFFFF,
            0x33000000, 0x4B7FFFFF, 0x4B800000]
    bits += [rng.randrange(0x7F7FFFFF) for _ in range(count)]
    out = []
    for u in bits:
        a = Fraction(f32_from_bits(u))
        b = Fraction(f32_from_bits(u + 1)) if u < 0x7F7FFFFF else a + (a - Fraction(f32_from_bits(u - 1)))
        out.append((a + b) / 2)
    return out


def float64_midpoints(rng, count):
    """Halfway points between adjacent doubles, many of them near float32 midpoints."""
    out = []
    us = [0, 1, 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x3FF0000000000000, 0x7FEFFFFFFFFFFFFE]
    us += [rng.randrange(0x7FEFFFFFFFFFFFFF) for _ in range(count)]
    for mid32 in float32_midpoints(rng, count)[:count]:
        x = float(mid32)                      # exact: 25 bits
        u = struct.unpack("<Q", struct.pack("<d", x))[0]
        us += [u - 1, u]
    for u in us:
        a, b = Fraction(f64_from_bits(u)), Fraction(f64_from_bits(u + 1))
        out.append((a + b) / 2)
    return out


# --- tests --------------------------------------------------------------------------

def test_embedding_shapes_every_length(lib):
    """The fast path's shapes: 0-7 integer digits, 0-16 fraction digits, exponents
    of 0-4 digits, signs, at every buffer end."""
    rng = random.Random(5)
    toks = []
    for ni in range(0, 9):
        for nf in range(0, 18):
            for ex in ("", "e5", "E-05", "e+012", "e-1234", "e", "e-"):
                ip = "".join(rng.choice("0123456789") for _ in range(ni))
                fp = "".join(rng.choice("0123456789") for _ in range(nf))
                t = ip + ("." + fp if nf or rng.random() < 0.5 else "")
                if not ip and not fp:
                    t = "0"
                toks.append(rng.choice(["", "-", "+"]) + t + ex)
    check(lib, [t for t in toks if not t.endswith(("e", "e-"))])
    # a bare exponent marker is not part of the number: the parser stops before it
    d = ctypes.c_double()
    for tok in (b"1.5e", b"-2e-", b"3E+", b"4.25e_1"):
        for pad in PADS:
            n = lib.t_parse64(tok + pad, len(tok), len(pad), ctypes.byref(d))
            assert tok[:n] == tok.split(b"e")[0].split(b"E")[0] and d.value == float(tok[:n]), tok


@pytest.mark.parametrize("midpoints, seed, count", [(float32_midpoints, 1, 120), (float64_midpoints, 2, 60)],
                         ids=["float32", "float64"])
def test_halfway_points(lib, midpoints, seed, count):
    rng = random.Random(seed)
    toks = []
    for mid in midpoints(rng, count):
        toks += texts_near(mid, Fraction(1, 2 ** 1200))
    check(lib, toks)


def test_subnormals_overflow_and_zeros(lib):
    toks = ["4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "2.225073858507201e-308",
            "1e-45", "1.4e-45", "7.006492321624085e-46", "7.006492321624086e-46", "1.1754942e-38",
            "1.17549435e-38", "1.1754943508222875e-38", "3.4028234663852886e+38",
            "3.4028235677973366e+38", "3.4028235677973367e+38", "3.40282357e38", "3.5e38",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.8e308", "1e309", "-1e400",
            "0e999999", "-0e999999", "0.0000e-999999", "0e0", "-0", "-0.0", "+0.",
            "1e-400", "-1e-400", "1e-342", "1e-343", "1e308", "9.999999999999999e307",
            "123456789e-335", "1e22", "1e23", "9007199254740993e-5", "18014398509481985e3"]
    rng = random.Random(3)
    for _ in range(200):
        x = rng.uniform(1, 2) * 2.0 ** rng.randrange(-1075, -1000)
        toks.append(repr(x))
        toks.append(f"{x:.25e}")
        y = rng.uniform(1, 2) * 2.0 ** rng.randrange(-160, -120)   # float32 subnormals
        toks.append(f"{y:.{rng.randrange(1, 20)}e}")
        z = rng.uniform(1, 2) * 2.0 ** rng.randrange(120, 130)     # near float32 overflow
        toks.append(f"{z:.{rng.randrange(1, 20)}e}")
    check(lib, toks)


def test_long_mantissas(lib):
    rng = random.Random(4)
    toks = ["1" * 800, "0." + "1" * 800, "9" * 30 + "e-30", "1" + "0" * 500 + "e-500",
            "0." + "0" * 400 + "1" + "e400", "1.0" + "0" * 1000 + "1", "3.4028235" + "0" * 300 + "1e38",
            "9999999999999999999", "10000000000000000000", "18446744073709551615",
            "18446744073709551616", "12345678901234567890123"]
    for _ in range(300):
        n = rng.randrange(19, 60)
        toks.append("".join(rng.choice("0123456789") for _ in range(n)) + f"e{rng.randrange(-340, 300)}")
    check(lib, toks)


def test_grammar_underscores_and_words(lib):
    toks = ["1_0", "1_0.5_5e1_0", "1__0", "_1", "1_", "1_.5", "1._5", "1e_5", "1e5_", ".5", "5.",
            "-.5e-3", ".", "-", "+.", ".e5", "e5", "inf", "-Infinity", "nan", "1e+", "0x10", "1.5.5",
            "--1", "+-1", "1,5", "١", "00000000000000000000001.5", "0.000000000000000000000012345",
            "1" + "_2" * 30, "0_0_0.0_0e0_0"]
    # NaN bits are not compared by want_bits' struct (nan == nan fails); check them apart
    plain = [t for t in toks if t.lstrip("+-").lower() not in ("nan",)]
    check(lib, plain)
    vals, errs = parse_float_tokens([b"nan", b"-nan", b"NaN"], b" " * 40)
    assert not errs and np.isnan(vals).all() and np.signbit(vals).tolist() == [False, True, False]


digit_strings = st.text("0123456789", min_size=1, max_size=25)


@st.composite
def decimal_tokens(draw):
    ip = draw(st.text("0123456789", min_size=0, max_size=25))
    fp = draw(st.text("0123456789", min_size=0, max_size=25 - len(ip)))
    if not ip and not fp:
        ip = "0"
    if draw(st.booleans()):  # underscores between two digits
        def sprinkle(s):
            out = []
            for i, c in enumerate(s):
                out.append(c)
                if i + 1 < len(s) and draw(st.integers(0, 9)) == 0:
                    out.append("_")
            return "".join(out)
        ip, fp = sprinkle(ip), sprinkle(fp)
    tok = draw(st.sampled_from(["", "-", "+"])) + ip
    if fp or draw(st.booleans()):
        tok += "." + fp
    if draw(st.booleans()):
        tok += draw(st.sampled_from("eE")) + draw(st.sampled_from(["", "-", "+"]))
        tok += str(draw(st.integers(0, 350))).zfill(draw(st.integers(1, 4)))
    return tok


@settings(max_examples=400, deadline=None)
@given(decimal_tokens())
@example("-0.20036")
@example("1.2e-05")
@example("0.07368363")
@example("1_2.3_4e-0_5")
def test_hypothesis_decimal_tokens(lib, tok):
    check(lib, [tok])


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32), st.integers(6, 12))
def test_hypothesis_float32_texts(lib, x, digits):
    """What writers emit for float32 values: 6-12 significant digits."""
    check(lib, [repr(x), f"{x:.{digits}g}", f"{x:.{digits}e}"])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_through_the_reader(tmp_path, dtype):
    """A tiny GloVe file with hard tokens: the matrix equals np.asarray(float(tok), dtype)."""
    rng = random.Random(6)
    pool = []
    for mid in float32_midpoints(rng, 40):
        pool += texts_near(mid, Fraction(1, 2 ** 1200))[:14]
    pool += ["-0.20036", "0.41287", "1.2e-05", "-3.3238e-05", "0", "-0.0", "1e-50", "3.5e38",
             "0.5", "0.25", "0.125", "9" * 40, "1" + "0" * 30 + "e-30"]
    rng.shuffle(pool)
    dim = 7
    rows = [pool[i:i + dim] for i in range(0, len(pool) - dim + 1, dim)]
    text = "".join(f"w{i} " + " ".join(r) + "\n" for i, r in enumerate(rows))
    path = tmp_path / "hard.txt"
    path.write_text(text)
    vecs = embload.load(str(path), dtype=dtype, progress=False)
    with np.errstate(over="ignore"):
        want = np.array([[float(t) for t in r] for r in rows], dtype=np.float64).astype(dtype)
    assert vecs.vectors.dtype == np.dtype(dtype)
    assert vecs.vectors.tobytes() == want.tobytes()


def test_pow5_table_is_generated_and_right():
    """pow5table.h is what scripts/make_pow5_table.py writes, and a sample of its
    entries is 5^q scaled into [2^127, 2^128) and rounded up (checked here with
    Fraction, independently of the script's integer code)."""
    import importlib.util
    import re
    path = os.path.join(os.path.dirname(__file__), "..", "scripts", "make_pow5_table.py")
    spec = importlib.util.spec_from_file_location("make_pow5_table", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with open(os.path.join(SRC, "pow5table.h")) as f:
        text = f.read()
    assert text == mod.render()
    entries = re.findall(r"0x([0-9a-f]{16})\), UINT64_C\(0x([0-9a-f]{16})\)\}, /\* 5\^(-?\d+) \*/", text)
    assert len(entries) == mod.Q_MAX - mod.Q_MIN + 1
    for hi, lo, q in entries[::7] + entries[-3:]:
        t, q = (int(hi, 16) << 64) | int(lo, 16), int(q)
        v = Fraction(5) ** q
        k = 0
        while v * Fraction(2) ** k < 2 ** 127:
            k += 1
        while v * Fraction(2) ** k >= 2 ** 128:
            k -= 1
        scaled = v * Fraction(2) ** k
        assert t - 1 < scaled <= t, q
