"""embload.text against keras_preprocessing 1.1.2 (Keras' own Tokenizer and pad_sequences)."""

import json
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embload
from embload.text import Tokenizer, pad_sequences, text_to_word_sequence, tokenizer_from_json

kp_text = pytest.importorskip("keras_preprocessing.text")
kp_sequence = pytest.importorskip("keras_preprocessing.sequence")

SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def kpad(monkeypatch):
    """keras_preprocessing's pad_sequences, made to run on NumPy 2."""
    monkeypatch.setattr(np, "unicode_", np.str_, raising=False)
    return kp_sequence.pad_sequences


# ----------------------------------------------------------------- corpora
# characters chosen to hit every rule: default filters, apostrophe (kept),
# runs of separators, other whitespace (not split on), case pairs whose
# lowercase is longer or context-dependent (İ, final sigma), non-ASCII
# letters, a lone surrogate, a NUL
CHARS = "abcAB '!.,-\t\n\r\x0b\xa0\x85 éÉßİΣσς日\ud800\x00_~@"
words = st.text(alphabet=CHARS, max_size=12)
docs = st.one_of(
    words,
    st.text(alphabet=CHARS, max_size=40),
    st.lists(st.text(alphabet="abAB é", max_size=3), max_size=5),  # pre-split tokens
)
corpora = st.lists(docs, max_size=12)

OPTIONS = [
    {},
    {"num_words": 3},
    {"oov_token": "<OOV>"},
    {"num_words": 4, "oov_token": "<OOV>"},
    {"num_words": 1, "oov_token": "<OOV>"},
    {"lower": False},
    {"char_level": True},
    {"char_level": True, "num_words": 5, "oov_token": "?"},
    {"split": ","},
    {"split": ",", "filters": ""},
    {"filters": "a-é"},  # non-ASCII filter: the str.translate path
    {"split": "--"},  # multi-character separator
    {"split": "é", "lower": False},
    {"filters": ["!", ".", "a"]},  # a list of characters, as Keras allows
    {"oov_token": "a", "num_words": 3},  # OOV token that is also a word
]


def assert_same_state(ours, theirs):
    assert isinstance(ours.word_counts, OrderedDict)
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert list(ours.word_docs.items()) == list(theirs.word_docs.items())
    assert list(ours.index_docs.items()) == list(theirs.index_docs.items())
    assert list(ours.word_index.items()) == list(theirs.word_index.items())
    assert list(ours.index_word.items()) == list(theirs.index_word.items())
    assert ours.document_count == theirs.document_count
    assert ours.get_config() == theirs.get_config()
    assert ours.to_json() == theirs.to_json()


def both(options, *corpora_to_fit):
    ours, theirs = Tokenizer(**options), kp_text.Tokenizer(**options)
    for corpus in corpora_to_fit:
        ours.fit_on_texts(corpus)
        theirs.fit_on_texts(corpus)
    return ours, theirs


