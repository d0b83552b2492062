"""fastText / floret models (embload/fasttext.py, embload/_fasttext.pyx, src/fasttext.h).

References, all independent of embload:
- gensim's shipped models and ``load_facebook_vectors`` (words, in- and out-of-vocabulary
  vectors), its golden ``fb-ngrams.txt`` (fastText's ``print-ngrams``) and the vectors its
  tests took from ``fasttext print-word-vectors``;
- the ``.vec`` files fastText wrote next to gensim's models;
- the ``fasttext`` and ``floret`` packages (models trained here: skipgram, cbow,
  supervised, quantized with and without pruning, floret), compared bit for bit;
- a pure-Python statement of fastText's subword rule (``reference_subwords``).
"""

import gzip
import shutil
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embload
from embload import _fasttext
from embload.errors import EmbeddingFormatError
from embload.fasttext import FastTextModel, load_fasttext

gensim_utils = pytest.importorskip("gensim.test.utils")


def datapath(name):
    return gensim_utils.datapath(name)


GENSIM_MODELS = ["crime-and-punishment.bin", "toy-model.bin", "lee_fasttext.bin",
                 "lee_fasttext_new.bin", "non_ascii_fasttext.bin"]
# the last is too long for the rows of one word to be collected first (summed as they come)
OOV_WORDS = ["xyzzyq", "hello", "привет", "Ölwechsel", "a", "ab", "東京タワー", "🚑🚒", "rejection",
             "at the", "x\ny", "long" * 100 + "é" * 100]


# --------------------------------------------------------------------------------------
# A pure-Python statement of the rule (fastText's Dictionary::computeSubwords, hash)
# --------------------------------------------------------------------------------------

def reference_hash(data):
    h = 2166136261
    for b in data:
        h ^= (b - 256 if b >= 128 else b) & 0xFFFFFFFF  # the byte as a signed char
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def reference_subwords(word_bytes, minn, maxn):
    """The byte n-grams of b"<" + word + b">" in fastText's order."""
    w = b"<" + word_bytes + b">"
    out = []
    for i in range(len(w)):
        if w[i] & 0xC0 == 0x80:
            continue
        j, n = i, 1
        while j < len(w) and n <= maxn:
            j += 1
            while j < len(w) and w[j] & 0xC0 == 0x80:
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == len(w))):
                out.append(w[i:j])
            n += 1
    return out


def reference_vector(parsed, word_bytes, in_vocab_row):
    """fastText's getWordVector for a dense, unpruned fastText model, in float32."""
    rows = [] if in_vocab_row < 0 else [in_vocab_row]
    # fastText gives "</s>" no n-grams since file version 12
    eos_plain = word_bytes == b"</s>" and parsed.version == 12
    if not eos_plain and parsed.args["bucket"]:
        rows += [parsed.nwords + reference_hash(g) % parsed.args["bucket"]
                 for g in reference_subwords(word_bytes, parsed.args["minn"], parsed.args["maxn"])]
    acc = np.zeros(parsed.args["dim"], dtype=np.float32)
    for r in rows:
        acc += parsed.matrix[r]
    if rows:
        acc *= np.float32(1.0 / len(rows))
    return acc


@pytest.fixture(scope="module")
def gensim_fasttext():
    return pytest.importorskip("gensim.models.fasttext")


# --------------------------------------------------------------------------------------
# gensim's models
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", GENSIM_MODELS)
def test_gensim_models_same_words_and_vectors(name, gensim_fasttext):
    kv = gensim_fasttext.load_facebook_vectors(datapath(name))
    model = load_fasttext(datapath(name))
    assert list(model.words) == list(kv.index_to_key)
    assert model.args.dim == kv.vector_size and model.args.bucket == kv.bucket
    assert (model.args.minn, model.args.maxn) == (kv.min_n, kv.max_n)
    vectors = model.to_vectors()
    assert list(vectors.words) == list(kv.index_to_key)
    # gensim also gives "</s>" its n-grams; fastText (and embload) use its own row alone
    # since file version 12
    keep = np.array([w != "</s>" or model.version != 12 for w in kv.index_to_key])
    np.testing.assert_allclose(vectors.vectors[keep], kv.vectors[keep], rtol=1e-5, atol=1e-6)
    got = model.vectors_for(OOV_WORDS)
    want = np.stack([kv[w] for w in OOV_WORDS])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", GENSIM_MODELS + ["cp852_fasttext.bin"])
