"""Which format a vectors file is in, decided from its bytes (never from its name).

``sniff(path)`` is the stable entry point other stages reuse: it looks at the first
bytes of the (decompressed) data and returns a :class:`FormatInfo`.

Rules:

* A first line of exactly two integers ``count dim`` is a word2vec/fastText header,
  unless the next line has exactly one number after its word (then it is a GloVe
  file with ``dim`` 1 whose first word is a number).
* After a header, the data is text (``"word2vec"``) when the next line has a word and
  ``dim`` fields that ``float()`` accepts; otherwise, when the bytes after the first
  word's space are not plain text, it is ``"word2vec-binary"``.
* A fastText / floret model (``.bin``, ``.ftz``) is ``"fasttext-bin"``: told by its magic
  number, or for the oldest layout (no magic) by args and a dictionary header that make
  sense (:func:`embload._fasttext.detect_layout`; a text file's first bytes never do).
* A Python pickle (gensim's ``save()``) is refused with a message saying how to read it.
* Without a header it is ``"glove"``; ``dim`` is the number of fields after the first
  on the first non-blank line (counting only the trailing fields that are numbers, so
  a first word with spaces in it does not inflate it).
"""

import os
from dataclasses import dataclass
from typing import Optional

from ._source import read_head
from .errors import EmbeddingFormatError

__all__ = ["FormatInfo", "FORMATS", "VECTORS_FORMATS", "MODEL_FORMATS", "CACHE_FORMAT", "WRITABLE_FORMATS", "NAME_SUFFIXES",
           "FIELD_SEPARATORS", "sniff", "detect_format"]

# The one table of format names. Files are told apart by their bytes (sniff); a cache is a
# folder (embload.cache). Every module that names formats imports them from here.
VECTORS_FORMATS = ("glove", "word2vec", "word2vec-binary")   # a vector per record, read and written
MODEL_FORMATS = ("fasttext-bin",)                 # fastText / floret models (.bin, .ftz): read only
FORMATS = VECTORS_FORMATS + MODEL_FORMATS         # the files the readers parse
CACHE_FORMAT = "embload"                          # the instant-open folder
WRITABLE_FORMATS = VECTORS_FORMATS + (CACHE_FORMAT,)
# What a file name says about the format a writer should give it (after any compression
# suffix; longest first). Used only for output: input formats come from the bytes. ".txt"
# is GloVe's own spelling (glove.6B.300d.txt); word2vec text is usually ".vec" or ".w2v".
NAME_SUFFIXES = (
    (".embload", CACHE_FORMAT),
    (".word2vec.txt", "word2vec"), (".w2v.txt", "word2vec"), (".vec.txt", "word2vec"),
    (".glove.txt", "glove"),
    (".vec", "word2vec"), (".w2v", "word2vec"), (".word2vec", "word2vec"),
    (".bin", "word2vec-binary"),
    (".glove", "glove"), (".txt", "glove"),
)
# Bytes that separate the fields of a text line (the C scanner's EL_IS_SEP in
# src/textscan.h is the same set; '\n' ends a line).
FIELD_SEPARATORS = b" \t\r\v\f"
_BOM = b"\xef\xbb\xbf"
_FASTTEXT_MAGIC = b"\xba\x16\x4f\x2f"  # int32 793712314, little-endian
_SNIFF_BYTES = 1 << 16
_SNIFF_MAX = 1 << 26
# bytes that text files do not contain (control bytes other than whitespace, DEL)
_NOT_TEXT = frozenset(set(range(0x09)) | set(range(0x0E, 0x20)) | {0x7F})


@dataclass(frozen=True)
class FormatInfo:
    """What :func:`sniff` found at the start of a vectors file.

    Attributes
    ----------
    format : str
        ``"glove"``, ``"word2vec"``, ``"word2vec-binary"`` or ``"fasttext-bin"``.
    compression : str or None
        ``"gzip"``, ``"bz2"``, ``"xz"``, ``"zip"`` or None.
    count : int or None
        Vectors announced by the header (None without a header).
    dim : int or None
        Numbers per vector, from the header or the first line (None: no data line).
    header_length : int
        Bytes before the first record in the decompressed data (BOM + header line).
    header_lines : int
        Physical lines before the first record (0 or 1).
    bom : bool
        The data starts with a UTF-8 byte-order mark.
    member : str or None
        The zip member read.
    """

    format: str
    compression: Optional[str]
    count: Optional[int]
    dim: Optional[int]
    header_length: int
    header_lines: int
    bom: bool = False
    member: Optional[str] = None


def _is_float(token):
    try:
        float(token)
    except ValueError:
        return False
    # float() accepts non-ASCII digits; the C parser does not
    return token.isascii()


def _fields(line):
    # bytes.split() splits at runs of ASCII whitespace: the SEP bytes and '\n'
    return line.split()


def _trailing_numbers(fields):
    n = 0
    for token in reversed(fields):
        if not _is_float(token.decode("ascii", "replace")):
            break
        n += 1
    return n


def _header(line):
    """(count, dim) when ``line`` is a word2vec header, else None."""
    fields = _fields(line)
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        return None
    return int(fields[0]), int(fields[1])