def outcome(fn, *args, **kwargs):
    """The result, or the exception type: both sides must agree on either."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - we compare whatever Keras raises
        return type(exc)


def assert_same_outcome(got, expected):
    """Equal arrays (dtype and shape too), or the same exception type."""
    if isinstance(expected, np.ndarray):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    else:
        assert got is expected


# -------------------------------------------------- Tokenizer vs Keras (random)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: repr(o))
@SETTINGS
@given(first=corpora, second=corpora, probe=corpora)
def test_tokenizer_matches_keras(options, first, second, probe):
    ours, theirs = both(options, first)
    assert_same_state(ours, theirs)
    # a second fit adds to the counts and renumbers everything
    ours.fit_on_texts(iter(second))
    theirs.fit_on_texts(iter(second))
    assert_same_state(ours, theirs)

    texts = first + probe
    seqs = theirs.texts_to_sequences(texts)
    assert ours.texts_to_sequences(texts) == seqs
    assert list(ours.texts_to_sequences_generator(iter(texts))) == seqs

    # indices Keras never hands out too: 0, past the end, past num_words
    top = len(theirs.word_index) + 1
    probes = seqs + [[0, 1, 2, top, top + 5], [], [3, 3, 0]]
    assert ours.sequences_to_texts(probes) == theirs.sequences_to_texts(probes)
    assert list(ours.sequences_to_texts_generator(probes)) == theirs.sequences_to_texts(probes)

    for mode in ("binary", "count", "tfidf", "freq"):
        expected = outcome(theirs.sequences_to_matrix, probes, mode=mode)
        got = outcome(ours.sequences_to_matrix, probes, mode=mode)
        assert_same_outcome(got, expected)
        expected = outcome(theirs.texts_to_matrix, texts, mode=mode)
        got = outcome(ours.texts_to_matrix, texts, mode=mode)
        assert_same_outcome(got, expected)


@pytest.mark.parametrize("options", [{}, {"num_words": 4, "oov_token": "<OOV>"}], ids=repr)
@SETTINGS
@given(
    seqs=st.lists(st.lists(st.integers(0, 12), max_size=8), max_size=8),
    texts=corpora,
)
def test_fit_on_sequences_and_matrices_match_keras(options, seqs, texts):
    ours, theirs = both(options, texts)
    ours.fit_on_sequences(seqs)
    theirs.fit_on_sequences(seqs)
    assert_same_state(ours, theirs)
    for mode in ("binary", "count", "tfidf", "freq"):
        expected = outcome(theirs.sequences_to_matrix, seqs, mode=mode)
        got = outcome(ours.sequences_to_matrix, seqs, mode=mode)
        assert_same_outcome(got, expected)


@SETTINGS
@given(text=st.text(alphabet=CHARS, max_size=60))
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lower": False}, {"split": ","}, {"filters": "é!", "split": "ß"}, {"split": "ab"}],
    ids=repr,
)
def test_text_to_word_sequence_matches_keras(kwargs, text):
    assert text_to_word_sequence(text, **kwargs) == kp_text.text_to_word_sequence(text, **kwargs)


@pytest.mark.parametrize("batch", [1, 7, 8192])
def test_fit_batches_do_not_change_results(monkeypatch, batch):
    # fitting reads the corpus in batches: their boundaries must not show
    monkeypatch.setattr("embload.text._FIT_BATCH", batch)
    rng = np.random.default_rng(batch)
    vocab = ["w%d" % i for i in range(40)] + ["Ab", "ab", "AB!", "é", "x,y"]
    corpus = [" ".join(rng.choice(vocab, size=rng.integers(0, 12))) for _ in range(60)]
    corpus += [["Ab", "", "ab"], "", "   "]
    ours, theirs = both({"num_words": 20, "oov_token": "<OOV>"}, corpus, corpus[:9])
    assert_same_state(ours, theirs)
    assert ours.texts_to_sequences(corpus) == theirs.texts_to_sequences(corpus)


def test_garbage_collector_state_is_restored():
    import gc

    assert gc.isenabled()
    tok = Tokenizer()
    with pytest.raises(AttributeError):
        tok.fit_on_texts(["fine", 42])  # Keras fails the same way: int has no lower()
    assert gc.isenabled()
    gc.disable()
    try:
        tok.fit_on_texts(["a b"])
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


# ------------------------------------------------------------- Keras' quirks
def test_ties_keep_first_seen_order_and_oov_is_one():
    tok = Tokenizer(oov_token="<OOV>")
    tok.fit_on_texts(["b a c", "c a d"])
    # first-seen order b, a, c, d; a and c tie at 2, b and d at 1
    assert list(tok.word_counts.items()) == [("b", 1), ("a", 2), ("c", 2), ("d", 1)]
    assert tok.word_index == {"<OOV>": 1, "a": 2, "c": 3, "b": 4, "d": 5}
    assert tok.index_word[1] == "<OOV>"


def test_num_words_cuts_sequences_not_word_index():
    tok = Tokenizer(num_words=3)
    tok.fit_on_texts(["x x x y y z"])
    assert tok.word_index == {"x": 1, "y": 2, "z": 3}
    assert tok.texts_to_sequences(["z y x w"]) == [[2, 1]]
    assert tok.sequences_to_texts([[3, 2, 1, 0]]) == ["y x"]
    assert tok.texts_to_matrix(["x z"], mode="count").tolist() == [[0.0, 1.0, 0.0]]
    # the limit is read when used: the common recipe sets it after fitting
    tok.num_words = None
    assert tok.texts_to_sequences(["z y x w"]) == [[3, 2, 1]]


def test_oov_token_that_is_also_a_word_leaves_index_one_unused():
    ours, theirs = both({"oov_token": "a"}, ["b a a", "c"])
    assert ours.word_index == theirs.word_index == {"a": 2, "b": 3, "c": 4}
    assert 1 not in ours.index_word
    assert_same_state(ours, theirs)
    assert ours.texts_to_sequences(["zz b"]) == theirs.texts_to_sequences(["zz b"]) == [[2, 3]]


def test_char_level_keeps_spaces_and_punctuation():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["Ab, a"])
    assert tok.word_index == {"a": 1, "b": 2, ",": 3, " ": 4}


def test_unfitted_oov_token_gives_none_like_keras():
    ours, theirs = Tokenizer(oov_token="<OOV>"), kp_text.Tokenizer(oov_token="<OOV>")
    assert ours.texts_to_sequences(["a b"]) == theirs.texts_to_sequences(["a b"]) == [[None, None]]


def test_hand_edited_tables_fail_only_where_keras_does():
    # a non-numeric index is only an error for the words that hit it
    for tok in both({"num_words": 3, "oov_token": "<OOV>"}, ["a a b"]):
        tok.word_index["zz"] = "bad"
        tok.index_word["bad"] = "zz"
        assert tok.texts_to_sequences(["a b c"]) == [[2, 1, 1]]
        assert tok.sequences_to_texts([[2, 3, 9]]) == ["a <OOV> <OOV>"]
        with pytest.raises(TypeError):
            tok.texts_to_sequences(["zz"])


def test_negative_indices_take_keras_path():
    ours, theirs = both({}, ["a b c d"])
    seqs = [[1, -1, -2, 4], [True, 2]]
    for mode in ("binary", "count", "tfidf", "freq"):
        np.testing.assert_array_equal(
            ours.sequences_to_matrix(seqs, mode=mode), theirs.sequences_to_matrix(seqs, mode=mode)
        )


def test_numpy_inputs():
    ours, theirs = both({}, np.array(["The cat", "the dog"]))
    assert_same_state(ours, theirs)
    seqs = np.array([[1, 2, 0], [0, 3, 1]])
    assert ours.sequences_to_texts(seqs) == theirs.sequences_to_texts(seqs)
    ours.fit_on_sequences(seqs)
    theirs.fit_on_sequences(seqs)
    assert dict(ours.index_docs) == dict(theirs.index_docs)


# -------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match="Specify a dimension"):
        Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(ValueError, match="before using tfidf mode"):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf")
    tok, _ = both({}, ["a b"])
    with pytest.raises(ValueError, match="Unknown vectorization mode: 'tf'"):
        tok.sequences_to_matrix([[]], mode="tf")  # Keras lets this pass silently
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        Tokenizer(nmu_words=3)
    with pytest.raises(ValueError, match="num_words must be >= 0"):
        Tokenizer(num_words=-1)
    with pytest.raises(TypeError):
        Tokenizer(num_words=2.5)
    with pytest.warns(UserWarning, match="renamed `num_words`"):
        assert Tokenizer(nb_words=7).num_words == 7
    with pytest.raises(ValueError, match="empty separator"):  # as str.split in Keras
        Tokenizer(split="").fit_on_texts(["a"])


def test_tokenizer_from_json_errors():
    with pytest.raises(ValueError, match="not valid JSON"):
        tokenizer_from_json("{nope")
    with pytest.raises(ValueError, match='no "config" object'):
        tokenizer_from_json('{"word_index": {}}')
    bad = json.loads(Tokenizer().to_json())
    bad["config"]["index_word"] = '{"x": "a"}'
    with pytest.raises(ValueError, match="index key is not an integer"):
        tokenizer_from_json(json.dumps(bad))
    bad["config"]["word_counts"] = "{oops"
    with pytest.raises(ValueError, match=r"config\['word_counts'\] is not valid JSON"):
        tokenizer_from_json(json.dumps(bad))


# ---------------------------------------------------------------------- JSON
@pytest.mark.parametrize("options", OPTIONS, ids=repr)
@settings(max_examples=10, deadline=None)
@given(first=corpora, probe=corpora)
def test_json_round_trip_both_ways(options, first, probe):
    ours, theirs = both(options, first)
    # ours read by Keras, Keras' read by us: same state, same behaviour
    from_ours = kp_text.tokenizer_from_json(ours.to_json())
    from_keras = tokenizer_from_json(theirs.to_json())
    assert from_keras.to_json() == theirs.to_json() == from_ours.to_json()
    assert from_keras.word_index == from_ours.word_index
    assert from_keras.index_word == from_ours.index_word
    assert from_keras.texts_to_sequences(probe) == from_ours.texts_to_sequences(probe)
    assert from_keras.get_config() == from_ours.get_config()
    # unlike Keras' (plain dicts, KeyError on new words), ours can keep fitting
    from_keras.fit_on_texts(probe)
    ours.fit_on_texts(probe)
    assert from_keras.to_json() == ours.to_json()


# Written by Keras 2 (keras_preprocessing 1.1.x / tf.keras 2.x) for
#   Tokenizer(num_words=4, oov_token="<OOV>").fit_on_texts(["The cat sat.", "The cat ran!", "A dog"])
# word_docs/index_docs key order depends on that process's string hashing.
KERAS2_JSON = (
    '{"class_name": "Tokenizer", "config": {"num_words": 4, "filters": '
    '"!\\"#$%&()*+,-./:;<=>?@[\\\\]^_`{|}~\\t\\n", "lower": true, "split": " ", '
    '"char_level": false, "oov_token": "<OOV>", "document_count": 3, "word_counts": '
    '"{\\"the\\": 2, \\"cat\\": 2, \\"sat\\": 1, \\"ran\\": 1, \\"a\\": 1, \\"dog\\": 1}", '
    '"word_docs": "{\\"sat\\": 1, \\"the\\": 2, \\"cat\\": 2, \\"ran\\": 1, \\"dog\\": 1, '
    '\\"a\\": 1}", "index_docs": "{\\"4\\": 1, \\"2\\": 2, \\"3\\": 2, \\"5\\": 1, \\"7\\": 1, '
    '\\"6\\": 1}", "index_word": "{\\"1\\": \\"<OOV>\\", \\"2\\": \\"the\\", \\"3\\": '
    '\\"cat\\", \\"4\\": \\"sat\\", \\"5\\": \\"ran\\", \\"6\\": \\"a\\", \\"7\\": \\"dog\\"}", '
    '"word_index": "{\\"<OOV>\\": 1, \\"the\\": 2, \\"cat\\": 3, \\"sat\\": 4, \\"ran\\": 5, '
    '\\"a\\": 6, \\"dog\\": 7}"}}'
)


def test_reads_keras2_json_literal():
    # the literal is what Keras writes (dict key order aside)
    fitted = kp_text.Tokenizer(num_words=4, oov_token="<OOV>")
    fitted.fit_on_texts(["The cat sat.", "The cat ran!", "A dog"])
    for key, written in json.loads(fitted.to_json())["config"].items():
        literal = json.loads(KERAS2_JSON)["config"][key]
        if key in ("word_counts", "word_docs", "index_docs", "index_word", "word_index"):
            assert json.loads(literal) == json.loads(written), key
        else:
            assert literal == written, key
    tok = tokenizer_from_json(KERAS2_JSON)
    ref = kp_text.tokenizer_from_json(KERAS2_JSON)
    assert tok.num_words == 4 and tok.oov_token == "<OOV>" and tok.document_count == 3
    assert tok.word_index == {"<OOV>": 1, "the": 2, "cat": 3, "sat": 4, "ran": 5, "a": 6, "dog": 7}
    assert tok.index_word[7] == "dog"
    assert list(tok.word_counts) == ["the", "cat", "sat", "ran", "a", "dog"]
    assert tok.index_docs[2] == 2
    assert tok.texts_to_sequences(["The dog sat, the end"]) == [[2, 1, 1, 2, 1]]
    assert tok.texts_to_sequences(["The dog sat, the end"]) == ref.texts_to_sequences(
        ["The dog sat, the end"]
    )
    assert tok.to_json() == ref.to_json()
    assert tok.get_config() == ref.get_config()
    # tf.keras' analyzer=None and a pre-parsed dict are accepted too
    data = json.loads(KERAS2_JSON)
    data["config"]["analyzer"] = None
    assert tokenizer_from_json(data).word_index == tok.word_index


def test_public_names():
    assert embload.Tokenizer is Tokenizer
    assert embload.tokenizer_from_json is tokenizer_from_json
    assert embload.pad_sequences is pad_sequences
    assert embload.text_to_word_sequence is text_to_word_sequence


# ------------------------------------------------------------- pad_sequences
int_seqs = st.lists(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=9), max_size=8)


@pytest.mark.parametrize(
    "dtype,value", [("int32", 0.0), ("int64", -1), ("float32", 1.5), ("float64", np.nan),
                    (object, 0), ("uint8", 0), (None, 0.0)],
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seqs=int_seqs,
    maxlen=st.one_of(st.none(), st.integers(1, 12)),
    as_tuple=st.booleans(),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_matches_keras(kpad, dtype, value, seqs, maxlen, as_tuple, padding, truncating):
    if as_tuple:
        seqs = [tuple(s) for s in seqs]
    kwargs = dict(maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's overflow warnings, same on both sides
        expected = outcome(kpad, seqs, **kwargs)
        got = outcome(pad_sequences, seqs, **kwargs)
    assert_same_outcome(got, expected)


scalars = st.one_of(
    st.integers(-300, 300),
    st.floats(width=32),  # NaN and inf included: NumPy refuses them for ints
    st.booleans(),
    st.integers(-5, 5).map(np.int16),
)


@pytest.mark.parametrize("dtype", ["int32", "int8", "float32", "bool", "complex64"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seqs=st.lists(st.lists(scalars, max_size=6), max_size=6),
    maxlen=st.one_of(st.none(), st.integers(1, 7)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_mixed_scalars_match_keras(kpad, dtype, seqs, maxlen, padding, truncating):
    # the one-conversion fast path must convert (or refuse) each value as
    # Keras' per-sequence np.asarray does
    kwargs = dict(maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = outcome(kpad, seqs, **kwargs)
        got = outcome(pad_sequences, seqs, **kwargs)
    assert_same_outcome(got, expected)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 5])
def test_pad_sequences_odd_inputs_match_keras(kpad, padding, truncating, maxlen):
    kw = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    cases = [
        ([[1.7, -2.5], [3], []], {}),  # floats cut to int32
        (np.arange(12).reshape(3, 4), {}),  # a 2-D array
        (np.arange(24.0).reshape(3, 4, 2), {"dtype": "float32"}),  # vectors
        ([np.arange(3), np.arange(5)], {}),
        ([[[1, 2], [3, 4]], [], [[5, 6]]], {"dtype": "float64"}),  # vectors in lists
        ([["a", "bb"], ["ccc"]], {"dtype": object, "value": "<pad>"}),
        ([["a", "bb"], ["ccc"]], {"dtype": str, "value": "-"}),  # Keras cuts to 1 char
        ([["a", "bb"], ["ccc"]], {"dtype": "<U5", "value": 0}),
        ([[True, False], [True]], {"dtype": "bool", "value": False}),
        ([[1, 2], ["3", 4]], {}),  # strings of digits are parsed, as in NumPy
        ([[], []], {}),
        ([range(3), range(5)], {}),
    ]
    for seqs, extra in cases:
        expected = kpad(seqs, **kw, **extra)
        got = pad_sequences(seqs, **kw, **extra)
        assert got.dtype == expected.dtype, (seqs, extra)
        np.testing.assert_array_equal(got, expected)


def test_pad_sequences_errors(kpad):
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "mid" not understood'):
        pad_sequences([[1]], truncating="mid")
    msg = "`dtype` int32 is not compatible with `value`'s type: <class 'str'>"
    for fn in (kpad, pad_sequences):
        with pytest.raises(ValueError, match=msg):
            fn([[1]], value="x")
    with pytest.raises(ValueError, match="must be iterable"):
        pad_sequences(x for x in [[1]])
    with pytest.raises(ValueError, match=r"Found non-iterable: 3 \(at position 1\)"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match=r"Shape of sample \(3,\) of sequence at position 1 "
                       r"is different from expected shape \(2,\)"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError):  # a vector among scalars
        pad_sequences([[1, 2], [[3, 4]]])
    with pytest.raises(ValueError, match="pass `maxlen`"):
        pad_sequences([])
    with pytest.raises(ValueError, match="maxlen must be >= 0"):
        pad_sequences([[1]], maxlen=-1)
    with pytest.raises(OverflowError):  # NumPy 2 refuses out-of-range Python ints
        pad_sequences([[2**40]])
    with pytest.raises(ValueError):
        kpad([])  # Keras fails too, with NumPy's message
    assert pad_sequences([], maxlen=3).shape == kpad([], maxlen=3).shape == (0, 3)
    # where Keras' s[-0:] keeps the whole sequence and fails to broadcast, we give empty rows
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


def test_pad_sequences_refuses_boolean_maxlen():
    # operator.index(True) == 1: the flag used to cut every row to one item
    for flag in (True, False, np.bool_(True)):
        with pytest.raises(TypeError, match="maxlen must be an int or None"):
            pad_sequences([[1, 2, 3]], maxlen=flag)


@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences_maxlen_zero_checks_sample_shapes(kpad, truncating):
    bad = [[[1, 2]], [[1, 2, 3]]]
    msg = (r"Shape of sample \(3,\) of sequence at position 1 "
           r"is different from expected shape \(2,\)")
    with pytest.raises(ValueError, match=msg):
        kpad(bad, maxlen=0)  # Keras' s[-0:] is the whole sequence: it sees the bad shape
    with pytest.raises(ValueError, match=msg):
        pad_sequences(bad, maxlen=0, truncating=truncating)
    with pytest.raises(ValueError, match=r"Shape of sample \(2,\) of sequence at position 1"):
        pad_sequences([[1, 2], [[3, 4]]], maxlen=0, truncating=truncating)
    # equal shapes: empty rows of the vector shape (Keras gives this with "pre" when
    # no sequence is longer than one; otherwise it fails to broadcast)
    assert kpad([[[1, 2]], [], [[3, 4]]], maxlen=0).shape == (3, 0, 2)
    good = [[[1, 2]], [], [[3, 4], [5, 6]]]
    assert pad_sequences(good, maxlen=0, truncating=truncating).shape == (3, 0, 2)


# ------------------------------------- one_hot, hashing_trick, skipgrams, sampling
@SETTINGS
@given(text=st.text(alphabet=CHARS.replace("\ud800", ""), max_size=60), n=st.integers(2, 50))
def test_hashing_matches_keras(text, n):
    for fn in ("md5", None, len):
        assert embload.hashing_trick(text, n, hash_function=fn) == kp_text.hashing_trick(
            text, n, hash_function=fn
        )
    assert embload.one_hot(text, n) == kp_text.one_hot(text, n)  # same process, same salt
    assert embload.hashing_trick(text, n, split=",", lower=False) == kp_text.hashing_trick(
        text, n, split=",", lower=False
    )


def test_hashing_trick_md5_is_reproducible_and_analyzer():
    # md5 of the UTF-8 bytes: fixed numbers, the same in any process
    assert embload.hashing_trick("The cat", 1000, hash_function="md5") == [
        int(__import__("hashlib").md5(w.encode()).hexdigest(), 16) % 999 + 1 for w in ["the", "cat"]
    ]
    got = embload.hashing_trick("a/B", 10, hash_function=len, analyzer=lambda t: t.split("/"))
    assert got == [2, 2]


@settings(max_examples=40, deadline=None)
@given(
    seq=st.lists(st.integers(0, 9), max_size=20),
    window=st.integers(1, 4),
    negative=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    shuffle=st.booleans(),
    categorical=st.booleans(),
    sampled=st.booleans(),
    seed=st.one_of(st.none(), st.integers(0, 100)),
    state=st.integers(0, 2**32 - 1),
)
def test_skipgrams_match_keras(seq, window, negative, shuffle, categorical, sampled, seed, state):
    import random

    kp_sequence_mod = pytest.importorskip("keras_preprocessing.sequence")
    table = embload.make_sampling_table(10, sampling_factor=0.05) if sampled else None
    kwargs = dict(window_size=window, negative_samples=negative, shuffle=shuffle,
                  categorical=categorical, sampling_table=table, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Keras' randint(0, 10e6)
        random.seed(state)
        expected = kp_sequence_mod.skipgrams(seq, 10, **kwargs)
    random.seed(state)
    assert embload.skipgrams(seq, 10, **kwargs) == expected


@pytest.mark.parametrize("size,factor", [(1, 1e-5), (10, 1e-5), (1000, 1e-3), (50, 0.5)])
def test_make_sampling_table_matches_keras(size, factor):
    expected = kp_sequence.make_sampling_table(size, sampling_factor=factor)
    np.testing.assert_array_equal(embload.make_sampling_table(size, sampling_factor=factor), expected)


def test_more_public_names():
    for name in ("one_hot", "hashing_trick", "skipgrams", "make_sampling_table"):
        assert getattr(embload, name) is getattr(embload.text, name)


def test_word_index_from_tokenizer_json():
    from embload.text import word_index_from_tokenizer_json as read

    theirs = kp_text.Tokenizer(oov_token="<OOV>")
    theirs.fit_on_texts(["The cat sat.", "Σ dog"])
    assert read(theirs.to_json(), "t.json") == theirs.word_index
    assert read(json.dumps({"a": 1}), "t.json") == {"a": 1}
    with pytest.raises(ValueError, match=r"^t\.json: not valid JSON"):
        read("{nope", "t.json")
    with pytest.raises(ValueError, match=r"^t\.json: a JSON file with a 'config' but no 'word_index'"):
        read('{"config": {}}', "t.json")
    with pytest.raises(ValueError, match=r"^t\.json: config\.word_index is not valid JSON"):
        read('{"config": {"word_index": "{x"}}', "t.json")
    with pytest.raises(ValueError, match=r"^t\.json: JSON holds a list"):
        read("[1]", "t.json")


def test_documented_differences_hold():
    # each numbered item of embload/text.py's list of deliberate differences
    import embload.text as text_module

    doc = text_module.__doc__
    for n in range(1, 11):
        assert f"\n{n}. " in doc
    # 2: booleans and floats for num_words
    for bad in (True, 2.5):
        with pytest.raises(TypeError):
            Tokenizer(num_words=bad)
    kp_text.Tokenizer(num_words=True)  # Keras takes it
    # 5: any iterable of sequences
    ours, theirs = both({}, ["a b c"])
    got = ours.sequences_to_matrix(iter([[1, 2], [3]]), mode="count")
    np.testing.assert_array_equal(got, theirs.sequences_to_matrix([[1, 2], [3]], mode="count"))
    with pytest.raises(TypeError):
        theirs.sequences_to_matrix(iter([[1, 2], [3]]))
    # 7: str tokens from str subclasses
    ours, theirs = both({"lower": False}, [[np.str_("Ab"), np.str_("c")]])
    assert list(ours.word_counts) == list(theirs.word_counts) == ["Ab", "c"]
    assert type(next(iter(ours.word_counts))) is str
    # 9: no DeprecationWarning / TypeError from a float seed bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        embload.skipgrams([1, 2, 3], 4, shuffle=True, seed=None)
    # 10: configs Keras loads and then fails on are refused at load
    fitted = kp_text.Tokenizer(oov_token="<unk>")
    fitted.fit_on_texts(["the film", "a film"])
    good = json.loads(fitted.to_json())
    assert embload.tokenizer_from_json(good).texts_to_sequences(["the x"]) == [[3, 1]]
    for key, value, message in (
        ("split", 5, "split must be text"),
        ("filters", 7, "filters must be text or a list of characters"),
        ("filters", ["ab"], "filters must be text or a list of characters"),
    ):
        bad = json.loads(json.dumps(good))
        bad["config"][key] = value
        kept = kp_text.tokenizer_from_json(json.dumps(bad))  # Keras loads it ...
        with pytest.raises((TypeError, ValueError)):
            kept.texts_to_sequences(["the film"])  # ... and fails at the first text
        with pytest.raises(ValueError, match=message):
            embload.tokenizer_from_json(bad)
    listed = json.loads(json.dumps(good))
    listed["config"]["filters"] = ["!", 63]  # a list of characters and code points is fine
    assert embload.tokenizer_from_json(listed).texts_to_sequences(["the? film!"]) == [[3, 2]]
    bad = json.loads(json.dumps(good))
    index_word = json.loads(bad["config"]["index_word"])
    del index_word["1"]  # the OOV token's index
    bad["config"]["index_word"] = json.dumps(index_word)
    kept = kp_text.tokenizer_from_json(json.dumps(bad))
    with pytest.raises(KeyError):
        kept.sequences_to_texts([[9]])
    with pytest.raises(ValueError, match=r"index_word has no entry for the OOV token's index 1"):
        embload.tokenizer_from_json(bad)
