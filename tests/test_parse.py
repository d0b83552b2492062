"""The parsing core (embload/_parse.pyx, src/textscan.h) against a pure-Python reference.

The reference reads the format as _parse.pyx's header comment defines it, with
``re`` and ``float()``; the C reader must give the same words and bit-identical
matrices for any file, block size and thread count.
"""
import os
import re
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embload
from conftest import load_tuned
from embload import EmbeddingFormatError
from embload import _parse

_SEP = b" \t\r\v\f"
_TOKEN = re.compile(rb"[^ \t\r\v\f]+")
_BITS = {"float32": np.uint32, "float64": np.uint64, "float16": np.uint16}


# --- the independent reference -------------------------------------------------

def reference_text(data, *, header, dtype="float32", errors="strict", limit=None):
    """Words and matrix of a text vectors file, the slow obvious way."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    dim = None
    first = 1
    if header:
        _, dim = (int(x) for x in lines[0].split())
        lines = lines[1:]
        first = 2
    words, rows = [], []
    for number, raw in enumerate(lines, first):
        if limit is not None and len(words) == limit:
            break
        line = raw.rstrip(_SEP)
        if not line:
            continue
        spans = [m.span() for m in _TOKEN.finditer(line)]
        if dim is None:
            dim = len(spans) - 1
        if len(spans) < dim + 1:
            raise ValueError(f"line {number}: too few fields")
        word = line[:spans[-dim][0]].rstrip(_SEP)
        if not word:
            raise ValueError(f"line {number}: no word")
        values = [float(line[a:b].decode("ascii")) for a, b in spans[-dim:]]
        rows.append(np.array(values, dtype=np.float64).astype(dtype))
        words.append(word.decode("utf-8", errors))
    return _first_of_each(words, rows, dim or 0, dtype)


def reference_binary(data, *, dtype="float32", limit=None):
    """Words and matrix of a binary word2vec file, as gensim reads it."""
    nl = data.index(b"\n")
    count, dim = (int(x) for x in data[:nl].split())
    pos = nl + 1
    words, rows = [], []
    for _ in range(count if limit is None else min(count, limit)):
        space = data.index(b" ", pos)
        words.append(data[pos:space].lstrip(b"\n").decode("utf-8"))
        rows.append(np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1).astype(dtype))
        pos = space + 1 + 4 * dim
    return _first_of_each(words, rows, dim, dtype)


def _first_of_each(words, rows, dim, dtype):
    seen = {}
    for i, w in enumerate(words):
        seen.setdefault(w, i)
    keep = sorted(seen.values())
    matrix = np.array([rows[i] for i in keep], dtype=dtype).reshape(len(keep), dim)
    return [words[i] for i in keep], matrix


def assert_same(vectors, words, matrix):
    assert vectors.words == words
    assert vectors.vectors.shape == matrix.shape
    assert vectors.vectors.dtype == matrix.dtype
    assert vectors.vectors.flags.c_contiguous
    bits = _BITS[matrix.dtype.name]
    assert np.array_equal(vectors.vectors.view(bits), matrix.view(bits))


def load_quiet(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return embload.load(path, **kwargs)


# --- generated files ----------------------------------------------------------

FLOAT_SPELLINGS = [
    "0", "-0", "+1", "1.", ".5", "-.5", "5.", "0.418", "-0.20036", "0.123456", "1e-3", "1E+3",
    "-2.5e-05", "3.4028235e38", "3.4028236e38", "1e39", "-1e39", "1e-45", "7e-46", "1.4e-45",
    "1.17549435e-38", "inf", "-inf", "+Infinity", "nan", "-nan", "NaN", "1_000.5", "1_0e1_0",
    "0.1000000000000000055511151231257827021181583404541015625", "123456789012345678901234567890",
    "0.000000000000000000000000000000000000000000001", "65504", "65520", "6.1e-05", "5.96e-08",
    "2.98e-08", "0e0", "00012.50", "9007199254740993", "4.9406564584124654e-324",
]

floats = st.one_of(
    st.sampled_from(FLOAT_SPELLINGS),
    st.floats(allow_nan=False, width=32).map(lambda x: f"{x:.5f}"),
    st.floats(allow_nan=False, width=32).map(repr),
    st.floats(allow_nan=False).map(lambda x: f"{x:.9g}"),
    st.floats(allow_nan=False).map(lambda x: f"{x:e}"),
)
# a word: no SEP byte and no newline; always a letter so it is never a number
word_chars = st.characters(blacklist_characters=" \t\r\v\f\n\x1c\x1d\x1e\x1f\x85\u2028\u2029",
                           blacklist_categories=("Cs",))
words = st.tuples(st.sampled_from(["a", "é", "ß", "日本", "x", "Z", "ﬁ"]),
                  st.text(word_chars, max_size=6)).map(lambda t: t[0] + t[1])


@st.composite
def text_files(draw, header=None):
    dim = draw(st.integers(1, 5))
    n = draw(st.integers(0, 12))
    has_header = draw(st.booleans()) if header is None else header
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    sep = st.sampled_from([b" ", b" ", b"  ", b"\t", b" \t"])
    out = []
    rows = 0
    for i in range(n):
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from([b"", b" ", b"\t ", b"\r"])) + eol)  # a blank line
        word = draw(words)
        if i > 0 and not has_header and draw(st.integers(0, 4)) == 0:
            word = word + " " + draw(words)  # GloVe 840B: a word with a space
        elif i > 0 and has_header and draw(st.integers(0, 4)) == 0:
            word = word + " " + draw(words)
        fields = [word.encode("utf-8")] + [draw(floats).encode() for _ in range(dim)]
        line = fields[0]
        for f in fields[1:]:
            line += draw(sep) + f
        line += draw(st.sampled_from([b"", b"", b" ", b"\t", b"  "]))
        out.append(line + eol)
        rows += 1
    body = b"".join(out)
    if n and draw(st.booleans()):
        body = body[: -len(eol)]  # no final newline
    head = f"{rows} {dim}".encode() + eol if has_header else b""
    bom = b"\xef\xbb\xbf" if draw(st.integers(0, 5)) == 0 else b""
    return bom + head + body, has_header


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# (block size, threads): threads only with blocks of a few lines, since a parallel
# region per 3-byte block is slow on a busy machine (and covered by the tests below)
BLOCKS_THREADS = [(1, 1), (2, 1), (3, 1), (7, 1), (64, 2), (200, 2), (1 << 20, 1), (1 << 20, 2)]


@SETTINGS
@given(text_files(), st.sampled_from(BLOCKS_THREADS), st.sampled_from(["float32", "float64", "float16"]))
def test_text_matches_reference(tmp_path_factory, case, blocks_threads, dtype):
    block_size, threads = blocks_threads
    data, header = case
    path = tmp_path_factory.mktemp("t") / "v.txt"
    path.write_bytes(data)
    try:
        words, matrix = reference_text(data, header=header, dtype=dtype)
    except ValueError:
        words = None
    if words is None or (not header and not words):
        return  # generated an ill-formed file (only possible with no rows)
    v = load_tuned(path, quiet=True, dtype=dtype, threads=threads, block_size=block_size, min_piece=1)
    assert_same(v, words, matrix)


@SETTINGS
@given(text_files(), st.integers(0, 6), st.sampled_from([1, 5, 100, 1 << 20]))
def test_text_limit_matches_reference(tmp_path_factory, case, limit, block_size):
    data, header = case
    path = tmp_path_factory.mktemp("t") / "v.txt"
    path.write_bytes(data)
    words, matrix = reference_text(data, header=header, limit=limit)
    if not header and not words:
        return
    v = load_tuned(path, quiet=True, limit=limit, block_size=block_size, threads=1 if block_size < 100 else 2, min_piece=1)
    assert_same(v, words, matrix)


def make_text(n, dim, seed=0, eol=b"\n"):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.5, (n, dim)).astype(np.float32)
    lines = [f"w{i}é".encode() + b" " + " ".join(f"{x:.5f}" for x in row).encode() for i, row in enumerate(m)]
    return eol.join(lines) + eol


def test_every_block_boundary(tmp_path):
    """A record split across reader buffers at every offset."""
    data = b"3 2\n" + make_text(3, 2) + b"wx\xc3\xa9 1e-3 -2.5\n"
    data = data.replace(b"3 2\n", b"4 2\n", 1)
    path = tmp_path / "v.vec"
    path.write_bytes(data)
    words, matrix = reference_text(data, header=True)
    for block_size in range(1, len(data) + 2):
        # two threads with tiny pieces: slow on a busy machine, so every third size
        for threads in (1, 2) if block_size % 3 == 0 else (1,):
            v = load_tuned(path, block_size=block_size, threads=threads, min_piece=1)
            assert_same(v, words, matrix)


def test_threads_give_identical_results(tmp_path):
    data = make_text(3000, 7, seed=1) + b"\n\n" + make_text(50, 7, seed=2).replace(b"w", b"v")
    path = tmp_path / "g.txt"
    path.write_bytes(data)
    base = embload.load(path, threads=1)
    words, matrix = reference_text(data, header=False)
    assert_same(base, words, matrix)
    for threads in (2, 3, 8):
        for block_size in (1000, 1 << 16):
            v = load_tuned(path, threads=threads, block_size=block_size, min_piece=1)
            assert_same(v, words, matrix)


def test_long_word_and_long_lines(tmp_path):
    big = "x" * 70000 + "é"
    data = f"{big} 1 2\nb 3 4\n".encode()
    path = tmp_path / "g.txt"
    path.write_bytes(data)
    v = load_tuned(path, block_size=1000)
    assert v.words == [big, "b"]
    assert v.vectors.tolist() == [[1, 2], [3, 4]]


# --- binary -------------------------------------------------------------------

def make_binary(words, matrix, *, newline=True, header=None):
    out = bytearray(header if header is not None else f"{len(words)} {matrix.shape[1]}\n".encode())
    for w, row in zip(words, matrix):
        out += w.encode() + b" " + row.astype("<f4").tobytes() + (b"\n" if newline else b"")
    return bytes(out)


@SETTINGS
@given(st.lists(words, max_size=8), st.integers(1, 4), st.booleans(), st.data())
def test_binary_matches_reference(tmp_path_factory, ws, dim, newline, data):
    bits = data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=len(ws) * dim, max_size=len(ws) * dim))
    matrix = np.array(bits, dtype=np.uint32).view(np.float32).reshape(len(ws), dim)
    raw = make_binary(ws, matrix, newline=newline)
    path = tmp_path_factory.mktemp("b") / "v.bin"
    path.write_bytes(raw)
    block_size = data.draw(st.sampled_from([1, 5, 16, 1024]))
    dtype = data.draw(st.sampled_from(["float32", "float64", "float16"]))
    words, ref = reference_binary(raw, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float16 overflow in the reference
        threads = data.draw(st.sampled_from([1, 2]))  # 2: records found serially, copied in parallel
        v = load_tuned(path, quiet=True, format="word2vec-binary", dtype=dtype, block_size=block_size, threads=threads,
                       min_piece=1)
    assert_same(v, words, ref)


def test_binary_chunk_sizes_and_every_split(tmp_path):
    rng = np.random.default_rng(3)
    ws = ["the", "of", "日本語", "x" * 300, "a"]
    matrix = rng.normal(size=(5, 7)).astype(np.float32)
    raw = make_binary(ws, matrix)
    path = tmp_path / "v.bin"
    path.write_bytes(raw)
    words, ref = reference_binary(raw)
    for block_size in [5, 16, 1024] + list(range(1, len(raw) + 2)):
        # 3 threads: the plain file is read by parallel pread() chunks
        for threads in (1, 3) if block_size % 4 == 0 else (1,):
            v = load_tuned(path, block_size=block_size, threads=threads, min_piece=1)
            assert_same(v, words, ref)
    v = load_tuned(path, limit=2, block_size=5)
    assert_same(v, words[:2], ref[:2])


def test_binary_without_newlines_and_leading_newlines(tmp_path):
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    raw = make_binary(["a", "b", "c"], matrix, newline=False)
    path = tmp_path / "v.bin"
    path.write_bytes(raw)
    assert_same(embload.load(path), ["a", "b", "c"], matrix)
    raw = b"2 2\n\n\na " + matrix[0].tobytes() + b"\n\nb " + matrix[1].tobytes() + b"\n"
    path.write_bytes(raw)
    assert_same(embload.load(path), ["a", "b"], matrix[:2])


# --- errors, with the text a person reads --------------------------------------

def write(tmp_path, data, name="v.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_error_not_a_number(tmp_path):
    path = write(tmp_path, b"2 3\nthe 1 2 3\nof 1 x2 3\n")
    for threads in (1, 2):
        with pytest.raises(EmbeddingFormatError) as info:
            load_tuned(path, threads=threads, min_piece=1)
        assert str(info.value) == f"{path}, line 3: value 2 of 3 is not a number: 'x2'"
        assert info.value.line == 3


def test_error_number_with_junk(tmp_path):
    path = write(tmp_path, b"the 1 2 3\nof 1 2 3.5abc\n")
    with pytest.raises(EmbeddingFormatError, match=r"line 2: value 3 of 3 is not a number: '3.5abc'"):
        embload.load(path)


def test_error_too_few_fields(tmp_path):
    path = write(tmp_path, b"the 1 2 3\nof 1 2\nand 1 2 3\n")
    with pytest.raises(EmbeddingFormatError) as info:
        embload.load(path)
    assert str(info.value) == f"{path}, line 2: expected a word and 3 numbers, found 3 fields: 'of 1 2'"


def test_error_no_word(tmp_path):
    path = write(tmp_path, b"the 1 2\n 3 4\n")
    with pytest.raises(EmbeddingFormatError, match=r"line 2: expected a word and 2 numbers, found 2 fields"):
        embload.load(path)


def test_error_first_in_file_wins_with_threads(tmp_path):
    good = make_text(2000, 4)
    bad1 = b"bad1 1 2 zz 4\n"
    bad2 = b"bad2 1 2\n"
    data = good + bad1 + good.replace(b"w", b"v") + bad2
    path = write(tmp_path, data)
    for threads in (1, 2, 4):
        with pytest.raises(EmbeddingFormatError) as info:
            load_tuned(path, threads=threads, min_piece=1)
        assert info.value.line == 2001
        assert "value 3 of 4 is not a number: 'zz'" in str(info.value)


def test_error_truncated_last_line(tmp_path):
    path = write(tmp_path, b"2 3\nthe 1 2 3\nof 1 2")
    with pytest.raises(EmbeddingFormatError) as info:
        embload.load(path)
    assert str(info.value) == (f"{path}, line 3: file ends early (truncated download?): expected a word "
                               f"and 3 numbers, found 3 fields: 'of 1 2'")
    path = write(tmp_path, b"2 3\nthe 1 2 3\nof 1 2 -")
    with pytest.raises(EmbeddingFormatError, match=r"line 3: file ends early \(truncated download\?\): "
                                                   r"value 3 of 3 is not a number: '-'"):
        embload.load(path)


def test_error_binary_truncated(tmp_path):
    matrix = np.ones((3, 4), dtype=np.float32)
    raw = make_binary(["a", "b", "c"], matrix)
    path = write(tmp_path, raw[:-7], "v.bin")
    with pytest.raises(EmbeddingFormatError) as info:
        embload.load(path)
    assert str(info.value) == (f"{path}, record 3: file ends early (truncated download?): record 3 of 3 is "
                               f"incomplete (10 of the 16 vector bytes present): 'c'")
    assert info.value.record == 3
    path = write(tmp_path, raw[:raw.index(b"c ") + 1], "v.bin")
    with pytest.raises(EmbeddingFormatError, match=r"record 3 of 3 is incomplete \(no space after the word\): 'c'"):
        embload.load(path)


def test_error_invalid_utf8(tmp_path):
    path = write(tmp_path, b"2 2\nthe 1 2\nca\xffe 3 4\n")
    with pytest.raises(EmbeddingFormatError) as info:
        embload.load(path)
    assert str(info.value).startswith(f"{path}, line 3: word is not valid UTF-8 (invalid start byte at byte 2); "
                                      f"pass errors='replace' or errors='ignore' to load it anyway: ")
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    assert embload.load(path, errors="replace").words == ["the", "ca\ufffde"]
    assert embload.load(path, errors="ignore").words == ["the", "cae"]


def test_compact_rows_validates():
    m = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = _parse.compact_rows(m, np.array([0, 2, 3], dtype=np.int64))
    assert out.tolist() == [[0, 1, 2], [6, 7, 8], [9, 10, 11]]
    with pytest.raises(ValueError):
        _parse.compact_rows(np.zeros((3, 2), np.float32), np.array([1, 0], dtype=np.int64))
    with pytest.raises(ValueError):
        _parse.compact_rows(np.zeros((3, 2), np.float32), np.array([5], dtype=np.int64))


# --- fuzz: damaged files give Vectors or EmbeddingFormatError, nothing else ----

_FUZZ_TEXT = b"3 4\nthe 0.1 -0.2 3e-4 .5\nof 1 2 3 4\nNew York 1 2 3 4\n"
_FUZZ_BINARY = make_binary(["the", "of", "日本"], np.arange(12, dtype=np.float32).reshape(3, 4))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([_FUZZ_TEXT, _FUZZ_TEXT[4:], _FUZZ_BINARY]),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255), st.sampled_from(["set", "del", "ins"])),
                min_size=1, max_size=4),
       st.sampled_from([(3, 1), (40, 2), (1 << 20, 2)]))
def test_fuzz_mutations(tmp_path_factory, base, edits, blocks_threads):
    block_size, threads = blocks_threads
    data = bytearray(base)
    for pos, byte, kind in edits:
        pos = pos % (len(data) + 1)
        if kind == "ins" or pos == len(data):
            data[pos:pos] = bytes([byte])
        elif kind == "set":
            data[pos] = byte
        else:
            del data[pos]
    path = tmp_path_factory.mktemp("f") / "v"
    path.write_bytes(bytes(data))
    try:
        v = load_tuned(path, quiet=True, block_size=block_size, threads=threads, min_piece=1)
    except EmbeddingFormatError:
        return
    assert isinstance(v, embload.Vectors)
    assert v.vectors.shape == (len(v.words), v.dim)


def test_huge_header_count_does_not_allocate_it(tmp_path):
    """A lying or damaged header must not make the reader allocate terabytes."""
    path = write(tmp_path, b"1000000000000 3\nthe 1 2 3\n", "h.vec")
    with pytest.warns(UserWarning, match=r"announces 1000000000000 vectors but the file holds 1"):
        v = embload.load(path)
    assert v.words == ["the"]
    m = np.ones((1, 3), np.float32)
    path = write(tmp_path, make_binary(["the"], m, header=b"1000000000000 3\n"), "h.bin")
    with pytest.warns(UserWarning, match=r"announces 1000000000000 vectors but the file holds 1"):
        v = embload.load(path)
    assert v.words == ["the"]


def test_binary_long_word(tmp_path):
    word = "ü" * 40000  # 80,000 bytes
    m = np.arange(4, dtype=np.float32).reshape(2, 2)
    path = write(tmp_path, make_binary([word, "b"], m), "w.bin")
    for block_size in (1000, 1 << 20):
        v = load_tuned(path, block_size=block_size)
        assert_same(v, [word, "b"], m)


def test_binary_word_with_inner_newline_and_bad_bytes(tmp_path):
    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    raw = b"3 2\n" + b"a\nb " + m[0].tobytes() + b"\n\xffx " + m[1].tobytes() + b"\nc " + m[2].tobytes()
    path = write(tmp_path, raw, "n.bin")
    with pytest.raises(EmbeddingFormatError, match=r"record 2: word is not valid UTF-8"):
        embload.load(path)
    v = embload.load(path, errors="surrogateescape")
    assert v.words == ["a\nb", "\udcffx", "c"]
    assert_same(v, v.words, m)


@pytest.mark.parametrize("dtype", ["float32", "float64"])  # in place / through the read buffer
def test_binary_trailing_data_one_check(tmp_path, dtype):
    """After the records the header announces, blanks (however many) are no data and
    anything else is: the one trailing-data check, the same on both binary paths, also
    when the data starts past the first block and past a 64 KiB read."""
    m = np.arange(8, dtype=np.float32).reshape(2, 4)
    raw = make_binary(["a", "b"], m)
    for tail, warns in ((b"", False), (b"\n \r\t" * 30_000, False), (b"\n" * 70_000 + b"x", True),
                        (b" junk", True)):
        path = write(tmp_path, raw + tail, "t.bin")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            v = load_tuned(path, dtype=dtype, block_size=64)
        assert v.words == ["a", "b"] and np.array_equal(v.vectors, m.astype(dtype))
        said = [str(w.message) for w in caught if "records announced" in str(w.message)]
        assert said == ([f"{path}: data after the 2 records announced by the header was ignored"]
                        if warns else [])
