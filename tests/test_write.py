"""embload.save (embload/write.py, embload/_write.pyx) against independent references:
gensim's reader and writer, a pure-Python byte-for-byte writer, and embload.load."""

import bz2
import gzip
import lzma
import os
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import embload
from conftest import Optional
from embload import _atomic, write
from embload.vectors import Vectors

KeyedVectors = Optional("gensim.models", "KeyedVectors")

FORMATS = ["glove", "word2vec", "word2vec-binary"]


def sample(n=50, dim=7, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n - 3)] + ["ünï", "日本", "a,b"]
    m = rng.standard_normal((n, dim)) * 10.0 ** rng.integers(-8, 5, (n, 1))
    m[0, 0] = -0.0
    m[1, :3] = [1e-45, 3.4028235e38, -1.1754944e-38]
    return Vectors(words, m.astype(dtype))


def reference_bytes(words, matrix, fmt):
    """The expected file, written in pure Python (str(np.float32) is NumPy's shortest repr)."""
    out = []
    if fmt != "glove":
        out.append(f"{len(words)} {matrix.shape[1]}\n".encode())
    for w, row in zip(words, matrix):
        if fmt == "word2vec-binary":
            out.append(w.encode() + b" " + row.astype("<f4").tobytes() + b"\n")
        else:
            vals = " ".join(str(np.float32(v)) for v in row.astype(np.float32))
            out.append(f"{w} {vals}\n".encode())
    return b"".join(out)


def gensim_load(path, fmt):
    return KeyedVectors.load_word2vec_format(path, binary=fmt == "word2vec-binary", no_header=fmt == "glove")


# --- exact bytes and round trips -------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_bytes_equal_pure_python_reference(tmp_path, fmt):
    v = sample()
    path = tmp_path / "out"
    embload.save(v, path, format=fmt)
    assert path.read_bytes() == reference_bytes(v.words, v.vectors, fmt)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=st.floats(width=32, allow_nan=False)))
def test_text_matches_reference_hypothesis(tmp_path_factory, m):
    path = tmp_path_factory.mktemp("h") / "h.txt"
    words = [f"w{i}" for i in range(m.shape[0])]
    embload.save((words, m), path, format="glove", threads=2)
    assert path.read_bytes() == reference_bytes(words, m, "glove")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
def test_gensim_reads_what_we_write(tmp_path, fmt, suffix):
    v = sample(n=200, dim=13)
    path = tmp_path / (("x.bin" if fmt == "word2vec-binary" else "x.txt") + suffix)
    embload.save(v, path, format=fmt)
    kv = gensim_load(str(path), fmt)
    assert kv.index_to_key == v.words
    assert kv.vectors.dtype == np.float32
    assert kv.vectors.tobytes() == v.vectors.tobytes()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz", ".zip"])
def test_round_trip_through_embload_load(tmp_path, fmt, suffix):
    v = sample(n=120, dim=9, seed=3)
    path = tmp_path / ("v.bin" if fmt == "word2vec-binary" else "v.txt")
    path = str(path) + suffix
    embload.save(v, path, format=fmt)
    back = embload.load(path, format=fmt, progress=False)
    assert back.words == v.words
    assert back.vectors.tobytes() == v.vectors.tobytes()


def test_compression_is_real(tmp_path):
    v = sample()
    plain = reference_bytes(v.words, v.vectors, "word2vec")
    for suffix, opener in [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)]:
        p = tmp_path / f"a.vec{suffix}"
        embload.save(v, p)
        with opener(p, "rb") as f:
            assert f.read() == plain
    p = tmp_path / "a.vec.zip"
    embload.save(v, p)
    with zipfile.ZipFile(p) as z:
        assert z.namelist() == ["a.vec"]
        assert z.read("a.vec") == plain


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("fmt", ["glove", "word2vec"])
def test_other_dtypes_round_trip_text(tmp_path, dtype, fmt):
    v = sample(dtype=np.float64)
    with np.errstate(over="ignore"):
        v = Vectors(v.words, v.vectors.astype(dtype))
    path = tmp_path / "d.txt"
    embload.save(v, path, format=fmt)
    same = embload.load(path, format=fmt, dtype=np.dtype(dtype).name, progress=False)
    assert same.vectors.tobytes() == v.vectors.tobytes()
    # read as float32: the cast of the written value, as NumPy casts the matrix
    as32 = embload.load(path, format=fmt, progress=False)
    with np.errstate(over="ignore"):
        assert as32.vectors.tobytes() == v.vectors.astype(np.float32).tobytes()


