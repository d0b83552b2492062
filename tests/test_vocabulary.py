"""embload.vocabulary: one set of rules for vocabulary files, whoever reads them."""
import pytest

from embload.errors import EmbeddingFormatError
from embload.vocabulary import read_vocab, read_vocabulary_file, read_word_index


@pytest.mark.parametrize("content, words", [
    ("the\ncat\n", ["the", "cat"]),
    ("the\r\ncat", ["the", "cat"]),
    ("\ufeffthe\ncat\n\n\n", ["the", "cat"]),          # BOM; blank lines at the end
    ("the 12\ncat 7\n", ["the", "cat"]),                # word2vec -save-vocab: counts dropped
    ("New York\ncat 7\n", ["New York", "cat 7"]),       # not every line has a count: taken whole
    ("a b\tc\n", ["a b\tc"]),
])
def test_both_readers_follow_one_rule(tmp_path, content, words):
    path = tmp_path / "v.txt"
    path.write_bytes(content.encode("utf-8"))
    assert read_vocabulary_file(path) == words
    assert read_vocab(path) == words                    # convert(vocab=...)
    assert read_word_index(path) == {w: i for i, w in enumerate(words, 1)}   # load_aligned


@pytest.mark.parametrize("content, message", [
    ("a\n\nb\n", r"v.txt, line 2: empty line in a vocabulary file"),
    ("", r"v.txt: vocabulary file holds no tokens"),
    ("\r\n\n", r"v.txt: vocabulary file holds no tokens"),
    ("a\nb\na\n", r"v.txt, line 3: word 'a' is already on line 1"),
    ("a 1\nb 2\na 3\n", r"v.txt, line 3: word 'a' is already on line 1"),
])
def test_both_readers_refuse_the_same_files(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_text(content)
    for reader in (read_vocab, read_word_index):
        with pytest.raises(EmbeddingFormatError, match=message):
            reader(path)


def test_json_word_index_in_both(tmp_path):
    path = tmp_path / "wi.json"
    path.write_text('{"b": 2, "a": 1}')
    assert read_word_index(path) == {"b": 2, "a": 1}
    assert read_vocab(path) == ["a", "b"]     # row order


def test_lists_and_mappings():
    assert read_vocab(["b", "a", "b"]) == ["b", "a"]
    assert read_vocab({"x": 1, "y": 2}) == ["x", "y"]
    with pytest.raises(TypeError):
        read_vocab(["a", 3])
    assert read_word_index({"a": 1}) == {"a": 1}
    with pytest.raises(TypeError, match="word_index must be"):
        read_word_index(3)


# ------------------------------------------------------------------ issue 10: every form
import json  # noqa: E402
import warnings  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from embload.vocabulary import Vocabulary, is_special, read_vocabulary  # noqa: E402


def test_is_special_shape():
    for token in ("<pad>", "[PAD]", "</s>", "<|endoftext|>", "[unused0]", "<OOV>"):
        assert is_special(token)
    for token in ("pad", "<a b>", "[x", "<>", "[]", "a<b>", "<s> "):
        assert not is_special(token)


def test_objects_and_sequences():
    class Stoi:
        def get_stoi(self):
            return {"<unk>": 0, "a": 1}

    class HF:                      # transformers' surface: get_vocab + all_special_tokens
        all_special_tokens = ["[CLS]", "MASKTOKEN"]

        def get_vocab(self):
            return {"b": 2, "MASKTOKEN": 1, "[CLS]": 0}

    class Keras:
        word_index = {"x": 1, "y": 2, "z": 3}
        num_words = 3

    class WithVocab:
        vocab = {"q": 0}

    assert read_vocabulary(Stoi()).ids == {"<unk>": 0, "a": 1}
    hf = read_vocabulary(HF())
    assert list(hf.ids) == ["[CLS]", "MASKTOKEN", "b"]       # id order
    assert hf.specials == {"[CLS]", "MASKTOKEN"} and hf.is_special("MASKTOKEN")
    keras = read_vocabulary(Keras())
    assert keras.num_rows == 3 and "num_words=3" in keras.notes[0]
    assert read_vocabulary(WithVocab()).ids == {"q": 0}
    itos = read_vocabulary(("a", "b", "a", "c"))
    assert itos.ids == {"a": 0, "b": 1, "c": 3} and itos.num_rows == 4
    assert "ids 2 hold no token" in itos.notes[0]
    with pytest.raises(TypeError, match="entry 1 is a int"):
        read_vocabulary(["a", 1])
    v = Vocabulary({"a": 5})
    assert read_vocabulary(v) is v


@given(st.lists(st.text(alphabet="abcXYé東<>[]/_#\u2581 ", min_size=1).map(str.strip).filter(bool),
                min_size=1, max_size=20, unique=True),
       st.sampled_from([None, 0, 1]))
def test_vocab_txt_numbering_property(tmp_path_factory, tokens, start):
    path = tmp_path_factory.mktemp("v") / "vocab.txt"
    path.write_bytes(("\n".join(tokens) + "\n").encode("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vocab = read_vocabulary(path, start=start)
    if start is None:
        start = 0 if is_special(tokens[0]) else 1
    assert vocab.ids == {t: i + start for i, t in enumerate(tokens)}
    assert vocab.num_rows == len(tokens) + start
    assert vocab.notes   # the numbering is always said


def test_start_one_on_special_first_line_warns(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("<unk>\nthe\n")
    with pytest.warns(UserWarning, match=r"line 1 is the special token '<unk>'"):
        assert read_vocabulary(path, start=1).ids == {"<unk>": 1, "the": 2}
    assert read_vocabulary(path).ids == {"<unk>": 0, "the": 1}


def test_sentencepiece_vocab_file(tmp_path):
    path = tmp_path / "m.vocab"
    path.write_text("<unk>\t0\n<s>\t0\n\u2581the\t-2.5\nx\t-1e+01\n")
    vocab = read_vocabulary(path)
    assert vocab.ids == {"<unk>": 0, "<s>": 1, "\u2581the": 2, "x": 3}
    assert read_vocab(path) == ["<unk>", "<s>", "\u2581the", "x"]


def test_tab_separated_counts_are_not_sentencepiece(tmp_path):
    # a word<TAB>count frequency list (counts above 0) is numbered like "word count" lines,
    # not from 0 as a sentencepiece .vocab, whose scores are never above 0
    path = tmp_path / "freq.tsv"
    path.write_text("the\t120\ncat\t7\n")
    assert read_vocabulary(path).ids == {"the": 1, "cat": 2}
    assert read_vocabulary(path, start=0).ids == {"the": 0, "cat": 1}
    assert read_vocab(path) == ["the", "cat"]
    # sentencepiece BPE: negated merge ranks ("-0", "-1"), all specials scored 0
    path.write_text("<unk>\t0\n<s>\t0\n\u2581t\t-0\nhe\t-1\n")
    assert read_vocabulary(path).ids == {"<unk>": 0, "<s>": 1, "\u2581t": 2, "he": 3}
    path.write_text("<unk>\t0\n<s>\t0\n")
    assert read_vocabulary(path).kind.startswith("sentencepiece")


def test_vectors_file_is_not_a_vocabulary(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("the 0.1 0.2 0.3\ncat -1 2e-3 4\n")
    with pytest.raises(EmbeddingFormatError, match=r"glove.txt, line 1: this looks like a file "
                                                   r"of word vectors \(a word followed by 3 numbers\)"):
        read_vocabulary(path)
    path.write_text("2 3\nthe 0.1 0.2 0.3\ncat -1 2e-3 4\n")   # word2vec header
    with pytest.raises(EmbeddingFormatError, match=r"line 2: this looks like a file of word vectors"):
        read_vocabulary(path)


def test_hugging_face_json_forms(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({
        "model": {"type": "Unigram", "unk_id": 1, "vocab": [["<pad>", 0.0], ["<unk>", 0.0], ["a", -1.5]]},
        "added_tokens": [{"id": 3, "content": "<mask>", "special": True},
                         {"id": 1, "content": "<unk>", "special": True}]}))
    vocab = read_vocabulary(path)
    assert vocab.ids == {"<pad>": 0, "<unk>": 1, "a": 2, "<mask>": 3}
    assert vocab.specials == {"<unk>", "<mask>"}
    assert vocab.kind == "Hugging Face tokenizer.json (Unigram)"
    with pytest.raises(ValueError, match="start= numbers the lines"):
        read_vocabulary(path, start=0)
    path.write_text(json.dumps({"model": {"type": "BPE", "vocab": {"a": 0}},
                                "added_tokens": [{"id": "x", "content": "b"}]}))
    with pytest.raises(EmbeddingFormatError, match="tokenizer.json: added_tokens holds"):
        read_vocabulary(path)
    path.write_text(json.dumps({"model": {"type": "BPE", "vocab": 3}}))
    with pytest.raises(EmbeddingFormatError, match="model.vocab is a int"):
        read_vocabulary(path)


def test_keras_json_num_words(tmp_path):
    path = tmp_path / "tok.json"
    config = {"num_words": 3, "word_index": json.dumps({"a": 1, "b": 2, "c": 3, "d": 4})}
    path.write_text(json.dumps({"class_name": "Tokenizer", "config": config}))
    vocab = read_vocabulary(path)
    assert vocab.num_rows == 3 and vocab.ids["d"] == 4
    config["num_words"] = "3"
    path.write_text(json.dumps({"class_name": "Tokenizer", "config": config}))
    with pytest.raises(EmbeddingFormatError, match="config.num_words is '3'"):
        read_vocabulary(path)


def test_unknown_token_first_is_read_from_0_with_a_warning(tmp_path):
    # "<unk>" first: torchtext/HF id 0, or a Keras word_index with oov_token at 1; never silent
    import warnings

    from embload.errors import AmbiguousNumberingWarning
    from embload.vocabulary import read_vocabulary

    path = tmp_path / "vocab.txt"
    path.write_text("<unk>\nthe\ncat\n")
    with pytest.warns(AmbiguousNumberingWarning, match=r"pass start=1"):
        assert read_vocabulary(path).ids == {"<unk>": 0, "the": 1, "cat": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_vocabulary(path, start=0).ids == {"<unk>": 0, "the": 1, "cat": 2}
        path.write_text("[PAD]\nthe\n")   # a padding token first settles it
        assert read_vocabulary(path).ids == {"[PAD]": 0, "the": 1}


def test_numbering_warnings_name_the_users_line(tmp_path):
    # the warning points at the caller's code, not inside embload, however deep the read is
    from embload import load_aligned

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("<unk>\nthe\n")
    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\n")
    for call in (lambda: read_vocabulary(vocab), lambda: load_aligned(vectors, vocab),
                 lambda: read_vocabulary(vocab, start=1)):
        with pytest.warns(UserWarning) as record:
            call()
        assert [w.filename for w in record if "line 1" in str(w.message)] == [__file__]


def test_json_key_twice_is_refused(tmp_path):
    # json.loads keeps the last of two equal keys: a token with two ids must not pass
    path = tmp_path / "vocab.json"
    path.write_text('{"a": 0, "b": 1, "a": 2}')
    with pytest.raises(EmbeddingFormatError, match=r"vocab.json: the key 'a' appears twice in one "
                                                   r"JSON object \(ids 0 and 2\)"):
        read_vocabulary(path)
    path.write_text('{"model": {"type": "WordLevel", "vocab": {"x": 0, "y": 1, "x": 1}}}')
    with pytest.raises(EmbeddingFormatError, match="the key 'x' appears twice"):
        read_vocab(path)


def test_plain_file_read_from_1_warns_until_start_says(tmp_path):
    # "the" first fits Keras (id 1) and torchtext / a list (id 0): a wrong guess shifts every
    # row, so the reading from 1 is said as a warning, not only in .notes
    import warnings

    from embload.errors import AmbiguousNumberingWarning

    path = tmp_path / "vocab.txt"
    path.write_text("the\ncat\n")
    with pytest.warns(AmbiguousNumberingWarning, match=r"vocab.txt: line 1 'the' read as id 1 .*"
                                                       r"pass start=1 to confirm, start=0 if it is id 0"):
        assert read_vocabulary(path).ids == {"the": 1, "cat": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_vocabulary(path, start=1).ids == {"the": 1, "cat": 2}
        assert read_vocabulary(path, start=0).ids == {"the": 0, "cat": 1}
        assert read_vocab(path) == ["the", "cat"]      # convert(vocab=): order only, no ids
