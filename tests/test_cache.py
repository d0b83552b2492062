"""The embload cache folder: exact round trips, O(1) memory-mapped open, clear errors, atomic writes."""

import json
import os

import numpy as np
import pytest

import embload
from hypothesis import given, settings, strategies as st, HealthCheck

from embload import cache
from embload.errors import EmbeddingFormatError
from embload.vectors import Vectors

ODD_WORDS = ["the", "", "naïve", "日本語", "a b", " lead", "tab\there", "new\nline", "cr\r", "\udc80bad",
             "emoji😀", "x" * 70000]


def make(words, dim=4, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return Vectors(words, rng.standard_normal((len(words), dim)).astype(dtype))


def assert_same(a, b):
    assert a.words == b.words
    assert a.vectors.dtype == b.vectors.dtype
    assert a.vectors.shape == b.vectors.shape
    assert np.array_equal(a.vectors.view(np.uint8), np.ascontiguousarray(b.vectors).view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_round_trip_exact_every_dtype(tmp_path, dtype):
    v = make(["a", "b", "c"], dtype=dtype)
    v.vectors[1, 2] = np.nan
    v.vectors[2, 0] = -0.0
    cache.write_cache(v, tmp_path / "c.embload")
    w = cache.open_cache(tmp_path / "c.embload")
    assert_same(w, v)
    assert w.format == "embload"
    assert w.path == str(tmp_path / "c.embload")


def test_odd_words_survive(tmp_path):
    v = make(ODD_WORDS)
    cache.write_cache(v, tmp_path / "c")
    assert os.path.exists(tmp_path / "c" / cache.OFFSETS)  # one word holds "\n"
    assert_same(cache.open_cache(tmp_path / "c"), v)
    assert cache.open_cache(tmp_path / "c", limit=8).words == ODD_WORDS[:8]


def test_no_offsets_file_without_newlines(tmp_path):
    words = [w for w in ODD_WORDS if "\n" not in w]
    cache.write_cache(make(words), tmp_path / "c")
    assert sorted(os.listdir(tmp_path / "c")) == ["matrix.npy", "meta.json", "words.txt"]
    with open(tmp_path / "c" / "words.txt", "rb") as handle:
        assert handle.read() == "\n".join(words).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("words", [[], [""], ["only"], ["", "b"], ["a", ""]])
def test_tiny_vocabularies(tmp_path, words):
    v = make(words, dim=3)
    cache.write_cache(v, tmp_path / "c")
    assert_same(cache.open_cache(tmp_path / "c"), v)


def test_zero_dim(tmp_path):
    v = Vectors(["a", "b"], np.zeros((2, 0), np.float32))
    cache.write_cache(v, tmp_path / "c")
    assert cache.open_cache(tmp_path / "c").vectors.shape == (2, 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.text(max_size=12), unique=True, max_size=30),
       dim=st.integers(0, 5), dtype=st.sampled_from(["float16", "float32", "float64"]))
def test_round_trip_any_words(tmp_path_factory, words, dim, dtype):
    folder = tmp_path_factory.mktemp("h") / "c.embload"
    v = make(words, dim=dim, dtype=dtype)
    cache.write_cache(v, folder)
    assert_same(cache.open_cache(folder), v)
    assert_same(cache.open_cache(folder, mmap=False), v)


def test_open_is_memory_mapped_and_read_only(tmp_path):
    cache.write_cache(make(["a", "b"]), tmp_path / "c")
    w = cache.open_cache(tmp_path / "c")
    assert not w.vectors.flags.writeable
    base = w.vectors
    while getattr(base, "base", None) is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap) or type(base).__name__ == "mmap"
    loaded = cache.open_cache(tmp_path / "c", mmap=False)
    assert loaded.vectors.flags.writeable
    loaded.vectors[0, 0] = 123.0  # an in-memory copy: the cache is untouched
    assert cache.open_cache(tmp_path / "c").vectors[0, 0] != 123.0