def test_float64_binary_rounds_to_float32(tmp_path):
    v = sample(dtype=np.float64)
    path = tmp_path / "d.bin"
    with np.errstate(over="ignore"):
        embload.save(v, path)
        kv = gensim_load(str(path), "word2vec-binary")
        assert kv.vectors.tobytes() == v.vectors.astype(np.float32).tobytes()


# --- against gensim's writer -------------------------------------------------------

def test_text_equals_gensim_writer_value_by_value_and_is_not_longer(tmp_path):
    v = sample(n=300, dim=25, seed=7)
    kv = KeyedVectors(v.dim)
    kv.add_vectors(v.words, v.vectors)
    theirs, ours = tmp_path / "g.txt", tmp_path / "e.txt"
    kv.save_word2vec_format(str(theirs), binary=False)
    embload.save(v, ours, format="word2vec")
    t_lines = theirs.read_bytes().split(b"\n")
    o_lines = ours.read_bytes().split(b"\n")
    assert t_lines[0] == o_lines[0]
    for tl, ol in zip(t_lines[1:], o_lines[1:]):
        tf, of = tl.split(b" "), ol.split(b" ")
        assert tf[0] == of[0]
        assert [np.float32(float(x)) for x in tf[1:]] == [np.float32(float(x)) for x in of[1:]]
        assert all(len(o) <= len(t) for o, t in zip(of[1:], tf[1:]))
    assert ours.stat().st_size <= theirs.stat().st_size
    # float32 text uses NumPy's spelling, as gensim does: the files are identical
    assert ours.read_bytes() == theirs.read_bytes()


def test_binary_equals_gensim_writer_plus_record_newlines(tmp_path):
    # gensim 4 omits the C tool's newline after each record; otherwise the bytes agree
    v = sample(n=40, dim=5)
    kv = KeyedVectors(v.dim)
    kv.add_vectors(v.words, v.vectors)
    theirs, ours = tmp_path / "g.bin", tmp_path / "e.bin"
    kv.save_word2vec_format(str(theirs), binary=True)
    embload.save(v, ours)
    expected = bytearray(f"{len(v)} {v.dim}\n".encode())
    for w, row in zip(v.words, v.vectors):
        expected += w.encode() + b" " + row.tobytes() + b"\n"
    assert ours.read_bytes() == bytes(expected)
    stripped = bytearray(f"{len(v)} {v.dim}\n".encode())
    for w, row in zip(v.words, v.vectors):
        stripped += w.encode() + b" " + row.tobytes()
    assert theirs.read_bytes() == bytes(stripped)


# --- the same bytes whatever the threads and blocks --------------------------------

def test_threads_and_blocks_do_not_change_bytes(tmp_path, monkeypatch):
    v = sample(n=201, dim=11, seed=9)
    want = reference_bytes(v.words, v.vectors, "word2vec")
    for block, thread_counts in ((1, (3,)), (997, (1, 2, 8)), (10_000, (2, 3)), (write.BLOCK_BYTES, (1, 2))):
        monkeypatch.setattr(write, "BLOCK_BYTES", block)
        for threads in thread_counts:
            p = tmp_path / f"t{block}_{threads}.vec"
            embload.save(v, p, threads=threads)
            assert p.read_bytes() == want, (block, threads)


