# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Words as one UTF-8 arena: ``WordList`` (the sequence) and ``WordIndex`` (word -> row).

A reader ends with its words in one byte arena plus offsets. Making a ``str`` per word and
a dict of them costs more time than reading a binary file of the same words, and several
times the arena's memory. So the words stay bytes (``src/wordarena.h``), indexed by the
one word table of ``src/wordhash.h`` (the contract is ``_words.pxd``):

- ``WordList`` is a read-only sequence of str: ``len`` is free, ``words[i]`` decodes one
  word, and the first iteration (or ``tolist``) decodes them all in one pass and keeps the
  list. ``word in words`` and ``words.index(word)`` use the hash index.
  ``words.utf8_arena()`` hands the bytes on (writers, cache, alignment).
- ``WordIndex`` is the read-only mapping ``{word: row}`` over the same index, built in C on
  first use, or at once by ``build_index`` (the readers do, to find duplicate words).
"""

from collections.abc import Mapping, Sequence, ItemsView, ValuesView
import codecs
import operator

from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int64_t

import numpy as np
cimport numpy as cnp

cnp.import_array()


cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t *size) except NULL


# Error handlers a WordList can decode with. Others ("replace", "ignore", "surrogateescape")
# change the words, so the arena bytes would not be what the words are: callers decode
# such arenas into a list instead.
_HANDLERS = ("strict", "surrogatepass")


cdef class WordList:
    """The words of a vectors file, in row order: a read-only sequence of ``str``.

    Behaves like a list that cannot be changed (indexing, slicing, ``len``, iteration,
    ``in``, ``index``, ``count``, ``==`` with lists); ``list(words)`` gives a real list.
    ``word in words`` and ``words.index(word)`` take constant time (a hash index built in
    C on first use), unlike a list's.

    Parameters
    ----------
    arena : bytes-like (uint8)
        The UTF-8 bytes: word ``i`` is ``arena[offsets[i] : offsets[i + 1] - 1]``.
    offsets : int64 array of ``count + 1`` values
    errors : {"strict", "surrogatepass"}
        How the bytes decode (``"surrogatepass"``: lone surrogates stored as UTF-8 forms).

    Raises
    ------
    ValueError
        Offsets out of order or out of range; a word that is not valid UTF-8 (the
        exception names the word's row as ``.row``).
    """

    def __cinit__(self, arena, offsets, str errors="strict"):
        cdef const unsigned char[::1] view
        cdef cnp.ndarray off
        cdef int why = 0, plain = 0, allow
        cdef int64_t bad
        self._index.slots = NULL
        if errors not in _HANDLERS:
            raise ValueError(f"errors must be one of {_HANDLERS}, not {errors!r}")
        if isinstance(arena, cnp.ndarray):
            arena = arena.view(np.uint8).reshape(-1)
        elif not isinstance(arena, bytes):
            # the pointer kept below must not dangle: a bytearray could be resized later
            arena = bytes(arena)
        view = arena if len(arena) else b"\0"
        off = np.ascontiguousarray(offsets, dtype=np.int64)
        if off.ndim != 1 or off.shape[0] < 1:
            raise ValueError("offsets must be a 1-D array of count + 1 values")
        self._arena = arena
        self._offsets = off
        self._base = <const char *>&view[0]
        self._off = <const int64_t *>cnp.PyArray_DATA(off)
        self._n = off.shape[0] - 1
        self._errors = errors
        allow = errors == "surrogatepass"
        self._surrogates = allow
        cdef int64_t size = len(arena)
        with nogil:
            bad = el_words_check(self._base, size, self._off, self._n, allow, &why, &plain)
        if bad >= 0:
            if why == 1:
                raise ValueError(f"word offsets out of order or out of range at word {bad}")
            exc = ValueError(f"word {bad} is not valid UTF-8: {self._raw(bad)!r}")
            exc.row = int(bad)
            raise exc
        self._plain = plain

    @classmethod
    def from_lines(cls, blob, str errors="strict"):
        """The words of ``blob`` (bytes) separated by ``b"\\n"``, no separator at the end.

        An empty blob is one empty word; ``WordList.empty()`` has none."""
        cdef const unsigned char[::1] view = blob if len(blob) else b"\0"
        cdef int64_t n = len(blob), count
        with nogil:
            count = el_count_newlines(<const char *>&view[0], n) + 1
        offsets = np.empty(count + 1, dtype=np.int64)
        cdef int64_t[::1] o = offsets
        with nogil:
            el_split_lines(<const char *>&view[0], n, &o[0])
        return cls(blob, offsets, errors)

    @classmethod
    def from_words(cls, words):
        """A WordList of the given str words (kept as the decoded list, so nothing is
        decoded again). Lone surrogates (from ``errors="surrogateescape"``) are stored as
        their UTF-8 forms ("surrogatepass")."""
        cdef WordList result
        cdef Py_ssize_t i
        words = list(words)
        for i in range(len(words)):
            if type(words[i]) is not str:
                if not isinstance(words[i], str):
                    raise TypeError(f"words must be str; word {i} is {type(words[i]).__name__} {words[i]!r}")
                words[i] = str(words[i])
        errors = "strict"
        try:
            blob = "\n".join(words).encode("utf-8")
        except UnicodeEncodeError:
            errors = "surrogatepass"
            blob = "\n".join(words).encode("utf-8", errors)
        if not words:
            return cls.empty()
        result = cls.from_lines(blob, errors)
        if len(result) != len(words):
            # some word holds a "\n": one offset per word instead of a split
            encoded = [w.encode("utf-8", errors) for w in words]
            offsets = np.zeros(len(words) + 1, dtype=np.int64)
            np.cumsum([len(e) + 1 for e in encoded], out=offsets[1:])
            result = cls(b"\n".join(encoded), offsets, errors)
        result._list = words
        return result

    @classmethod
    def empty(cls):
        return cls(b"", np.zeros(1, dtype=np.int64))

    def __dealloc__(self):
        el_wordtable_free(&self._index)

    # --- the bytes ---------------------------------------------------------------------
    def utf8_arena(self):
        """The words as their UTF-8 bytes, without encoding any word again:
        ``(arena, offsets, plain)``.

        Word ``i`` is ``arena[offsets[i]:offsets[i + 1] - 1]`` (``arena`` is bytes or a
        uint8 array, ``offsets`` an int64 array of ``len(words) + 1`` values; neither may
        be changed). ``plain`` is True when every separator byte is ``"\\n"`` and no word
        holds one, so ``arena[offsets[0]:offsets[-1] - 1]`` split at ``"\\n"`` gives
        exactly the words. Words with lone surrogates (``errors == "surrogatepass"``)
        are stored in their "surrogatepass" UTF-8 forms.

        The way writers, the cache and alignment take a loaded file's words on.
        """
        return self._arena, self._offsets, bool(self._plain)

    @property
    def errors(self):
        return self._errors

    cdef bytes _raw(self, Py_ssize_t i):
        return self._base[self._off[i]:self._off[i + 1] - 1]

    cdef str _word(self, Py_ssize_t i):
        if self._list is not None:
            return self._list[i]
        cdef const char *p = self._base + self._off[i]
        cdef Py_ssize_t n = self._off[i + 1] - 1 - self._off[i]
        if self._surrogates:
            return PyUnicode_DecodeUTF8(p, n, "surrogatepass")
        return PyUnicode_DecodeUTF8(p, n, NULL)

    cdef list _all(self):
        """Every word, decoded once and kept."""
        cdef Py_ssize_t i, a, b
        if self._list is None:
            if self._n == 0:
                self._list = []
            elif self._plain:
                a = self._off[0]
                b = self._off[self._n] - 1
                text, _ = codecs.utf_8_decode(memoryview(self._arena)[a:b], self._errors, True)
                self._list = text.split("\n")
            else:
                self._list = [self._word(i) for i in range(self._n)]
        return self._list

    def tolist(self):
        """A new ``list`` of the words."""
        return list(self._all())

    # --- sequence ----------------------------------------------------------------------
    def __len__(self):
        return self._n

    def __getitem__(self, item):
        cdef Py_ssize_t i
        if isinstance(item, slice):
            if self._list is not None:
                return self._list[item]
            return [self._word(i) for i in range(*item.indices(self._n))]
        i = operator.index(item)
        if i < 0:
            i += self._n
        if i < 0 or i >= self._n:
            raise IndexError(f"word index {item} out of range for {self._n} words")
        return self._word(i)

    def __iter__(self):
        return iter(self._all())

    def __reversed__(self):
        return reversed(self._all())

    def __contains__(self, word):
        return self.find(word) >= 0

    def index(self, word, start=0, stop=None):
        """Row of ``word`` (as ``list.index``, but in constant time); ValueError if absent."""
        cdef Py_ssize_t row = self.find(word)
        lo, hi, _ = slice(start, stop).indices(self._n)
        if row < 0 or not lo <= row < hi:
            raise ValueError(f"{word!r} is not in the word list")
        return row

    def count(self, word):
        return 1 if self.find(word) >= 0 else 0

    def __eq__(self, other):
        cdef WordList that
        if other is self:
            return True
        if isinstance(other, WordList):
            that = <WordList>other
            if len(that) != self._n:
                return False
            if self._plain and that._plain:
                # "\n"-joined UTF-8 spans: equal bytes are equal words, none decoded
                return self._span() == that._span()
            other = that._all()
        elif not isinstance(other, list):
            return NotImplemented
        return len(other) == self._n and self._all() == other

    cdef bytes _span(self):
        """The words joined by "\n" as bytes (only meaningful when ``_plain``)."""
        if self._n == 0:
            return b""
        return self._base[self._off[0]:self._off[self._n] - 1]

    __hash__ = None

    def __add__(self, other):
        if not isinstance(other, (list, tuple, WordList)):
            return NotImplemented
        return self.tolist() + list(other)

    def __radd__(self, other):
        if not isinstance(other, (list, tuple)):
            return NotImplemented
        return list(other) + self.tolist()

    def __copy__(self):
        return self  # immutable

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (WordList, (bytes(memoryview(self._arena)), self._offsets, self._errors))

    def __repr__(self):
        if self._n <= 12:
            return f"WordList({self._all()!r})"
        head = ", ".join(repr(self._word(i)) for i in range(6))
        return f"WordList([{head}, ... {self._n - 6} more])"

    # --- lookup ------------------------------------------------------------------------
    cpdef Py_ssize_t build_index(self) except -2:
        """Build the hash index now (else on first lookup). Returns the number of words
        equal to an earlier word (those are not indexed: a lookup gives the first)."""
        cdef int rc
        if self._indexed:
            return self._index.duplicates
        if self._n > EL_WORDTABLE_MAX_KEYS:
            self._big_index = {}
            for i, w in enumerate(self._all()):
                self._big_index.setdefault(w, i)
            self._index.duplicates = self._n - len(self._big_index)
            self._indexed = True
            return self._index.duplicates
        with nogil:
            rc = el_wordtable_build(&self._index, self._base, self._off, self._n)
        if rc != 0:
            raise MemoryError(f"no memory for the index of {self._n} words")
        self._indexed = True
        return self._index.duplicates

    def first_duplicate(self):
        """``(row, earlier_row)`` of the first word that repeats an earlier one, or None."""
        self.build_index()
        if self._index.duplicates == 0:
            return None
        if self._big_index is not None:
            seen = {}
            for i, w in enumerate(self._all()):
                if w in seen:
                    return i, seen[w]
                seen[w] = i
        return int(self._index.first_dup), int(self._index.first_dup_of)

    cpdef Py_ssize_t find(self, word) except -2:
        """Row of ``word`` (a str), or -1 when absent (also for anything not a str)."""
        cdef const char *p
        cdef Py_ssize_t size
        cdef bytes encoded
        if type(word) is not str and not isinstance(word, str):
            return -1
        if not self._indexed:
            self.build_index()
        if self._big_index is not None:
            return self._big_index.get(word, -1)
        try:
            p = PyUnicode_AsUTF8AndSize(word, &size)
        except UnicodeEncodeError:
            # lone surrogates: only an arena stored with "surrogatepass" can hold them
            if self._errors != "surrogatepass":
                return -1
            encoded = word.encode("utf-8", "surrogatepass")
            return el_wordtable_find(&self._index, encoded, len(encoded))
        return el_wordtable_find(&self._index, p, size)


Sequence.register(WordList)


class WordIndex(Mapping):
    """``{word: row}`` over a :class:`WordList`, read-only, without a dict.

    Lookups hash the word's UTF-8 bytes against the list's C index; iteration gives the
    words in row order (a dict built from ``zip(words, range(n))`` would iterate the same).

    Parameters
    ----------
    words : WordList
    on_duplicate : callable, optional
        Called with ``(row, earlier_row)`` when the index is first built and finds a word
        twice; it should raise. By default a ``ValueError`` names the word.
    """

    __slots__ = ("_words", "_on_duplicate", "_checked")

    def __init__(self, words, on_duplicate=None):
        if not isinstance(words, WordList):
            raise TypeError(f"WordIndex needs a WordList, not {type(words).__name__}")
        self._words = words
        self._on_duplicate = on_duplicate
        self._checked = False

    def _find(self, word):
        row = self._words.find(word)
        if not self._checked:
            self._check()
        return row

    def _check(self):
        dup = self._words.first_duplicate()
        if dup is not None:
            if self._on_duplicate is not None:
                self._on_duplicate(*dup)
            raise ValueError(f"duplicate word {self._words[dup[0]]!r} (rows {dup[1]} and {dup[0]}); "
                             f"words must be unique")
        self._checked = True

    def __getitem__(self, word):
        row = self._find(word)
        if row < 0:
            raise KeyError(word)
        return row

    def get(self, word, default=None):
        row = self._find(word)
        return default if row < 0 else row

    def __contains__(self, word):
        return self._find(word) >= 0

    def __len__(self):
        return len(self._words)

    def __iter__(self):
        return iter(self._words)

    def items(self):
        return _Items(self)

    def values(self):
        return _Values(self)

    def __eq__(self, other):
        if isinstance(other, WordIndex) and other._words is self._words:
            return True
        return Mapping.__eq__(self, other)

    __hash__ = None

    def __reduce__(self):
        return (WordIndex, (self._words,))

    def __repr__(self):
        return f"<WordIndex of {len(self._words)} words>"


class _Items(ItemsView):
    __slots__ = ()

    def __iter__(self):
        return zip(self._mapping._words, range(len(self._mapping._words)))


class _Values(ValuesView):
    __slots__ = ()

    def __iter__(self):
        return iter(range(len(self._mapping._words)))
