"""``embload.save``: write vectors as GloVe, word2vec text, word2vec binary or an embload cache.

Formats written::

    glove            word v1 v2 ... vN\\n            (no header)
    word2vec         count dim\\n then GloVe lines   (fastText .vec is this format)
    word2vec-binary  count dim\\n then, per word,    (the C tool's format; gensim reads it)
                     word + b" " + dim float32 little-endian + b"\\n"
    embload          the instant-open cache folder (embload.cache.write_cache)

Text values are the shortest decimal that reads back to the same value (so a round
trip is bit-exact and the file small), written in parallel by C code (``_write.pyx``)
into one buffer per part of the rows, written in row order: the bytes do not depend
on the thread count. float32 values are spelled as NumPy spells them (``str(np.float32)``,
which is what gensim writes: the same vectors give the same file); float16 values
as the float32 they widen to (so the text reads back exactly as float16 and as
float32); float64 values as Python's ``repr``. The binary format holds float32:
float64 rows are rounded to nearest, float16 rows widened exactly.

The format comes from ``format=`` or, when omitted, from the file name
(:func:`infer_format`): ``*.bin`` -> word2vec-binary, ``*.vec``/``*.w2v`` -> word2vec,
``*.txt``/``*.glove`` -> glove (GloVe's own spelling), ``*.embload`` -> embload.
A ``.gz``, ``.bz2``, ``.xz`` or ``.zip`` suffix compresses the output (a zip holds one
member named after the file without ``.zip``).

Writes are atomic (``embload._atomic.atomic_file``): everything goes to a temporary
file next to the target, which replaces the target only once complete; an error,
Ctrl-C, SIGTERM or SIGHUP removes the temporary file and leaves an existing target
untouched (a SIGTERM or SIGHUP then still ends the process, see ``_atomic``).
"""

import bz2
import contextlib
import gzip
import lzma
import os
import zipfile

import numpy as np

from ._atomic import ChunkedWriter, atomic_file
from ._progress import complete, make_progress
from ._source import compression_of_name
from ._threads import resolve_threads
from .cache import is_cache
from .formats import CACHE_FORMAT, NAME_SUFFIXES, WRITABLE_FORMATS
from ._words import WordList

__all__ = ["save", "infer_format"]

# Rows are formatted in parts whose worst-case text is about this many bytes, each by one
# thread (real text is ~4x shorter).
BLOCK_BYTES = 16 * 1024 * 1024

# Every character str.isspace() accepts except "\n" (already refused in words).
_SPACES = [c for c in map(chr, range(0x3001)) if c.isspace() and c != "\n"]
# First UTF-8 bytes of those characters: a word whose first byte is none of these does
# not start with whitespace. One NumPy gather over the words' first bytes replaces ~30
# substring scans of the joined words; the few candidates are then checked as str.
_SPACE_LEAD = np.zeros(256, dtype=bool)
_SPACE_LEAD[[c.encode("utf-8")[0] for c in _SPACES]] = True
# The same for the end of a word: last bytes, and the byte before the last of the
# multi-byte ones (their last bytes are continuation bytes that most Cyrillic or CJK
# words end with too; the byte before keeps those from all being candidates).
_SPACE_TAIL = np.zeros(256, dtype=bool)
_SPACE_TAIL[[c.encode("utf-8")[-1] for c in _SPACES]] = True
_SPACE_TAIL_PREV = np.zeros(256, dtype=bool)
_SPACE_TAIL_PREV[[c.encode("utf-8")[-2] for c in _SPACES if len(c.encode("utf-8")) > 1]] = True

# Called after each part is written with (rows_done, rows_total); tests set it to
# interrupt a write half way. None in normal use.
_after_block = None