def test_long_words_and_words_with_spaces_in_text(tmp_path):
    words = ["x" * 70_000, "new york", "tab\there", "é" * 10]
    m = np.arange(8, dtype=np.float32).reshape(4, 2)
    p = tmp_path / "long.txt"
    embload.save((words, m), p, format="glove")
    assert p.read_bytes() == reference_bytes(words, m, "glove")
    back = embload.load(p, format="glove", progress=False)
    assert back.words == words and back.vectors.tobytes() == m.tobytes()


def test_empty_matrix(tmp_path):
    p = tmp_path / "e.vec"
    embload.save(([], np.zeros((0, 300), np.float32)), p)
    assert p.read_bytes() == b"0 300\n"


def test_header_switch(tmp_path):
    v = sample()
    embload.save(v, tmp_path / "a.txt", format="glove", header=True)
    embload.save(v, tmp_path / "b.txt", format="word2vec")
    embload.save(v, tmp_path / "c.txt", format="word2vec", header=False)
    embload.save(v, tmp_path / "d.txt", format="glove")
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()
    assert (tmp_path / "c.txt").read_bytes() == (tmp_path / "d.txt").read_bytes()
    with pytest.raises(ValueError, match="always has a header"):
        embload.save(v, tmp_path / "e.bin", header=False)


# --- format choice and word checks -------------------------------------------------

def test_format_from_suffix(tmp_path):
    v = sample()
    embload.save(v, tmp_path / "a.bin")
    embload.save(v, tmp_path / "a.vec.gz")
    assert (tmp_path / "a.bin").read_bytes() == reference_bytes(v.words, v.vectors, "word2vec-binary")
    with gzip.open(tmp_path / "a.vec.gz") as f:
        assert f.read() == reference_bytes(v.words, v.vectors, "word2vec")
    with pytest.raises(ValueError, match=r"cannot tell the format from the name .*a\.dat.*pass format="):
        embload.save(v, tmp_path / "a.dat")
    with pytest.raises(ValueError, match="format must be one of"):
        embload.save(v, tmp_path / "a.dat", format="fasttext-bin")
    assert not (tmp_path / "a.dat").exists()
    embload.save(v, tmp_path / "a.txt")   # GloVe's own spelling
    assert (tmp_path / "a.txt").read_bytes() == reference_bytes(v.words, v.vectors, "glove")


@pytest.mark.parametrize("fmt,word,what", [
    ("glove", "bad\nword", "a newline"),
    ("word2vec", "bad\rword", "a carriage return"),
    ("word2vec-binary", "two words", "a space"),
    ("word2vec-binary", "nl\n", "a newline"),
])
def test_unwritable_words_raise_before_writing(tmp_path, fmt, word, what):
    v = sample()
    words = list(v.words)
    words[17] = word
    path = tmp_path / "old.txt"
    path.write_bytes(b"previous content")
    with pytest.raises(ValueError) as info:
        embload.save((words, v.vectors), path, format=fmt)
    msg = str(info.value)
    assert repr(word) in msg and "row 17" in msg and what in msg and fmt in msg
    assert path.read_bytes() == b"previous content"
    assert os.listdir(tmp_path) == ["old.txt"]


def test_empty_and_leading_space_words_rejected(tmp_path):
    m = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="row 1 is empty"):
        embload.save((["a", ""], m), tmp_path / "x.vec")
    with pytest.raises(ValueError, match=r"' lead' at row 0 starts with whitespace"):
        embload.save(([" lead", "b"], m), tmp_path / "x.vec")
    with pytest.raises(TypeError, match="word at row 1 is int"):
        embload.save((["a", 5], m), tmp_path / "x.vec")
    assert os.listdir(tmp_path) == []


# --- atomicity -----------------------------------------------------------------------

