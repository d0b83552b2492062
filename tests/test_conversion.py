"""embload.convert: every readable format to every writable one, with vocab filter and limit.

The reference is gensim: it writes the sources (``save_word2vec_format``, text and
binary) and reads them back (``load_word2vec_format``), so each check compares against
what an independent implementation holds.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import embload
from conftest import Optional
from embload import cache
from embload.conversion import convert
from embload.vocabulary import read_vocab
from embload.write import infer_format
from embload.errors import EmbeddingFormatError
from embload.vectors import Vectors

KeyedVectors = Optional("gensim.models", "KeyedVectors")

WORDS = ["the", "of", "naïve", "日本", "Apple", "apple", "x1", "zz", "end"]


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(7)
    kv = KeyedVectors(6)
    kv.add_vectors(WORDS, (rng.standard_normal((len(WORDS), 6)) * 3).astype(np.float32))
    return kv


@pytest.fixture(scope="module")
def sources(reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("src")
    text = str(folder / "v.vec")
    binary = str(folder / "v.bin")
    reference.save_word2vec_format(text)
    reference.save_word2vec_format(binary, binary=True)
    glove = str(folder / "v.glove.txt")
    with open(text, encoding="utf-8") as src, open(glove, "w", encoding="utf-8") as dst:
        next(src)
        dst.writelines(src)
    return {"word2vec": text, "word2vec-binary": binary, "glove": glove}


def gensim_read(path, fmt):
    if fmt == "embload":
        v = cache.open_cache(path)
        return list(v.words), np.asarray(v.vectors)
    kv = KeyedVectors.load_word2vec_format(path, binary=fmt == "word2vec-binary", no_header=fmt == "glove")
    return list(kv.index_to_key), kv.vectors


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary", "glove"])
def test_file_to_cache_is_exact(sources, reference, tmp_path, fmt):
    out = tmp_path / "c.embload"
    written = convert(sources[fmt], out)
    words, matrix = gensim_read(out, "embload")
    assert words == WORDS
    assert np.array_equal(matrix, reference.vectors)
    assert len(written) == len(WORDS)
    meta = cache.read_meta(out)
    assert meta["source"]["path"] == os.path.abspath(sources[fmt])
    assert cache.is_fresh(out, sources[fmt])


@pytest.mark.parametrize("src_fmt", ["word2vec", "word2vec-binary", "glove", "embload"])
@pytest.mark.parametrize("dst_fmt", ["word2vec", "word2vec-binary", "glove", "embload"])
def test_every_pair_round_trips(sources, reference, tmp_path, src_fmt, dst_fmt):
    if src_fmt == "embload":
        src = str(tmp_path / "src.embload")
        convert(sources["word2vec"], src)
    else:
        src = sources[src_fmt]
    out = str(tmp_path / ("out.embload" if dst_fmt == "embload" else "out.data"))
    convert(src, out, to=dst_fmt)
    words, matrix = gensim_read(out, dst_fmt)
    assert words == WORDS
    assert np.array_equal(matrix, reference.vectors)


def test_limit_keeps_the_first_rows(sources, reference, tmp_path):
    convert(sources["word2vec"], tmp_path / "c.embload", limit=4)
    words, matrix = gensim_read(tmp_path / "c.embload", "embload")
    assert words == WORDS[:4]
    assert np.array_equal(matrix, reference.vectors[:4])


@pytest.mark.parametrize("src_fmt", ["word2vec", "word2vec-binary", "embload"])
def test_vocab_filter_in_vocab_order(sources, reference, tmp_path, src_fmt):
    src = sources.get(src_fmt)
    if src_fmt == "embload":
        src = str(tmp_path / "src.embload")
        convert(sources["word2vec"], src)
    vocab = ["zz", "missing", "the", "Apple", "the", "日本"]
    convert(src, tmp_path / "c.embload", vocab=vocab)
    words, matrix = gensim_read(tmp_path / "c.embload", "embload")
    assert words == ["zz", "the", "Apple", "日本"]
    assert np.array_equal(matrix, reference.vectors[[reference.key_to_index[w] for w in words]])
    convert(src, tmp_path / "d.embload", vocab=vocab, limit=2)
    assert gensim_read(tmp_path / "d.embload", "embload")[0] == ["zz", "the"]


def test_vocab_file_forms(sources, tmp_path):
    plain = tmp_path / "vocab.txt"
    plain.write_bytes("\ufeffapple\r\nend\r\nnot-there\r\n\r\n".encode("utf-8"))
    convert(sources["word2vec"], tmp_path / "a.embload", vocab=str(plain))
    assert cache.open_cache(tmp_path / "a.embload").words == ["apple", "end"]
    counts = tmp_path / "vocab_count.txt"
    counts.write_text("of 120\nx1 7\n", encoding="utf-8")
    convert(sources["word2vec"], tmp_path / "b.embload", vocab=counts)
    assert cache.open_cache(tmp_path / "b.embload").words == ["of", "x1"]
    # a blank line inside the file is refused, as load_aligned refuses it (one rule)
    plain.write_text("apple\n\nend\n", encoding="utf-8")
    with pytest.raises(EmbeddingFormatError, match=r"vocab.txt, line 2: empty line in a vocabulary file"):
        convert(sources["word2vec"], tmp_path / "c.embload", vocab=str(plain))


def test_read_vocab():
    assert read_vocab(["b", "a", "b"]) == ["b", "a"]
    assert read_vocab({"x": 1, "y": 2}) == ["x", "y"]
    with pytest.raises(TypeError, match="vocab must hold words"):
        read_vocab(["a", 3])


def test_read_vocab_bad_utf8(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"good\nalso\nbad\xff word\n")
    with pytest.raises(EmbeddingFormatError) as info:
        read_vocab(str(path))
    assert str(info.value).startswith(f"{path}, line 3: vocabulary file is not valid UTF-8")


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_dtype(sources, reference, tmp_path, dtype):
    convert(sources["word2vec-binary"], tmp_path / "c.embload", dtype=dtype)
    v = cache.open_cache(tmp_path / "c.embload")
    assert v.vectors.dtype == np.dtype(dtype)
    assert np.array_equal(v.vectors, reference.vectors.astype(dtype))
    convert(tmp_path / "c.embload", tmp_path / "d.embload", dtype="float32", vocab=["of"])
    assert cache.open_cache(tmp_path / "d.embload").vectors.dtype == np.float32


def test_infer_format(tmp_path):
    assert infer_format("x/glove.embload") == "embload"
    assert infer_format("x/glove.embload/") == "embload"
    assert infer_format("a.bin") == "word2vec-binary"
    assert infer_format("a.bin.gz") == "word2vec-binary"
    assert infer_format("a.VEC.xz") == "word2vec"
    assert infer_format("a.txt") == "glove" and infer_format("a.dat") is None
    assert infer_format("a.w2v.txt") == "word2vec" and infer_format("a.glove") == "glove"
    assert infer_format("x.embload.gz") is None
    # every suffix save() compresses is looked through, .zip included
    assert infer_format("a.bin.zip") == "word2vec-binary"
    assert infer_format("a.vec.ZIP") == "word2vec"
    cache.write_cache(Vectors(["a"], np.zeros((1, 2), np.float32)), tmp_path / "anyname")
    assert infer_format(tmp_path / "anyname") == "embload"


def test_argument_errors(sources, tmp_path):
    with pytest.raises(ValueError, match="cannot tell the output format from the name .*out.dat.*; give it with to= \\(command line: --to\\)"):
        convert(sources["word2vec"], tmp_path / "out.dat")
    with pytest.raises(ValueError, match="to must be one of"):
        convert(sources["word2vec"], tmp_path / "o", to="pickle")
    with pytest.raises(ValueError, match="same path"):
        convert(sources["word2vec"], sources["word2vec"], to="word2vec")
    # the same file or cache under another name: a link to it, or it through a link
    os.symlink(sources["word2vec"], tmp_path / "link.vec")
    with pytest.raises(ValueError, match="same path"):
        convert(tmp_path / "link.vec", sources["word2vec"], to="word2vec")
    cache.write_cache(Vectors(["a"], np.zeros((1, 2), np.float32)), tmp_path / "c.embload")
    os.symlink(tmp_path / "c.embload", tmp_path / "clink.embload")
    for src, dst in [("c.embload", "clink.embload"), ("clink.embload", "c.embload")]:
        with pytest.raises(ValueError, match="same path"):
            convert(tmp_path / src, tmp_path / dst)
    os.link(sources["word2vec"], tmp_path / "hard.vec")
    with pytest.raises(ValueError, match="same path"):
        convert(tmp_path / "hard.vec", sources["word2vec"], to="word2vec")
    with pytest.raises(ValueError, match="limit"):
        convert(sources["word2vec"], tmp_path / "o.embload", limit=-2)
    with pytest.raises(ValueError, match="dtype"):
        convert(sources["word2vec"], tmp_path / "o.embload", dtype="int8")
    with pytest.raises(FileNotFoundError):
        convert(tmp_path / "nothing.vec", tmp_path / "o.embload")
    assert not os.path.exists(tmp_path / "o.embload")


def test_bad_source_leaves_no_output(tmp_path):
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\na 1 2 3\nb 1 x 3\n")
    with pytest.raises(EmbeddingFormatError) as info:
        convert(bad, tmp_path / "o.embload")
    assert str(bad) in str(info.value) and "line 3" in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["bad.vec"]


def test_sample_data_to_cache(tmp_path):
    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sample.vec.bz2")
    if not os.path.exists(sample):
        pytest.skip("sample data not generated")
    convert(sample, tmp_path / "s.embload")
    kv = KeyedVectors.load_word2vec_format(sample)
    v = cache.open_cache(tmp_path / "s.embload")
    assert v.words == kv.index_to_key
    assert np.array_equal(v.vectors, kv.vectors)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vocab=st.lists(st.sampled_from(WORDS + ["absent", "APPLE", ""]), max_size=14),
       limit=st.one_of(st.none(), st.integers(0, 10)))
def test_vocab_and_limit_match_a_plain_python_reference(sources, reference, tmp_path_factory, vocab, limit):
    folder = tmp_path_factory.mktemp("v")
    convert(sources["word2vec-binary"], folder / "src.embload")
    convert(folder / "src.embload", folder / "out.embload", vocab=vocab, limit=limit)
    expected = [w for w in dict.fromkeys(vocab) if w in reference.key_to_index]
    expected = expected if limit is None else expected[:limit]
    got = cache.open_cache(folder / "out.embload")
    assert got.words == expected
    assert np.array_equal(got.vectors, reference.vectors[[reference.key_to_index[w] for w in expected]]
                          .reshape(len(expected), 6))


@pytest.mark.parametrize("dst, to", [("no-such-folder/out.vec", None), ("no-such-folder/out.embload", None),
                                     ("a-folder", "glove")])
def test_bad_destination_refused_before_the_read(sources, tmp_path, monkeypatch, dst, to):
    (tmp_path / "a-folder").mkdir()
    read = []
    monkeypatch.setattr("embload.conversion.load", lambda *a, **k: read.append(a) or 1 / 0)
    error = IsADirectoryError if dst == "a-folder" else FileNotFoundError
    with pytest.raises(error) as info:
        convert(sources["word2vec"], tmp_path / dst, to=to)
    assert read == []   # refused before the source was read
    assert os.path.basename(info.value.filename) == ("a-folder" if dst == "a-folder" else "no-such-folder")
    assert sorted(os.listdir(tmp_path)) == ["a-folder"]
