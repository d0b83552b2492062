"""The readers' words -> the word list of a :class:`~embload.Vectors`.

Every reader (text, binary, fastText models) ends with the same step: its words are one
UTF-8 arena with offsets; they become a :class:`~embload.WordList` (no ``str`` made) and
its C index, unless a word is not valid UTF-8 (``errors=`` decides, as in
``bytes.decode``) or a word repeats (the first vector of each is kept, with one
:class:`~embload.errors.DuplicateWordsWarning`).
"""

import codecs
import gc

import numpy as np

from . import _parse
from ._words import WordIndex, WordList
from .errors import DuplicateWordsWarning, WordDecodeError, warn

__all__ = ["word_table", "drop_duplicates"]


def word_table(arena, offsets, lineno, matrix, errors, path):
    """The words and their index. Usually the arena itself, wrapped (a WordList and its C
    hash index: no str objects, no dict); only invalid UTF-8 or duplicate words take the
    slower path through a list of str, which is then stored as a WordList too."""
    # Building n strings (and for duplicates a dict of n entries) would trigger the cyclic
    # garbage collector many times over (it scans every young container); none is needed.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            words = WordList(arena, offsets)
        except ValueError:
            # not valid UTF-8: _decode_words raises (strict) or applies `errors`
            words = WordList.from_words(_decode_words(arena, offsets, lineno, errors, path))
        del arena
        # the C index finds duplicates without a dict of str
        if words.build_index() == 0:
            return words, WordIndex(words), matrix
        listed, matrix = drop_duplicates(words.tolist(), matrix, lineno, path)
        words = WordList.from_words(listed)
        return words, WordIndex(words), matrix
    finally:
        if gc_was_enabled:
            gc.enable()


def _decode_words(arena, offsets, lineno, errors, path):
    n = offsets.shape[0] - 1
    if n == 0:
        return []
    data = memoryview(arena)[:arena.shape[0] - 1]  # drop the last separator
    try:
        text, _ = codecs.utf_8_decode(data, errors, True)
    except UnicodeDecodeError as exc:
        row = int(np.searchsorted(offsets, exc.start, side="right")) - 1
        word = bytes(arena[offsets[row]:offsets[row + 1] - 1])
        where = {"line": int(lineno[row])} if lineno is not None else {"record": row + 1}
        start = exc.start - int(offsets[row])
        raise WordDecodeError(
            f"word is not valid UTF-8 ({exc.reason} at byte {start}); "
            f"pass errors='replace' or errors='ignore' to load it anyway",
            object=word, start=start, end=min(exc.end - int(offsets[row]), len(word)),
            path=path, text=word, **where) from exc
    words = text.split("\n")
    if len(words) != n:
        # a word held a '\n' (binary files) or an error handler produced one
        raw = arena.tobytes()
        words = [raw[offsets[i]:offsets[i + 1] - 1].decode("utf-8", errors) for i in range(n)]
    return words


def drop_duplicates(words, matrix, lineno, path):
    first = {}
    keep = []
    example = None
    for i, word in enumerate(words):
        j = first.setdefault(word, i)
        if j == i:
            keep.append(i)
        elif example is None:
            example = (word, j, i)
    dropped = len(words) - len(keep)
    word, j, i = example
    if lineno is not None:
        where = f"line {int(lineno[i])} repeats line {int(lineno[j])}"
    else:
        where = f"record {i + 1} repeats record {j + 1}"
    warn(f"{path}: {dropped} duplicate word{'s' if dropped != 1 else ''} dropped, keeping the "
         f"first vector of each (e.g. {word!r}: {where})", DuplicateWordsWarning)
    keep = np.asarray(keep, dtype=np.int64)
    matrix = _parse.compact_rows(matrix, keep)
    return [words[i] for i in keep], matrix
