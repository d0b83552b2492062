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
