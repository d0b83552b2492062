"""``embload.load``: a vectors file on disk -> :class:`~embload.Vectors`.

Stages: :mod:`embload.formats` sniffs the format, :mod:`embload._source` streams
the (decompressed) bytes, :mod:`embload._parse` parses them into one matrix and a
word arena, and this module decodes the words, drops duplicates and wraps it up.
"""

import codecs
import gc
import os
import sys
import warnings

import numpy as np

from . import _parse
from ._runtime import make_progress
from ._source import open_source
from .errors import EmbeddingFormatError
from .formats import _sniff
from .options import LoadOptions
from .vectors import Vectors, WordIndex, WordList

__all__ = ["load"]

_TEXT_BYTES_PER_VALUE = 9   # "-0.20036 ": a typical GloVe value with its separator
_COMPRESSION_RATIO = 3      # text vectors compress about 3:1
_MAX_INFLATE = 1032         # the most deflate (and about bz2/xz) can expand data
# Binary vectors are copied out of the read block into the matrix: a block that stays in
# the last-level cache between the read and the copy loads 485 MB in 0.10 s instead of
# 0.15 s with 32 MiB blocks (2 threads, this machine's 32 MiB L3).
_BINARY_BLOCK_SIZE = 8 << 20


def load(path, *, format="auto", limit=None, dtype=None, errors="strict", threads=None,
         progress=None, member=None, mmap=True, _block_size=None, _min_piece=None):
    """Load a GloVe, word2vec (text or binary) or fastText ``.vec`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; gzip, bz2, xz and zip files are decompressed (told by their bytes).
    format : {"auto", "glove", "word2vec", "word2vec-binary"}
        ``"auto"`` decides from the bytes (:func:`embload.detect_format`).
    limit : int, optional
        Read only the first ``limit`` vectors, and stop reading the file there.
    dtype : {"float32", "float16", "float64"}, optional
        Each value is ``float(token)`` rounded once to this type. Default: float32 for
        files; for an ``embload`` cache folder, the dtype it was stored in (a different
        dtype means a converted copy instead of the memory map).
    errors : str
        For words that are not valid UTF-8, as in ``bytes.decode`` ("strict" raises).
    threads : int, optional
        Threads parsing text; None = all cores.
    progress : bool, optional
        A tqdm bar over the bytes read; None = on for large files when stderr is a terminal.
    member : str, optional
        Which file of a zip archive to read (needed when it holds several).
    mmap : bool, default True
        For an ``embload`` cache folder (:mod:`embload.cache`): map the matrix read-only
        (opens in O(1) time, whatever its size) instead of reading it into memory.

    Returns
    -------
    Vectors
        Words in file order; the first of duplicated words is kept (with one warning).

    Raises
    ------
    EmbeddingFormatError
        The file is not in the format: the message names the file, the line (or
        record) and the offending text; a truncated file says that it ends early.

    Notes
    -----
    A header count that does not match the data is not an error (files in the wild
    have such headers): all the vectors present are loaded, with a warning. A word
    is everything before the last ``dim`` fields of its line, so words may contain
    spaces (GloVe 840B).
    """
    if isinstance(path, (str, bytes, os.PathLike)) and os.path.isdir(path):
        from .cache import open_cache

        if format not in ("auto", "embload"):
            raise ValueError(f"{os.fsdecode(path)} is a folder (an embload cache); "
                             f"format={format!r} does not apply to it")
        return open_cache(path, mmap=mmap, limit=limit, dtype=dtype)
    opts = LoadOptions(format=format, limit=limit, dtype="float32" if dtype is None else dtype,
                       errors=errors, threads=threads, progress=progress, member=member)
    if _block_size is not None:
        opts.block_size = _block_size
    if _min_piece is not None:
        opts.min_piece = _min_piece
    return load_with(path, opts)