def test_gensim_models_match_pure_python_rule_bit_for_bit(name):
    model = load_fasttext(datapath(name), errors="surrogateescape")
    parsed = model._parsed
    raw = parsed.arena.tobytes()
    entries = [raw[parsed.offsets[i]:parsed.offsets[i + 1] - 1] for i in range(parsed.nwords)]
    vectors = model.to_vectors().vectors
    for i in range(0, parsed.nwords, max(1, parsed.nwords // 50)):
        np.testing.assert_array_equal(vectors[i], reference_vector(parsed, entries[i], i))
    for word in OOV_WORDS:
        expect = reference_vector(parsed, word.encode(), parsed.find(word.encode()))
        np.testing.assert_array_equal(model[word], expect)


def test_cp852_words_follow_errors(gensim_fasttext):
    path = datapath("cp852_fasttext.bin")
    with pytest.raises(EmbeddingFormatError, match=r"dictionary entry 2: the word is not valid UTF-8"):
        load_fasttext(path)
    kv = gensim_fasttext.load_facebook_vectors(path)  # gensim decodes with backslashreplace
    model = load_fasttext(path, errors="backslashreplace")
    assert list(model.words) == list(kv.index_to_key)
    # the vector of a dictionary word comes from its bytes in the file, found by its str
    odd = model.words[1]
    assert "\\x" in odd and odd in model
    parsed = model._parsed
    np.testing.assert_array_equal(model[odd], reference_vector(parsed, b"kter\xec", 1))
    with pytest.raises(EmbeddingFormatError, match="not valid UTF-8"):
        embload.load(path)
    with pytest.warns(UserWarning, match="6 duplicate words dropped"):  # 'kter\ufffd' twice ...
        assert len(embload.load(path, errors="replace")) == parsed.nwords - 6
    assert len(embload.load(path, errors="surrogateescape")) == parsed.nwords


def test_surrogateescape_words_hash_the_file_bytes():
    """errors="surrogateescape": a word outside the dictionary made of escaped bytes (as a
    decoded dictionary word is) is hashed from those bytes, as fastText hashes them, on
    every path (model[word], vectors_for, ngrams, load_aligned); before, vectors_for and
    model[word] hashed the escapes' UTF-8 forms and ngrams raised UnicodeDecodeError."""
    path = datapath("cp852_fasttext.bin")
    model = load_fasttext(path, errors="surrogateescape")
    parsed = model._parsed
    known = model.words[1]
    assert known.encode("utf-8", "surrogateescape") == b"kter\xec"
    np.testing.assert_array_equal(model[known], reference_vector(parsed, b"kter\xec", 1))
    oov = known + "zz"
    expected = reference_vector(parsed, b"kter\xeczz", -1)
    np.testing.assert_array_equal(model[oov], expected)
    np.testing.assert_array_equal(model.vectors_for([known, oov])[1], expected)
    grams = model.ngrams(oov)
    wanted = reference_subwords(b"kter\xeczz", parsed.args["minn"], parsed.args["maxn"])
    assert [g.encode("utf-8", "surrogateescape") for g, _ in grams] == wanted
    assert [row for _, row in grams] == [parsed.nwords + reference_hash(g) % parsed.args["bucket"]
                                         for g in wanted]
    aligned = embload.load_aligned(path, {oov: 1}, oov="subwords")
    np.testing.assert_array_equal(aligned.matrix[1], expected)
    # a model whose words are all UTF-8 read with surrogateescape: the same rule
    plain = load_fasttext(datapath("lee_fasttext_new.bin"), errors="surrogateescape")
    odd = "b\udcecz"
    want = reference_vector(plain._parsed, b"b\xecz", -1)
    np.testing.assert_array_equal(plain[odd], want)
    np.testing.assert_array_equal(plain.vectors_for(["hundred", odd])[1], want)


def test_supervised_model_excludes_labels():
    model = load_fasttext(datapath("pang_lee_polarity_fasttext.bin"), errors="backslashreplace")
    assert model.args.model == "supervised"
    assert model.labels == ["__label__pos", "__label__neg"]
    assert len(model) == model._parsed.nwords == 1694
    assert "__label__pos" not in model
    assert not any(w.startswith("__label__") for w in model.words)
    # the .vec that fastText wrote next to it
    vec = embload.load(datapath("pang_lee_polarity_fasttext.vec"), errors="backslashreplace")
    got = model.to_vectors()
    assert list(got.words) == list(vec.words)
    np.testing.assert_allclose(got.vectors, vec.vectors, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["crime-and-punishment", "toy-model", "lee_fasttext"])
def test_load_bin_equals_the_vec_fasttext_wrote(name):
    got = embload.load(datapath(name + ".bin"))
    vec = embload.load(datapath(name + ".vec"))
    assert got.format == "fasttext-bin"
    assert list(got.words) == list(vec.words)
    # the .vec holds 5-6 significant digits
    np.testing.assert_allclose(got.vectors, vec.vectors, rtol=2e-4, atol=2e-5)


def test_golden_print_ngrams():
    """fb-ngrams.txt: ``fasttext print-ngrams crime-and-punishment.bin`` for a few words."""
    model = load_fasttext(datapath("crime-and-punishment.bin"))
    with open(datapath("fb-ngrams.txt"), encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    checked = 0
    i = 0
    while i < len(lines) and lines[i] == "<start>":
        word = lines[i + 1]
        i += 3  # the word, then its own (zero) row
        expected = []
        while lines[i] != "<end>":
            fields = lines[i].rstrip().split(" ")
            expected.append((" ".join(fields[:-5]), np.array(fields[-5:], dtype=np.float64)))
            i += 1
        i += 1
        got = model.ngrams(word)
        assert [g for g, _ in got] == [e for e, _ in expected], word
        for (_, row), (_, values) in zip(got, expected):
            np.testing.assert_allclose(model.matrix[row], values, rtol=1e-4, atol=1e-5)
        checked += 1
    assert checked >= 5


def test_golden_print_word_vectors():
    """gensim's tests: ``fasttext print-word-vectors`` of "hundred", both lee models."""
    old = load_fasttext(datapath("lee_fasttext.bin"))
    assert old.version is None
    np.testing.assert_allclose(old["hundred"], [-0.57144, -0.0085561, 0.15748, -0.67855, -0.25459,
                                                -0.58077, -0.09913, 1.1447, 0.23418, 0.060007],
                               atol=1e-4)
    new = load_fasttext(datapath("lee_fasttext_new.bin"))
    assert new.version == 11
    np.testing.assert_allclose(new["hundred"], [-0.025627, -0.11448, 0.18116, -0.96779, 0.2532,
                                                -0.93224, 0.3929, 0.12679, -0.19685, -0.13179],
                               atol=1e-4)
    np.testing.assert_allclose(new["rejection"], [-0.49111, -0.13122, -0.02109, -0.88769, -0.20105,
                                                  -0.91732, 0.47243, 0.19708, -0.17856, 0.19815],
                               atol=1e-4)


def test_hash_matches_gensim_and_reference(gensim_fasttext):
    from gensim.models.fasttext_inner import ft_hash_bytes

    for word in ["", "a", "<test>", "тест", "🚑", "\x80", "ß" * 40]:
        data = word.encode()
        assert _fasttext.fnv1a(data) == ft_hash_bytes(data) == reference_hash(data)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=12), st.integers(0, 4), st.integers(0, 7))
def test_ngrams_match_reference(word, minn, maxn):
    model = load_fasttext(datapath("toy-model.bin"))  # n-grams of 3..6
    raw = word.encode("utf-8", "surrogatepass")
    got = [g for g, _ in model.ngrams(word)]
    in_vocab = word in model
    expect = [] if raw == b"</s>" else [g.decode("utf-8", "surrogatepass")
                                        for g in reference_subwords(raw, 3, 6)]
    assert got == ([word] if in_vocab else []) + expect
    # and the pure rule itself for other minn/maxn, against gensim's
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext_inner")
    if "\x00" not in word and not any(0xD800 <= ord(c) <= 0xDFFF for c in word):
        assert sorted(reference_subwords(raw, minn, maxn)) == sorted(
            gensim_fasttext.compute_ngrams_bytes(word, minn, maxn))


def test_murmur3_matches_mmh3():
    mmh3 = pytest.importorskip("mmh3")
    for data in [b"", b"a", b"<hello>", "тест".encode(), bytes(range(40))]:
        h1, h2 = _fasttext.murmur3_128(data, 2166136261)
        want = mmh3.hash128(data, 2166136261, True, signed=False)
        assert h1 | (h2 << 64) == want


# --------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------

def test_model_api():
    model = load_fasttext(datapath("lee_fasttext_new.bin"))
    assert isinstance(model, FastTextModel)
    assert isinstance(model.words, embload.WordList)
    assert len(model) == 1763 and model.dim == 10
    assert model.args.model == "skipgram" and model.args.loss == "ns"
    assert "hundred" in model and "rejection" not in model and 5 not in model
    assert model["hundred"].dtype == np.float32 and model["hundred"].shape == (10,)
    batch = model.vectors_for(["hundred", "rejection", "hundred"])
    np.testing.assert_array_equal(batch[0], model["hundred"])
    np.testing.assert_array_equal(batch[1], model["rejection"])
    ngrams = model.ngrams("hundred")
    assert ngrams[0] == ("hundred", model.words.index("hundred"))
    assert ngrams[1][0] == "<hu"
    assert all(model._parsed.nwords <= row < model.matrix.shape[0] for _, row in ngrams[1:])
    # a word with no n-gram row and not in the dictionary: zeros (fastText's rule)
    assert not model.vectors_for([""]).any()
    assert model.counts.shape == (1763,) and model.counts[0] >= model.counts[-1]
    assert "skipgram" in repr(model)
    assert embload.load_fasttext is load_fasttext


def test_matrix_is_memory_mapped_and_mmap_false_copies():
    path = datapath("lee_fasttext_new.bin")
    mapped = load_fasttext(path)
    assert mapped.describe()["memory_mapped"]
    assert not mapped.matrix.flags.writeable
    copied = load_fasttext(path, mmap=False)
    assert not copied.describe()["memory_mapped"]
    np.testing.assert_array_equal(mapped.matrix, copied.matrix)
    np.testing.assert_array_equal(mapped.to_vectors().vectors, copied.to_vectors().vectors)


def write_dense_model(path, words, bucket, matrix, minn=3, maxn=6):
    """A version-12 skipgram model in fastText's layout with the given input matrix
    (``len(words) + bucket`` rows) and a zero output matrix."""
    dim = matrix.shape[1]
    with open(path, "wb") as out:
        out.write(struct.pack("<ii", 793712314, 12))
        # dim ws epoch minCount neg wordNgrams loss(ns) model(sg) bucket minn maxn lrUpdateRate t
        out.write(struct.pack("<12id", dim, 5, 5, 1, 5, 1, 2, 2, bucket, minn, maxn, 100, 1e-4))
        out.write(struct.pack("<iiiqq", len(words), len(words), 0, 10 * len(words), -1))
        for word in words:
            out.write(word.encode() + b"\0" + struct.pack("<qb", 1, 0))
        out.write(b"\0" + struct.pack("<qq", *matrix.shape) + matrix.astype("<f4").tobytes())
        out.write(b"\0" + struct.pack("<qq", len(words), dim) + bytes(4 * dim * len(words)))


@pytest.mark.parametrize("dim", [1, 15, 16, 17, 63, 64, 65, 100, 129, 300])
def test_every_column_block_sums_in_fasttexts_order(tmp_path, dim):
    # The sum runs over blocks of 64 and 16 columns and then single columns, across all
    # of a word's rows at once. Values spread over nine decades make float32 sums depend
    # on their order, so any other order than fastText's (row after row) shows.
    rng = np.random.default_rng(dim)
    words = ["alpha", "beta", "gamma", "délta", "東京", "x", "averyveryverylongword"]
    bucket = 97
    matrix = (rng.standard_normal((len(words) + bucket, dim))
              * 10.0 ** rng.integers(-4, 5, size=(len(words) + bucket, dim))).astype(np.float32)
    path = tmp_path / f"d{dim}.bin"
    write_dense_model(path, words, bucket, matrix)
    model = load_fasttext(path)
    parsed = model._parsed
    probes = words + ["unseen", "épéeé", "q", "ab" * 300, "alphas"]
    expected = np.stack([reference_vector(parsed, w.encode(), parsed.find(w.encode())) for w in probes])
    np.testing.assert_array_equal(model.vectors_for(probes, threads=1), expected)
    np.testing.assert_array_equal(model.vectors_for(probes * 50, threads=2), np.tile(expected, (50, 1)))
    np.testing.assert_array_equal(np.stack([model[w] for w in probes]), expected)
    np.testing.assert_array_equal(model.to_vectors().vectors, expected[:len(words)])
    # the order matters for these values: the rows summed last to first give other bits
    rows = [parsed.find(b"averyveryverylongword")] + [
        parsed.nwords + reference_hash(g) % bucket
        for g in reference_subwords(b"averyveryverylongword", 3, 6)]
    backwards = np.zeros(dim, dtype=np.float32)
    for r in rows[::-1]:
        backwards += matrix[r]
    backwards *= np.float32(1.0 / len(rows))
    assert not np.array_equal(backwards, expected[words.index("averyveryverylongword")]) or dim < 16


def test_same_result_for_any_thread_count():
    model = load_fasttext(datapath("crime-and-punishment.bin"))
    # 8 x 582 words: blocks of the pipeline split across the threads
    words = (list(model.words) + [w + "x" for w in model.words]) * 8
    one = model.vectors_for(words, threads=1)
    for threads in (2, 3, 7):
        np.testing.assert_array_equal(model.vectors_for(words, threads=threads), one)
    np.testing.assert_array_equal(model.to_vectors(threads=3).vectors, model.to_vectors(threads=1).vectors)


def test_load_options_and_compressed(tmp_path):
    path = datapath("toy-model.bin")
    full = embload.load(path)
    assert len(embload.load(path, limit=5)) == 5
    np.testing.assert_array_equal(embload.load(path, limit=5).vectors, full.vectors[:5])
    assert embload.load(path, dtype="float64").vectors.dtype == np.float64
    assert embload.load(path, format="fasttext-bin").words == full.words
    with pytest.raises(EmbeddingFormatError, match="fastText model"):
        embload.load(path, format="glove")
    gz = tmp_path / "toy.bin.gz"
    with open(path, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    np.testing.assert_array_equal(embload.load(gz).vectors, full.vectors)
    assert embload.detect_format(gz) == "fasttext-bin"
    np.testing.assert_array_equal(load_fasttext(gz)["unseenword"], load_fasttext(path)["unseenword"])


def test_zip_member_on_every_path(tmp_path):
    """A zip archive of several models: member= picks one for load, load_fasttext and
    load_aligned (which read the archive's sole member before, or refused)."""
    import zipfile

    path = datapath("toy-model.bin")
    archive = tmp_path / "models.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(datapath("lee_fasttext_new.bin"), "lee.bin")
        zf.write(path, "toy.bin")
    plain = load_fasttext(path)
    expected = plain.to_vectors()
    got = embload.load(archive, member="toy.bin")
    assert got.words == expected.words
    np.testing.assert_array_equal(got.vectors, expected.vectors)
    zipped = load_fasttext(archive, member="toy.bin")
    assert zipped.compression == "zip"
    np.testing.assert_array_equal(zipped["unseenword"], plain["unseenword"])
    aligned = embload.load_aligned(archive, {expected.words[0]: 1, "unseenword": 2},
                                   oov="subwords", member="toy.bin")
    np.testing.assert_array_equal(aligned.matrix[1], expected.vectors[0])
    np.testing.assert_array_equal(aligned.matrix[2], plain["unseenword"])
    with pytest.raises(ValueError, match="member="):
        load_fasttext(archive)
    with pytest.raises(ValueError, match="only for zip archives"):
        load_fasttext(path, member="toy.bin")


def test_detect_format_old_layout_and_text_files(tmp_path):
    assert embload.detect_format(datapath("lee_fasttext.bin")) == "fasttext-bin"
    assert embload.detect_format(datapath("lee_fasttext.vec")) == "word2vec"
    text = tmp_path / "t.txt"
    text.write_text("the 0.1 0.2\nof 0.3 0.4\n")
    assert embload.detect_format(text) == "glove"


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=120))
def test_detect_layout_never_takes_text(data):
    # text (bytes >= 0x20 and whitespace) never looks like the oldest layout's args
    text = bytes(b if b >= 0x20 or b in b"\t\n\r" else 0x20 for b in data)
    assert _fasttext.detect_layout(text) is None