@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize("suffix", [".vec", ".vec.gz", ".vec.zip"])
def test_interrupted_write_leaves_old_file(tmp_path, monkeypatch, exc, suffix):
    v = sample(n=150, dim=20)
    path = tmp_path / f"target{suffix}"
    path.write_bytes(b"old vectors")
    calls = []

    def boom(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise exc("stop")

    monkeypatch.setattr(write, "BLOCK_BYTES", 2000)
    monkeypatch.setattr(write, "_after_block", boom)
    with pytest.raises(exc):
        embload.save(v, path)
    assert len(calls) == 2 and calls[-1] < len(v)
    assert path.read_bytes() == b"old vectors"
    assert os.listdir(tmp_path) == [path.name]   # no temporary file left behind
    # and a later write works and replaces it
    monkeypatch.setattr(write, "_after_block", None)
    monkeypatch.undo()
    embload.save(v, path)
    assert embload.load(path, progress=False).vectors.tobytes() == v.vectors.tobytes()


def test_new_file_gets_normal_permissions(tmp_path):
    p = tmp_path / "perm.vec"
    embload.save(sample(), p)
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~mask)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        embload.save(sample(), tmp_path / "nope" / "x.vec")


def test_vectors_save_method_and_gensim_input(tmp_path):
    v = sample()
    v.save(tmp_path / "m.bin")
    kv = gensim_load(str(tmp_path / "m.bin"), "word2vec-binary")
    embload.save(kv, tmp_path / "k.bin")   # a gensim KeyedVectors is accepted as input
    assert (tmp_path / "m.bin").read_bytes() == (tmp_path / "k.bin").read_bytes()


def test_embload_format_delegates_to_cache(tmp_path):
    v = sample()
    embload.save(v, tmp_path / "c.embload")
    from embload.cache import open_cache

    back = open_cache(str(tmp_path / "c.embload"))
    assert back.words == v.words
    assert np.asarray(back.vectors).tobytes() == v.vectors.tobytes()


def test_integer_matrix_written_as_float32(tmp_path):
    words = ["a", "b"]
    m = np.array([[1, 2], [3, -4]], dtype=np.int64)
    embload.save((words, m), tmp_path / "i.vec")
    assert (tmp_path / "i.vec").read_bytes() == b"2 2\na 1.0 2.0\nb 3.0 -4.0\n"


def test_binary_record_layout(tmp_path):
    p = tmp_path / "r.bin"
    embload.save((["ab"], np.array([[1.5, -2.0]], np.float32)), p)
    assert p.read_bytes() == b"1 2\nab " + struct.pack("<ff", 1.5, -2.0) + b"\n"


def test_float16_binary_widens_exactly(tmp_path):
    v = sample(dtype=np.float64)
    with np.errstate(over="ignore"):
        v = Vectors(v.words, v.vectors.astype(np.float16))
    path = tmp_path / "h.bin"
    embload.save(v, path)
    kv = gensim_load(str(path), "word2vec-binary")
    assert kv.vectors.tobytes() == v.vectors.astype(np.float32).tobytes()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dim_zero_keeps_whole_words(tmp_path, dtype):
    # a row of no values is the word alone; the separator logic once ate its last letter
    m = np.zeros((2, 0), dtype)
    embload.save((["ab", "cd"], m), tmp_path / "z.txt", format="glove")
    assert (tmp_path / "z.txt").read_bytes() == b"ab\ncd\n"
    embload.save((["ab", "cd"], m), tmp_path / "z.bin")
    assert (tmp_path / "z.bin").read_bytes() == b"2 0\nab \ncd \n"


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_big_endian_matrix_keeps_its_precision(tmp_path, dtype):
    # a byte-swapped float64 was once taken for "not a float dtype" and written as float32
    native = np.array([[0.1, 1 / 3, -2.5e-7]], dtype=dtype)
    swapped = native.astype(native.dtype.newbyteorder(">" if native.dtype.byteorder != ">" else "<"))
    for name, fmt in [("n.txt", "glove"), ("s.txt", "glove"), ("n.bin", None), ("s.bin", None)]:
        embload.save((["a"], native if name[0] == "n" else swapped), tmp_path / name, format=fmt)
    assert (tmp_path / "s.txt").read_bytes() == (tmp_path / "n.txt").read_bytes()
    assert (tmp_path / "s.bin").read_bytes() == (tmp_path / "n.bin").read_bytes()
    assert (tmp_path / "n.txt").read_text().split()[1:] == [repr(float(x)) if dtype == "float64"
                                                          else str(np.float32(x)) for x in native[0]]