def _looks_binary(rest, dim):
    body = rest.lstrip(b"\n")
    space = body.find(b" ")
    if space < 0:
        return any(b in _NOT_TEXT for b in body[:4096]) or not body.strip()
    window = body[space + 1: space + 1 + max(4 * dim, 1)]
    return any(b in _NOT_TEXT or b >= 0x80 for b in window)


def _first_data_line(data, complete):
    """The first line of ``data`` with a field in it (None if no such complete line)."""
    lines = data.split(b"\n")
    if not complete:
        lines = lines[:-1]  # the last piece may be cut
    for line in lines:
        if _fields(line):
            return line
    return None


def sniff(path, member=None):
    """Look at the start of ``path`` and say what it is.

    Parameters
    ----------
    path : str or os.PathLike
        A vectors file, possibly gzip/bz2/xz/zip compressed.
    member : str, optional
        The member of a zip archive to read.

    Returns
    -------
    FormatInfo

    Raises
    ------
    EmbeddingFormatError
        If the start of the data is not any supported format.
    """
    return _sniff(path, member)[0]


def _sniff(path, member=None):
    """:func:`sniff`, and the head of the data it read (so :mod:`embload.io` can size
    its matrix from the head's line lengths without reading the file again)."""
    path = os.fspath(path)
    model = _sniff_model(path, member)
    if model is not None:
        return model
    nbytes = _SNIFF_BYTES
    while True:
        head, compression, member_name = read_head(path, nbytes, member)
        complete = len(head) < nbytes
        bom = head.startswith(_BOM)
        body = head[3:] if bom else head
        first_nl = body.find(b"\n")
        if complete or nbytes >= _SNIFF_MAX:
            break
        if first_nl >= 0:
            rest = body[first_nl + 1:]
            header = _header(body[:first_nl])
            if _first_data_line(rest if header else body, False) is not None:
                break
            if header is not None and _looks_binary(rest, header[1]):
                break
        nbytes *= 4
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EmbeddingFormatError(
            "the file starts with a UTF-16 byte-order mark; embload reads UTF-8 text "
            "(convert it first, e.g. iconv -f UTF-16 -t UTF-8)", path=path, line=1)
    first = body[:first_nl] if first_nl >= 0 else body
    header = _header(first)
    skip = 3 if bom else 0
    if header is not None:
        count, dim = header
        rest = body[first_nl + 1:] if first_nl >= 0 else b""
        line = _first_data_line(rest, complete)
        fields = _fields(line) if line is not None else []
        nums = _trailing_numbers(fields)
        text_ok = len(fields) >= dim + 1 and nums >= dim
        if not text_ok and len(fields) == 2 and nums >= 1 and not _looks_binary(rest, dim):
            header = None  # "5 3" then "word 0.5": a GloVe file with dim 1
        else:
            length = skip + (first_nl + 1 if first_nl >= 0 else len(body))
            if text_ok or not rest.strip() or not _looks_binary(rest, dim):
                fmt = "word2vec"
            else:
                fmt = "word2vec-binary"
            return FormatInfo(fmt, compression, count, dim, length, 1, bom, member_name), head
    # GloVe: dim from the first non-blank line
    dim = None
    for number, line in enumerate(body.split(b"\n"), 1):
        fields = _fields(line)
        if fields:
            dim = min(_trailing_numbers(fields), len(fields) - 1)
            if dim == 0:
                raise EmbeddingFormatError(
                    "no numbers after the word on the first line; not a GloVe/word2vec text file?",
                    path=path, line=number, text=line[:200])
            break
    return FormatInfo("glove", compression, None, dim, skip, 0, bom, member_name), head


def refuse_pickle(head, path):
    """Raise for a Python pickle (what gensim's ``save()`` writes), saying how to read it."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        what = "a gensim model saved with save()" if b"gensim" in head else "a Python pickle"
        raise EmbeddingFormatError(
            f"header at byte 0: this is {what}, not a vectors file or fastText model; read it "
            "with gensim (gensim.models.KeyedVectors.load(path), or FastText.load(path).wv) and "
            "pass the KeyedVectors to embload.Vectors.from_gensim(); or write the native model "
            "with gensim.models.fasttext.save_facebook_model()", path=path)


def _sniff_model(path, member):
    """(FormatInfo, head) for a fastText model or None; raises for a pickle and for a
    model whose header cannot be read (unknown version)."""
    from . import _fasttext

    head, compression, member_name = read_head(path, _fasttext.SNIFF_BYTES, member)
    refuse_pickle(head, path)
    try:
        layout = _fasttext.detect_layout(head)
    except ValueError as exc:
        raise EmbeddingFormatError(str(exc), path=path) from None
    if layout is None:
        return None
    nwords = int.from_bytes(head[layout.dict_at + 4:layout.dict_at + 8], "little", signed=True)
    info = FormatInfo("fasttext-bin", compression, nwords, layout.args["dim"], 0, 0, False,
                      member_name)
    return info, head


def detect_format(path, member=None):
    """``"glove"``, ``"word2vec"``, ``"word2vec-binary"`` or ``"fasttext-bin"``, decided from
    the bytes of ``path``.

    Compressed files (gzip, bz2, xz, zip) are looked into. See :func:`sniff` for
    the details it also returns.
    """
    return sniff(path, member=member).format
