"""Exceptions a person can act on: each names the file, the place and the text."""

import os
import sys
import warnings

__all__ = ["EmbeddingFormatError", "AmbiguousNumberingWarning", "WordDecodeError", "DuplicateWordsWarning", "LowCoverageWarning",
           "shorten"]

_MAX_SNIPPET = 100


def shorten(text, limit=_MAX_SNIPPET):
    """The offending text cut to about ``limit`` characters, shown with repr()."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        # cut before decoding: the "line" of a broken file can be gigabytes, and
        # a character is at most 4 bytes, so this still leaves more than limit
        text = bytes(text[: 4 * limit + 4]).decode("utf-8", errors="backslashreplace")
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)


class EmbeddingFormatError(ValueError):
    """A vectors file that cannot be read as its format says.

    Attributes: ``path`` (str or None), ``line`` (1-based physical line of a
    text file, or None), ``record`` (1-based record of a binary file, or None),
    ``reason`` (what is wrong, without the location) and ``text`` (the
    offending text, or None).
    """

    def __init__(self, reason, *, path=None, line=None, record=None, text=None):
        super().__init__(self._locate(reason, path, line, record, text))

    def _locate(self, reason, path, line, record, text):
        """Keep the parts and return the message: where, what, the offending text."""
        self.reason = reason
        self.path = None if path is None else str(path)
        self.line = line
        self.record = record
        self.text = text
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if record is not None:
            where.append(f"record {record}")
        message = ", ".join(where) + ": " + reason if where else reason
        if text is not None:
            message += ": " + shorten(text)
        return message

    def __reduce__(self):
        return (_rebuild, (self.reason, self.path, self.line, self.record, self.text))


def _rebuild(reason, path, line, record, text):
    return EmbeddingFormatError(reason, path=path, line=line, record=record, text=text)


class WordDecodeError(EmbeddingFormatError, UnicodeDecodeError):
    """A word that is not valid UTF-8 under ``errors="strict"``.

    Both an :class:`EmbeddingFormatError` (file, line or record, the word's bytes) and a
    ``UnicodeDecodeError`` (``encoding``, ``object``: the word's bytes, ``start``/``end``
    within them), so code written for gensim (``except UnicodeDecodeError``) catches it.
    """

    def __init__(self, reason, *, object, start, end, encoding="utf-8", path=None, line=None,
                 record=None, text=None):
        UnicodeDecodeError.__init__(self, encoding, bytes(object), start, end, reason)
        self._message = self._locate(reason, path, line, record, text)

    def __str__(self):
        return self._message

    def __reduce__(self):
        return (_rebuild_decode, (self.reason, self.object, self.start, self.end, self.encoding,
                                  self.path, self.line, self.record, self.text))


def _rebuild_decode(reason, obj, start, end, encoding, path, line, record, text):
    return WordDecodeError(reason, object=obj, start=start, end=end, encoding=encoding, path=path,
                           line=line, record=record, text=text)


class DuplicateWordsWarning(UserWarning):
    """A vectors file holds some word more than once; the first vector of each was kept."""


class LowCoverageWarning(UserWarning):
    """An alignment found vectors for under 5% of the vocabulary: most likely the wrong
    vocabulary, a case mismatch or a wrong ``lookup`` (the message lists the causes)."""


class AmbiguousNumberingWarning(UserWarning):
    """A vocabulary file numbered from what its content suggests, where the content fits
    two conventions (an unknown-word token first: Hugging Face's id 0 or a Keras
    tokenizer's oov_token at 1; an ordinary word first: read from 1 as Keras numbers, or
    from 0 as a list's index). Pass ``start=`` to say which."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def warn(message, category=UserWarning):
    """``warnings.warn`` naming the user's line: the first frame outside embload, however
    deep in the package the warning is raised (a file is read from load, load_aligned,
    align, the CLI, a layer ...), so a fixed ``stacklevel`` would name the wrong line for
    some of them."""
    frame, level = sys._getframe(1), 2  # level 2: the caller of this function
    while os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE:
        if frame.f_back is None:  # all embload (python -m embload): its outermost frame
            break
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