def test_load_aligned_subwords():
    path = datapath("lee_fasttext_new.bin")
    model = load_fasttext(path)
    wi = {"hundred": 1, "rejection": 2, "Hundred": 3, "xq": 4, "": 5, "hundredz": 6, "HUNDRED": 6}
    aligned = embload.load_aligned(path, wi, oov="subwords")
    np.testing.assert_array_equal(aligned.matrix[1], model["hundred"])
    np.testing.assert_array_equal(aligned.matrix[2], model["rejection"])
    np.testing.assert_array_equal(aligned.matrix[3], model["Hundred"])
    np.testing.assert_array_equal(aligned.matrix[6], model["hundredz"])  # the first word wins
    assert not aligned.matrix[0].any() and not aligned.matrix[5].any()
    assert aligned.found.tolist() == [False, True, False, False, False, False, False]
    assert aligned.from_subwords.tolist() == [False, False, True, True, True, False, True]
    assert aligned.missing == [""]
    summary = aligned.summary()
    assert "found: 1 of 6" in summary and "from subwords: 4 rows" in summary
    assert "neither: 1 rows" in summary
    # case fallback: a dictionary word's lowercase form wins over subwords
    folded = embload.load_aligned(path, wi, oov="subwords", case="fallback")
    np.testing.assert_array_equal(folded.matrix[3], model["hundred"])
    assert folded.case_matched == {"Hundred": "hundred", "HUNDRED": "hundred"}
    assert folded.found[3]
    # other oov modes: only dictionary words are found
    plain = embload.load_aligned(path, wi, dtype="float64")
    assert plain.matrix.dtype == np.float64
    np.testing.assert_allclose(plain.matrix[1], model["hundred"], rtol=1e-7)
    assert not plain.matrix[2].any() and plain.found.sum() == 1
    assert plain.missing == ["rejection", "Hundred", "xq", "", "hundredz", "HUNDRED"]
    mean = embload.load_aligned(path, wi, oov="mean")
    np.testing.assert_allclose(mean.matrix[2], model["hundred"], rtol=1e-6)
    with pytest.raises(ValueError, match="needs a fastText or floret model"):
        embload.load_aligned(datapath("lee_fasttext.vec"), wi, oov="subwords")