def save(vectors, path, format=None, *, header=None, progress=None, threads=None, fsync=False):
    """Write ``vectors`` to ``path`` atomically.

    Parameters
    ----------
    vectors : Vectors, or a (words, matrix) pair
        Words (str) and their (n, dim) float16/float32/float64 matrix; other real
        dtypes are written as float32.
    path : str or os.PathLike
        Target file (folder for ``"embload"``). ``.gz``/``.bz2``/``.xz``/``.zip``
        compresses.
    format : {"glove", "word2vec", "word2vec-binary", "embload"}, optional
        Default: from the file name (``.bin``, ``.vec``, ``.embload``); required otherwise.
    header : bool, optional
        Write the ``count dim`` line. Default: True for word2vec formats, False for
        GloVe (``format="glove", header=True`` is word2vec text). The binary format
        always has it.
    progress : bool, optional
        Progress bar over the bytes written (default: on for large work on a terminal).
    threads : int, optional
        Threads formatting text (None: all cores; see ``resolve_threads``).
    fsync : bool, default False
        Flush the file (every file of a cache folder) to the disk before renaming it
        into place, and the folder after (survives a power cut, costs the time of the
        disk write).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        Unknown format, or a word the format cannot hold (empty, a line break in any
        format, a space in word2vec-binary), named with its row, before anything is written.
    """
    path = os.fspath(path)
    words, matrix = _unpack(vectors)
    if format is None:
        format = infer_format(path)   # looks through .gz/.bz2/.xz/.zip itself
        if format is None:
            raise ValueError(f"cannot tell the format from the name {path!r}; pass format= one of "
                             f"{', '.join(WRITABLE_FORMATS)}")
    if format not in WRITABLE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(WRITABLE_FORMATS)}, got {format!r}")
    if format == CACHE_FORMAT:
        from .cache import write_cache
        from .vectors import Vectors

        if not isinstance(vectors, Vectors):
            vectors = Vectors(words, matrix)
        write_cache(vectors, path, progress=progress, fsync=fsync)
        return path
    binary = format == "word2vec-binary"
    if header is None:
        header = format != "glove"
    elif binary and not header:
        raise ValueError("the word2vec-binary format always has a header; header=False is not possible")
    arena, offsets = _word_arena(words, binary, format)
    n, dim = matrix.shape
    threads = resolve_threads(threads)

    with atomic_file(path, fsync=fsync) as raw, _compressed(raw, path) as out:
        est = n * (dim * (4 if binary else 11) + 8)
        bar = make_progress(progress, total=est, desc=f"writing {os.path.basename(path)}")
        try:
            if header:
                out.write(f"{n} {dim}\n".encode("ascii"))
            _write_rows(out, matrix, arena, offsets, binary, threads, bar)
            complete(bar)   # the total was an estimate of the text's length
        finally:
            bar.close()
    return path


def infer_format(path):
    """The format a destination path implies, or None when its name does not say.

    An existing cache folder, or a name ending ``.embload`` -> ``"embload"``; otherwise the
    name's ending after any compression suffix (``.gz``, ``.bz2``, ``.xz``, ``.zip``), by
    :data:`embload.formats.NAME_SUFFIXES`: ``.bin`` -> word2vec-binary; ``.vec``, ``.w2v``,
    ``.w2v.txt`` -> word2vec; ``.txt``, ``.glove``, ``.glove.txt`` -> glove.
    """
    path = os.fspath(path)
    if is_cache(path):
        return CACHE_FORMAT
    name = os.path.basename(path.rstrip("/\\")).lower()
    compression = compression_of_name(name)
    if compression is not None:
        name = name[: -len(compression.suffix)]
    for suffix, fmt in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            # a cache is a folder: "x.embload.gz" names no format
            return None if compression is not None and fmt == CACHE_FORMAT else fmt
    return None


def _unpack(vectors):
    if hasattr(vectors, "words") and hasattr(vectors, "vectors"):
        words, matrix = vectors.words, vectors.vectors
    elif hasattr(vectors, "index_to_key") and hasattr(vectors, "vectors"):  # gensim KeyedVectors
        words, matrix = vectors.index_to_key, vectors.vectors
    else:
        try:
            words, matrix = vectors
        except (TypeError, ValueError):
            raise TypeError("vectors must be a Vectors, a gensim KeyedVectors or a (words, matrix) pair, "
                            f"not {type(vectors).__name__}") from None
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"the matrix must be 2-D (words x dim), got shape {matrix.shape}")
    if len(words) != matrix.shape[0]:
        raise ValueError(f"{len(words)} words but {matrix.shape[0]} rows; they must match")
    if matrix.dtype.kind not in "fiub" or matrix.dtype.kind == "f" and matrix.dtype.itemsize > 8:
        raise TypeError(f"cannot write a matrix of dtype {matrix.dtype}; use float16, float32 or float64")
    if matrix.dtype.kind != "f":   # any byte order of float16/32/64 is kept (_write_rows swaps it)
        matrix = matrix.astype(np.float32)
    if not isinstance(words, list) and not _keeps_arena(words):
        words = list(words)
    return words, matrix


def _keeps_arena(words):
    """Whether the words live in one UTF-8 arena: a WordList, or any container with the
    same ``utf8_arena() -> (arena, offsets, plain)`` method."""
    return isinstance(words, WordList) or callable(getattr(words, "utf8_arena", None))


def _utf8_arena(words):
    return words.utf8_arena()[:2]