def test_lookup_through_lazy_index(tmp_path):
    v = make(["x", "y", "z"])
    cache.write_cache(v, tmp_path / "c")
    w = cache.open_cache(tmp_path / "c")
    assert "y" in w and "q" not in w
    assert w.index("z") == 2
    assert np.array_equal(w["y"], v["y"])
    assert w.get("q") is None
    assert dict(w.key_to_index.items()) == v.key_to_index
    assert len(w.key_to_index) == 3
    with pytest.raises(KeyError, match="'q' not in vocabulary"):
        w["q"]


def test_limit_and_dtype(tmp_path):
    v = make(["a", "b", "c", "d"], dtype=np.float32)
    cache.write_cache(v, tmp_path / "c")
    w = cache.open_cache(tmp_path / "c", limit=2)
    assert w.words == ["a", "b"] and w.vectors.shape == (2, 4)
    assert np.array_equal(w.vectors, v.vectors[:2])
    h = cache.open_cache(tmp_path / "c", dtype="float16")
    assert h.vectors.dtype == np.float16
    assert np.array_equal(h.vectors, v.vectors.astype(np.float16))
    assert cache.open_cache(tmp_path / "c", limit=0).words == []
    with pytest.raises(ValueError, match="limit"):
        cache.open_cache(tmp_path / "c", limit=-1)


def test_meta_records_format_version_shape_and_sizes(tmp_path):
    cache.write_cache(make(["a", "b"], dim=3, dtype=np.float64), tmp_path / "c")
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["format"] == "embload-cache" and meta["version"] == cache.FORMAT_VERSION
    assert (meta["count"], meta["dim"], meta["dtype"]) == (2, 3, "float64")
    for name, entry in meta["files"].items():
        assert entry["size"] == os.path.getsize(tmp_path / "c" / name)
    assert meta["source"] is None
    assert np.load(tmp_path / "c" / "matrix.npy").shape == (2, 3)  # plain NumPy can read it


def test_is_cache(tmp_path):
    cache.write_cache(make(["a"]), tmp_path / "c")
    assert cache.is_cache(tmp_path / "c")
    assert not cache.is_cache(tmp_path)
    assert not cache.is_cache(tmp_path / "missing")
    (tmp_path / "f.txt").write_text("a 1 2\n")
    assert not cache.is_cache(tmp_path / "f.txt")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "meta.json").write_text('{"format": "something-else"}')
    assert not cache.is_cache(tmp_path / "other")


# --- damaged and foreign folders ---------------------------------------------------------
@pytest.fixture
def good(tmp_path):
    folder = tmp_path / "good.embload"
    cache.write_cache(make(["a", "b", "c"], dim=5), folder)
    return folder


def error_of(folder):
    with pytest.raises(EmbeddingFormatError) as info:
        cache.open_cache(folder)
    assert info.value.path == str(folder)
    return str(info.value)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        cache.open_cache(tmp_path / "nope")


def test_file_is_not_a_cache(tmp_path):
    (tmp_path / "v.txt").write_text("a 1\n")
    assert error_of(tmp_path / "v.txt") == f"{tmp_path / 'v.txt'}: not an embload cache: a cache is a folder, this is a file"


def test_folder_without_meta(tmp_path):
    assert "not an embload cache: the folder has no meta.json" in error_of(tmp_path)


def test_foreign_meta(good):
    (good / "meta.json").write_text('{"format": "word2vec-model"}')
    assert error_of(good).endswith("not an embload cache: meta.json has format 'word2vec-model', expected 'embload-cache'")


def test_meta_not_json(good):
    (good / "meta.json").write_text('{"format": "embload-cache", ')
    assert "meta.json is not valid JSON" in error_of(good)


def test_newer_version(good):
    meta = json.loads((good / "meta.json").read_text())
    meta["version"] = cache.FORMAT_VERSION + 1
    (good / "meta.json").write_text(json.dumps(meta))
    assert f"cache format version {cache.FORMAT_VERSION + 1} is newer than this embload reads" in error_of(good)


def test_truncated_matrix(good):
    size = os.path.getsize(good / "matrix.npy")
    with open(good / "matrix.npy", "r+b") as handle:
        handle.truncate(size - 4)
    assert error_of(good) == (f"{good}: matrix.npy has {size - 4} bytes but meta.json says {size}: "
                              "the cache is damaged (truncated or partly copied); rebuild it")


