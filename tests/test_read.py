"""embload.load against gensim on the files gensim's own tests ship, and its options."""
import bz2
import gzip
import lzma
import os
import pathlib
import warnings
import zipfile

import numpy as np
import pytest

import embload
from conftest import RecordingBar, Optional, load_tuned
from embload import EmbeddingFormatError, LoadOptions

KeyedVectors = Optional("gensim.models", "KeyedVectors")
datapath = Optional("gensim.test.utils", "datapath")

# (file, format embload must detect, gensim arguments)
GENSIM_FILES = [
    ("test_glove.txt", "glove", dict(no_header=True)),
    ("toy-model.vec", "word2vec", {}),
    ("crime-and-punishment.vec", "word2vec", {}),
    ("lee_fasttext.vec", "word2vec", {}),
    ("high_precision.kv.txt", "word2vec", {}),
    ("high_precision.kv.bin", "word2vec-binary", dict(binary=True)),
    ("euclidean_vectors.bin", "word2vec-binary", dict(binary=True)),
    ("toy-model.bin", None, None),  # listed below: fastText model, not vectors
]
GENSIM_VECTOR_FILES = [f for f in GENSIM_FILES if f[1] is not None]


def same(v, kv):
    assert v.words == list(kv.index_to_key)
    assert v.vectors.dtype == kv.vectors.dtype
    bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[kv.vectors.dtype.itemsize]
    assert np.array_equal(v.vectors.view(bits), kv.vectors.view(bits))


@pytest.mark.parametrize("name,fmt,kwargs", GENSIM_VECTOR_FILES)
def test_same_as_gensim(name, fmt, kwargs):
    path = datapath(name)
    assert embload.detect_format(path) == fmt
    v = embload.load(path)
    assert v.format == fmt
    same(v, KeyedVectors.load_word2vec_format(path, **kwargs))


@pytest.mark.parametrize("name,fmt,kwargs", GENSIM_VECTOR_FILES)
@pytest.mark.parametrize("limit", [1, 5])
def test_limit_same_as_gensim(name, fmt, kwargs, limit):
    path = datapath(name)
    same(embload.load(path, limit=limit), KeyedVectors.load_word2vec_format(path, limit=limit, **kwargs))


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("name,fmt,kwargs", GENSIM_VECTOR_FILES)
def test_dtype_same_as_gensim(name, fmt, kwargs, dtype):
    path = datapath(name)
    kv = KeyedVectors.load_word2vec_format(path, datatype=dtype, **kwargs)
    if kwargs.get("binary"):
        # gensim's binary reader casts float32 -> dtype; so does embload
        same(embload.load(path, dtype=dtype), kv)
    else:
        # gensim's text reader goes through dtype(token).item(); compare with float(token)
        v = embload.load(path, dtype=np.dtype(dtype).name)
        ref = embload.load(path, dtype="float64").vectors.astype(dtype)
        assert np.array_equal(v.vectors.view(np.uint8), ref.view(np.uint8))
        assert v.words == list(kv.index_to_key)


@pytest.mark.parametrize("errors", ["replace", "ignore"])
def test_invalid_utf8_file_same_as_gensim(errors):
    path = datapath("pang_lee_polarity_fasttext.vec")
    with pytest.raises(EmbeddingFormatError, match=r"line 150: word is not valid UTF-8"):
        embload.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = embload.load(path, errors=errors)
    kv = KeyedVectors.load_word2vec_format(path, unicode_errors=errors)
    same(v, kv)


def test_words_equal_after_replace_are_duplicates(tmp_path):
    # two different invalid words that "replace" makes equal: the first vector is kept
    path = tmp_path / "v.txt"
    path.write_bytes(b"a\xff 1 2\nb 3 4\na\xfe 5 6\n")
    with pytest.warns(UserWarning, match=r"1 duplicate word dropped.*'a\ufffd': line 3 repeats line 1"):
        v = embload.load(path, errors="replace")
    assert v.words == ["a\ufffd", "b"]
    assert v.key_to_index == {"a\ufffd": 0, "b": 1}
    assert v.vectors.tolist() == [[1, 2], [3, 4]]


