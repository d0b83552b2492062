"""The C tokenizer (embload/_text.pyx, src/tokenize.h) against keras_preprocessing and
against embload's own Python path, on random Unicode text, at 1, 2 and 3 threads."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embload import _text
from embload.text import Tokenizer, pad_sequences

kp_text = pytest.importorskip("keras_preprocessing.text")

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
# the characters where lowercasing is hard: longer lowercase (İ), no lowercase
# change (ẞ lowers to ß, ß stays), Greek sigma whose lowercase depends on the
# neighbours (cased letters, case-ignorable ones like combining marks, the
# apostrophe and the period), titlecase digraphs, a lone surrogate
HARD = "İIıiẞßΣσςΑαΌό\u0301\u0345'.:·\u00ad ǅǄǆ\ud800Ⓐⓐ\u2160ʰ日é!,\t\n-"
unicode_text = st.one_of(
    st.text(max_size=40),  # any code point
    st.text(alphabet=HARD, max_size=40),
    st.text(alphabet=HARD + "ab AB", max_size=60),
)
docs = st.one_of(unicode_text, st.lists(st.text(alphabet=HARD + "aB", max_size=4), max_size=4))
corpora = st.lists(docs, max_size=10)

OPTIONS = [
    {},
    {"num_words": 4, "oov_token": "<OOV>"},
    {"lower": False},
    {"char_level": True},
    {"split": "Σ", "filters": "ς"},  # a non-ASCII split, and a filter that lowercasing makes
    {"split": "--"},
    {"split": "\u0307", "filters": "i"},  # split inside the lowercase of İ
    {"filters": ["!", "σ", 0x3C2]},
]

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def tiny_parts():
    """Every thread gets work even on a few short documents."""
    old = _text._set_min_thread_chars(1)
    yield
    _text._set_min_thread_chars(old)


@pytest.fixture
def python_path(monkeypatch):
    """A factory of tokenizers that never take the C path."""

    def make(**options):
        tok = Tokenizer(**options)
        monkeypatch.setattr(tok, "_c_options", lambda: None)
        return tok

    return make


def state(tok, json=True):
    return (
        list(tok.word_counts.items()),
        list(tok.word_docs.items()),
        list(tok.index_docs.items()),
        list(tok.word_index.items()),
        list(tok.index_word.items()),
        tok.document_count,
        tok.to_json() if json else None,
    )


@SETTINGS
@given(text=unicode_text)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lower": False}, {"split": "Σ"}, {"split": "ab", "filters": "İσ"}, {"filters": HARD[:9]}],
    ids=repr,
)
def test_c_rules_match_text_to_word_sequence(kwargs, text):
    kwargs = {"filters": DEFAULT_FILTERS, "lower": True, "split": " ", **kwargs}
    options = _text.Options(kwargs["filters"], kwargs["split"], kwargs["lower"], False)
    assert options.tokenize(text) == kp_text.text_to_word_sequence(text, **kwargs)


# ASCII documents take their own path (tokenize.h: el_tok_words1_ascii), 64 bytes of
# separator bits at a time, with a SIMD and a portable classifier: long documents, every
# ASCII byte (NUL and DEL too) and separator sets over the whole table
ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=300) | st.text(
    alphabet="aZ.  ,Q\x00\x7f", min_size=60, max_size=200
)
ascii_options = st.fixed_dictionaries(
    {
        "filters": st.sampled_from([DEFAULT_FILTERS, "", "aeiouAEIOU", "\x00\x7f\x1f0@`p", "".join(map(chr, range(0, 128, 3)))]),
        "split": st.sampled_from([" ", "a", "\x00", "\x7f", "Z", "0"]),
        "lower": st.booleans(),
    }
)


@pytest.mark.parametrize("simd", range(_text.SIMD_LEVEL + 1), ids=lambda level: f"simd{level}")
@settings(max_examples=150, deadline=None)
@given(text=ascii_text, kwargs=ascii_options)
def test_ascii_path_matches_text_to_word_sequence(simd, text, kwargs):
    old = _text._set_simd_level(simd)
    try:
        options = _text.Options(kwargs["filters"], kwargs["split"], kwargs["lower"], False)
        assert options.tokenize(text) == kp_text.text_to_word_sequence(text, **kwargs)
    finally:
        _text._set_simd_level(old)


@pytest.mark.parametrize("bmp", [True, False], ids=["bmp-table", "per-code-point"])
@SETTINGS
@given(text=unicode_text | st.text(alphabet="Σσ\u0130K\u212aЖжÉé \u00a0.", max_size=80))
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lower": False}, {"split": "Σ"}, {"split": "ж", "filters": "İσ"}, {"filters": HARD[:9]},
     {"split": "\u00a0", "filters": "k"}],
    ids=repr,
)
def test_bmp_table_and_per_code_point_rules_agree(bmp, kwargs, text):
    # text in 1- or 2-byte storage takes the BMP table (el_tokopts.bmp) or the rules
    # one code point at a time; both must be text_to_word_sequence
    _text.Options("", " ", True, False).tokenize("\u00e9")  # the case tables exist
    kwargs = {"filters": DEFAULT_FILTERS, "lower": True, "split": " ", **kwargs}
    old = _text._set_bmp(bmp)
    try:
        options = _text.Options(kwargs["filters"], kwargs["split"], kwargs["lower"], False)
    finally:
        _text._set_bmp(old)
    assert options.tokenize(text) == kp_text.text_to_word_sequence(text, **kwargs)


@settings(max_examples=200, deadline=None)
@given(text=unicode_text)
def test_c_lowercase_is_str_lower(text):
    assert _text.Options("", " ", True, True).tokenize(text) == list(text.lower())
    assert _text.Options("", " ", True, False).tokenize([text, text]) == [text.lower()] * 2


def test_sigma_and_long_lowercase():
    words = _text.Options(DEFAULT_FILTERS, " ", True, False).tokenize
    assert words("ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ\u0301 A'Σ Σa İ") == "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ\u0301 A'Σ Σa İ".lower().replace(".", "").split()
    assert words("ΟΔΟΣ") == ["οδος"]
    assert words("İ") == ["i\u0307"]
    assert words("ẞ") == ["ß"]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("options", OPTIONS, ids=repr)
@SETTINGS
@given(first=corpora, second=corpora, probe=corpora)
def test_c_path_matches_keras_and_python(tiny_parts, python_path, threads, options, first, second, probe):
    ours, theirs, slow = Tokenizer(**options), kp_text.Tokenizer(**options), python_path(**options)
    for corpus in (first, second):
        ours.fit_on_texts(iter(corpus), threads=threads)
        theirs.fit_on_texts(corpus)
        slow.fit_on_texts(corpus)
        assert state(ours) == state(theirs) == state(slow)
    texts = first + probe
    expected = theirs.texts_to_sequences(texts)
    assert ours.texts_to_sequences(texts, threads=threads) == expected
    assert slow.texts_to_sequences(texts) == expected
    assert list(ours.texts_to_sequences_generator(iter(texts * 40), threads=threads)) == expected * 40
    if ours.word_index:
        np.testing.assert_array_equal(
            ours.texts_to_matrix(texts, mode="count", threads=threads),
            theirs.texts_to_matrix(texts, mode="count"),
        )


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("batch", [1, 3, 32768])
def test_batches_and_threads_do_not_change_results(monkeypatch, tiny_parts, threads, batch):
    monkeypatch.setattr("embload.text._FIT_BATCH", batch)
    rng = np.random.default_rng(batch)
    vocab = ["w%d" % i for i in range(50)] + ["Ab", "ab", "AB!", "é", "x,y", "ΟΔΟΣ", "İz"]
    corpus = [" ".join(rng.choice(vocab, size=rng.integers(0, 15))) for _ in range(80)]
    corpus += [["Ab", "", "ab"], "", "   "]
    ours, theirs = Tokenizer(num_words=20, oov_token="<OOV>"), kp_text.Tokenizer(num_words=20, oov_token="<OOV>")
    ours.fit_on_texts(corpus, threads=threads)
    theirs.fit_on_texts(corpus)
    assert state(ours) == state(theirs)
    assert ours.texts_to_sequences(corpus, threads=threads) == theirs.texts_to_sequences(corpus)


@pytest.mark.parametrize("threads", [2, 3, 4])
@pytest.mark.parametrize("piece", [1, 7, 64])
def test_pipelined_lookups_equal_one_thread_and_keras(monkeypatch, tiny_parts, threads, piece):
    # with several threads, texts_to_sequences looks pieces up on helper threads while
    # this one makes the lists of the pieces already done, in order
    monkeypatch.setattr("embload.text._PIPELINE_DOCS", piece)
    rng = np.random.default_rng(piece + threads)
    vocab = ["w%d" % i for i in range(60)] + ["Ab", "ab", "AB!", "é", "x,y", "ΟΔΟΣ", "İz", "unseen"]
    corpus = [" ".join(rng.choice(vocab, size=rng.integers(0, 15))) for _ in range(300)]
    corpus[100:103] = [["Ab", "", "ab"], "", "   "]
    for options in (dict(num_words=20, oov_token="<OOV>"), dict(num_words=20), dict(oov_token="<OOV>"), {}):
        ours, theirs = Tokenizer(**options), kp_text.Tokenizer(**options)
        ours.fit_on_texts(corpus[:150], threads=1)
        theirs.fit_on_texts(corpus[:150])
        expected = theirs.texts_to_sequences(corpus)
        assert ours.texts_to_sequences(corpus, threads=threads) == expected
        assert ours.texts_to_sequences(corpus, threads=1) == expected
    # a document the C path does not take (bytes among pre-split tokens): Python, whole
    odd = corpus[:200] + [[b"ab", "w1"]] + corpus[200:]
    assert ours.texts_to_sequences(odd, threads=threads) == theirs.texts_to_sequences(odd)


def test_pipelined_lookup_error_reaches_the_caller(monkeypatch, tiny_parts):
    # an error while the lists are made (here: a piece reported out of memory) reaches the
    # caller, the helpers stop after the piece they hold, and the next call is whole
    monkeypatch.setattr("embload.text._PIPELINE_DOCS", 5)
    corpus = ["w%d w%d" % (i, i + 1) for i in range(100)]
    tok = Tokenizer(oov_token="<OOV>")
    tok.fit_on_texts(corpus)

    class Failing(_text.LookupPieces):
        def wait(self, i):
            super().wait(i)
            if i == 7:
                raise MemoryError("no memory for the sequences")

    monkeypatch.setattr("embload.text._text.LookupPieces", Failing)
    with pytest.raises(MemoryError, match="no memory for the sequences"):
        tok.texts_to_sequences(corpus, threads=3)
    monkeypatch.undo()
    monkeypatch.setattr("embload.text._PIPELINE_DOCS", 5)
    assert tok.texts_to_sequences(corpus, threads=3) == tok.texts_to_sequences(corpus, threads=1)


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-on", "gc-off"])
def test_pipelined_lookups_scan_their_lists_only_where_the_collector_is_on(monkeypatch, tiny_parts, enabled):
    # the pipeline runs the young-generation collection of each piece's lists itself,
    # overlapping the helpers' look-ups, unless the user turned the collector off
    import gc

    monkeypatch.setattr("embload.text._PIPELINE_DOCS", 8)
    corpus = ["w%d w%d ab" % (i % 13, i % 7) for i in range(200)]
    tok = Tokenizer(oov_token="<OOV>")
    tok.fit_on_texts(corpus)
    expected = tok.texts_to_sequences(corpus, threads=1)
    seen = []

    def log(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    gc.callbacks.append(log)
    try:
        result = tok.texts_to_sequences(corpus, threads=2)
        still = gc.isenabled()
    finally:
        gc.callbacks.remove(log)
        (gc.enable if was else gc.disable)()
    assert result == expected
    assert still == enabled
    if enabled:
        assert seen.count(0) >= 25  # one a piece: 200 documents, pieces of 8
    else:
        assert seen == []


def test_lookup_pieces_match_lookup(tiny_parts):
    corpus = ["w%d w%d ab" % (i % 13, i % 7) for i in range(50)] + ["", "w1"]
    tok = Tokenizer(num_words=6, oov_token="<OOV>")
    tok.fit_on_texts(corpus)
    options, table, num_words, has_oov, oov_value = tok._lookup_plan()
    docs = _text.gather(corpus)
    whole_ids, whole_lengths = _text.lookup(options, table, docs, num_words, has_oov,
                                            oov_value is not None, 1)
    for piece in (1, 4, 50, 100):
        job = _text.LookupPieces(options, table, docs, num_words, has_oov, oov_value is not None, piece)
        assert len(job) == -(-len(corpus) // piece)
        job.help()  # this thread claims every piece
        parts = [job.result(i) for i in range(len(job))]
        np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole_ids)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole_lengths)


def test_python_batches_between_c_batches_keep_order(monkeypatch):
    # a pre-split document holding bytes is Keras-legal (bytes have .lower()) but not
    # for C: that batch runs in Python, between C batches, and the order still holds
    monkeypatch.setattr("embload.text._FIT_BATCH", 2)
    corpus = ["b a", "c", [b"X", "a"], "d b", "e", [b"x"], "f a"]
    ours, theirs = Tokenizer(), kp_text.Tokenizer()
    ours.fit_on_texts(corpus)
    theirs.fit_on_texts(corpus)
    assert state(ours, json=False) == state(theirs, json=False)  # bytes keys: no JSON


def test_streaming_fit_reads_an_iterable_once(tmp_path):
    path = tmp_path / "corpus.txt"
    lines = [f"line {i} word{i % 7} Σίσυφος" for i in range(2000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ours, theirs = Tokenizer(), kp_text.Tokenizer()
    with open(path, encoding="utf-8") as handle:
        ours.fit_on_texts(handle)  # a file, line by line
    theirs.fit_on_texts([line + "\n" for line in lines])
    assert state(ours) == state(theirs)
    with open(path, encoding="utf-8") as handle:
        got = list(ours.texts_to_sequences_generator(handle))
    assert got == theirs.texts_to_sequences([line + "\n" for line in lines])


def test_hand_edited_index_values_are_kept_as_objects():
    ours, theirs = Tokenizer(num_words=3, oov_token="<OOV>"), kp_text.Tokenizer(num_words=3, oov_token="<OOV>")
    for tok in (ours, theirs):
        tok.fit_on_texts(["a a b c"])
        tok.word_index["big"] = 10**30  # beyond int64: the Python path, as Keras
        tok.word_index[7] = 1  # a key that is not a str never matches a token
    assert ours.texts_to_sequences(["a big c"], threads=2) == theirs.texts_to_sequences(["a big c"])
    del ours.word_index["big"], theirs.word_index["big"]
    assert ours.texts_to_sequences(["a x c"] * 50, threads=2) == theirs.texts_to_sequences(["a x c"] * 50)


def test_analyzer_takes_the_python_path():
    ours = Tokenizer(analyzer=lambda text: text.split("/"))
    ours.fit_on_texts(["A/b/A", ["X", "y"]])
    assert list(ours.word_counts.items()) == [("A", 2), ("b", 1), ("x", 1), ("y", 1)]
    assert ours.texts_to_sequences(["b/A/zz"]) == [[2, 1]]
    with pytest.raises(TypeError, match="analyzer must be a callable"):
        Tokenizer(analyzer="words")


def test_case_tables_probe_what_matters():
    # the default probes code points below U+20000 and U+E0000..U+E0FFF only:
    # the same tables as probing all of Unicode
    fast, full = _text._case_tables(), _text._case_tables(full=True)
    for a, b in zip(fast, full):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "float32", "float64"])
def test_pad_lists_in_c(dtype):
    seqs = [[1, 2, 3], [], [4], list(range(10))]
    x = np.full((4, 5), 7, dtype=dtype)
    assert _text.pad_lists(x, seqs, 5, False, False)
    expected = np.array([[7, 7, 1, 2, 3], [7] * 5, [7, 7, 7, 7, 4], [5, 6, 7, 8, 9]], dtype=dtype)
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=5, dtype=dtype, value=7), expected)
    # what C does not convert is left to NumPy's rules
    assert not _text.pad_lists(np.zeros((1, 2), dtype=dtype), [[1, 2.5]], 2, False, False)
    assert not _text.pad_lists(np.zeros((1, 2), dtype=dtype), [[True]], 2, False, False)
    assert not _text.pad_lists(np.zeros((1, 2), dtype=dtype), [[2**64]], 2, False, False)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("options", OPTIONS[:4] + [{"oov_token": "<OOV>", "num_words": 2}], ids=repr)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=corpora,
    probe=corpora,
    maxlen=st.integers(0, 6),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    dtype=st.sampled_from(["int32", "int8", "float32", "int64", "uint8"]),
)
def test_texts_to_padded_is_pad_of_sequences(tiny_parts, threads, options, first, probe, maxlen,
                                             padding, truncating, dtype):
    from embload.text import texts_to_padded

    tok = Tokenizer(**options)
    tok.fit_on_texts(first)
    pad = dict(maxlen=maxlen, padding=padding, truncating=truncating, dtype=dtype, value=-1 if dtype[0] != "u" else 0)
    texts = first + probe
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = pad_sequences(tok.texts_to_sequences(texts), **pad)
        except (TypeError, ValueError, OverflowError) as exc:
            with pytest.raises(type(exc)):
                texts_to_padded(tok, texts, pad, threads)
            return
        got = texts_to_padded(tok, texts, pad, threads)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("setup", ["normal", "oov_set_after_fit", "oov_removed_from_index", "no_oov"])
@pytest.mark.parametrize("threads", [1, 2])
def test_num_words_table_matches_keras(tiny_parts, setup, threads):
    # texts_to_sequences probes a table of only the words under num_words when a word
    # past the limit comes out as an unknown one does (the OOV token has an index, or
    # there is no OOV token); otherwise the whole word_index. Keras in every case,
    # including its None for an unknown word when the OOV token has no index.
    texts = ["the cat sat on the mat", "the dog ate the cat food", "a b c d e f g"] * 20
    oov = None if setup in ("oov_set_after_fit", "no_oov") else "<OOV>"
    ours, theirs = Tokenizer(num_words=4, oov_token=oov), kp_text.Tokenizer(num_words=4, oov_token=oov)
    ours.fit_on_texts(texts)
    theirs.fit_on_texts(texts)
    if setup == "oov_set_after_fit":
        ours.oov_token = theirs.oov_token = "<OOV>"
    if setup == "oov_removed_from_index":
        del ours.word_index["<OOV>"], theirs.word_index["<OOV>"]
    probe = ["the cat zzz food", "a b x", "Mat, the DOG!"] * 30
    assert ours._lookup_plan() is not None  # the C path
    assert ours.texts_to_sequences(probe, threads=threads) == theirs.texts_to_sequences(probe)


# ---------------------------------------------- word_docs: Python's set(tokens) order
# word_docs_order works out the order CPython's set iterates a document's words in from
# their hashes (_text._shadow_order) instead of building the set


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.text(max_size=6), unique=True, max_size=300))
def test_shadow_set_order_is_the_set_order(keys):
    assert _text._shadow_matches(keys)


@pytest.mark.parametrize("n", [5, 6, 19, 20, 77, 78, 300, 4000, 20000])
def test_shadow_set_order_at_every_growth(n):
    # a set grows when 3/5 full: these sizes sit on both sides of the first steps
    assert _text._shadow_matches([f"w{i * 7919 % (3 * n)}" for i in range(n)])


def zipf_texts(docs, vocab, seed):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    lens = rng.integers(1, 40, size=docs)
    ids = np.minimum(rng.zipf(1.2, size=int(lens.sum())) - 1, vocab - 1)
    out, pos = [], 0
    for n in lens:
        out.append(" ".join(words[i] for i in ids[pos : pos + n]))
        pos += n
    return out


def test_word_docs_order_shadow_equals_real_sets():
    texts = zipf_texts(3000, 5000, 0)
    options = Tokenizer()._c_options()
    counter = _text.Counter(options, 1)
    counter.add(_text.gather(texts))
    words, _, _, first_doc, records, _ = counter.result()
    assert len(records) > 1000  # documents that bring several new words: the case at stake
    shadow = _text.word_docs_order(words, first_doc, records)
    real = _text.word_docs_order(words, first_doc, records, shadow=False)
    assert shadow.tolist() == real.tolist()
    keras = kp_text.Tokenizer()
    keras.fit_on_texts(texts)
    assert [words[i] for i in shadow.tolist()] == list(keras.word_docs)


def test_word_docs_order_of_a_document_past_the_shadows_reach():
    # over 50,000 new words in one document: its order comes from a real set
    texts = ["a b", " ".join(f"x{i}" for i in range(50_500)), "b c d"]
    tok = Tokenizer()
    tok.fit_on_texts(texts)
    keras = kp_text.Tokenizer()
    keras.fit_on_texts(texts)
    assert list(tok.word_docs.items()) == list(keras.word_docs.items())


@pytest.mark.parametrize("seed", ["0", "1", "12345"])
def test_word_docs_order_under_other_hash_seeds(seed, tmp_path):
    # set order follows the process's str hashes: the same fit in processes seeded apart.
    # The child imports the embload this process tests (an installed one too), from a
    # folder of its own, and reads the corpus from a file
    import json
    import os
    import subprocess
    import sys

    import embload

    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(zipf_texts(2000, 3000, 1)), encoding="utf-8")
    code = (
        "import json, sys\n"
        "from embload.text import Tokenizer\n"
        "import keras_preprocessing.text as kp\n"
        "texts = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "tok, keras = Tokenizer(), kp.Tokenizer()\n"
        "tok.fit_on_texts(texts); keras.fit_on_texts(texts)\n"
        "assert list(tok.word_docs.items()) == list(keras.word_docs.items())\n"
        "assert tok.to_json() == keras.to_json()\n"
    )
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(embload.__file__)))
    path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code, str(corpus)],
        env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": path},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


# ------------------------------------------------ the ranking of a fit (text._by_count)


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(0, 2**40), max_size=200) | st.lists(st.integers(0, 3), max_size=200))
def test_by_count_is_sorteds_order(counts):
    from embload.text import _by_count

    words = [f"w{i}" for i in range(len(counts))]
    table = dict(zip(words, counts))
    expected = sorted(table, key=table.__getitem__, reverse=True)
    order = _by_count(np.array(counts, dtype=np.int64))
    assert _text.take(words, order) == expected


def test_by_count_past_the_key_range_and_take_checks_positions():
    from embload.text import _by_count

    counts = np.array([2**62, 5, 2**62, 7], dtype=np.int64)  # (top + 1) * n overflows
    assert _by_count(counts).tolist() == [0, 2, 3, 1]
    with pytest.raises(IndexError):
        _text.take(["a", "b"], np.array([0, 2], dtype=np.int64))
    assert _text.take(["a", "b"], np.array([], dtype=np.int64)) == []


# --------------------------------------- keys and hashes 8 tokens at a time (tokenize.h)
# With AVX-512 (simd level 2) el_hash_tokens and el_home_ids run 8 tokens a step; the
# tables are built by the scalar code, so a different bit would lose words

long_words = st.lists(
    st.text(alphabet="abcXYZé日\u00e9-", min_size=0, max_size=40), min_size=0, max_size=30
).map(" ".join)
word_lists = st.lists(st.text(alphabet="ab日", max_size=30), max_size=12)  # "" tokens too


@settings(max_examples=80, deadline=None)
@given(corpus=st.lists(long_words | word_lists | unicode_text, min_size=1, max_size=12))
def test_simd_keys_give_the_scalar_tables(corpus):
    results = []
    for level in range(_text.SIMD_LEVEL + 1):
        old = _text._set_simd_level(level)
        try:
            tok = Tokenizer(num_words=7, oov_token="<OOV>")
            tok.fit_on_texts(corpus, threads=2)
            seqs = tok.texts_to_sequences(corpus, threads=1), tok.texts_to_sequences(corpus, threads=2)
        finally:
            _text._set_simd_level(old)
        results.append((tok.to_json(), seqs))
    assert all(r == results[0] for r in results)
    keras = kp_text.Tokenizer(num_words=7, oov_token="<OOV>")
    keras.fit_on_texts(corpus)
    assert results[0][0] == keras.to_json()
    assert results[0][1][0] == keras.texts_to_sequences(corpus)


@pytest.mark.parametrize("level", range(_text.SIMD_LEVEL + 1), ids=lambda level: f"simd{level}")
def test_every_token_count_and_length_at_every_simd_level(level):
    # documents of 0-19 tokens (every remainder of 8), words of 1-40 bytes (both sides of
    # the 8-, 16- and 24-byte key words), fitted and looked up against keras
    words = ["w" * n for n in range(1, 41)] + ["é" * n for n in range(1, 21)]
    corpus = [" ".join(words[(i * 7 + j) % len(words)] for j in range(i % 20)) for i in range(120)]
    old = _text._set_simd_level(level)
    try:
        tok = Tokenizer(num_words=30, oov_token="<OOV>")
        tok.fit_on_texts(corpus, threads=1)
        got = tok.texts_to_sequences(corpus, threads=1)
    finally:
        _text._set_simd_level(old)
    keras = kp_text.Tokenizer(num_words=30, oov_token="<OOV>")
    keras.fit_on_texts(corpus)
    assert tok.to_json() == keras.to_json()
    assert got == keras.texts_to_sequences(corpus)


@pytest.mark.parametrize("level", range(_text.SIMD_LEVEL + 1), ids=lambda level: f"simd{level}")
def test_documents_longer_than_a_block_of_tokens(level, tiny_parts):
    # a document's tokens are hashed and looked up EL_TOK_BLOCK (1024) at a time: documents
    # of 1,023 to 3,000 tokens, words first seen past a block's end (first-seen order,
    # document counts and the set order of the words a document brings all cross blocks)
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(2500)] + ["x" * 30 + str(i) for i in range(40)]
    corpus = [" ".join(rng.choice(words, size=n)) for n in (1023, 1024, 1025, 2049, 3000, 0, 5)]
    corpus.append(" ".join(words))  # 2,540 tokens, every word new, most past the first block
    old = _text._set_simd_level(level)
    try:
        fitted = []
        for threads in (1, 2):  # two: the threads' vocabularies merge by first sighting
            tok = Tokenizer(num_words=500, oov_token="<OOV>")
            tok.fit_on_texts(corpus, threads=threads)
            fitted.append((tok.to_json(), tok.texts_to_sequences(corpus, threads=threads)))
    finally:
        _text._set_simd_level(old)
    keras = kp_text.Tokenizer(num_words=500, oov_token="<OOV>")
    keras.fit_on_texts(corpus)
    for state, got in fitted:
        assert state == keras.to_json()
        assert got == keras.texts_to_sequences(corpus)