def _word_arena(words, binary, format):
    """UTF-8 bytes of every word as ``(arena, offsets)``, word ``i`` being
    ``arena[offsets[i]:offsets[i + 1] - 1]``, after checking that the format can hold
    each one.

    Words that already live in such an arena (``WordList`` of a loaded file, strict
    UTF-8) are used as they are, checked with NumPy over the bytes. Others are
    checked and encoded as one joined string (C loops, not a Python test per word);
    the offending word is looked up only when there is one.
    """
    if _keeps_arena(words) and getattr(words, "errors", "strict") == "strict":
        arena, offsets = _utf8_arena(words)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        _check_arena(words, arena, offsets, binary, format)
        return arena, offsets
    if not words:
        return b"", np.zeros(1, dtype=np.int64)
    try:
        joined = "\n".join(words)
    except TypeError:
        i = next(i for i, w in enumerate(words) if not isinstance(w, str))
        raise TypeError(f"word at row {i} is {type(words[i]).__name__} {words[i]!r}, not str") from None
    bad_chars = ("\r",) + ((" ",) if binary else ())
    if joined.count("\n") != len(words) - 1:
        bad_chars = ("\n",) + bad_chars
    for ch in bad_chars:
        if ch in joined:
            _raise_bad_char(words, ch, format)
    try:
        arena = joined.encode("utf-8", "surrogateescape") + b"\n"
    except UnicodeEncodeError as exc:
        _check_starts(words, binary, format)
        i = joined.count("\n", 0, exc.start)
        raise ValueError(f"word {words[i]!r} at row {i} cannot be written as UTF-8: {exc.reason}") from exc
    data = np.frombuffer(arena, dtype=np.uint8)
    # "\n" is never inside a UTF-8 (or surrogateescape) sequence: the newlines are the
    # len(words) separators
    offsets = np.empty(len(words) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = np.flatnonzero(data == 10) + 1
    _check_starts(words, binary, format, rows=_edge_suspects(data, offsets, binary))
    return arena, offsets


def _edge_suspects(data, offsets, binary):
    """Rows (ascending) whose word may be empty or, in text formats, start or end with
    whitespace, found with NumPy over the bytes (``data[offsets[i]:offsets[i + 1] - 1]``
    is word ``i``); ``_check_starts`` then checks only those as str."""
    starts = offsets[:-1]
    ends = offsets[1:] - 1        # the separator after each word
    # an empty word (a NumPy test: "\n\n" in the joined words is a slow substring
    # search, "\n" being everywhere); refused before any other
    empty = ends == starts
    if binary or empty.any():
        return np.flatnonzero(empty).tolist()
    # every word has a byte: starts and ends - 1 index data
    suspect = _SPACE_LEAD[data[starts]]
    last = data[ends - 1]
    tail = _SPACE_TAIL[last]
    multi = np.flatnonzero(tail & (last >= 0x80))
    tail[multi] = _SPACE_TAIL_PREV[data[ends[multi] - 2]]
    return np.flatnonzero(suspect | tail).tolist()


def _raise_bad_char(words, ch, format, row=None):
    """Raise the error for the first word (or the word at ``row``) holding ``ch``."""
    i = row if row is not None else next(i for i, w in enumerate(words) if ch in w)
    what = {"\n": "a newline", "\r": "a carriage return", " ": "a space"}[ch]
    raise ValueError(f"word {words[i]!r} at row {i} contains {what}, which the {format} format "
                     f"cannot hold (it ends the {'word' if ch == ' ' else 'line'}); "
                     "rename or drop it before saving")


def _check_starts(words, binary, format, rows=None):
    """Refuse an empty word, or (text formats) one starting or ending with whitespace."""
    for i in range(len(words)) if rows is None else rows:
        w = words[i]
        if not w:
            raise ValueError(f"the word at row {i} is empty; the {format} format cannot hold an empty word")
        if not binary and (w[0].isspace() or w[-1].isspace()):
            where = "starts" if w[0].isspace() else "ends"
            raise ValueError(f"word {w!r} at row {i} {where} with whitespace, which text readers strip; "
                             "rename it before saving")


def _check_arena(words, arena, offsets, binary, format):
    """The checks of ``_word_arena`` on words already in an arena, over its bytes."""
    n = len(offsets) - 1
    if n <= 0:
        return
    data = np.frombuffer(arena, dtype=np.uint8)
    if offsets[0] < 0 or np.any(np.diff(offsets) < 1) or offsets[-1] - 1 > data.shape[0]:
        raise ValueError("the words' UTF-8 arena and offsets do not match (offsets must increase "
                         f"and end within the {data.shape[0]} bytes)")
    body = data[offsets[0]:offsets[-1] - 1]
    seps = offsets[1:-1] - 1 - offsets[0]   # separator bytes between words, inside body
    sep_bytes = body[seps]
    for ch in ("\n", "\r") + ((" ",) if binary else ()):
        if np.count_nonzero(body == ord(ch)) > np.count_nonzero(sep_bytes == ord(ch)):
            hits = np.setdiff1d(np.flatnonzero(body == ord(ch)), seps, assume_unique=True)
            row = int(np.searchsorted(offsets, hits[0] + offsets[0], side="right")) - 1
            _raise_bad_char(words, ch, format, row)
    _check_starts(words, binary, format, rows=_edge_suspects(data, offsets, binary))


def _write_rows(out, matrix, arena, offsets, binary, threads, bar):
    """Format parts of the rows in C on worker threads and write them in row order.

    Each part (rows whose worst-case text fills about ``BLOCK_BYTES``) is formatted by
    one worker without the GIL into its own buffer; this thread writes the finished
    parts in order (the write releases the GIL too), so formatting and writing overlap.
    Plain Python workers rather than an OpenMP team per block: between and at the end
    of parallel regions OpenMP threads spin, which on 2 cores took a quarter of the CPU
    that formatting and the kernel's write needed; and a part queue balances a thread
    that a busy machine slows down. At most ``2 * threads + 1`` parts are in flight,
    their buffers reused. Binary records are plain copies: one worker.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import wait as concurrent_wait

    from ._write import format_block, row_bound

    n, dim = matrix.shape
    if n == 0:
        return
    if not matrix.flags.c_contiguous or not matrix.dtype.isnative:
        matrix = np.ascontiguousarray(matrix, dtype=matrix.dtype.newbyteorder("="))
    if binary:
        threads = 1
    bound = row_bound(dim, binary)
    per_row = bound + int(np.diff(offsets[: min(n, 1000) + 1]).max())
    rows_per_part = max(1, min(n, BLOCK_BYTES // per_row))
    depth = 2 * threads + 1
    pending = deque()   # (future, buffer, stop) in row order
    free = []

    def write_first():
        fut, buf, stop = pending.popleft()
        used = fut.result()
        out.write(memoryview(buf)[:used])
        bar.update(used)
        free.append(buf)
        if _after_block is not None:
            _after_block(stop, n)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="embload-format") as pool:
        try:
            start = 0
            while start < n:
                stop = min(n, start + rows_per_part)
                if len(pending) >= depth:
                    write_first()
                # sized for its own rows: long words are allowed anywhere
                need = int(offsets[stop] - offsets[start]) + (stop - start) * bound
                buf = free.pop() if free else None
                if buf is None or buf.shape[0] < need:
                    buf = np.empty(need, dtype=np.uint8)
                pending.append((pool.submit(format_block, matrix, arena, offsets, start, stop, binary, buf),
                                buf, stop))
                start = stop
            while pending:
                write_first()
        except BaseException:
            # no kernel may still be formatting when the caller discards the file
            for fut, _, _ in pending:
                fut.cancel()
            concurrent_wait([fut for fut, _, _ in pending])
            raise


# Data goes to a compressor in pieces of at most this many bytes. Compressing a whole
# part in one call holds the interpreter in C for seconds with xz, and a signal's
# handler (the cleanup of an interrupted write) waits for it; small pieces bound that
# wait at no measurable cost (scripts/bench_interrupt.py measures both).
COMPRESS_PIECE = 64 * 1024


@contextlib.contextmanager
def _compressed(raw, path):
    """A binary stream writing into ``raw``, compressed as the suffix of ``path`` says
    (``.gz``, ``.bz2``, ``.xz``, ``.zip``; anything else: ``raw`` itself). Closed (the
    compressed stream completed) when the block ends; on an exception they are closed
    with their errors ignored, the file being discarded anyway. The compressors get the
    data in ``COMPRESS_PIECE`` bytes a call."""
    compression = compression_of_name(path)   # the one table of suffixes (embload._source)
    name = os.path.basename(path)
    stem = name[: len(name) - len(compression.suffix)] if compression is not None else name
    closers = []
    try:
        if compression is None:
            pass
        elif compression.name == "gzip":
            # mtime=0: the same vectors give the same bytes
            closers.append(gzip.GzipFile(filename=stem, mode="wb", fileobj=raw, compresslevel=6, mtime=0))
        elif compression.name == "bz2":
            closers.append(bz2.BZ2File(raw, "wb"))
        elif compression.name == "xz":
            closers.append(lzma.LZMAFile(raw, "wb"))
        elif compression.name == "zip":
            archive = zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
            closers.append(archive)
            closers.append(archive.open(stem or "vectors", "w", force_zip64=True))
        else:   # a compression added to the table without a writer
            raise ValueError(f"{path}: writing {compression.name} is not supported")
        yield ChunkedWriter(closers[-1], COMPRESS_PIECE) if closers else raw
    except BaseException:
        for closer in reversed(closers):
            try:
                closer.close()
            except Exception:
                pass
        raise
    for closer in reversed(closers):   # the member, then the archive's directory
        closer.close()