def test_cli_info_and_convert(tmp_path, capsys):
    from embload.cli import main

    path = datapath("toy-model.bin")
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "fasttext-bin" in out and "n-grams of 3-6 characters in 100 buckets" in out
    dst = tmp_path / "toy.vec"
    assert main(["convert", path, str(dst)]) == 0
    back = embload.load(dst)
    np.testing.assert_allclose(back.vectors, embload.load(path).vectors, rtol=1e-6)


# --------------------------------------------------------------------------------------
# The reference implementation: models trained by the fasttext / floret packages
# --------------------------------------------------------------------------------------

_VOCAB = (["alpha", "beta", "gamma", "delta", "épée", "naïve", "über", "東京", "straße", "x", "ab",
           "кошка", "собака", "🚑"] + [f"w{i}" for i in range(200)])
_PROBES = ["unseen", "épéeé", "東京タワー", "q", "</s>", "alph", "", "Straße", "🚑🚒", "w1000", "ab" * 300]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("ft")
    text = root / "text.txt"
    with open(text, "w", encoding="utf-8") as handle:
        for _ in range(2000):
            handle.write(" ".join(rng.choice(_VOCAB, 12)) + "\n")
    labelled = root / "labelled.txt"
    with open(labelled, "w", encoding="utf-8") as handle:
        for _ in range(1500):
            handle.write(f"__label__{rng.choice(['pos', 'neg'])} " + " ".join(rng.choice(_VOCAB, 8)) + "\n")
    return root, text, labelled