def test_words_that_are_not_utf8(tmp_path):
    # surrogate escapes (how the loaders keep bytes that are not UTF-8) go back to those bytes
    p = tmp_path / "esc.txt"
    embload.save((["a\udcff", "b"], np.ones((2, 1), np.float32)), p, format="glove")
    assert p.read_bytes() == b"a\xff 1.0\nb 1.0\n"
    back = embload.load(p, format="glove", errors="surrogateescape", progress=False)
    assert back.words == ["a\udcff", "b"]
    # any other lone surrogate has no bytes at all: refused, naming the row, nothing written
    q = tmp_path / "bad.txt"
    with pytest.raises(ValueError, match="row 1 cannot be written as UTF-8"):
        embload.save((["a", "b\ud800"], np.ones((2, 1), np.float32)), q, format="glove")
    assert list(tmp_path.iterdir()) == [p]


def test_target_that_is_a_folder(tmp_path):
    (tmp_path / "out.vec").mkdir()
    with pytest.raises(IsADirectoryError):
        embload.save(sample(), tmp_path / "out.vec")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.vec"]
    assert list((tmp_path / "out.vec").iterdir()) == []


# --- the fast float32 formatter, and the words' arena --------------------------------

def _mixed_values(seed=3):
    """GloVe-like values with 0..8 decimals (so the formatter's decimal-places hint moves
    up and down along a row), and the edges of its fast path."""
    rng = np.random.default_rng(seed)
    cols = [np.round(rng.standard_normal(120) * 10.0 ** rng.integers(-3, 4), int(rng.integers(0, 9)))
            for _ in range(40)]
    m = np.stack(cols, axis=1).astype(np.float32)
    f = np.float32
    edges = [1e-4, 1e6, 0.1, 1.0, 10.0, 100.0, 123456.0, 999999.94, 2.197265625, 0.0031738281,
             0.5, 0.25, 3.0, 0.3, 0.7, 9.999999e-5, 1.0000001e-4, 99999.99, 1e5, 0.12345678]
    vals = []
    for e in edges:
        x = f(e)
        vals += [x, np.nextafter(x, f(0)), np.nextafter(x, f(np.inf)), -x]
    bits = rng.integers(0x38d00000, 0x49800000, 400, dtype=np.int64).astype(np.uint32).view(np.float32)
    extra = np.concatenate([np.array(vals, np.float32), bits])
    extra = np.resize(extra, (len(extra) + 39) // 40 * 40).reshape(-1, 40)
    return np.vstack([m, extra])


@pytest.mark.parametrize("threads", [1, 3])
def test_fast_formatter_cases_match_numpy(tmp_path, threads):
    m = _mixed_values()
    words = [f"w{i}" for i in range(m.shape[0])]
    p = tmp_path / "mixed.txt"
    embload.save((words, m), p, format="glove", threads=threads)
    assert p.read_bytes() == reference_bytes(words, m, "glove")
    # and as float16 rows (formatted as the float32 they widen to)
    h = np.clip(m, -6e4, 6e4).astype(np.float16)
    embload.save((words, h), p, format="glove", threads=threads)
    assert p.read_bytes() == reference_bytes(words, h.astype(np.float32), "glove")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("n", [1, 2, 5, 7, 31])
def test_rows_that_do_not_divide_between_threads_and_long_words(tmp_path, monkeypatch, fmt, n):
    rng = np.random.default_rng(n)
    words = [f"w{i}" for i in range(n)]
    words[n // 2] = "y" * 70_000                       # a word longer than a whole block
    words[-1] = "ü" * (n * 3)
    m = np.round(rng.standard_normal((n, 13)), 4).astype(np.float32)
    want = reference_bytes(words, m, fmt)
    for block in (1, 5000, 80_000):
        monkeypatch.setattr(write, "BLOCK_BYTES", block)
        for threads in (1, 2, 3, 4):
            p = tmp_path / f"r{block}_{threads}"
            embload.save((words, m), p, format=fmt, threads=threads)
            assert p.read_bytes() == want, (block, threads)


class ArenaWords:
    """A stand-in for a loaded file's words: str on indexing, UTF-8 bytes in one arena
    (separator bytes chosen by the test, trailing bytes that belong to no word)."""

    def __init__(self, words, sep=b"\0", errors="strict"):
        self._words = list(words)
        self.errors = errors
        encoded = [w.encode("utf-8", "surrogatepass") for w in self._words]
        self._arena = b"".join(e + sep for e in encoded) + b"tail bytes of no word"
        self._offsets = np.concatenate([[0], np.cumsum([len(e) + 1 for e in encoded])]).astype(np.int64)
        self.arena_calls = 0

    def utf8_arena(self):
        self.arena_calls += 1
        return self._arena, self._offsets, False

    def __len__(self):
        return len(self._words)

    def __getitem__(self, i):
        return self._words[i]

    def __iter__(self):
        return iter(self._words)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sep", [b"\0", b"\n", b" "])
def test_words_from_an_arena_give_the_same_bytes(tmp_path, fmt, sep):
    v = sample(n=60)
    words = list(v.words) + ["y" * 70_000]
    m = np.vstack([v.vectors, np.ones((1, v.dim), np.float32)])
    arena = ArenaWords(words, sep)
    p, q = tmp_path / "arena", tmp_path / "list"
    embload.save((arena, m), p, format=fmt, threads=2)
    embload.save((words, m), q, format=fmt, threads=2)
    assert arena.arena_calls == 1
    assert p.read_bytes() == q.read_bytes() == reference_bytes(words, m, fmt)


@pytest.mark.parametrize("fmt,word,what", [
    ("glove", "bad\nword", "contains a newline"),
    ("word2vec", "bad\rword", "contains a carriage return"),
    ("word2vec-binary", "two words", "contains a space"),
    ("glove", "", "is empty"),
    ("word2vec-binary", "", "is empty"),
    ("word2vec", "\u3000lead", "starts with whitespace"),
    ("glove", "\x85nel", "starts with whitespace"),
    ("glove", "tail ", "ends with whitespace"),
    ("word2vec", "\u0440\u0443\u0441\t", "ends with whitespace"),
    ("glove", "tail\u3000", "ends with whitespace"),
    ("word2vec", "nbsp\xa0", "ends with whitespace"),
])
def test_arena_words_checked_like_str_words(tmp_path, fmt, word, what):
    words = [f"w{i}" for i in range(30)]
    words[17] = word
    m = np.zeros((30, 2), np.float32)
    with pytest.raises(ValueError) as from_list:
        embload.save((words, m), tmp_path / "a", format=fmt)
    with pytest.raises(ValueError) as from_arena:
        embload.save((ArenaWords(words), m), tmp_path / "b", format=fmt)
    assert str(from_arena.value) == str(from_list.value)
    assert "row 17" in str(from_list.value) and what in str(from_list.value)
    assert os.listdir(tmp_path) == []


def test_compressed_cache_name_is_not_a_format(tmp_path):
    # a cache is a folder: "x.embload.zip" once became an uncompressed folder of that name
    # (only .zip was stripped before guessing), while "x.embload.gz" was refused
    v = (["a"], np.ones((1, 2), np.float32))
    for name in ("x.embload.zip", "x.embload.gz"):
        with pytest.raises(ValueError, match="cannot tell the format"):
            embload.save(v, tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_trailing_whitespace_rejected_in_text_only(tmp_path):
    # text readers strip it: "tail " was written and read back as "tail"
    m = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r"'tail\\t' at row 1 ends with whitespace"):
        embload.save((["a", "tail\t"], m), tmp_path / "x.vec")
    assert os.listdir(tmp_path) == []
    embload.save((["a", "tail\t"], m), tmp_path / "x.bin")   # the binary format keeps it
    assert list(embload.load(tmp_path / "x.bin", progress=False).words) == ["a", "tail\t"]


def test_words_ending_in_whitespace_like_bytes_are_written(tmp_path):
    # last bytes shared with multi-byte whitespace (0x80-0x8a, 0xa0: Cyrillic, CJK)
    words = ["\u0440\u0443\u0441", "\u4e00\u4f1a", "x\u3001", "caf\xe9", "\u0440"]
    m = np.ones((5, 1), np.float32)
    for make in (list, ArenaWords):
        embload.save((make(words), m), tmp_path / "a.vec")
        assert (tmp_path / "a.vec").read_bytes() == reference_bytes(words, m, "word2vec")


def test_arena_words_that_only_look_like_whitespace_are_written(tmp_path):
    # first bytes shared with whitespace characters ("\xc2" of NEL, "\xe3" of U+3000)
    words = ["\xc2ab", "\u3001x", "ok"]
    m = np.ones((3, 1), np.float32)
    embload.save((ArenaWords(words), m), tmp_path / "a.vec")
    assert (tmp_path / "a.vec").read_bytes() == reference_bytes(words, m, "word2vec")


def test_arena_with_other_errors_handler_is_encoded_again(tmp_path):
    # an arena holding lone surrogates as their UTF-8 forms ("surrogatepass") is not the
    # bytes we write for them (surrogateescape: the original byte), so it is not used
    words = ["a\udcff", "b"]
    arena = ArenaWords(words, errors="surrogatepass")
    embload.save((arena, np.ones((2, 1), np.float32)), tmp_path / "s.txt", format="glove")
    assert arena.arena_calls == 0
    assert (tmp_path / "s.txt").read_bytes() == b"a\xff 1.0\nb 1.0\n"


def test_arena_offsets_that_do_not_fit_are_refused(tmp_path):
    arena = ArenaWords(["ab", "cd"])
    arena._offsets = np.array([0, 3, 400], np.int64)
    with pytest.raises(ValueError, match="arena and offsets do not match"):
        embload.save((arena, np.ones((2, 1), np.float32)), tmp_path / "x.vec")
    assert os.listdir(tmp_path) == []


def test_loaded_words_written_back_unchanged(tmp_path):
    v = sample(n=80)
    src = tmp_path / "src.vec"
    embload.save(v, src)
    back = embload.load(src, progress=False)
    for fmt, name in (("word2vec", "again.vec"), ("word2vec-binary", "again.bin")):
        embload.save(back, tmp_path / name, format=fmt)
        assert (tmp_path / name).read_bytes() == reference_bytes(list(v.words), v.vectors, fmt)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_replaced_file_released_in_background(tmp_path, monkeypatch):
    import threading

    def open_deleted():
        found = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith(str(tmp_path)) and target.endswith("(deleted)"):
                found.append(target)
        return found

    monkeypatch.setattr(_atomic, "RELEASE_IN_BACKGROUND_BYTES", 1)
    v = sample()
    p = tmp_path / "a.vec"
    embload.save(v, p)
    first = p.read_bytes()
    embload.save((list(v.words), v.vectors * 2), p)
    for t in threading.enumerate():
        if t.name == "embload-release":
            t.join(5)
    assert p.read_bytes() == reference_bytes(list(v.words), v.vectors * 2, "word2vec") != first
    assert open_deleted() == []
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.vec"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_replacing_a_named_pipe_does_not_block(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "RELEASE_IN_BACKGROUND_BYTES", 0)
    p = tmp_path / "pipe.vec"
    os.mkfifo(p)
    embload.save(sample(), p)
    assert p.read_bytes() == reference_bytes(sample().words, sample().vectors, "word2vec")