def test_missing_words_file(good):
    os.unlink(good / "words.txt")
    assert "words.txt is missing" in error_of(good)


def test_matrix_of_other_shape(good):
    np.save(good / "matrix.npy", np.zeros((5, 3), np.float32))
    meta = json.loads((good / "meta.json").read_text())
    meta["files"]["matrix.npy"]["size"] = os.path.getsize(good / "matrix.npy")
    (good / "meta.json").write_text(json.dumps(meta))
    assert "matrix.npy holds a (5, 3) float32 array but meta.json says (3, 5) float32" in error_of(good)


def test_word_count_mismatch(good):
    (good / "words.txt").write_bytes(b"a\nb\nc\nd")
    meta = json.loads((good / "meta.json").read_text())
    meta["files"]["words.txt"]["size"] = 7
    (good / "meta.json").write_text(json.dumps(meta))
    assert "words.txt holds 4 words but meta.json says 3" in error_of(good)


def test_verify_catches_a_flipped_byte(good):
    assert cache.verify_cache(good)["count"] == 3
    with open(good / "matrix.npy", "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 1]))
    cache.open_cache(good)  # sizes still match: opening does not read the matrix
    with pytest.raises(EmbeddingFormatError, match="matrix.npy does not match its checksum"):
        cache.verify_cache(good)


# --- atomic writes -----------------------------------------------------------------------
def leftovers(parent):
    return [name for name in os.listdir(parent) if ".tmp-" in name or ".old-" in name]


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_old_cache(good, monkeypatch, exc):
    old = cache.open_cache(good, mmap=False)

    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(cache, "_write_bytes", broken)
    with pytest.raises(type(exc)):
        cache.write_cache(make(["new"], dim=2), good)
    assert_same(cache.open_cache(good), old)
    assert leftovers(good.parent) == []


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_write_bytes", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cache.write_cache(make(["a"]), tmp_path / "c")
    assert os.listdir(tmp_path) == []


def test_replace_existing_cache(good):
    v = make(["p", "q"], dim=2, seed=5)
    cache.write_cache(v, good)
    assert_same(cache.open_cache(good), v)
    assert leftovers(good.parent) == []


def test_refuse_to_replace_other_things(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="not an embload cache; refusing to replace it"):
        cache.write_cache(make(["a"]), tmp_path / "docs")
    (tmp_path / "file").write_text("precious")
    with pytest.raises(FileExistsError, match="not a folder"):
        cache.write_cache(make(["a"]), tmp_path / "file")
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "precious"
    assert (tmp_path / "file").read_text() == "precious"
    (tmp_path / "empty").mkdir()
    cache.write_cache(make(["a"]), tmp_path / "empty")
    assert cache.is_cache(tmp_path / "empty")


def test_rejects_bad_matrices(tmp_path):
    with pytest.raises(ValueError, match="float16, float32 or float64"):
        cache.write_cache(Vectors(["a"], np.zeros((1, 2), np.int32)), tmp_path / "c")
    assert not os.path.exists(tmp_path / "c")


def test_memory_mapped_source_is_written_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_CHUNK_BYTES", 40)  # several chunks of 2 rows of 5 float32
    v = make([f"w{i}" for i in range(11)], dim=5)
    cache.write_cache(v, tmp_path / "a")
    cache.write_cache(cache.open_cache(tmp_path / "a"), tmp_path / "b")
    assert_same(cache.open_cache(tmp_path / "b"), v)
    cache.verify_cache(tmp_path / "b")


# --- source fingerprint ------------------------------------------------------------------
def test_fingerprint_and_freshness(tmp_path):
    src = tmp_path / "v.txt"
    src.write_bytes(b"a 1.0 2.0\n" * 1000)
    cache.write_cache(make(["a"]), tmp_path / "c", source=src, source_format="glove")
    meta = cache.read_meta(tmp_path / "c")
    assert meta["source"]["size"] == 10000 and meta["source"]["format"] == "glove"
    assert cache.is_fresh(tmp_path / "c", src)
    stat = os.stat(src)
    src.write_bytes(b"b 1.0 2.0\n" * 1000)  # same size; content differs
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime
    assert not cache.is_fresh(tmp_path / "c", src)
    assert not cache.is_fresh(tmp_path / "nothing", src)


def test_fingerprint_covers_head_and_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_FINGERPRINT_BYTES", 16)
    src = tmp_path / "v"
    src.write_bytes(bytes(range(100)))
    first = cache.source_fingerprint(src)["head_tail_sha256"]
    src.write_bytes(bytes(range(99)) + b"\xff")
    assert cache.source_fingerprint(src)["head_tail_sha256"] != first


def test_load_cached_builds_then_reuses(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(3)
    kv.add_vectors(["a", "b"], np.array([[1, 2, 3], [4, 5, 6]], np.float32))
    src = str(tmp_path / "v.vec")
    kv.save_word2vec_format(src)
    first = embload.load_cached(src)
    assert first.words == ["a", "b"] and cache.is_fresh(src + ".embload", src)
    created = cache.read_meta(src + ".embload")["created"]
    again = embload.load_cached(src)
    assert_same(again, first)
    assert cache.read_meta(src + ".embload")["created"] == created


def test_embload_load_opens_a_cache(tmp_path):
    from embload.read import load
    v = make(["a", "b", "c"], dtype=np.float32)
    cache.write_cache(v, tmp_path / "c.embload")
    w = load(tmp_path / "c.embload")
    assert_same(w, v)
    assert w.format == "embload" and not w.vectors.flags.writeable
    assert load(tmp_path / "c.embload", limit=2).words == ["a", "b"]


def test_another_writer_finishing_first(tmp_path, monkeypatch):
    # Two processes building the same cache: the one that finishes last replaces the other's.
    target = tmp_path / "c.embload"
    real = cache._write_bytes
    state = {"done": False}

    def racing(*args, **kwargs):
        if not state["done"]:
            state["done"] = True
            cache.write_cache(make(["other"], dim=2), target)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "_write_bytes", racing)
    mine = make(["mine", "too"], dim=2)
    cache.write_cache(mine, target)
    assert_same(cache.open_cache(target), mine)
    assert leftovers(tmp_path) == []


def test_embload_load_keeps_a_float16_cache_mapped(tmp_path):
    from embload.read import load

    v = make(["a", "b"], dtype=np.float16)
    cache.write_cache(v, tmp_path / "h.embload")
    mapped = load(tmp_path / "h.embload")
    assert mapped.vectors.dtype == np.float16 and not mapped.vectors.flags.writeable  # the read-only map
    converted = load(tmp_path / "h.embload", dtype="float32")
    assert converted.vectors.dtype == np.float32
    assert np.array_equal(converted.vectors, v.vectors.astype(np.float32))
    in_memory = load(tmp_path / "h.embload", mmap=False)
    assert in_memory.vectors.flags.writeable


def test_embload_load_on_a_foreign_folder_names_it(tmp_path):
    from embload.errors import EmbeddingFormatError
    from embload.read import load

    (tmp_path / "junk").mkdir()
    with pytest.raises(EmbeddingFormatError, match="junk"):
        load(tmp_path / "junk")
    with pytest.raises(ValueError, match="format='glove' does not apply"):
        load(tmp_path / "junk", format="glove")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_byte_swapped_matrix_is_stored_native(tmp_path, dtype):
    # a ">f8" matrix was stored as such, and opening then called the cache damaged
    native = np.array([[0.1, 1 / 3], [-2.5, 7.0]], dtype=dtype)
    swapped = native.astype(native.dtype.newbyteorder("S"))
    cache.write_cache(Vectors(["a", "b"], swapped), tmp_path / "c")
    back = cache.open_cache(tmp_path / "c")
    assert back.vectors.dtype == native.dtype and back.vectors.dtype.isnative
    assert back.vectors.tobytes() == native.tobytes()
    cache.verify_cache(tmp_path / "c")