@pytest.fixture(scope="module")
def trained(corpus):
    fasttext = pytest.importorskip("fasttext")
    root, text, labelled = corpus
    out = {}
    common = dict(dim=8, epoch=1, minCount=1, thread=1, verbose=0)
    out["skipgram"] = fasttext.train_unsupervised(str(text), model="skipgram", bucket=2000, **common)
    out["cbow"] = fasttext.train_unsupervised(str(text), model="cbow", bucket=3000, minn=2, maxn=4, **common)
    # wide rows: every column block of the sum (64, 16, single columns)
    out["skipgram_100"] = fasttext.train_unsupervised(str(text), model="skipgram", bucket=2000,
                                                      **{**common, "dim": 100})
    out["supervised"] = fasttext.train_supervised(str(labelled), minn=2, maxn=4, bucket=1000, **common)
    paths = {}
    for name, model in out.items():
        paths[name] = root / f"{name}.bin"
        model.save_model(str(paths[name]))
    quant = fasttext.load_model(str(paths["supervised"]))
    quant.quantize(qnorm=False, dsub=2)
    paths["quantized"] = root / "quantized.ftz"
    quant.save_model(str(paths["quantized"]))
    pruned = fasttext.load_model(str(paths["supervised"]))
    pruned.quantize(input=str(labelled), qnorm=True, retrain=False, cutoff=400, dsub=3)
    paths["pruned"] = root / "pruned.ftz"
    pruned.save_model(str(paths["pruned"]))
    return {name: (paths[name], fasttext.load_model(str(paths[name]))) for name in paths}