def load_with(path, opts):
    """:func:`load` with a :class:`~embload.LoadOptions`."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    info, head = _sniff(path, member=opts.member)
    line_bytes = _mean_line_bytes(head)
    del head
    fmt = info.format if opts.format == "auto" else opts.format
    if fmt != info.format:
        if fmt == "word2vec-binary" or info.format == "word2vec-binary":
            warnings.warn(f"{path}: reading as {fmt!r} although its bytes look like {info.format!r}",
                          UserWarning, stacklevel=3)
    header_lines = info.header_lines
    skip = info.header_length
    count = info.count
    dim = info.dim
    if fmt == "glove" and header_lines:
        # the caller says there is no header: the first line is data
        warnings.warn(f"{path}: reading as 'glove' although the first line looks like a word2vec "
                      f"header 'count dim'; it becomes a vector", UserWarning, stacklevel=3)
        # sniff() saw a header only for a first line of exactly two integers, so as data
        # that line is a word and one number: dim is 1 (no need to read the file again)
        header_lines, skip, count, dim = 0, (3 if info.bom else 0), None, 1
    elif fmt in ("word2vec", "word2vec-binary") and count is None:
        raise EmbeddingFormatError(f"format {fmt!r} needs a first line 'count dim'", path=path, line=1)
    limit = -1 if opts.limit is None else opts.limit
    if dim is None:  # no data line at all
        return Vectors([], np.empty((0, 0), dtype=opts.dtype), path=path, format=fmt)
    if dim <= 0:
        raise EmbeddingFormatError(f"the header says dim {dim}; vectors need at least one number",
                                   path=path, line=1)

    with open_source(path, opts.member) as src:
        _check_header_dim(dim, src, path)
        name = os.path.basename(path)
        bar = make_progress(opts.progress, total=src.total, desc=f"loading {name}")
        try:
            if fmt == "word2vec-binary":
                matrix, arena, offsets, stats = _parse.read_binary(
                    # a damaged count past C's range: no file holds that many records anyway
                    src, dim=dim, skip_bytes=skip, count=min(count, sys.maxsize),
                    est_rows=_estimate_rows(src, dim, count, binary=True),
                    dtype=opts.dtype, limit=limit, threads=opts.resolved_threads,
                    block_size=min(opts.block_size, _BINARY_BLOCK_SIZE), min_piece=opts.min_piece,
                    bar=bar, path=path)
                lineno = None
            else:
                matrix, arena, offsets, lineno, stats = _parse.read_text(
                    src, dim=dim, skip_bytes=skip, first_line=header_lines + 1,
                    est_rows=_estimate_rows(src, dim, count, binary=False, line_bytes=line_bytes),
                    dtype=opts.dtype, limit=limit, threads=opts.resolved_threads,
                    block_size=opts.block_size, min_piece=opts.min_piece, bar=bar, path=path)
        finally:
            bar.close()

    n = matrix.shape[0]
    if count is not None and n != count and not (opts.limit is not None and n == opts.limit):
        what = "lines" if lineno is not None else "records"
        warnings.warn(
            f"{path}: the header announces {count} vectors but the file holds {n}; loaded {n} "
            f"(if the file was cut short the last {what} are missing)", UserWarning, stacklevel=3)
    if lineno is None and stats.get("trailing"):
        warnings.warn(f"{path}: data after the {count} records announced by the header was ignored",
                      UserWarning, stacklevel=3)
    words, key_to_index, matrix = _word_table(arena, offsets, lineno, matrix, opts.errors, path)
    return Vectors(words, matrix, key_to_index=key_to_index, path=path, format=fmt)


def _check_header_dim(dim, src, path):
    """A damaged header dim must be an error naming the line, not a MemoryError or
    OverflowError from allocating one row (here and in ``load_aligned``). Every value takes
    at least one byte; the slack keeps small dims (a header-only file "3 300") on the usual
    paths."""
    most_bytes = src.total if src.compression in (None, "zip") else src.total * _MAX_INFLATE
    if dim > most_bytes + (1 << 20):
        raise EmbeddingFormatError(
            f"the header says dim {dim}, more values than the file's data can hold; "
            f"the header is damaged", path=path, line=1)


def _word_table(arena, offsets, lineno, matrix, errors, path):
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
        listed, matrix = _drop_duplicates(words.tolist(), matrix, lineno, path)
        words = WordList.from_words(listed)
        return words, WordIndex(words), matrix
    finally:
        if gc_was_enabled:
            gc.enable()


def _mean_line_bytes(head):
    """Mean length of the lines in the head of the data, or None for fewer than 4."""
    lines = head.count(b"\n")
    return (head.rfind(b"\n") + 1) / lines if lines >= 4 else None


def _estimate_rows(src, dim, count, *, binary, line_bytes=None):
    """Rows to allocate up front: the header's count, capped by what the file's size
    can hold (a lying or damaged header must not allocate terabytes); without a
    count, the data size over the mean length of the first lines (``line_bytes``,
    else a guess from ``dim``), plus 5%.

    Too many rows cost only address space (pages never written are never touched,
    and the matrix is shrunk in place at the end); too few cost a realloc."""
    if src.compression is None:
        data_bytes = src.size
    elif src.compression == "zip":
        data_bytes = src.total
    else:
        data_bytes = src.size * _COMPRESSION_RATIO
    if binary:
        most = data_bytes // (4 * dim + 1) + 1
    else:
        most = data_bytes // (2 * dim) + 1
    if count is not None:
        return max(1, min(count, most)) if src.compression in (None, "zip") else max(1, min(count, 4 * most))
    if line_bytes is None:
        line_bytes = dim * _TEXT_BYTES_PER_VALUE + 8
    return max(1, int(data_bytes / line_bytes * 1.05) + 16)


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
        raise EmbeddingFormatError(
            f"word is not valid UTF-8 ({exc.reason} at byte {exc.start - offsets[row]}); "
            f"pass errors='replace' or errors='ignore' to load it anyway",
            path=path, text=word, **where) from exc
    words = text.split("\n")
    if len(words) != n:
        # a word held a '\n' (binary files) or an error handler produced one
        raw = arena.tobytes()
        words = [raw[offsets[i]:offsets[i + 1] - 1].decode("utf-8", errors) for i in range(n)]
    return words


def _drop_duplicates(words, matrix, lineno, path):
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
    warnings.warn(f"{path}: {dropped} duplicate word{'s' if dropped != 1 else ''} dropped, keeping the "
                  f"first vector of each (e.g. {word!r}: {where})", UserWarning, stacklevel=5)
    keep = np.asarray(keep, dtype=np.int64)
    matrix = _parse.compact_rows(matrix, keep)
    return [words[i] for i in keep], matrix
