"""A user's vocabulary, in whatever form it comes: the words a matrix is built for.

Two questions are asked of a vocabulary, and both are answered here, from one reader
of vocabulary files:

* :func:`read_word_index` -- which row is each word's? (``{word: row}``, for alignment)
* :func:`read_vocab` -- which words, in which order? (a list, for ``convert(vocab=...)``)

A vocabulary file is read by one set of rules (:func:`read_vocabulary_file`):

* UTF-8 (a BOM is skipped), ``\\n`` or ``\\r\\n`` line ends; one word per line, taken as it
  is (a word may hold spaces).
* When every line is ``word COUNT`` (word2vec's ``-save-vocab``, GloVe's ``vocab_count``),
  the counts are dropped.
* A blank line is an error (it would shift every later word by one row), except blank
  lines at the very end of the file; so is a word on two lines.
* The word on line ``n`` (counting from 1) gets row ``n``: Keras' numbering, row 0 being
  padding.
* A file that starts with ``{`` is JSON: a Keras tokenizer (``Tokenizer.to_json()``) or
  a plain object ``{word: row}``.

Errors name the file, the line and the offending text.
"""

import json
import os
from collections.abc import Mapping

from .errors import EmbeddingFormatError

__all__ = ["read_word_index", "read_vocab", "read_vocabulary_file", "word_index_from_json"]


def read_word_index(word_index):
    """Normalise the accepted forms of ``word_index`` to a ``dict`` {word: row}.

    Parameters
    ----------
    word_index : dict, str, os.PathLike or object
        A mapping word -> row (Keras' ``Tokenizer.word_index``); a path to a vocabulary
        file (see the module docstring: one word per line, line ``n`` -> row ``n``, or a
        Keras tokenizer JSON, or a JSON object ``{word: row}``); or any object with a
        ``word_index`` attribute.

    Returns
    -------
    dict
        A new dict in the same order. Its values are not validated here (see
        :func:`embload.load_aligned` for the rules).
    """
    if isinstance(word_index, Mapping):
        return dict(word_index)
    if isinstance(word_index, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(word_index))
        words = read_vocabulary_file(path)
        if isinstance(words, dict):
            return words
        return {word: row for row, word in enumerate(words, 1)}
    inner = getattr(word_index, "word_index", None)
    if isinstance(inner, Mapping):
        return dict(inner)
    raise TypeError(
        "word_index must be a dict {word: row}, a path to a Keras tokenizer JSON or to a "
        "one-word-per-line vocabulary file, or an object with a word_index attribute (a "
        f"Tokenizer), not {type(word_index).__name__}")


def read_vocab(vocab):
    """The words of a vocabulary, in order, each once: for ``convert(vocab=...)``.

    Parameters
    ----------
    vocab : str, os.PathLike, mapping or iterable of str
        A vocabulary file (see the module docstring; for a JSON word_index the words in
        row order), a mapping (its keys, in order) or any iterable of words (a repeated
        word keeps its first place).

    Returns
    -------
    list of str
    """
    if isinstance(vocab, (str, bytes, os.PathLike)):
        words = read_vocabulary_file(os.fsdecode(os.fspath(vocab)))
        if isinstance(words, dict):
            words = sorted(words, key=words.__getitem__)
        return list(words)
    words = list(vocab)
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"vocab must hold words (str), got {type(word).__name__} {word!r}")
    return list(dict.fromkeys(words))


def read_vocabulary_file(path):
    """The words of a vocabulary file in line order (a list), or for a JSON file its
    ``{word: row}`` (a dict). The rules are in the module docstring."""
    with open(path, "rb") as handle:
        data = handle.read()
    text = _decode(data, path)
    if text.lstrip().startswith("{"):
        return word_index_from_json(text, path)
    lines = text.split("\n")
    while lines and lines[-1].strip("\r") == "":
        lines.pop()   # blank lines at the very end shift nothing
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    for number, line in enumerate(lines, 1):
        if line == "":
            raise EmbeddingFormatError(
                "empty line in a vocabulary file (one word per line; the word on line n gets "
                "row n, so a blank line would shift every later word)", path=path, line=number)
    pairs = [line.rsplit(None, 1) for line in lines]
    if lines and all(len(pair) == 2 and pair[1].isascii() and pair[1].isdigit() for pair in pairs):
        lines = [pair[0] for pair in pairs]   # "word count" lines: the counts are dropped
    first = {}
    for number, word in enumerate(lines, 1):
        earlier = first.setdefault(word, number)
        if earlier != number:
            raise EmbeddingFormatError(f"word {word!r} is already on line {earlier}", path=path,
                                       line=number)
    return lines


def _decode(data, path):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raw = exc.object  # without the BOM, which exc.start does not count
        line = raw.count(b"\n", 0, exc.start) + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        at = exc.start + len(data) - len(raw)
        raise EmbeddingFormatError(
            f"vocabulary file is not valid UTF-8 ({exc.reason} at byte {at})", path=path,
            line=line, text=raw[start:end if end >= 0 else len(raw)]) from None


def word_index_from_json(text, path):
    """``{word: row}`` from a Keras tokenizer JSON (``Tokenizer.to_json()``) or a plain
    JSON object ``{word: row}``; ``path`` names the file in errors."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EmbeddingFormatError(f"not valid JSON ({exc})", path=path) from None
    if isinstance(obj, dict) and "config" in obj and isinstance(obj["config"], dict):
        inner = obj["config"].get("word_index")
        if inner is None:
            raise EmbeddingFormatError("a JSON file with a 'config' but no 'word_index' in it; "
                                       "expected a Keras tokenizer JSON (Tokenizer.to_json())", path=path)
        if isinstance(inner, str):  # Keras stores it as a JSON string inside the JSON
            try:
                inner = json.loads(inner)
            except json.JSONDecodeError as exc:
                raise EmbeddingFormatError(f"config.word_index is not valid JSON ({exc})", path=path) from None
        if not isinstance(inner, dict):
            raise EmbeddingFormatError(f"config.word_index is a {type(inner).__name__}, not an object",
                                       path=path)
        return inner
    if isinstance(obj, dict):
        return obj
    raise EmbeddingFormatError(f"JSON holds a {type(obj).__name__}; expected a Keras tokenizer "
                               "JSON or an object {word: row}", path=path)