@pytest.mark.parametrize("kind", ["skipgram", "skipgram_100", "cbow", "supervised", "quantized", "pruned"])
def test_fasttext_package_bit_for_bit(trained, kind):
    path, reference = trained[kind]
    model = load_fasttext(path)
    assert list(model.words) == reference.get_words(include_freq=False, on_unicode_error="strict") \
        if kind not in ("supervised", "quantized", "pruned") else \
        list(model.words) == list(reference.get_words())
    assert model.labels == list(reference.get_labels()) if kind in ("supervised", "quantized", "pruned") \
        else model.labels == []
    assert model.quantized == (kind in ("quantized", "pruned"))
    assert model.pruned == (kind == "pruned")
    words = list(model.words) + _PROBES
    # fastText sums the rows in float32 in the same order and scales by (float)(1.0/n)
    expected = np.stack([reference.get_word_vector(w) for w in words])
    np.testing.assert_array_equal(model.vectors_for(words), expected)
    # one word goes straight to C (model[word]); a batch on one thread or split in ranges
    np.testing.assert_array_equal(np.stack([model[w] for w in words]), expected)
    # a batch of many pipelined blocks (el_ft_range_vectors): every row
    many = np.tile(expected, (300, 1))
    np.testing.assert_array_equal(model.vectors_for(words * 300, threads=1), many)
    np.testing.assert_array_equal(model.vectors_for(words * 300, threads=3), many)
    subwords, rows = reference.get_subwords("alphas")
    got = model.ngrams("alphas")
    assert [r for _, r in got] == [int(r) for r in rows]
    if kind != "pruned":  # fastText lists pruned n-grams' text too, without their rows
        assert [g for g, _ in got] == list(subwords)