def test_fasttext_model_loads_its_word_vectors():
    # a model gives what fastText writes to .vec (tests/test_fasttext.py checks the values)
    vectors = embload.load(datapath("crime-and-punishment.bin"))
    assert vectors.format == "fasttext-bin"
    assert vectors.words == embload.load(datapath("crime-and-punishment.vec")).words


def test_pathlike_and_threads_and_progress(tmp_path):
    path = pathlib.Path(datapath("lee_fasttext.vec"))
    a = embload.load(path, threads=1, progress=False)
    b = embload.load(str(path), threads=2, progress=True)
    assert a.words == b.words and np.array_equal(a.vectors, b.vectors)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        embload.load(3)


# --- compression ----------------------------------------------------------------

def compressed_copies(tmp_path, name):
    raw = pathlib.Path(datapath(name)).read_bytes()
    out = {}
    out["gzip"] = tmp_path / "a.gz"
    out["gzip"].write_bytes(gzip.compress(raw))
    out["bz2"] = tmp_path / "a.whatever"  # the name says nothing: bytes decide
    out["bz2"].write_bytes(bz2.compress(raw))
    out["xz"] = tmp_path / "a.xz"
    out["xz"].write_bytes(lzma.compress(raw))
    out["zip"] = tmp_path / "a.zip"
    with zipfile.ZipFile(out["zip"], "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner/" + name, raw)
    return out


@pytest.mark.parametrize("name", ["lee_fasttext.vec", "test_glove.txt", "euclidean_vectors.bin"])
def test_compressed_same_as_plain(tmp_path, name):
    plain = embload.load(datapath(name))
    for compression, path in compressed_copies(tmp_path, name).items():
        info = embload.formats.sniff(path)
        assert info.compression == compression
        for block_size in (4000, 1 << 25):
            v = load_tuned(path, block_size=block_size, min_piece=100)
            assert v.words == plain.words
            assert np.array_equal(v.vectors.view(np.uint32), plain.vectors.view(np.uint32))


def test_zip_members(tmp_path):
    raw = pathlib.Path(datapath("toy-model.vec")).read_bytes()
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("README", b"hello")
        z.writestr("vectors/toy.vec", raw)
    with pytest.raises(ValueError, match=r"zip archive holds 2 files \('README', 'vectors/toy.vec'\); "
                                         r"choose one with member="):
        embload.load(path)
    v = embload.load(path, member="vectors/toy.vec")
    same(v, KeyedVectors.load_word2vec_format(datapath("toy-model.vec")))
    with pytest.raises(ValueError, match=r"no member 'nope' in zip archive"):
        embload.load(path, member="nope")
    with pytest.raises(ValueError, match=r"member='x' is only for zip archives"):
        embload.load(datapath("toy-model.vec"), member="x")


def test_corrupt_gzip(tmp_path):
    raw = gzip.compress(pathlib.Path(datapath("lee_fasttext.vec")).read_bytes())
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(EmbeddingFormatError, match=r"cannot read gzip data \(EOFError: .*\); the file is damaged"):
        embload.load(path)


# --- what real files contain ------------------------------------------------------