def test_floret_package_bit_for_bit(corpus):
    floret = pytest.importorskip("floret")
    root, text, _ = corpus
    reference = floret.train_unsupervised(str(text), model="cbow", dim=8, epoch=1, minCount=1,
                                          bucket=500, thread=1, verbose=0, mode="floret",
                                          hashCount=2, minn=3, maxn=5)
    path = root / "floret.bin"
    reference.save_model(str(path))
    model = load_fasttext(path)
    assert model.args.mode == "floret" and model.args.hash_count == 2
    words = list(model.words) + _PROBES
    expected = np.stack([reference.get_word_vector(w) for w in words])
    np.testing.assert_array_equal(model.vectors_for(words), expected)
    np.testing.assert_array_equal(model.vectors_for(words * 300, threads=2), np.tile(expected, (300, 1)))
    subwords, rows = reference.get_subwords("gamma")
    got = model.ngrams("gamma")
    assert [r for _, r in got] == [int(r) for r in rows]
    assert sorted(set(g for g, _ in got)) == sorted(set(subwords))


# --------------------------------------------------------------------------------------
# Damaged files
# --------------------------------------------------------------------------------------

def _bytes(name):
    with open(datapath(name), "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("name", ["toy-model.bin", "lee_fasttext.bin"])
def test_truncated_anywhere_is_an_error_naming_section_and_offset(name, tmp_path):
    data = _bytes(name)
    layout = _fasttext.parse(data, name).layout
    cuts = set(range(0, min(len(data), 400))) | set(range(0, len(data), 97)) | {
        v + d for v in layout.values() for d in (-1, 0, 1, 8)}
    for cut in sorted(c for c in cuts if 0 <= c < len(data)):
        with pytest.raises(EmbeddingFormatError) as info:
            _fasttext.parse(data[:cut], name)
        message = str(info.value)
        if cut >= 8 or layout["args"] == 0:
            assert "byte" in message, (cut, message)
    path = tmp_path / "cut.bin"
    path.write_bytes(data[:layout["input matrix data"] + 10])
    with pytest.raises(EmbeddingFormatError, match=r"input matrix at byte \d+: .*truncated"):
        load_fasttext(path)
    path.write_bytes(data[:layout["dictionary"] + 40])
    with pytest.raises(EmbeddingFormatError, match=r"dictionary header at byte \d+: \d+ entries need"):
        load_fasttext(path)
    path.write_bytes(data[:layout["pruneidx"] - 3])
    with pytest.raises(EmbeddingFormatError, match=r"dictionary entry (\d+) of \1 at byte \d+: the file "
                                                   r"ends inside the entry"):
        load_fasttext(path)


def test_lying_sizes_are_errors_not_allocations(tmp_path):
    data = bytearray(_bytes("toy-model.bin"))
    layout = _fasttext.parse(bytes(data), "toy").layout
    at = layout["input matrix"] + 1  # after quant_input
    lying = bytearray(data)
    lying[at:at + 8] = struct.pack("<q", 1 << 60)
    with pytest.raises(EmbeddingFormatError, match="input matrix at byte"):
        _fasttext.parse(bytes(lying), "toy")
    fewer = bytearray(data)
    fewer[at:at + 8] = struct.pack("<q", 30)  # fewer rows than words + buckets
    with pytest.raises(EmbeddingFormatError, match="input matrix"):
        _fasttext.parse(bytes(fewer), "toy")
    huge = bytearray(data)
    d = layout["dictionary"]
    huge[d:d + 8] = struct.pack("<ii", 2 ** 31 - 1, 2 ** 31 - 1)
    with pytest.raises(EmbeddingFormatError, match=r"dictionary header at byte \d+: 2147483647 entries need"):
        _fasttext.parse(bytes(huge), "toy")
    version = bytearray(data)
    version[4:8] = struct.pack("<i", 13)
    path = tmp_path / "v13.bin"
    path.write_bytes(bytes(version))
    with pytest.raises(EmbeddingFormatError, match="fastText file version 13; embload reads versions 11 and 12"):
        load_fasttext(path)
    with pytest.raises(EmbeddingFormatError, match="version 13"):
        embload.load(path)
    with pytest.raises(EmbeddingFormatError, match="version 13"):
        embload.load_aligned(path, {"a": 1})
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(EmbeddingFormatError, match="empty"):
        load_fasttext(empty)


def test_gensim_pickle_is_recognised(tmp_path, gensim_fasttext):
    model = gensim_fasttext.FastText(vector_size=4, min_count=1, bucket=50, epochs=1)
    sentences = [["a", "b", "c"], ["b", "c", "d"]]
    model.build_vocab(sentences)
    model.train(sentences, total_examples=2, epochs=1)
    path = tmp_path / "gensim.model"
    model.save(str(path))
    calls = (load_fasttext, embload.load, lambda p: embload.load_aligned(p, {"a": 1}),
             lambda p: embload.load_aligned(p, {"a": 1}, oov="subwords"))
    for call in calls:
        with pytest.raises(EmbeddingFormatError, match=r"gensim model saved with save\(\).*Vectors.from_gensim"):
            call(path)


def fuzz_fasttext(data: bytes) -> None:
    """One fuzz case (for atheris and the hypothesis test below): any bytes read as a model
    give a model or an EmbeddingFormatError, never a crash or another exception."""
    try:
        parsed = _fasttext.parse(bytes(data), "fuzz.bin")
    except EmbeddingFormatError:
        return
    model = FastTextModel(parsed, errors="replace")
    model.vectors_for(["a", "hello", "</s>", "тест"], threads=2)
    model.to_vectors(limit=50)
    model.ngrams("fuzz")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_header_and_dictionary(data):
    name = data.draw(st.sampled_from(["toy-model.bin", "lee_fasttext.bin"]))
    raw = bytearray(_bytes(name))
    edits = data.draw(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), max_size=6))
    for pos, value in edits:
        raw[pos] = value
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(raw))))
    if cut is not None:
        raw = raw[:cut]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fuzz_fasttext(bytes(raw))


def test_load_aligned_model_with_any_numbering_and_lookup():
    # a model goes through the same plan as a vectors file: 0-based ids, a padding row,
    # lookup= mapping several tokens to one word, subwords for the rest
    path = datapath("lee_fasttext_new.bin")
    model = load_fasttext(path)
    vocab = ["<pad>", "Hundred", "HUNDRED", "rejectionz", "xq"]
    aligned = embload.load_aligned(path, vocab, oov="subwords", lookup=str.lower)
    assert aligned.padding_idx == 0 and not aligned.matrix[0].any()
    np.testing.assert_array_equal(aligned.matrix[1], model["hundred"])
    np.testing.assert_array_equal(aligned.matrix[2], model["hundred"])
    np.testing.assert_array_equal(aligned.matrix[3], model["rejectionz"])
    assert aligned.found.tolist() == [False, True, True, False, False]
    assert aligned.from_subwords.tolist()[3] and not aligned.from_subwords[1]
    assert "from subwords:" in aligned.summary()
    with pytest.raises(ValueError, match="oov='subwords' needs a fastText or floret model"):
        embload.load_aligned(datapath("lee_fasttext.vec"), vocab, oov="subwords")