def test_duplicates_keep_first_with_one_warning(tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes(b"a 1 2\nb 3 4\na 5 6\nc 7 8\nb 9 9\n")
    with pytest.warns(UserWarning) as record:
        v = embload.load(path)
    assert len(record) == 1
    assert str(record[0].message) == (f"{path}: 2 duplicate words dropped, keeping the first vector of each "
                                      f"(e.g. 'a': line 3 repeats line 1)")
    assert v.words == ["a", "b", "c"]
    assert v.vectors.tolist() == [[1, 2], [3, 4], [7, 8]]
    assert v.key_to_index == {"a": 0, "b": 1, "c": 2}


def test_header_count_too_high_warns(tmp_path):
    path = tmp_path / "h.vec"
    path.write_bytes(b"5 2\na 1 2\nb 3 4\n")
    with pytest.warns(UserWarning, match=r"the header announces 5 vectors but the file holds 2; loaded 2 "
                                         r"\(if the file was cut short the last lines are missing\)"):
        v = embload.load(path)
    assert v.words == ["a", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert embload.load(path, limit=2).words == ["a", "b"]


def test_header_count_too_low_loads_everything(tmp_path):
    path = tmp_path / "h.vec"
    path.write_bytes(b"1 2\na 1 2\nb 3 4\n")
    with pytest.warns(UserWarning, match=r"the header announces 1 vectors but the file holds 2"):
        v = embload.load(path)
    assert v.words == ["a", "b"]


def test_binary_header_count_lies(tmp_path):
    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    body = b"".join(w + b" " + r.tobytes() + b"\n" for w, r in zip([b"a", b"b", b"c"], m))
    path = tmp_path / "b.bin"
    path.write_bytes(b"5 2\n" + body)
    with pytest.warns(UserWarning, match=r"announces 5 vectors but the file holds 3; .*last records are missing"):
        assert embload.load(path).words == ["a", "b", "c"]
    path.write_bytes(b"2 2\n" + body)
    with pytest.warns(UserWarning, match=r"data after the 2 records announced by the header was ignored"):
        assert embload.load(path).words == ["a", "b"]


def test_crlf_bom_trailing_blanks_no_final_newline(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(b"\xef\xbb\xbfthe 0.5 -1 \r\n\r\n  \r\nNew York\t1e-3  2 \t\r\nlast 3 4")
    v = embload.load(path)
    assert v.words == ["the", "New York", "last"]
    assert v.vectors.tolist() == [[0.5, -1], [np.float32(1e-3), 2], [3, 4]]


def test_files_without_vectors_are_errors(tmp_path):
    # almost always a failed download: an error, not a 0 x 0 Vectors
    path = tmp_path / "e.txt"
    path.write_bytes(b"")
    with pytest.raises(EmbeddingFormatError, match=r"e.txt: the file is empty"):
        embload.load(path)
    with pytest.raises(EmbeddingFormatError, match=r"e.txt: the file is empty"):
        embload.load_aligned(path, {"a": 1})
    gz = tmp_path / "e.txt.gz"
    gz.write_bytes(gzip.compress(b""))
    with pytest.raises(EmbeddingFormatError, match=r"e.txt.gz: the file is empty"):
        embload.load(gz)
    path.write_bytes(b"\n \r\n\t\n")
    with pytest.raises(EmbeddingFormatError, match=r"no vectors in the file \(only blank lines\)"):
        embload.load(path)
    path.write_bytes(b"3 5\n")
    with pytest.raises(EmbeddingFormatError, match=r"no vectors after the header \(it announces 3\)"):
        embload.load(path)
    # an honest empty export: the header says 0
    path.write_bytes(b"0 5\n")
    v = embload.load(path)
    assert v.vectors.shape == (0, 5) and v.format == "word2vec"


def test_invalid_utf8_word_is_also_a_unicode_decode_error(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes(b"ok 1 2\nab\xffc 3 4\n")
    with pytest.raises(UnicodeDecodeError) as info:   # what code written for gensim catches
        embload.load(path)
    err = info.value
    assert isinstance(err, EmbeddingFormatError) and err.line == 2
    assert err.object == b"ab\xffc" and (err.start, err.end) == (2, 3) and err.encoding == "utf-8"
    assert str(err).startswith(f"{path}, line 2: word is not valid UTF-8 (invalid start byte at byte 2)")


def test_keywords_or_options_not_both(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"a 1 2\nb 3 4\n")
    v = embload.load(path, options=LoadOptions(dtype="float64", block_size=3, min_piece=1))
    assert v.vectors.dtype == np.float64 and v.words == ["a", "b"]
    with pytest.raises(TypeError, match="give either options= or the keywords dtype, threads, not both"):
        embload.load(path, dtype="float16", threads=2, options=LoadOptions())
    import inspect
    assert not [p for p in inspect.signature(embload.load).parameters if p.startswith("_")]


def test_limit_takes_numpy_integers(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"a 1 2\nb 3 4\n")
    assert embload.load(path, limit=np.int64(1)).words == ["a"]
    embload.save(embload.load(path), tmp_path / "c.embload")
    assert embload.load(tmp_path / "c.embload", limit=np.int64(1)).words == ["a"]


def test_forced_formats(tmp_path):
    glove = tmp_path / "g.txt"
    glove.write_bytes(b"a 1 2\nb 3 4\n")
    with pytest.raises(EmbeddingFormatError, match=r"format 'word2vec' needs a first line 'count dim'"):
        embload.load(glove, format="word2vec")
    vec = tmp_path / "v.vec"
    vec.write_bytes(b"2 2\na 1 2\nb 3 4\n")
    assert embload.load(vec, format="word2vec").words == ["a", "b"]
    with pytest.warns(UserWarning, match=r"reading as 'glove' although the first line looks like a word2vec header"):
        v = embload.load(vec, format="glove")
    assert v.words == ["2", "a 1", "b 3"]
    assert v.vectors.tolist() == [[2], [2], [4]]
    vec.write_bytes(b"\xef\xbb\xbf2 2\r\na 1 2\r\n")  # BOM and CRLF: the header line still gives dim 1
    with pytest.warns(UserWarning, match=r"reading as 'glove'"):
        v = embload.load(vec, format="glove")
    assert v.words == ["2", "a 1"] and v.vectors.tolist() == [[2], [2]]


def test_header_dim_zero(tmp_path):
    path = tmp_path / "z.vec"
    path.write_bytes(b"2 0\na\nb\n")
    with pytest.raises(EmbeddingFormatError, match=r"line 1: the header says dim 0"):
        embload.load(path)


@pytest.mark.parametrize("data", [b"1 999999999999\na 1 2\n", b"1 99999999999999999999999\n",
                                  b"2 3000000\n"])
def test_header_dim_larger_than_the_file(tmp_path, data):
    # was a MemoryError / OverflowError from allocating one row
    path = tmp_path / "h.vec"
    path.write_bytes(data)
    with pytest.raises(EmbeddingFormatError, match=r"line 1: the header says dim \d+, more values than"):
        embload.load(path)
    gz = tmp_path / "h.vec.gz"
    gz.write_bytes(gzip.compress(data))
    if int(data.split()[1]) > 1 << 24:
        with pytest.raises(EmbeddingFormatError, match=r"line 1: the header says dim"):
            embload.load(gz)


def test_header_count_past_c_range(tmp_path):
    # was an OverflowError for binary files
    vec = np.array([1, 2], "<f4").tobytes()
    path = tmp_path / "c.bin"
    path.write_bytes(b"99999999999999999999 2\na " + vec + b"\n")
    with pytest.warns(UserWarning, match=r"announces 99999999999999999999 vectors but the file holds 1"):
        v = embload.load(path)
    assert v.words == ["a"] and v.vectors.tolist() == [[1, 2]]


# --- options ------------------------------------------------------------------

def test_options_validate_on_set():
    opts = LoadOptions()
    assert opts.dtype == "float32" and opts.format == "auto"
    opts.dtype = np.float16
    assert opts.dtype == "float16"
    with pytest.raises(ValueError, match=r"dtype must be one of \('float32', 'float16', 'float64'\), not 'int8'"):
        opts.dtype = "int8"
    with pytest.raises(ValueError, match="format must be one of"):
        opts.format = "fasttext"
    with pytest.raises(ValueError, match="limit must be >= 0"):
        opts.limit = -1
    with pytest.raises(TypeError, match="limit must be an int or None"):
        opts.limit = 1.5
    with pytest.raises(ValueError, match="errors='nope' is not a registered error handler"):
        opts.errors = "nope"
    with pytest.raises(TypeError, match="threads must be an int or None"):
        opts.threads = "2"
    with pytest.raises(TypeError):
        LoadOptions("auto")  # keyword-only
    assert opts.resolved_threads >= 1
    assert "dtype='float16'" in repr(opts)


def test_load_rejects_bad_options():
    with pytest.raises(ValueError, match="dtype must be one of"):
        embload.load(datapath("toy-model.vec"), dtype="int32")
    with pytest.raises(ValueError, match="errors='bogus' is not a registered error handler"):
        embload.load(datapath("toy-model.vec"), errors="bogus")


def test_limit_zero(tmp_path):
    v = embload.load(datapath("toy-model.vec"), limit=0)
    assert len(v) == 0 and v.vectors.shape == (0, 5)


def test_sample_data_files_agree():
    """The bundled samples in every format hold the same vectors."""
    data = pathlib.Path(__file__).resolve().parent.parent / "data"
    names = ["sample.vec", "sample.bin", "sample.glove.txt", "sample.glove.txt.gz", "sample.glove.zip",
             "sample.vec.bz2", "sample.bin.xz"]
    if not all((data / n).exists() for n in names):
        pytest.skip("sample data not built")
    ref = embload.load(data / "sample.bin")
    for name in names:
        v = embload.load(data / name)
        assert v.words == ref.words, name
        if name.startswith("sample.bin"):
            assert np.array_equal(v.vectors, ref.vectors)
        else:  # text files hold rounded decimals
            assert np.allclose(v.vectors, ref.vectors, atol=1e-5), name


def test_gensim_big_file_with_tiny_blocks():
    path = datapath("pang_lee_polarity_fasttext.vec")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = embload.load(path, errors="replace")
        b = load_tuned(path, errors="replace", block_size=4096, threads=2, min_piece=1)
    assert a.words == b.words and np.array_equal(a.vectors.view(np.uint32), b.vectors.view(np.uint32))
    assert os.path.getsize(path) > 4096 * 100




@pytest.mark.parametrize("compress", [None, gzip.compress])
def test_progress_counts_every_byte(tmp_path, monkeypatch, compress):
    raw = pathlib.Path(datapath("lee_fasttext.vec")).read_bytes()
    path = tmp_path / "p"
    path.write_bytes(compress(raw) if compress else raw)
    bars = []

    def fake(progress, *, total=None, desc=None, unit="B"):
        assert desc == "loading p" and progress is True
        bars.append(RecordingBar(total))
        return bars[-1]

    monkeypatch.setattr(embload.read, "make_progress", fake)
    load_tuned(path, progress=True, block_size=10000)
    assert bars[0].total == os.path.getsize(path)
    assert bars[0].done == bars[0].total


@pytest.mark.parametrize("block_size", [1, 7, 64, 1 << 20])
def test_binary_in_place_and_buffered_paths_agree(tmp_path, block_size):
    """Plain float32 files are read straight into the matrix (rows moved down in place);
    everything else goes through a read buffer. Both must give the same words and bits,
    with trailing data detected either way; a header announcing far fewer records than
    the file holds makes the in-place reader step aside (it would allocate the file)."""
    rng = np.random.default_rng(5)
    words = [("w" * int(k)) + str(i) for i, k in enumerate(rng.integers(0, 40, size=300))]
    m = rng.normal(size=(300, 3)).astype(np.float32)
    body = b"".join(w.encode() + b" " + r.tobytes() + (b"\n" if i % 3 else b"") for i, (w, r) in
                    enumerate(zip(words, m)))
    path = tmp_path / "b.bin"
    path.write_bytes(b"300 3\n" + body)
    for threads in (1, 2):
        v = load_tuned(path, block_size=block_size, threads=threads, min_piece=1)  # in place
        assert v.words == words and np.array_equal(v.vectors.view(np.uint32), m.view(np.uint32))
        w64 = load_tuned(path, block_size=block_size, threads=threads, dtype="float64")  # buffered
        assert w64.words == words and np.array_equal(w64.vectors, m.astype(np.float64))
    for count in (299, 5):
        path.write_bytes(f"{count} 3\n".encode() + body)
        with pytest.warns(UserWarning, match=rf"data after the {count} records announced"):
            v = load_tuned(path, block_size=block_size)
        assert v.words == words[:count] and np.array_equal(v.vectors, m[:count])
